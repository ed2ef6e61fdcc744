// Generation with a KV cache: batches with left padding; greedy, temperature, top-k, top-p and
// min-p sampling (the HF logits-processor rules); HF's repetition penalty (CTRL, Keskar et al. 2019:
// the logit l of every token already in the prompt or the completion becomes l/p if l > 0, else l·p,
// before sampling or argmax); OpenAI's logit_bias; EOS and stop strings;
// max_new_tokens; seeded. Returns token ids, text and the log-probability of each sampled token
// under the model's unprocessed distribution (log-softmax of the raw logits, as vLLM's
// raw_logprobs), which is what RL objectives need as log pi_old, and on request the top-k of that
// distribution at each step. A Decoder advances one token at a time: generate() drives it in one
// synchronous loop, generateAsync() yields to the event loop between tokens (servers stay
// responsive) and reports each step (streaming). Vision-language models take per-prompt media
// (options.media): each distinct media object is encoded by the vision tower once, and prompts that
// repeat (the same ids and the same media object, e.g. a GRPO group's G completions) are prefilled
// once and their KV cache rows copied, so a video is encoded once per prompt however many completions.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Tensor, Generator, F, noGrad, scope, tensor, ones, keep, cat } from '../engine/index.js';
import { KVCache } from './attention.js';
import { promptIndex } from './shared-prompt.js';
import type { CausalLM, ModelInputs } from './types.js';
import { gridTimesOf } from './qwen2_vl/rope.js';
import type { Tokenizer } from '../tokenizers/index.js';

export interface GenerateOptions {
  maxNewTokens?: number;
  /** false: greedy (argmax). Default: true when temperature > 0 and any sampling option is set. */
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  /** HF's repetition_penalty p (> 0; 1 = none) on tokens already in the row; log-probs stay raw. */
  repetitionPenalty?: number;
  /** Added to the logits of these token ids before choosing (OpenAI's logit_bias); log-probs stay raw. */
  logitBias?: Record<number, number>;
  /** Also report the k most likely tokens and their raw log-probs at each step. */
  topLogprobs?: number;
  eosTokenId?: number | number[] | null;
  padTokenId?: number;
  /** Stop when the decoded completion contains one of these (needs a tokenizer); text is cut before it. */
  stopStrings?: string[];
  generator?: Generator;
  seed?: number;
  /**
   * One seed per prompt: each row samples from its own generator, so its tokens do not depend on the
   * rest of the batch (data-parallel ranks each generate a share of one batch). Overrides seed/generator.
   */
  rowSeeds?: number[];
  /** Recompute the whole sequence every step instead of using the KV cache (for checking). */
  useCache?: boolean;
  /** Per prompt, its images/videos (vision-language models); null for a text-only prompt. */
  media?: Array<PromptMedia | null>;
}

/** One prompt's vision inputs, as the processor gives them. */
export type PromptMedia = Pick<
  ModelInputs,
  'pixelValues' | 'imageGridThw' | 'pixelValuesVideos' | 'videoGridThw' | 'secondPerGridTs' | 'videoGridTimes'
>;

interface VisionLM extends CausalLM {
  encodeVision(pixels: Tensor, grid: Tensor): Tensor;
}

interface Encoded {
  image: Tensor | null;
  video: Tensor | null;
}

/** The model inputs for rows of prompt media; each media object is encoded once (memoised in `seen`). */
function batchMedia(model: VisionLM, rows: Array<PromptMedia | null>, seen: Map<PromptMedia, Encoded>): ModelInputs {
  const enc = (m: PromptMedia): Encoded => {
    let e = seen.get(m);
    if (!e) {
      e = {
        image: m.pixelValues ? keep(model.encodeVision(m.pixelValues, m.imageGridThw!)) : null,
        video: m.pixelValuesVideos ? keep(model.encodeVision(m.pixelValuesVideos, m.videoGridThw!)) : null,
      };
      seen.set(m, e);
    }
    return e;
  };
  const present = rows.filter((m): m is PromptMedia => !!m);
  const join = (xs: Array<Tensor | null | undefined>) => {
    const ts = xs.filter((x): x is Tensor => !!x);
    return ts.length ? cat(ts, 0) : undefined;
  };
  const videos = present.filter((m) => m.videoGridThw);
  const spgt = videos.map((m) => m.secondPerGridTs ?? ones([m.videoGridThw!.shape[0]]));
  return {
    imageEmbeds: join(present.map((m) => enc(m).image)),
    imageGridThw: join(present.map((m) => m.imageGridThw)),
    videoEmbeds: join(present.map((m) => enc(m).video)),
    videoGridThw: join(videos.map((m) => m.videoGridThw)),
    secondPerGridTs: join(spgt),
    videoGridTimes: gridTimesOf(videos),
  };
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface GenerationResult {
  /** Generated token ids (the EOS token included when it ended the sequence). */
  tokens: number[];
  /** Raw-model log-probabilities of each generated token. */
  logprobs: number[];
  /** With topLogprobs k: per generated token, the k most likely [token id, raw log-prob], best first. */
  topLogprobs?: Array<Array<[number, number]>>;
  text?: string;
  finishReason: FinishReason;
}

/** What one decoding step produced for one sequence. */
export interface StepToken {
  token: number;
  logprob: number;
  top?: Array<[number, number]>;
  /** Set when this token ended the sequence (EOS, a stop string, or the last allowed token). */
  finishReason?: FinishReason;
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

/** Check generation arguments; returns whether to sample. */
function checkArgs(prompts: number[][], o: GenerateOptions, tokenizer: Tokenizer | undefined, vocab: number): boolean {
  const maxNew = o.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new RangeError(`pacer: max_new_tokens must be a non-negative integer, got ${maxNew}`);
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`pacer: prompt ${i} is empty (it needs at least one token, e.g. BOS)`);
  });
  if (o.stopStrings?.length && !tokenizer)
    throw new Error('pacer: stop strings need a tokenizer to decode the completions');
  if (o.topLogprobs !== undefined && !(Number.isInteger(o.topLogprobs) && o.topLogprobs >= 0 && o.topLogprobs <= vocab))
    throw new RangeError(`pacer: topLogprobs must be an integer in [0, ${vocab}], got ${o.topLogprobs}`);
  const rp = o.repetitionPenalty ?? 1;
  if (!(rp > 0 && Number.isFinite(rp)))
    throw new RangeError(`pacer: repetition_penalty must be a finite number > 0, got ${o.repetitionPenalty}`);
  for (const [k, b] of Object.entries(o.logitBias ?? {}))
    if (!(Number(k) >= 0 && Number(k) < vocab && Number.isInteger(Number(k)) && Number.isFinite(b)))
      throw new RangeError(`pacer: logit bias for token '${k}' needs a token id in [0, ${vocab}) and a finite bias`);
  return (
    o.doSample ??
    ((o.temperature ?? 1) > 0 &&
      (o.temperature !== undefined || o.topK !== undefined || o.topP !== undefined || o.minP !== undefined))
  );
}

/**
 * One batched decoding run, advanced a token at a time with step(). The batch is left-padded;
 * with a KV cache only the newest tokens are fed, and the attention mask is kept only when the
 * prompts were padded. Call finish() for the results (texts decoded), or dispose() to abandon it.
 */
export class Decoder {
  readonly results: GenerationResult[];
  private readonly done: boolean[];
  private readonly sample: boolean;
  private readonly gen: Generator;
  private readonly rowGens: Generator[] | null;
  private readonly eos: Set<number>;
  private readonly pad: number;
  private readonly maxNew: number;
  private readonly cache?: KVCache;
  private readonly bias: Tensor | null = null;
  /** Per row, the token ids seen so far (prompt and completion), when a repetition penalty applies. */
  private readonly seen: Array<Set<number>> | null = null;
  private readonly wasTraining: boolean;
  private ids: Tensor | null;
  private mask: Tensor | null;
  /** Vision inputs of the (unique) prompt rows; used at prefill (every step without a cache). */
  private mediaInputs: ModelInputs | null = null;
  private readonly encoded = new Map<PromptMedia, Encoded>();
  /** Prefilled unique rows -> all rows (null when every row is distinct). */
  private expand: Tensor | null = null;
  private pending: number[] | null = null;
  private steps = 0;

  constructor(
    private readonly model: CausalLM,
    prompts: number[][],
    private readonly o: GenerateOptions = {},
    private readonly tokenizer?: Tokenizer,
  ) {
    this.sample = checkArgs(prompts, o, tokenizer, model.vocabSize);
    this.maxNew = o.maxNewTokens ?? 32;
    this.gen = o.generator ?? new Generator(o.seed ?? 0);
    if (o.rowSeeds && o.rowSeeds.length !== prompts.length)
      throw new RangeError(`pacer: rowSeeds has ${o.rowSeeds.length} seeds for ${prompts.length} prompts`);
    this.rowGens = o.rowSeeds ? o.rowSeeds.map((s) => new Generator(s)) : null;
    this.eos = eosSet(model, tokenizer, o);
    this.pad = o.padTokenId ?? model.config.pad_token_id ?? [...this.eos][0] ?? 0;
    const B = prompts.length;
    const media = this.checkMedia(prompts, o.media);
    let rows = prompts;
    if (media && (o.useCache ?? true)) {
      const { first: uniq, rowPrompt: index } = promptIndex(prompts, media);
      if (uniq.length < B) this.expand = keep(tensor(index, { dtype: 'int64' }));
      rows = uniq.map((b) => prompts[b]);
      this.mediaInputs = this.encodeMedia(uniq.map((b) => media[b]));
    } else if (media) this.mediaInputs = this.encodeMedia(media);
    this.results = prompts.map(() => ({ tokens: [], logprobs: [], finishReason: 'length' as const }));
    if (o.topLogprobs) for (const r of this.results) r.topLogprobs = [];
    this.done = new Array<boolean>(B).fill(false);
    this.wasTraining = model.training;
    model.eval();
    const L = B ? Math.max(...prompts.map((p) => p.length)) : 0;
    const R = rows.length;
    const flat = new BigInt64Array(R * L);
    const m = new BigInt64Array(R * L);
    rows.forEach((p, b) =>
      p.forEach((t, i) => {
        flat[b * L + L - p.length + i] = BigInt(t);
        m[b * L + L - p.length + i] = 1n;
      }),
    );
    this.ids = keep(tensor(flat, { shape: [R, L] }));
    this.mask = prompts.some((p) => p.length !== L) ? keep(tensor(m, { shape: [R, L] })) : null;
    this.cache = (o.useCache ?? true) ? new KVCache(model.numLayers) : undefined;
    if (o.logitBias && Object.keys(o.logitBias).length) {
      const bias = new Float32Array(model.vocabSize);
      for (const [k, b] of Object.entries(o.logitBias)) bias[Number(k)] = b;
      this.bias = keep(tensor(bias));
    }
    if ((o.repetitionPenalty ?? 1) !== 1) this.seen = prompts.map((p) => new Set(p));
  }

  /** HF RepetitionPenaltyLogitsProcessor on logits [B, V]: seen tokens' logits l → l < 0 ? l·p : l/p. */
  private penalize(logits: Tensor): Tensor {
    if (!this.seen) return logits;
    const p = this.o.repetitionPenalty!;
    const [B, V] = logits.shape;
    const neg = new Float32Array(B * V).fill(1);
    const pos = new Float32Array(B * V).fill(1);
    this.seen.forEach((ids, b) => {
      for (const t of ids)
        if (t >= 0 && t < V) {
          neg[b * V + t] = p;
          pos[b * V + t] = 1 / p;
        }
    });
    const factor = F.where(logits.lt(0), tensor(neg, { shape: [B, V] }), tensor(pos, { shape: [B, V] }));
    return logits.mul(factor);
  }

  private checkMedia(
    prompts: number[][],
    media: Array<PromptMedia | null> | undefined,
  ): Array<PromptMedia | null> | null {
    if (!media || media.every((m) => !m)) return null;
    if (media.length !== prompts.length)
      throw new RangeError(
        `pacer: media has ${media.length} entries for ${prompts.length} prompts (one each, or null)`,
      );
    if (typeof (this.model as unknown as Partial<VisionLM>).encodeVision !== 'function')
      throw new TypeError(
        `pacer: ${this.model.config.model_type} is a text-only model: it cannot take images or videos`,
      );
    return media;
  }

  /** Encode the rows' media (no autograd, temporaries freed) and keep the batch inputs. */
  private encodeMedia(rows: Array<PromptMedia | null>): ModelInputs {
    const x = noGrad(() => scope(() => batchMedia(this.model as unknown as VisionLM, rows, this.encoded)));
    for (const t of Object.values(x)) if (t) keep(t as Tensor);
    return x;
  }

  /** True when every sequence has ended or max_new_tokens were generated. */
  get finished(): boolean {
    return this.steps >= this.maxNew || this.done.every((d) => d) || this.results.length === 0;
  }

  /** One forward pass: a token for every unfinished sequence (null for those already done). */
  step(): Array<StepToken | null> {
    if (this.finished) throw new Error('pacer: Decoder.step() after the generation finished');
    return noGrad(() => {
      if (this.pending) scope(() => this.feed(this.pending!));
      const { chosen, lp, top } = scope(() => this.choose());
      const out = this.record(chosen, lp, top);
      this.steps++;
      this.pending = this.finished ? null : chosen.map((t, b) => (this.done[b] && !out[b] ? this.pad : t));
      if (this.finished)
        for (let b = 0; b < out.length; b++) if (out[b] && !out[b]!.finishReason) out[b]!.finishReason = 'length';
      return out;
    });
  }

  /** After a deduplicated prefill: copy the cache, mask and logits rows out to every prompt. */
  private expandRows(logits: Tensor): Tensor {
    const ix = this.expand!;
    this.cache!.select(ix);
    if (this.mask) {
      const m = keep(this.mask.indexSelect(0, ix));
      this.mask.dispose();
      this.mask = m;
    }
    const ids = keep(this.ids!.indexSelect(0, ix));
    this.ids!.dispose();
    this.ids = ids;
    this.expand = null;
    const out = logits.indexSelect(0, ix);
    ix.dispose();
    return out;
  }

  /** Append the previous step's tokens to the fed ids (and the mask). */
  private feed(next: number[]): void {
    const B = next.length;
    const nextT = tensor(next, { dtype: 'int64' }).view(B, 1);
    const newIds = keep(this.cache ? nextT : cat([this.ids!, nextT], 1));
    if (newIds !== nextT) nextT.dispose();
    this.ids!.dispose();
    this.ids = newIds;
    if (this.mask) {
      const newMask = keep(cat([this.mask, ones([B, 1], { dtype: 'int64' })], 1));
      this.mask.dispose();
      this.mask = newMask;
    }
  }

  private choose(): { chosen: number[]; lp: number[]; top: Array<Array<[number, number]>> | null } {
    const prefill = !this.cache || this.cache.length === 0;
    const media = prefill && this.mediaInputs ? this.mediaInputs : {};
    let logits = this.model
      .forward({ ids: this.ids!, attentionMask: this.mask ?? undefined, cache: this.cache, ...media })
      .select(1, -1)
      .to('float32');
    if (prefill && this.expand) logits = this.expandRows(logits);
    const logp = logits.logSoftmax(-1);
    const penalized = this.penalize(logits);
    const biased = this.bias ? penalized.add(this.bias) : penalized;
    const chosenT = this.sample ? this.draw(processLogits(biased, this.o).softmax(-1)) : biased.argmax(-1);
    const lp = logp.gather(1, chosenT.unsqueeze(1)).squeeze(1).toArray();
    let top: Array<Array<[number, number]>> | null = null;
    const k = this.o.topLogprobs ?? 0;
    if (k > 0) {
      const [v, i] = logp.topk(k, -1);
      const va = v.toArray(),
        ia = i.toArray();
      top = Array.from({ length: logits.shape[0] }, (_, b) =>
        Array.from({ length: k }, (_, j): [number, number] => [ia[b * k + j], va[b * k + j]]),
      );
    }
    return { chosen: chosenT.toArray(), lp, top };
  }

  /** One token per row from probs [B, V]: one draw from the batch's generator, or one per row's own. */
  private draw(probs: Tensor): Tensor {
    if (!this.rowGens) return F.multinomial(probs, 1, false, this.gen).squeeze(-1);
    return cat(this.rowGens.map((g, b) => F.multinomial(probs.narrow(0, b, 1), 1, false, g).view(1)));
  }

  private record(c: number[], lp: number[], top: Array<Array<[number, number]>> | null): Array<StepToken | null> {
    return c.map((t, b) => {
      if (this.done[b]) return null;
      const r = this.results[b];
      const st: StepToken = { token: t, logprob: lp[b], ...(top ? { top: top[b] } : {}) };
      r.tokens.push(t);
      this.seen?.[b].add(t);
      r.logprobs.push(lp[b]);
      if (top) r.topLogprobs!.push(top[b]);
      if (this.eos.has(t)) st.finishReason = 'eos';
      else if (this.o.stopStrings?.length) {
        const text = this.tokenizer!.decode(r.tokens, { skipSpecialTokens: true });
        if (this.o.stopStrings.some((ss) => text.includes(ss))) st.finishReason = 'stop';
      }
      if (st.finishReason) {
        this.done[b] = true;
        r.finishReason = st.finishReason;
      }
      return st;
    });
  }

  /** Free the cache and ids, restore the model's training mode, decode the texts; returns the results. */
  finish(): GenerationResult[] {
    this.dispose();
    if (this.tokenizer)
      for (const r of this.results) {
        let text = r.tokens.length ? this.tokenizer.decode(r.tokens, { skipSpecialTokens: true }) : '';
        if (r.finishReason === 'stop') {
          const cut = Math.min(...this.o.stopStrings!.map((s) => text.indexOf(s)).filter((i) => i >= 0));
          text = text.slice(0, cut);
        }
        r.text = text;
      }
    return this.results;
  }

  /** Free the tensors this run holds and restore the model's training mode (idempotent). */
  dispose(): void {
    this.cache?.dispose();
    this.ids?.dispose();
    this.mask?.dispose();
    this.bias?.dispose();
    this.expand?.dispose();
    this.expand = null;
    for (const t of Object.values(this.mediaInputs ?? {})) (t as Tensor | undefined)?.dispose();
    for (const e of this.encoded.values()) for (const t of [e.image, e.video]) t?.dispose();
    this.encoded.clear();
    this.mediaInputs = null;
    this.ids = this.mask = null;
    if (this.wasTraining) this.model.train();
  }
}

/** Generate continuations of token-id prompts (a batch, left-padded internally). */
export function generate(
  model: CausalLM,
  prompts: number[][],
  o: GenerateOptions = {},
  tokenizer?: Tokenizer,
): GenerationResult[] {
  const d = new Decoder(model, prompts, o, tokenizer);
  try {
    while (!d.finished) d.step();
    return d.finish();
  } finally {
    d.dispose();
  }
}

/**
 * generate() that yields to the event loop after every token, so a server keeps answering while it
 * generates. onStep sees each step's tokens (streaming); an aborted signal stops the run (throws).
 */
export async function generateAsync(
  model: CausalLM,
  prompts: number[][],
  o: GenerateOptions = {},
  tokenizer?: Tokenizer,
  hooks: { onStep?: (tokens: Array<StepToken | null>) => void; signal?: AbortSignal } = {},
): Promise<GenerationResult[]> {
  hooks.signal?.throwIfAborted();
  const d = new Decoder(model, prompts, o, tokenizer);
  try {
    while (!d.finished) {
      const tokens = d.step();
      hooks.onStep?.(tokens);
      await nextTurn();
      hooks.signal?.throwIfAborted();
    }
    return d.finish();
  } finally {
    d.dispose();
  }
}
