// Adding prompts and their candidates to a project, and the tasks they make: pairwise, every pair
// of a prompt's candidates (or, with pairs: active, none yet — the queue creates the most
// informative pair when one is needed; gold prompts still get all their pairs); best_worst and
// ranking, one task per prompt over all its candidates; likert, one task per candidate. Inputs are
// validated first and written in one transaction (all or nothing), errors naming the source line.
import { isMessages } from '../data/jsonl.js';
import type { Project, CandidateInput, GroupInput } from './project.js';
import { resolveMedia } from './media.js';
import type { ProjectSettings } from './settings.js';
import { prep } from './db.js';

const MIN_K = { pairwise: 2, best_worst: 2, ranking: 2, likert: 1 } as const;

/** A prompt must say something; a completion may be empty (a policy can stop at once). */
function checkText(x: unknown, where: string, field: string, empty = false): void {
  if (typeof x === 'string' ? empty || x.length > 0 : isMessages(x) && x.length > 0) return;
  const what = `${empty ? '' : 'non-empty '}string or a list of {"role", "content"} messages`;
  throw new Error(`pacer: ${where}: '${field}' must be a ${what}`);
}

function checkCandidate(p: Project, c: CandidateInput, where: string, k: number): void {
  if (c.kind === 'text') checkText(c.text, where, `candidate ${k} text`, true);
  else if (c.kind === 'video') {
    if (typeof c.media !== 'string' || !resolveMedia(p.mediaDir, c.media))
      throw new Error(`pacer: ${where}: candidate ${k}: no video '${c.media}' in the project's media folder`);
  } else throw new Error(`pacer: ${where}: candidate ${k}: kind must be 'text' or 'video'`);
  if (c.system != null && (typeof c.system !== 'string' || c.system.length === 0 || c.system.length > 200))
    throw new Error(`pacer: ${where}: candidate ${k}: 'model' must be a non-empty name`);
  for (const s of c.meta?.segments ?? []) {
    const ok = s && typeof s.start === 'number' && typeof s.end === 'number' && s.start >= 0 && s.end >= s.start;
    if (!ok)
      throw new Error(
        `pacer: ${where}: candidate ${k}: segments are {"start", "end", "label"?} with 0 <= start <= end`,
      );
  }
}

function checkGroup(p: Project, s: ProjectSettings, g: GroupInput): void {
  const where = g.source;
  checkText(g.prompt, where, 'prompt');
  const K = g.candidates.length;
  if (K < MIN_K[s.task])
    throw new Error(
      `pacer: ${where}: a ${s.task} project needs at least ${MIN_K[s.task]} candidates per prompt, got ${K}`,
    );
  const kinds = new Set(g.candidates.map((c) => c.kind));
  if (kinds.size > 1) throw new Error(`pacer: ${where}: candidates mix text and video; one prompt shows one kind`);
  g.candidates.forEach((c, k) => checkCandidate(p, c, where, k));
  if (g.gold != null) {
    const ok =
      Array.isArray(g.gold) &&
      g.gold.length === K &&
      g.gold.every((r) => Number.isInteger(r) && r >= 1 && r <= (s.task === 'likert' ? 7 : K));
    if (!ok)
      throw new Error(
        `pacer: ${where}: 'gold' must list, per candidate, ` +
          (s.task === 'likert' ? 'a score 1-7' : 'a rank 1..K (1 = best, equal = tie)'),
      );
  }
}

/** The candidate sets a new group's tasks ask about. */
export function taskSets(s: ProjectSettings, ids: number[], gold: boolean): number[][] {
  if (s.task === 'likert') return ids.map((id) => [id]);
  if (s.task !== 'pairwise') return [ids];
  if (s.pairs === 'active' && !gold) return [];
  const out: number[][] = [];
  for (let a = 0; a < ids.length; a++) for (let b = a + 1; b < ids.length; b++) out.push([ids[a], ids[b]]);
  return out;
}

/** Add groups with their candidates and tasks; returns the new group ids and task ids. */
export function addGroups(p: Project, groups: GroupInput[]): { groups: number[]; tasks: number[] } {
  const s = p.settings;
  const first = p.candidates()[0];
  for (const g of groups) {
    checkGroup(p, s, g);
    if (first && g.candidates[0].kind !== first.kind)
      throw new Error(`pacer: ${g.source}: this project holds ${first.kind} candidates, not ${g.candidates[0].kind}`);
  }
  const now = Date.now();
  const insG = prep(
    p.db,
    'INSERT INTO groups(prompt, category, gold, source, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insC = prep(
    p.db,
    'INSERT INTO candidates(group_id, position, kind, content, system, label, meta) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insT = prep(p.db, 'INSERT INTO tasks(group_id, candidates, gold, reason, created_at) VALUES (?, ?, ?, ?, ?)');
  const out = { groups: [] as number[], tasks: [] as number[] };
  p.db.transaction(() => {
    for (const g of groups) {
      const gold = g.gold ?? null;
      const gid = Number(
        insG.run(
          JSON.stringify(g.prompt),
          g.category ?? null,
          gold && JSON.stringify(gold),
          g.source,
          JSON.stringify(g.meta ?? {}),
          now,
        ).lastInsertRowid,
      );
      const ids = g.candidates.map((c, k) =>
        Number(
          insC.run(
            gid,
            k,
            c.kind,
            JSON.stringify(c.kind === 'text' ? c.text : c.media),
            c.system ?? null,
            c.label ?? null,
            JSON.stringify(c.meta ?? {}),
          ).lastInsertRowid,
        ),
      );
      out.groups.push(gid);
      for (const set of taskSets(s, ids, !!gold))
        out.tasks.push(Number(insT.run(gid, JSON.stringify(set), gold ? 1 : 0, 'import', now).lastInsertRowid));
    }
  })();
  return out;
}
