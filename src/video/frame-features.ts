// Per-frame and question features for learned frame samplers (TSPO's agent, ./sampler-agent.ts), from a
// pluggable frozen encoder: anything that maps frames [T, H, W, 3] and texts to vectors of one width
// (FrameEncoder; registerFrameEncoder adds a type that loadFrameEncoder reads from a folder).
// Built in, 'qwen2_vl_pooled': a Qwen2-VL / Qwen2.5-VL model's vision tower run on each frame as an
// image (the image processor; a frame is its own temporal patch pair), its merger outputs mean-pooled
// per frame, and the question's token embeddings mean-pooled — both in the language model's input
// space — each through a linear projection to `dim`. The projections are fitted by a CLIP-style
// contrastive warm-up (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
// Supervision", arXiv 2103.00020) on (frame, text) pairs with the model frozen:
//   z_v = norm(W_v v + b_v), z_t = norm(W_t t + b_t), logits = e^{s}·z_v z_tᵀ (s learned, from log 1/0.07)
//   L = ½ (CE(logits, diag) + CE(logitsᵀ, diag))
// so that the similarity is informative but — from a small model and few steps — noisy, as TSPO's frozen
// CLIP is. Features are computed once per video and cached (FeatureCache; in memory and, with a folder,
// on disk as .safetensors keyed by the file's path, time and size and the encoder's id), as TSPO caches
// its CLIP features.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  AdamW,
  F,
  Generator,
  Linear,
  Module,
  type Tensor,
  arange,
  cat,
  keep,
  loadSafetensors,
  noGrad,
  saveSafetensors,
  scope,
  tensor,
} from '../engine/index.js';
import { fromPretrained } from '../models/pretrained.js';
import { Qwen2VLForConditionalGeneration } from '../models/qwen2_vl/model.js';
import { loadProcessorConfigs, processFrames, type ProcessorConfig } from '../models/qwen2_vl/processor.js';
import { Tokenizer } from '../tokenizers/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { decodeFrames } from './decode.js';
import { readFramesNpz } from './npz.js';
import { probeVideo } from './probe.js';

/** A frozen frame/text encoder: frames uint8 [T, H, W, 3] → [T, dim], texts → [n, dim] (float32). */
export interface FrameEncoder {
  /** Identifies the encoder and its weights (cache keys). */
  readonly id: string;
  readonly dim: number;
  encodeFrames(frames: Tensor): Tensor;
  encodeText(texts: string[]): Tensor;
  dispose(): void;
}

export type EncoderLoader = (dir: string, config: Record<string, any>) => FrameEncoder;
const ENCODERS = new Map<string, EncoderLoader>();

/** Add an encoder type; loadFrameEncoder reads it from a folder whose encoder_config.json names it. */
export function registerFrameEncoder(type: string, loader: EncoderLoader): void {
  ENCODERS.set(type, loader);
}

export const ENCODER_CONFIG = 'encoder_config.json';

/** The encoder saved in `dir` (encoder_config.json: {"encoder_type": …, …}). */
export function loadFrameEncoder(dir: string): FrameEncoder {
  const file = join(dir, ENCODER_CONFIG);
  if (!existsSync(file)) throw new Error(`pacer: ${dir} is not a frame-encoder folder (no ${ENCODER_CONFIG})`);
  const cfg = JSON.parse(readFileSync(file, 'utf8'));
  const loader = ENCODERS.get(cfg.encoder_type);
  if (!loader)
    throw new Error(
      `pacer: ${file}: unknown encoder_type ${JSON.stringify(cfg.encoder_type)} ` +
        `(known: ${[...ENCODERS.keys()].join(', ')}; registerFrameEncoder adds one)`,
    );
  return loader(dir, cfg);
}

/** The projections of the pooled encoder and the contrastive temperature. */
export class ProjectionHeads extends Module {
  readonly vision_proj: Linear;
  readonly text_proj: Linear;
  readonly logit_scale: Tensor;
  constructor(inDim: number, dim: number, generator?: Generator, textInDim = inDim) {
    super();
    this.vision_proj = this.child('vision_proj', new Linear(inDim, dim, { generator }));
    this.text_proj = this.child('text_proj', new Linear(textInDim, dim, { generator }));
    this.logit_scale = this.param('logit_scale', tensor([Math.log(1 / 0.07)]));
  }
}

/** CLIP's symmetric contrastive loss for paired rows of image and text embeddings (before normalising). */
export function clipLoss(v: Tensor, t: Tensor, logitScale: Tensor): Tensor {
  const nv = v.div(v.norm(2, -1, true));
  const nt = t.div(t.norm(2, -1, true));
  const logits = nv.matmul(nt.transpose(0, 1)).mul(logitScale.exp());
  const labels = arange(v.shape[0]).long();
  return F.crossEntropy(logits, labels)
    .add(F.crossEntropy(logits.transpose(0, 1), labels))
    .div(2);
}

export interface WarmupOptions {
  steps: number;
  /** Pairs per batch (distinct texts give the negatives). */
  batchSize: number;
  lr: number;
  seed: number;
}

/**
 * Fit the projections on pooled vectors: frames [N, L] and texts [K, L], pair i = (frame i, text
 * textOf[i]); each batch takes at most one frame per text. Returns the loss of every step.
 */
export function contrastiveWarmup(
  heads: ProjectionHeads,
  frames: Tensor,
  texts: Tensor,
  textOf: readonly number[],
  o: WarmupOptions,
): number[] {
  const byText = new Map<number, number[]>();
  textOf.forEach((t, i) => byText.set(t, [...(byText.get(t) ?? []), i]));
  const keys = [...byText.keys()];
  if (keys.length < 2) throw new RangeError('pacer: a contrastive warm-up needs pairs with at least 2 distinct texts');
  const opt = new AdamW(heads.parameters(), { lr: o.lr, weightDecay: 0 });
  const rand = new Generator(o.seed);
  const losses: number[] = [];
  for (let step = 0; step < o.steps; step++)
    scope(() => {
      const perm = noGrad(() => tensorPerm(keys.length, rand));
      const chosen = perm.slice(0, Math.min(o.batchSize, keys.length)).map((j) => keys[j]);
      const rows = chosen.map((t) => {
        const fs = byText.get(t)!;
        return fs[Math.floor(noGrad(() => tensor([0]).uniform_(0, 1, rand).item()) * fs.length) % fs.length];
      });
      const idx = (xs: number[]) => tensor(xs, { dtype: 'int64' });
      const v = heads.vision_proj.forward(frames.indexSelect(0, idx(rows)));
      const t = heads.text_proj.forward(texts.indexSelect(0, idx(chosen)));
      const loss = clipLoss(v, t, heads.logit_scale);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
  opt.dispose();
  return losses;
}

function tensorPerm(n: number, g: Generator): number[] {
  const [, idx] = tensor(new Float32Array(n)).uniform_(0, 1, g).sort(0);
  return idx.toArray();
}

/** An encoder of pooled vectors through learned projections (what fitPooledEncoder warms up). */
export interface ProjectedEncoder extends FrameEncoder {
  readonly heads: ProjectionHeads;
  /** Pooled vectors [T, L] of frames [T, H, W, 3] (before the projection). */
  pooledFrames(frames: Tensor): Tensor;
  /** Pooled vectors [n, L'] of texts (before the projection). */
  pooledText(texts: string[]): Tensor;
}

/**
 * The 'qwen2_vl_pooled' encoder: a frozen Qwen2-VL / Qwen2.5-VL model's mean-pooled per-frame vision
 * outputs and mean-pooled question token embeddings, each through its projection.
 */
export class PooledVLMEncoder implements ProjectedEncoder {
  constructor(
    readonly model: Qwen2VLForConditionalGeneration,
    readonly tok: Tokenizer,
    readonly processor: ProcessorConfig,
    readonly heads: ProjectionHeads,
    readonly id: string,
  ) {}

  get dim(): number {
    return this.heads.vision_proj.outFeatures;
  }

  /** Mean-pooled vision-tower outputs [T, L] of frames [T, H, W, 3] (each frame an image). */
  pooledFrames(frames: Tensor): Tensor {
    return noGrad(() =>
      scope(() => {
        const [T, H, W] = frames.shape;
        const a = frames.contiguous().data() as Uint8Array;
        const rows: Tensor[] = [];
        const grids: Array<[number, number, number]> = [];
        for (let i = 0; i < T; i++) {
          const p = processFrames(
            { frames: [a.subarray(i * H * W * 3, (i + 1) * H * W * 3)], height: H, width: W },
            this.processor,
            `frame ${i}`,
          );
          rows.push(p.pixelValues);
          grids.push(p.grid);
        }
        const out = this.model.encodeVision(cat(rows, 0), grids);
        return out.view(T, out.shape[0] / T, out.shape[1]).mean(1);
      }),
    );
  }

  /** Mean-pooled input embeddings [n, L] of the texts' tokens. */
  pooledText(texts: string[]): Tensor {
    return noGrad(() =>
      scope(() =>
        cat(
          texts.map((s) => {
            const ids = this.tok.encode(s);
            if (!ids.length) throw new RangeError(`pacer: the text ${JSON.stringify(s)} has no tokens to encode`);
            return this.model.embed(tensor(ids, { dtype: 'int64' })).mean(0, true);
          }),
          0,
        ),
      ),
    );
  }

  encodeFrames(frames: Tensor): Tensor {
    return noGrad(() => scope(() => this.heads.vision_proj.forward(this.pooledFrames(frames))));
  }
  encodeText(texts: string[]): Tensor {
    return noGrad(() => scope(() => this.heads.text_proj.forward(this.pooledText(texts))));
  }

  /** Write DIR/encoder_config.json and DIR/projection.safetensors (the base model is referenced). */
  save(dir: string, base: string): void {
    mkdirSync(dir, { recursive: true });
    saveSafetensors(join(dir, 'projection.safetensors'), this.heads.stateDict(), { format: 'pt' });
    const cfg = { encoder_type: 'qwen2_vl_pooled', base_model_name_or_path: resolve(base), dim: this.dim };
    writeFileAtomic(join(dir, ENCODER_CONFIG), `${JSON.stringify(cfg, null, 2)}\n`);
  }

  dispose(): void {
    this.model.dispose();
    this.heads.dispose();
  }
}

/** Frames of a video paired with a text (e.g. the needle frames of a question): warm-up data. */
export interface WarmupPair {
  video: string;
  text: string;
  frames: readonly number[];
}

/**
 * The contrastive warm-up of a pooled encoder's projections on (frame, text) pairs: up to `perPair`
 * frames of each pair (evenly spaced among its frames), the model's pooled vectors computed once.
 */
export async function fitPooledEncoder(
  enc: ProjectedEncoder,
  pairs: readonly WarmupPair[],
  o: WarmupOptions & { perPair: number },
): Promise<number[]> {
  const textIndex = new Map<string, number>();
  const rows: Tensor[] = [];
  const textOf: number[] = [];
  for (const p of pairs) {
    if (!p.frames.length) continue;
    const n = Math.min(o.perPair, p.frames.length);
    const pick = Array.from({ length: n }, (_, i) => p.frames[Math.floor(((i + 0.5) * p.frames.length) / n)]);
    const px = await allFrames(p.video);
    rows.push(keep(scope(() => enc.pooledFrames(px.indexSelect(0, tensor(pick, { dtype: 'int64' }))))));
    px.dispose();
    if (!textIndex.has(p.text)) textIndex.set(p.text, textIndex.size);
    for (let i = 0; i < n; i++) textOf.push(textIndex.get(p.text)!);
  }
  const frames = cat(rows, 0);
  const texts = enc.pooledText([...textIndex.keys()]);
  try {
    return contrastiveWarmup(enc.heads, frames, texts, textOf, o);
  } finally {
    for (const t of [...rows, frames, texts]) t.dispose();
  }
}

/** A new pooled encoder on a VLM folder, with freshly initialised projections of width `dim`. */
export function createPooledEncoder(base: string, dim: number, seed = 0): PooledVLMEncoder {
  const pm = fromPretrained(base);
  if (!(pm.model instanceof Qwen2VLForConditionalGeneration))
    throw new Error(`pacer: ${base} is not a vision-language model (Qwen2-VL / Qwen2.5-VL); it cannot encode frames`);
  pm.model.eval();
  const heads = new ProjectionHeads(pm.model.hiddenSize, dim, new Generator(seed));
  return new PooledVLMEncoder(
    pm.model,
    Tokenizer.fromPretrained(base),
    loadProcessorConfigs(base).image,
    heads,
    `qwen2_vl_pooled:${resolve(base)}:fresh:${dim}:${seed}`,
  );
}

registerFrameEncoder('qwen2_vl_pooled', (dir, cfg) => {
  const b = cfg.base_model_name_or_path;
  if (typeof b !== 'string') throw new Error(`pacer: ${join(dir, ENCODER_CONFIG)}: missing base_model_name_or_path`);
  const base = isAbsolute(b) ? b : resolve(dir, b);
  const enc = createPooledEncoder(base, cfg.dim);
  const file = join(dir, 'projection.safetensors');
  const sd = loadSafetensors(file);
  enc.heads.loadStateDict(sd);
  for (const t of sd.values()) t.dispose();
  const s = statSync(join(base, 'model.safetensors'), { throwIfNoEntry: false });
  const digest = createHash('sha1').update(readFileSync(file)).digest('hex').slice(0, 16);
  return new PooledVLMEncoder(
    enc.model,
    enc.tok,
    enc.processor,
    enc.heads,
    `qwen2_vl_pooled:${base}:${s?.mtimeMs ?? 0}:${digest}`,
  );
});

/** Every frame [T, H, W, 3] uint8 of a video file (ffmpeg) or a frame array (.npz, video make --frames-only). */
export async function allFrames(file: string): Promise<Tensor> {
  if (file.endsWith('.npz')) {
    const a = readFramesNpz(file);
    return tensor(a.data, { shape: [a.frames, a.height, a.width, 3] });
  }
  const info = await probeVideo(file);
  return decodeFrames(file, { indices: Array.from({ length: info.frames }, (_, i) => i) }, { info });
}

/** Per-video frame features, computed once per (file, encoder) and kept in memory and optionally on disk. */
export class FeatureCache {
  private mem = new Map<string, Tensor>();
  hits = 0;
  misses = 0;
  constructor(readonly dir: string | null = null) {}

  private key(file: string, enc: FrameEncoder): string {
    const s = statSync(file);
    const raw = `${resolve(file)}\u0000${s.mtimeMs}\u0000${s.size}\u0000${enc.id}`;
    return createHash('sha1').update(raw).digest('hex');
  }

  /** Features [T, dim] of every frame of a video file (a kept tensor owned by the cache: do not dispose). */
  async frames(file: string, enc: FrameEncoder): Promise<Tensor> {
    const key = this.key(file, enc);
    const got = this.mem.get(key);
    if (got) {
      this.hits++;
      return got;
    }
    this.misses++;
    const path = this.dir ? join(this.dir, `${key}.safetensors`) : null;
    let f: Tensor;
    if (path && existsSync(path)) f = keep(loadSafetensors(path).get('features')!);
    else {
      f = await this.compute(file, enc);
      if (path) {
        mkdirSync(this.dir!, { recursive: true });
        saveSafetensors(path, { features: f }, { file: resolve(file), encoder: enc.id });
      }
    }
    this.mem.set(key, f);
    return f;
  }

  /** Features [T, dim] of every frame of a video file, not kept by the cache (the caller disposes them). */
  async compute(file: string, enc: FrameEncoder): Promise<Tensor> {
    const px = await allFrames(file);
    try {
      return keep(scope(() => enc.encodeFrames(px)));
    } finally {
      px.dispose();
    }
  }

  clear(): void {
    for (const t of this.mem.values()) t.dispose();
    this.mem.clear();
  }
}
