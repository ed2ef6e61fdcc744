// Generation with a KV cache: batches with left padding; greedy, temperature, top-k, top-p and
// min-p sampling (the HF logits-processor rules); EOS and stop strings; max_new_tokens; seeded.
// Returns token ids, text and the log-probability of each sampled token under the model's
// unprocessed distribution (log-softmax of the raw logits, as vLLM's raw_logprobs), which is what
// RL objectives need as log pi_old.
import { type Tensor, Generator, F, noGrad, scope, tensor, ones, keep, cat } from '../engine/index.js';
import { KVCache } from './attention.js';
import type { CausalLM } from './types.js';
import type { Tokenizer } from '../tokenizers/index.js';

export interface GenerateOptions {
  maxNewTokens?: number;
  /** false: greedy (argmax). Default: true when temperature > 0 and any sampling option is set. */
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  eosTokenId?: number | number[] | null;
  padTokenId?: number;
  /** Stop when the decoded completion contains one of these (needs a tokenizer); text is cut before it. */
  stopStrings?: string[];
  generator?: Generator;
  seed?: number;
  /** Recompute the whole sequence every step instead of using the KV cache (for checking). */
  useCache?: boolean;
}

export interface GenerationResult {
  /** Generated token ids (the EOS token included when it ended the sequence). */
  tokens: number[];
  /** Raw-model log-probabilities of each generated token. */
  logprobs: number[];
  text?: string;
  finishReason: 'eos' | 'stop' | 'length';
}

/** Apply temperature, top-k, top-p and min-p to logits [B, V] (float32); -inf marks removed tokens. */
export function processLogits(
  logits: Tensor,
  o: { temperature?: number; topK?: number; topP?: number; minP?: number },
): Tensor {
  return scope(() => {
    let l = logits;
    const t = o.temperature ?? 1;
    if (!(t > 0)) throw new RangeError(`pacer: temperature must be > 0 when sampling, got ${t}`);
    if (t !== 1) l = l.div(t);
    const V = l.shape[l.ndim - 1];
    if (o.topK && o.topK > 0 && o.topK < V) {
      const kth = l.topk(o.topK, -1)[0].narrow(-1, o.topK - 1, 1);
      l = l.maskedFill(l.lt(kth), -Infinity);
    }
    if (o.topP !== undefined && o.topP < 1) {
      if (!(o.topP > 0)) throw new RangeError(`pacer: top_p must be in (0, 1], got ${o.topP}`);
      // HF TopPLogitsWarper: sort ascending, drop tokens whose cumulative probability <= 1 - top_p,
      // always keeping the most likely token.
      const [sorted, idx] = l.sort(-1, false);
      const cum = sorted.softmax(-1).cumsum(-1);
      const remove = cum.le(1 - o.topP);
      const keepLast = F.cat(
        [ones([l.shape[0], V - 1], { dtype: 'bool' }).logicalNot(), ones([l.shape[0], 1], { dtype: 'bool' })],
        -1,
      );
      const removeSorted = remove.logicalAnd(keepLast.logicalNot());
      const removeOrig = removeSorted.scatter(-1, idx, removeSorted);
      l = l.maskedFill(removeOrig, -Infinity);
    }
    if (o.minP !== undefined && o.minP > 0) {
      const p = l.softmax(-1);
      const thr = p.amax(-1, true).mul(o.minP);
      l = l.maskedFill(p.lt(thr), -Infinity);
    }
    return l;
  });
}

function eosSet(model: CausalLM, tok: Tokenizer | undefined, o: GenerateOptions): Set<number> {
  const v = o.eosTokenId !== undefined ? o.eosTokenId : (model.config.eos_token_id ?? tok?.eosTokenId ?? null);
  return new Set(v === null || v === undefined ? [] : Array.isArray(v) ? v : [v]);
}

/** Generate continuations of token-id prompts (a batch, left-padded internally). */
export function generate(
  model: CausalLM,
  prompts: number[][],
  o: GenerateOptions = {},
  tokenizer?: Tokenizer,
): GenerationResult[] {
  const maxNew = o.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new RangeError(`pacer: max_new_tokens must be a non-negative integer, got ${maxNew}`);
  if (prompts.length === 0) return [];
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`pacer: prompt ${i} is empty (it needs at least one token, e.g. BOS)`);
  });
  if (o.stopStrings?.length && !tokenizer)
    throw new Error('pacer: stop strings need a tokenizer to decode the completions');
  const sample =
    o.doSample ??
    ((o.temperature ?? 1) > 0 &&
      (o.temperature !== undefined || o.topK !== undefined || o.topP !== undefined || o.minP !== undefined));
  const gen = o.generator ?? new Generator(o.seed ?? 0);
  const eos = eosSet(model, tokenizer, o);
  const pad = o.padTokenId ?? model.config.pad_token_id ?? [...eos][0] ?? 0;
  const B = prompts.length;
  const L = Math.max(...prompts.map((p) => p.length));
  const results: GenerationResult[] = prompts.map(() => ({
    tokens: [],
    logprobs: [],
    finishReason: 'length' as const,
  }));
  const done = new Array<boolean>(B).fill(false);
  const useCache = o.useCache ?? true;
  const wasTraining = model.training;
  model.eval();
  noGrad(() => {
    const cache = useCache ? new KVCache(model.numLayers) : undefined;
    const padded = prompts.some((p) => p.length !== L);
    const flat = new BigInt64Array(B * L);
    const m = new BigInt64Array(B * L);
    prompts.forEach((p, b) =>
      p.forEach((t, i) => {
        flat[b * L + L - p.length + i] = BigInt(t);
        m[b * L + L - p.length + i] = 1n;
      }),
    );
    // With a cache only the newest tokens are fed; the full ids are kept only without one. The
    // attention mask is needed only when prompts were left-padded.
    let ids = keep(tensor(flat, { shape: [B, L] }));
    let mask: Tensor | null = padded ? keep(tensor(m, { shape: [B, L] })) : null;
    try {
      for (let s = 0; s < maxNew && done.some((d) => !d); s++) {
        const next: number[] = scope(() => {
          const logits = model
            .forward({ ids, attentionMask: mask ?? undefined, cache })
            .select(1, -1)
            .to('float32');
          const logp = logits.logSoftmax(-1);
          let chosen: Tensor;
          if (!sample) chosen = logits.argmax(-1);
          else chosen = F.multinomial(processLogits(logits, o).softmax(-1), 1, false, gen).squeeze(-1);
          const lp = logp.gather(1, chosen.unsqueeze(1)).squeeze(1).toArray();
          const c = chosen.toArray();
          for (let b = 0; b < B; b++) {
            if (done[b]) continue;
            results[b].tokens.push(c[b]);
            results[b].logprobs.push(lp[b]);
            if (eos.has(c[b])) {
              done[b] = true;
              results[b].finishReason = 'eos';
            } else if (o.stopStrings?.length) {
              const text = tokenizer!.decode(results[b].tokens, { skipSpecialTokens: true });
              if (o.stopStrings.some((ss) => text.includes(ss))) {
                done[b] = true;
                results[b].finishReason = 'stop';
              }
            }
          }
          return c.map((t, b) => (done[b] && results[b].tokens.length <= s ? pad : t));
        });
        if (s === maxNew - 1 || done.every((d) => d)) break;
        const nextT = tensor(next, { dtype: 'int64' }).view(B, 1);
        const newIds = keep(cache ? nextT : cat([ids, nextT], 1));
        if (newIds !== nextT) nextT.dispose();
        ids.dispose();
        ids = newIds;
        if (mask) {
          const newMask = keep(cat([mask, ones([B, 1], { dtype: 'int64' })], 1));
          mask.dispose();
          mask = newMask;
        }
      }
    } finally {
      cache?.dispose();
      ids.dispose();
      mask?.dispose();
    }
  });
  if (wasTraining) model.train();
  if (tokenizer) {
    for (const r of results) {
      let text = tokenizer.decode(r.tokens, { skipSpecialTokens: true });
      if (r.finishReason === 'stop') {
        const cut = Math.min(...o.stopStrings!.map((s) => text.indexOf(s)).filter((i) => i >= 0));
        text = text.slice(0, cut);
      }
      r.text = text;
    }
  }
  return results;
}
