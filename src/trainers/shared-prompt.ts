// The trainers' shared-prompt forward (src/models/shared-prompt.ts): the log-probs of completions whose
// rows share a prompt — a GRPO group's G rollouts, a DPO pair's chosen and rejected answers — with the
// prompt (and its images/videos, each distinct row vision through the tower once) run once and the
// completions on its keys and values. A plan is made per batch from the rows (prompt ids, completion ids,
// vision); it is null when no two rows share a prompt, and the trainer then runs the plain forward
// (forwardBatch). The online trainers bring per-token values back to collate()'s layout of the
// concatenated rows (planLayout), so their losses, masks and metrics see what the plain forward gives
// (equal up to float rounding); the preference trainers (rowsLogps) and reference log-probs (seqRow) use
// row sums, which do not depend on the layout.
import type { Tensor } from '../engine/index.js';
import { tensor } from '../engine/index.js';
import { groupPrompts, sharedPromptHidden, toRowLayout } from '../models/shared-prompt.js';
import type { CausalLM } from '../models/types.js';
import type { RowVision } from '../data/media.js';
import { type CollatedBatch, type Seq, collate, completionSeq } from '../data/tokenize.js';
import { labelLogps } from '../models/scoring.js';
import { batchInputs, forwardBatch } from './vision.js';

/** A row as the trainers score it: prompt ids (vision pads expanded), completion ids, the prompt's vision. */
export interface PromptRow {
  prompt: number[];
  completion: number[];
  vision?: RowVision | null;
}

/** A batch of rows laid out for the shared-prompt forward. */
export interface SharedPlan {
  /** The distinct prompts, collated (right-padded, their visions). */
  prompts: CollatedBatch;
  promptLengths: number[];
  rowPrompt: number[];
  /** [N, Lc] completion ids, their mask, and labels (the ids, −100 on padding). */
  completions: Tensor;
  completionMask: Tensor;
  labels: Tensor;
  /** Per row, prompt length − 1: where completion token 0's value sits in collate()'s layout. */
  offsets: number[];
  /** Width of collate()'s batch of the concatenated rows. */
  T: number;
}

/** The plan of a batch, or null when no two rows share a prompt (and vision). Prompts must be non-empty. */
export function sharedPlan(rows: PromptRow[], pad: number): SharedPlan | null {
  const groups = groupPrompts(
    rows.map((r) => r.prompt),
    rows.map((r) => r.vision ?? null),
  );
  if (!groups || rows.some((r) => r.prompt.length === 0 || r.completion.length === 0)) return null;
  const prompts = collate(
    groups.first.map((i) => ({
      ids: rows[i].prompt,
      loss: rows[i].prompt.map(() => false),
      ...(rows[i].vision ? { vision: rows[i].vision! } : {}),
    })),
    pad,
  );
  const N = rows.length;
  const Lc = Math.max(...rows.map((r) => r.completion.length));
  const ids = new BigInt64Array(N * Lc).fill(BigInt(pad));
  const mask = new BigInt64Array(N * Lc);
  const labels = new BigInt64Array(N * Lc).fill(-100n);
  rows.forEach((r, n) =>
    r.completion.forEach((t, j) => {
      ids[n * Lc + j] = BigInt(t);
      labels[n * Lc + j] = BigInt(t);
      mask[n * Lc + j] = 1n;
    }),
  );
  return {
    prompts,
    promptLengths: groups.first.map((i) => rows[i].prompt.length),
    rowPrompt: groups.rowPrompt,
    completions: tensor(ids, { shape: [N, Lc] }),
    completionMask: tensor(mask, { shape: [N, Lc] }),
    labels: tensor(labels, { shape: [N, Lc] }),
    offsets: rows.map((r) => r.prompt.length - 1),
    T: Math.max(...rows.map((r) => r.prompt.length + r.completion.length)),
  };
}

/** Next-token logits [N, Lc, vocab]: position j predicts completion token j (labels: plan.labels). */
export function sharedLogits(model: CausalLM, plan: SharedPlan): Tensor {
  const prompts = batchInputs(model, plan.prompts) as ReturnType<typeof batchInputs> & {
    ids: Tensor;
    attentionMask: Tensor;
  };
  const h = sharedPromptHidden(model, {
    prompts,
    promptLengths: plan.promptLengths,
    rowPrompt: plan.rowPrompt,
    completions: plan.completions,
    completionMask: plan.completionMask,
  });
  return model.logits(h);
}

/** Per-completion-token values [N, Lc] of a plan in collate()'s layout [N, T] (0 off the completions). */
export function planLayout(plan: SharedPlan, x: Tensor): Tensor {
  return toRowLayout(x, plan.offsets, plan.T);
}

/**
 * Logits and labelLogps of rows (prompt + completion each): through the shared-prompt forward when rows
 * share a prompt, else the plain forward of collate()'s batch. Row sums and counts are the same either
 * way; per-token values (and logits) are in the forward's own layout, each row's completion tokens in order.
 */
export function rowsLogps(model: CausalLM, rows: PromptRow[], pad: number) {
  const plan = sharedPlan(rows, pad);
  if (plan) {
    const logits = sharedLogits(model, plan);
    return { logits, lp: labelLogps(logits, plan.labels) };
  }
  const b = collate(
    rows.map((r) => completionSeq(r.prompt, r.completion, r.vision ?? undefined)),
    pad,
  );
  const logits = forwardBatch(model, b);
  return { logits, lp: labelLogps(logits, b.labels) };
}

/** A sequence as prompt + completion (no loss on a non-empty prompt, loss on every token after), or null. */
export function seqRow(s: Seq): PromptRow | null {
  const k = s.loss.indexOf(true);
  if (k < 1 || s.segments || s.loss.some((l, i) => l !== i >= k)) return null;
  return { prompt: s.ids.slice(0, k), completion: s.ids.slice(k), vision: s.vision };
}
