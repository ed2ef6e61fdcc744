// What the ratings rate: the systems (model, checkpoint, reward function) when every candidate names
// one — Arena's case — else each candidate on its own (named "PROMPT:K", K its 1-based position; such
// ratings only compare candidates of the same prompt). Votes on regular (non-gold) tasks become
// comparisons between these items.
import type { Comparison } from '../preferences/counts.js';
import { answerComparisons } from './answers.js';
import type { Candidate, Project, TaskRow, VoteRow } from './project.js';

export interface RatedItems {
  names: string[];
  bySystem: boolean;
  itemOf: (candidate: number) => number | null;
  candidates: Map<number, Candidate>;
}

export function ratedItems(p: Project): RatedItems {
  const cands = p.candidates();
  const byId = new Map(cands.map((c) => [c.id, c]));
  const bySystem = p.hasSystems();
  const names: string[] = [];
  const index = new Map<string, number>();
  const key = (c: Candidate) => (bySystem ? (c.system as string) : `${c.groupId}:${c.position + 1}`);
  for (const c of cands)
    if (!index.has(key(c))) {
      index.set(key(c), names.length);
      names.push(key(c));
    }
  return {
    names,
    bySystem,
    candidates: byId,
    itemOf: (id) => {
      const c = byId.get(id);
      return c ? (index.get(key(c)) ?? null) : null;
    },
  };
}

/** Comparisons from the votes on regular tasks, in vote order, with the vote each came from. */
export function voteComparisons(
  p: Project,
  items: RatedItems,
  votes: VoteRow[] = p.votes(),
  tasks: Map<number, TaskRow> = new Map(p.tasks().map((t) => [t.id, t])),
): Array<Comparison & { vote: number }> {
  const kind = p.settings.task;
  const out: Array<Comparison & { vote: number }> = [];
  for (const v of votes) {
    if (v.gold) continue;
    const t = tasks.get(v.taskId)!;
    for (const c of answerComparisons(kind, t.candidates, v.answer, items.itemOf)) out.push({ ...c, vote: v.id });
  }
  return out;
}
