// Active pair selection for a project with pairs: active. The candidates are the item pairs (systems,
// or candidates of one prompt) that still have an unasked prompt to compare them on; the choice is
// src/preferences/active.ts's (largest expected drop of total rating variance, with the fairness
// floor), fitted on the votes so far with the project's prior (1 virtual tie when the prior is 0,
// since the plain MLE rarely exists before many votes). The pair is then asked on the prompt that
// has the fewest tasks so far. The budget caps the pair tasks created.
import { choosePair } from '../preferences/active.js';
import { PairCounts } from '../preferences/counts.js';
import type { Project } from './project.js';
import { ratedItems, voteComparisons } from './rated.js';
import { prep } from './db.js';

interface Option {
  groupId: number;
  cands: [number, number];
}

export class ActivePairs {
  private warm: Float64Array | null = null;
  constructor(readonly p: Project) {}

  /** Create the next pair task; returns its id, or null when the budget or the pairs are used up. */
  create(now: number): number | null {
    const p = this.p;
    const s = p.settings;
    const tasks = p.tasks();
    const regular = tasks.filter((t) => !t.gold);
    const items = ratedItems(p);
    const asked = new Set(tasks.map((t) => `${t.groupId}:${t.candidates.join(',')}`));
    const perGroup = new Map<number, number>();
    for (const t of regular) perGroup.set(t.groupId, (perGroup.get(t.groupId) ?? 0) + 1);
    const options = new Map<string, Option[]>();
    let possible = 0;
    const gold = new Set(
      p
        .groups()
        .filter((g) => g.gold)
        .map((g) => g.id),
    );
    const byGroup = new Map<number, number[]>();
    for (const c of items.candidates.values())
      if (!gold.has(c.groupId)) byGroup.set(c.groupId, [...(byGroup.get(c.groupId) ?? []), c.id]);
    for (const [g, ids] of byGroup)
      for (let a = 0; a < ids.length; a++)
        for (let b = a + 1; b < ids.length; b++) {
          possible++;
          const [x, y] = [items.itemOf(ids[a])!, items.itemOf(ids[b])!];
          if (x === y || asked.has(`${g}:${ids[a]},${ids[b]}`)) continue;
          const key = x < y ? `${x},${y}` : `${y},${x}`;
          options.set(key, [...(options.get(key) ?? []), { groupId: g, cands: [ids[a], ids[b]] }]);
        }
    if (regular.length >= (s.budget ?? possible) || options.size === 0) return null;
    const counts = PairCounts.from(items.names.length, voteComparisons(p, items));
    const cands = [...options.keys()].map((k) => k.split(',').map(Number) as [number, number]);
    const warm = this.warm && this.warm.length === items.names.length ? this.warm : undefined;
    const choice = choosePair(counts, cands, { prior: s.prior > 0 ? s.prior : 1, fairness: s.fairness, init: warm })!;
    this.warm = choice.ratings;
    const [x, y] = choice.pair;
    const where = options.get(`${Math.min(x, y)},${Math.max(x, y)}`)!;
    where.sort((a, b) => (perGroup.get(a.groupId) ?? 0) - (perGroup.get(b.groupId) ?? 0) || a.groupId - b.groupId);
    const o = where[0];
    const r = prep(
      p.db,
      'INSERT INTO tasks(group_id, candidates, gold, reason, created_at) VALUES (?, ?, 0, ?, ?)',
    ).run(o.groupId, JSON.stringify(o.cands), `active:${choice.reason}`, now);
    return Number(r.lastInsertRowid);
  }
}
