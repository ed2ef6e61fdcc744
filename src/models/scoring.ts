// Sequence scoring: the summed log-probability of completion tokens given a prompt,
//   logprob(y | x) = sum_t log p(y_t | x, y_<t),
// computed in right-padded batches (padding after the tokens cannot change what causal attention
// sees, so results do not depend on batching beyond float rounding).
import { type Tensor, cat, noGrad, scope, tensor } from '../engine/index.js';
import type { CausalLM, ModelInputs } from './types.js';
import type { PromptMedia } from './generate.js';
import { gridTimesOf } from './qwen2_vl/rope.js';

export interface ScoreItem {
  prompt: number[];
  completion: number[];
  /** Images/videos of the prompt (vision-language models). */
  media?: PromptMedia | null;
}

/** The media inputs of a batch: each kind's pixel values, grids and seconds per grid, row by row. */
export function batchMediaInputs(rows: Array<PromptMedia | null | undefined>): ModelInputs {
  const out: ModelInputs = {};
  for (const k of ['pixelValues', 'imageGridThw', 'pixelValuesVideos', 'videoGridThw', 'secondPerGridTs'] as const) {
    const ts = rows.map((m) => m?.[k]).filter((t): t is Tensor => !!t);
    if (ts.length) out[k] = ts.length === 1 ? ts[0] : cat(ts, 0);
  }
  const times = gridTimesOf(rows.filter((m): m is PromptMedia => !!m));
  if (times) out.videoGridTimes = times;
  return out;
}
export interface ScoreResult {
  logprob: number;
  tokens: number;
  tokenLogprobs: number[];
}

/** Per-token log-probs of `ids[:, 1:]` under the model, [B, T-1], from logits [B, T, V]. */
export function tokenLogprobs(logits: Tensor, ids: Tensor): Tensor {
  return scope(() => {
    const T = ids.shape[1];
    const lp = logits
      .narrow(1, 0, T - 1)
      .to('float32')
      .logSoftmax(-1);
    return lp.gather(2, ids.narrow(1, 1, T - 1).unsqueeze(2)).squeeze(2);
  });
}

export function scoreCompletions(
  model: CausalLM,
  items: ScoreItem[],
  opts: { batchSize?: number; padTokenId?: number } = {},
): ScoreResult[] {
  const bs = opts.batchSize ?? 8;
  const pad = opts.padTokenId ?? 0;
  const out: ScoreResult[] = [];
  items.forEach((it, i) => {
    if (it.prompt.length === 0)
      throw new Error(
        `pacer: item ${i}: the prompt tokenizes to nothing; the first completion token needs a context (add a BOS ` +
          `token)`,
      );
  });
  const wasTraining = model.training;
  model.eval();
  noGrad(() => {
    for (let s = 0; s < items.length; s += bs) {
      const batch = items.slice(s, s + bs);
      scope(() => {
        const T = Math.max(...batch.map((b) => b.prompt.length + b.completion.length));
        const flat = new BigInt64Array(batch.length * T).fill(BigInt(pad));
        const m = new BigInt64Array(batch.length * T);
        batch.forEach((b, r) =>
          [...b.prompt, ...b.completion].forEach((t, j) => {
            flat[r * T + j] = BigInt(t);
            m[r * T + j] = 1n;
          }),
        );
        const ids = tensor(flat, { shape: [batch.length, T] });
        const mask = tensor(m, { shape: [batch.length, T] });
        const media = batchMediaInputs(batch.map((b) => b.media));
        const lp = tokenLogprobs(model.forward({ ids, attentionMask: mask, ...media }), ids).toArray();
        batch.forEach((b, r) => {
          const start = b.prompt.length - 1; // logit at position p predicts token p + 1
          const tl = lp.slice(r * (T - 1) + start, r * (T - 1) + start + b.completion.length);
          out.push({ logprob: tl.reduce((a, x) => a + x, 0), tokens: b.completion.length, tokenLogprobs: tl });
        });
      });
    }
  });
  if (wasTraining) model.train();
  return out;
}

/**
 * Summed and per-token log-probs of the labelled tokens: logits [B, T, V], labels [B, T] with
 * -100 where a position is not scored (labels[t] is the token predicted at t). Returns sums [B]
 * and counts [B] (float32) with gradients flowing through the sums.
 */
export function labelLogps(
  logits: Tensor,
  labels: Tensor,
): { sum: Tensor; count: Tensor; perToken: Tensor; mask: Tensor } {
  const mask = labels.ne(-100);
  const safe = labels.maskedFill(labels.eq(-100), 0);
  const lp = logits.to('float32').logSoftmax(-1).gather(2, safe.unsqueeze(2)).squeeze(2);
  const perToken = lp.mul(mask.float());
  return { sum: perToken.sum(1), count: mask.float().sum(1), perToken, mask };
}
