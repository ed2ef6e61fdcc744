// Shared-prompt forward: rows that share a prompt (a GRPO group's G completions, a DPO pair's chosen and
// rejected answers) run that prompt through the model once. The distinct prompts (right-padded, with their
// images/videos: the vision tower runs once per prompt) are prefilled into a KV cache; the cache rows are
// repeated to the rows (index_select, whose backward sums the rows' gradients into the prompt's keys and
// values), and the completions run on them as generation's decoding does (./generate.ts): positions from the
// attention mask over prompt + completion (Llama, GPT-2), or cache index + rope delta (M-RoPE, Qwen2-VL).
// The completion token j is predicted by the hidden state before it: the prompt's last real position for
// j = 0, the completion's position j − 1 after. Causal attention makes this the plain forward of the
// concatenated rows in another order (per-token log-probs equal up to float rounding; test/shared-prompt.test.js),
// with ~G× fewer prompt tokens through the layers. With dropout (lora_dropout) in training, the rows of a
// prompt share one dropout draw on its tokens where the plain forward draws one per row: each row's loss
// is still that of a valid draw, so the expected gradient is the same.
import { type Tensor, F, tensor, zeros } from '../engine/index.js';
import { KVCache } from './attention.js';
import type { CausalLM, ModelInputs } from './types.js';

/** Rows grouped by their prompt: each distinct prompt's first row, and each row's prompt index. */
export interface PromptGroups {
  first: number[];
  rowPrompt: number[];
}

/** Rows grouped by (prompt ids, media — the same object): each distinct prompt's first row, each row's prompt. */
export function promptIndex(prompts: number[][], media: ReadonlyArray<unknown> = []): PromptGroups {
  const ids = new Map<unknown, number>();
  const seen = new Map<string, number>();
  const first: number[] = [];
  const rowPrompt = prompts.map((p, r) => {
    const m = media[r] ?? null;
    if (!ids.has(m)) ids.set(m, ids.size);
    const key = `${ids.get(m)}:${p.join(',')}`;
    let k = seen.get(key);
    if (k === undefined) {
      k = first.length;
      seen.set(key, k);
      first.push(r);
    }
    return k;
  });
  return { first, rowPrompt };
}

/**
 * Group rows by prompt ids and media (the same object: one vision per group). Returns null when no two
 * rows share a prompt (the plain forward is then as cheap).
 */
export function groupPrompts(prompts: number[][], media: ReadonlyArray<unknown> = []): PromptGroups | null {
  const g = promptIndex(prompts, media);
  return g.first.length < prompts.length ? g : null;
}

/** The inputs of a shared-prompt forward. */
export interface SharedPromptInputs {
  /** The distinct prompts [P, Lp], right-padded, their attention mask and media inputs. */
  prompts: ModelInputs & { ids: Tensor; attentionMask: Tensor };
  /** Real tokens of each prompt (≥ 1). */
  promptLengths: number[];
  /** Each row's prompt index (N rows). */
  rowPrompt: number[];
  /** [N, Lc] completion ids, right-padded, and their mask. */
  completions: Tensor;
  completionMask: Tensor;
}

/** int64 tensor of a list. */
const longs = (a: number[]) => tensor(a, { dtype: 'int64' });

/**
 * Hidden states [N, Lc, hidden] where position j is the state that predicts completion token j (the
 * model's logits() of it give the next-token logits), with gradients into every parameter the plain
 * forward of prompt + completion reaches.
 */
export function sharedPromptHidden(model: CausalLM, x: SharedPromptInputs): Tensor {
  const [P, Lp] = x.prompts.ids.shape;
  const [N, Lc] = x.completions.shape;
  if (x.promptLengths.length !== P || x.rowPrompt.length !== N || x.promptLengths.some((n) => n < 1 || n > Lp))
    throw new RangeError(`pacer: shared-prompt forward: ${P} prompts of ${Lp} positions, ${N} rows: bad lengths`);
  const cache = new KVCache(model.numLayers);
  try {
    const hp = model.hidden({ ...x.prompts, cache });
    const rows = longs(x.rowPrompt);
    const lastIx = longs(x.promptLengths.map((n, p) => p * Lp + n - 1));
    const last = hp
      .reshape(P * Lp, hp.shape[2])
      .indexSelect(0, lastIx)
      .indexSelect(0, rows)
      .unsqueeze(1);
    if (Lc === 1) return last;
    cache.select(rows);
    const mask = F.cat([x.prompts.attentionMask.indexSelect(0, rows), x.completionMask], 1);
    const hc = model.hidden({
      ids: x.completions.narrow(1, 0, Lc - 1),
      attentionMask: mask.narrow(1, 0, Lp + Lc - 1),
      cache,
    });
    return F.cat([last, hc], 1);
  } finally {
    cache.dispose();
  }
}

/**
 * Values [N, Lc] laid out per completion token, moved to the layout of the concatenated rows [N, T]
 * (collate's labels: the value for completion token j at column offsets[r] + j, offsets[r] = prompt length
 * − 1); other columns are 0. A gather, so gradients flow back.
 */
export function toRowLayout(x: Tensor, offsets: number[], T: number): Tensor {
  const [N, Lc] = x.shape;
  const ix: number[] = [];
  for (let r = 0; r < N; r++)
    for (let t = 0; t < T; t++) {
      const j = t - offsets[r];
      ix.push(j >= 0 && j < Lc ? j : Lc);
    }
  const padded = F.cat([x, zeros([N, 1], { dtype: x.dtype, device: x.device })], 1);
  return padded.gather(1, tensor(ix, { dtype: 'int64' }).view(N, T));
}
