// The Qwen2-VL / Qwen2.5-VL image and video processors (transformers' fast Qwen2VLImageProcessorFast and
// Qwen2VLVideoProcessor, image_processing_qwen2_vl.py / video_processing_qwen2_vl.py), on uint8 RGB frames:
//   1. smart_resize(h, w, factor = patch·merge, min_pixels, max_pixels): each side rounded (half to even,
//      Python's round) to a multiple of factor; if the area exceeds max_pixels both sides shrink by
//      β = √(hw/max) and floor to the factor, if below min_pixels grow by β = √(min/hw) and ceil.
//   2. resize: torchvision's uint8 bicubic = float32 F.interpolate(mode='bicubic', align_corners=False,
//      antialias=True), then clamp to [0, 255], round half to even, uint8 — run by ATen's own kernel
//      (separable, width then height: output i takes inputs around center = scale·(i + 0.5), scale =
//      in/out, support = 2·max(scale, 1), Keys' cubic with a = −0.5 at (j − center + 0.5)/max(scale, 1),
//      normalised to sum 1; float32 throughout).
//   3. rescale and normalise fused: (x − 255·mean) / (255·std) in float32 (CLIP mean and std by default).
//   4. a frame count that is not a multiple of temporal_patch_size is padded by repeating the last frame
//      (a single image becomes temporal_patch_size copies).
//   5. patches: view (T/Tp, Tp, C, gh/m, m, P, gw/m, m, P) → permute (0, 3, 6, 4, 7, 2, 1, 5, 8) →
//      [T/Tp·gh·gw, C·Tp·P·P]: rows run t, then 2×2 merge blocks row-major, then the patch within the block;
//      each row in (C, Tp, P, P) order. grid_thw = (T/Tp, gh, gw); second_per_grid_t = Tp / fps.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { F, type Tensor, scope, tensor } from '../../engine/index.js';

export interface ProcessorConfig {
  minPixels: number;
  maxPixels: number;
  patchSize: number;
  temporalPatchSize: number;
  mergeSize: number;
  imageMean: number[];
  imageStd: number[];
  rescaleFactor: number;
  doResize: boolean;
  doRescale: boolean;
  doNormalize: boolean;
}

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** The HF defaults: images 56² to 28²·1280 pixels, videos 128·28² to 768·28². */
export function defaultProcessorConfig(kind: 'image' | 'video'): ProcessorConfig {
  return {
    minPixels: kind === 'image' ? 56 * 56 : 128 * 28 * 28,
    maxPixels: kind === 'image' ? 28 * 28 * 1280 : 28 * 28 * 768,
    patchSize: 14,
    temporalPatchSize: 2,
    mergeSize: 2,
    imageMean: CLIP_MEAN,
    imageStd: CLIP_STD,
    rescaleFactor: 1 / 255,
    doResize: true,
    doRescale: true,
    doNormalize: true,
  };
}

/** Python's round (half to even). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** smart_resize: the (height, width) a frame is resized to. */
export function smartResize(
  h: number,
  w: number,
  factor: number,
  minPixels: number,
  maxPixels: number,
): [number, number] {
  if (h < 10 || w < 10) throw new RangeError(`pacer: a ${w}×${h} frame is too small (each side must be at least 10)`);
  if (Math.max(h, w) / Math.min(h, w) > 200)
    throw new RangeError(`pacer: a ${w}×${h} frame has an aspect ratio above 200, which the processor refuses`);
  let hb = roundHalfEven(h / factor) * factor;
  let wb = roundHalfEven(w / factor) * factor;
  if (hb * wb > maxPixels) {
    const beta = Math.sqrt((h * w) / maxPixels);
    hb = Math.floor(h / beta / factor) * factor;
    wb = Math.floor(w / beta / factor) * factor;
  } else if (hb * wb < minPixels) {
    const beta = Math.sqrt(minPixels / (h * w));
    hb = Math.ceil((h * beta) / factor) * factor;
    wb = Math.ceil((w * beta) / factor) * factor;
  }
  if (hb <= 0 || wb <= 0)
    throw new RangeError(`pacer: a ${w}×${h} frame cannot be resized within max_pixels ${maxPixels}`);
  return [hb, wb];
}

/**
 * torchvision's bicubic resize of uint8 RGB frames [H, W, 3] (HWC) to [h, w, 3], all frames in one call
 * of ATen's antialiased kernel (the one torchvision calls): float32, clamp, round half to even.
 */
export function resizeBicubicFrames(frames: Uint8Array[], H: number, W: number, h: number, w: number): Uint8Array[] {
  if ((h === H && w === W) || !frames.length) return frames;
  const flat = new Uint8Array(frames.length * H * W * 3);
  frames.forEach((f, i) => flat.set(f, i * H * W * 3));
  const out = scope(
    () =>
      F.interpolateBicubicAA(
        tensor(flat, { shape: [frames.length, H, W, 3] })
          .permute(0, 3, 1, 2)
          .to('float32'),
        [h, w],
      )
        .clamp(0, 255)
        .round()
        .to('uint8')
        .permute(0, 2, 3, 1)
        .contiguous()
        .data() as Uint8Array,
  );
  return frames.map((_, i) => out.slice(i * h * w * 3, (i + 1) * h * w * 3));
}

/** One frame: resizeBicubicFrames of [frame]. */
export function resizeBicubic(frame: Uint8Array, H: number, W: number, h: number, w: number): Uint8Array {
  return resizeBicubicFrames([frame], H, W, h, w)[0];
}

export interface Frames {
  /** T frames of height × width × 3 bytes (RGB, HWC). */
  frames: Uint8Array[];
  height: number;
  width: number;
}

export interface Processed {
  /** [T/Tp · gh · gw, C·Tp·P·P] float32. */
  pixelValues: Tensor;
  grid: [number, number, number];
}

/**
 * Frames from a uint8 tensor [T, H, W, 3] (a video) or [H, W, 3] (an image), RGB: other modes (gray,
 * RGBA, float pixels) are refused with the shape expected, as the processor converts only RGB.
 */
export function framesFromTensor(t: Tensor, what = 'frames'): Frames {
  const s = t.shape;
  const video = s.length === 4;
  if (t.dtype !== 'uint8' || !(s.length === 3 || video) || s[s.length - 1] !== 3)
    throw new TypeError(
      `pacer: ${what}: expected uint8 RGB pixels [T, H, W, 3] (a video) or [H, W, 3] (an image), got ${t.dtype} ` +
        `[${s}]; convert grayscale/RGBA/float images to 8-bit RGB first`,
    );
  const [T, H, W] = video ? s : [1, s[0], s[1]];
  const a = t.contiguous().data() as Uint8Array;
  return {
    frames: Array.from({ length: T }, (_, i) => a.slice(i * H * W * 3, (i + 1) * H * W * 3)),
    height: H,
    width: W,
  };
}

/**
 * Steps 1–2: frames resized as the processor resizes them (smart_resize, torchvision's bicubic), still
 * uint8 RGB; patchify() finishes the job. Kept apart so that datasets can hold the small uint8 frames
 * and make the float32 pixel rows per batch.
 */
export function resizeFrames(v: Frames, cfg: ProcessorConfig, what = 'frames'): Frames {
  const { patchSize: P, mergeSize: m } = cfg;
  if (!v.frames.length) throw new RangeError(`pacer: ${what}: no frames`);
  for (const [i, f] of v.frames.entries())
    if (f.length !== v.height * v.width * 3)
      throw new RangeError(
        `pacer: ${what}: frame ${i} has ${f.length} bytes; an RGB frame of ${v.width}×${v.height} has ` +
          `${v.height * v.width * 3} (height × width × 3, uint8)`,
      );
  const [h, w] = cfg.doResize
    ? smartResize(v.height, v.width, P * m, cfg.minPixels, cfg.maxPixels)
    : [v.height, v.width];
  if (h % (P * m) || w % (P * m))
    throw new RangeError(
      `pacer: ${what}: ${w}×${h} frames are not multiples of ${P * m} (patch × merge) and do_resize is off`,
    );
  return { frames: resizeBicubicFrames(v.frames, v.height, v.width, h, w), height: h, width: w };
}

/** The grid (t, h, w) in patches of frames that resizeFrames() gave (t after padding to temporal_patch_size). */
export function gridOf(v: Frames, cfg: ProcessorConfig): [number, number, number] {
  const { patchSize: P, temporalPatchSize: Tp } = cfg;
  return [Math.ceil(v.frames.length / Tp), v.height / P, v.width / P];
}

/** Steps 3–5 on resized frames: last-frame padding, the fused rescale + normalise, the patch order. */
export function patchify(v: Frames, cfg: ProcessorConfig): Processed {
  const { patchSize: P, temporalPatchSize: Tp, mergeSize: m } = cfg;
  const [h, w] = [v.height, v.width];
  const frames = [...v.frames];
  while (frames.length % Tp) frames.push(frames[frames.length - 1]);
  const scale = cfg.doRescale ? 1 / cfg.rescaleFactor : 1;
  const mean = [0, 1, 2].map((c) => (cfg.doNormalize ? cfg.imageMean[c] * scale : 0));
  const std = [0, 1, 2].map((c) => (cfg.doNormalize ? cfg.imageStd[c] * scale : cfg.doRescale ? scale : 1));
  const [T, gt, gh, gw] = [frames.length, frames.length / Tp, h / P, w / P];
  const flat = new Uint8Array(T * h * w * 3);
  frames.forEach((f, i) => flat.set(f, i * h * w * 3));
  const pixelValues = scope(() =>
    tensor(flat, { shape: [T, h, w, 3] })
      .to('float32')
      .sub(tensor(mean)) // float32 (x − mean) then / std, as torchvision's normalize
      .div(tensor(std))
      .view(gt, Tp, gh / m, m, P, gw / m, m, P, 3)
      .permute(0, 2, 5, 3, 6, 8, 1, 4, 7)
      .reshape(gt * gh * gw, 3 * Tp * P * P),
  );
  return { pixelValues, grid: [gt, gh, gw] };
}

/** Frames -> patch rows and grid, as the HF Qwen2-VL processors (images: one frame). */
export function processFrames(v: Frames, cfg: ProcessorConfig, what = 'frames'): Processed {
  return patchify(resizeFrames(v, cfg, what), cfg);
}

function readJson(file: string): Record<string, any> | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`pacer: ${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** A processor config from preprocessor_config.json (images) or video_preprocessor_config.json (videos). */
export function processorConfigFrom(raw: Record<string, any> | null, kind: 'image' | 'video'): ProcessorConfig {
  const d = defaultProcessorConfig(kind);
  if (!raw) return d;
  const size = raw.size ?? {};
  return {
    minPixels: raw.min_pixels ?? size.shortest_edge ?? size.min_pixels ?? d.minPixels,
    maxPixels: raw.max_pixels ?? size.longest_edge ?? size.max_pixels ?? d.maxPixels,
    patchSize: raw.patch_size ?? d.patchSize,
    temporalPatchSize: raw.temporal_patch_size ?? d.temporalPatchSize,
    mergeSize: raw.merge_size ?? d.mergeSize,
    imageMean: raw.image_mean ?? d.imageMean,
    imageStd: raw.image_std ?? d.imageStd,
    rescaleFactor: raw.rescale_factor ?? d.rescaleFactor,
    doResize: raw.do_resize ?? true,
    doRescale: raw.do_rescale ?? true,
    doNormalize: raw.do_normalize ?? true,
  };
}

/**
 * The image and video processor configs of a model folder: preprocessor_config.json for images;
 * video_preprocessor_config.json for videos, else preprocessor_config.json (older saves kept one file).
 */
export function loadProcessorConfigs(dir: string): { image: ProcessorConfig; video: ProcessorConfig } {
  const img = readJson(join(dir, 'preprocessor_config.json'));
  const vid = readJson(join(dir, 'video_preprocessor_config.json'));
  return { image: processorConfigFrom(img, 'image'), video: processorConfigFrom(vid ?? img, 'video') };
}

/** Expand each <|image_pad|> / <|video_pad|> in a prompt to prod(grid) / merge² copies (HF's processor). */
export function expandVisionPads(
  text: string,
  grids: { image: number[][]; video: number[][] },
  merge: number,
  where = 'prompt',
): string {
  let out = text;
  for (const kind of ['image', 'video'] as const) {
    const pad = `<|${kind}_pad|>`;
    const parts = out.split(pad);
    const n = parts.length - 1;
    if (n !== grids[kind].length)
      throw new RangeError(
        `pacer: ${where}: the prompt has ${n} ${pad} placeholder(s) but ${grids[kind].length} ${kind}(s) were given; ` +
          `write one <|vision_start|>${pad}<|vision_end|> per ${kind}, in order`,
      );
    out = parts.reduce((acc, p, i) => {
      if (i === 0) return p;
      const g = grids[kind][i - 1];
      return acc + pad.repeat((g[0] * g[1] * g[2]) / (merge * merge)) + p;
    }, '');
  }
  return out;
}

/**
 * preprocessor_config.json (kind 'image') or video_preprocessor_config.json ('video') as transformers writes
 * them for Qwen2.5-VL: CLIP mean/std, bicubic, patch 14, temporal patch 2, merge 2, frames resized into
 * [lo, hi] pixels.
 */
export function processorConfigJson(kind: 'image' | 'video', lo: number, hi: number): Record<string, unknown> {
  return {
    min_pixels: lo,
    max_pixels: hi,
    patch_size: 14,
    temporal_patch_size: 2,
    merge_size: 2,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    rescale_factor: 1 / 255,
    do_resize: true,
    do_rescale: true,
    do_normalize: true,
    do_convert_rgb: true,
    resample: 3,
    ...(kind === 'image'
      ? { image_processor_type: 'Qwen2VLImageProcessorFast', processor_class: 'Qwen2_5_VLProcessor' }
      : { video_processor_type: 'Qwen2VLVideoProcessor', size: { shortest_edge: lo, longest_edge: hi } }),
  };
}
