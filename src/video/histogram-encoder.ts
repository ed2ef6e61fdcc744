// The 'colour_histogram' frame encoder: a classical, cheap stand-in for a trained video LLM's vision
// tower, for learned frame samplers (./sampler-agent.ts) on the procedural worlds. A frame is its joint
// RGB histogram (b bins per channel, b³ fractions of the frame's pixels; Swain & Ballard, "Color
// Indexing", IJCV 1991); a text is its bag of words (lower-case [a-z]+ words hashed by FNV-1a into V
// buckets, counts divided by the word count). Each goes through a learned linear projection to `dim`
// (ProjectionHeads), fitted by the CLIP-style contrastive warm-up of ./frame-features.ts
// (fitPooledEncoder). A colour word can learn its bins; shapes, verbs and the background are not
// separable this way, so the similarity is informative but noisy — what TSPO's frozen CLIP gives its agent.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator, type Tensor, loadSafetensors, noGrad, saveSafetensors, scope, tensor } from '../engine/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ENCODER_CONFIG, type ProjectedEncoder, ProjectionHeads, registerFrameEncoder } from './frame-features.js';

/** FNV-1a 32-bit hash of a string's UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Joint RGB histograms [T, b³] of frames uint8 [T, H, W, 3]: bin (r·b>>8)·b² + (g·b>>8)·b + (b·b>>8). */
export function colourHistograms(frames: Tensor, bins: number): Tensor {
  const [T, H, W] = frames.shape;
  const a = frames.contiguous().data() as Uint8Array;
  const n = H * W;
  const B = bins ** 3;
  const out = new Float32Array(T * B);
  for (let t = 0; t < T; t++)
    for (let p = 0; p < n; p++) {
      const o = (t * n + p) * 3;
      const bin = ((a[o] * bins) >> 8) * bins * bins + ((a[o + 1] * bins) >> 8) * bins + ((a[o + 2] * bins) >> 8);
      out[t * B + bin] += 1 / n;
    }
  return tensor(out, { shape: [T, B] });
}

/** Bags of words [n, V]: each lower-case [a-z]+ word adds 1/words to bucket fnv1a(word) mod V. */
export function bagsOfWords(texts: string[], vocab: number): Tensor {
  const out = new Float32Array(texts.length * vocab);
  texts.forEach((s, i) => {
    const words = s.toLowerCase().match(/[a-z]+/g) ?? [];
    if (!words.length) throw new RangeError(`pacer: the text ${JSON.stringify(s)} has no words to encode`);
    for (const w of words) out[i * vocab + (fnv1a(w) % vocab)] += 1 / words.length;
  });
  return tensor(out, { shape: [texts.length, vocab] });
}

export class HistogramEncoder implements ProjectedEncoder {
  readonly heads: ProjectionHeads;
  constructor(
    readonly bins: number,
    readonly vocab: number,
    dim: number,
    seed = 0,
    private digest = `fresh:${seed}`,
  ) {
    if (!Number.isInteger(bins) || bins < 1 || bins > 16)
      throw new RangeError(`pacer: colour_histogram: bins must be an integer in 1..16, got ${bins}`);
    if (!Number.isInteger(vocab) || vocab < 2) throw new RangeError(`pacer: colour_histogram: vocab must be >= 2`);
    this.heads = new ProjectionHeads(bins ** 3, dim, new Generator(seed), vocab);
  }
  get id(): string {
    return `colour_histogram:${this.bins}:${this.vocab}:${this.dim}:${this.digest}`;
  }
  get dim(): number {
    return this.heads.vision_proj.outFeatures;
  }
  pooledFrames(frames: Tensor): Tensor {
    return colourHistograms(frames, this.bins);
  }
  pooledText(texts: string[]): Tensor {
    return bagsOfWords(texts, this.vocab);
  }
  encodeFrames(frames: Tensor): Tensor {
    return noGrad(() => scope(() => this.heads.vision_proj.forward(this.pooledFrames(frames))));
  }
  encodeText(texts: string[]): Tensor {
    return noGrad(() => scope(() => this.heads.text_proj.forward(this.pooledText(texts))));
  }
  /** Write DIR/encoder_config.json and DIR/projection.safetensors. */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    saveSafetensors(join(dir, 'projection.safetensors'), this.heads.stateDict(), { format: 'pt' });
    const cfg = { encoder_type: 'colour_histogram', bins: this.bins, vocab: this.vocab, dim: this.dim };
    writeFileAtomic(join(dir, ENCODER_CONFIG), `${JSON.stringify(cfg, null, 2)}\n`);
  }
  dispose(): void {
    this.heads.dispose();
  }
}

registerFrameEncoder('colour_histogram', (dir, cfg) => {
  const file = join(dir, 'projection.safetensors');
  const digest = createHash('sha1').update(readFileSync(file)).digest('hex').slice(0, 16);
  const enc = new HistogramEncoder(cfg.bins, cfg.vocab, cfg.dim, 0, digest);
  const sd = loadSafetensors(file);
  enc.heads.loadStateDict(sd);
  for (const t of sd.values()) t.dispose();
  return enc;
});
