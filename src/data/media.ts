// Rows with images and videos, in TRL's two vision-dataset shapes, turned into token ids and processor
// outputs for a vision-language model:
//   standard:       {"prompt": "…<|vision_start|><|video_pad|><|vision_end|>…", "videos": ["a.mp4"],
//                    "images": ["b.png"]} — one pad per item, items in order per kind;
//   conversational: {"prompt": [{"role": "user", "content": [{"type": "video", "path": "a.mp4", "fps": 2},
//                    {"type": "image", "path": "b.png"}, {"type": "text", "text": "…"}]}]} — a part without a
//                    path takes the next entry of the row's `videos` / `images` column (TRL's layout).
// A path is a video file (sampled as qwen-vl-utils does: round(linspace) over smart_nframes frames at
// `fps`, default 2.0, at most `maxFrames`; second_per_grid_t = temporal_patch_size / the sampled rate
// n / total · video_fps), a folder of frame images (every frame in name order, at the given fps), or an
// image file. Relative paths resolve against the data file's folder. Each pad is expanded to
// prod(grid) / merge² copies before tokenizing, as HF's processor does.
// A frame selector (MediaOptions.frameSelector, e.g. a trained TSPO agent, src/video/select.ts) instead
// chooses each video's frames from the row's question text; the chosen frames keep their timestamps
// (index / video fps): each temporal grid step g carries the time of its first frame from the first chosen
// frame (videoGridTimes), so Qwen2.5-VL's M-RoPE time positions follow the real gaps between chosen frames
// (for evenly spaced frames this is exactly g · second_per_grid_t, HF's positions).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type Tensor, cat, tensor } from '../engine/index.js';
import type { PromptMedia } from '../models/generate.js';
import { evenGridTimes, gridTimesOf } from '../models/qwen2_vl/rope.js';
import type { ModelInputs } from '../models/types.js';
import {
  type Frames,
  type ProcessorConfig,
  expandVisionPads,
  framesFromTensor,
  gridOf,
  patchify,
  resizeFrames,
} from '../models/qwen2_vl/processor.js';
import type { ChatMessage, ContentPart, Tokenizer } from '../tokenizers/index.js';
import { decodeFrames } from '../video/decode.js';
import { probeVideo } from '../video/probe.js';
import { explicitSample, fpsSample } from '../video/sampling.js';
import { DataError } from '../util/errors.js';

export interface MediaOptions {
  /** Folder that relative paths resolve against (the data file's). */
  baseDir: string;
  /** Default sampling rate for videos and frame rate of frame folders (2.0). */
  videoFps?: number;
  /** At most this many frames per video (768, qwen-vl-utils' FPS_MAX_FRAMES). */
  videoMaxFrames?: number;
  processors: { image: ProcessorConfig; video: ProcessorConfig };
  /** The model's <|image_pad|> and <|video_pad|> token ids (training keeps them out of the labels). */
  padIds?: number[];
  /** Chooses each video's frames for the row's question (instead of fps sampling). */
  frameSelector?: FrameSelector;
}

/** Something that picks the frames of a video a model sees for a question (a trained TSPO agent). */
export interface FrameSelector {
  /** Frame indices of `video` (a file or .npz frame array), ascending, for a prompt whose text is `question`. */
  select(video: string, question: string): Promise<{ indices: number[] }>;
}

/** Frames chosen by a selector: their indices and timestamps (index / the video's fps). */
export interface ChosenFrames {
  source: string;
  indices: number[];
  timestamps: number[];
}

export interface VisionItem {
  kind: 'image' | 'video';
  source: string;
  fps?: number;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|bmp|gif|tiff?)$/i;

/** Is this a list of messages whose content may be typed parts? */
export function isVisionMessages(v: unknown): v is ChatMessage[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every(
      (m) =>
        m &&
        typeof m === 'object' &&
        typeof m.role === 'string' &&
        (typeof m.content === 'string' || (Array.isArray(m.content) && m.content.every((p: any) => p?.type))),
    )
  );
}

/** The messages a row's vision parts sit in: a conversational `prompt`, else `messages` (SFT rows). */
function visionMessages(rec: Record<string, unknown>): ChatMessage[] | null {
  if (isVisionMessages(rec.prompt)) return rec.prompt;
  if (rec.prompt === undefined && isVisionMessages(rec.messages)) return rec.messages;
  return null;
}

/** Does a row carry images or videos (columns or typed content parts)? */
export function rowHasMedia(rec: Record<string, unknown>): boolean {
  if (Array.isArray(rec.images) || Array.isArray(rec.videos)) return true;
  const p = visionMessages(rec);
  return !!p && p.some((m) => Array.isArray(m.content) && m.content.some((c) => c.type !== 'text'));
}

function column(rec: Record<string, unknown>, key: 'images' | 'videos', where: string): unknown[] {
  const v = rec[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new DataError(`pacer: ${where}: '${key}' must be a list of paths`, { field: key });
  return v;
}

function itemOf(kind: 'image' | 'video', src: unknown, fps: unknown, where: string, field: string): VisionItem {
  const source = typeof src === 'string' ? src : (src as { path?: unknown } | null)?.path;
  if (typeof source !== 'string' || !source)
    throw new DataError(
      `pacer: ${where}: ${field} must be a path to ${kind === 'video' ? 'a video (file or frame folder)' : 'an image'}`,
      { field },
    );
  if (fps !== undefined && !(typeof fps === 'number' && fps > 0))
    throw new DataError(`pacer: ${where}: ${field}: fps must be a positive number, got ${JSON.stringify(fps)}`, {
      field,
    });
  return { kind, source, fps: fps as number | undefined };
}

/** The row's vision items in prompt order (per kind), from content parts and the images/videos columns. */
export function rowVisionItems(rec: Record<string, unknown>, where: string): VisionItem[] {
  const cols = { image: column(rec, 'images', where), video: column(rec, 'videos', where) };
  const used = { image: 0, video: 0 };
  const items: VisionItem[] = [];
  const msgs = visionMessages(rec);
  const key = msgs === rec.prompt ? 'prompt' : 'messages';
  if (msgs)
    msgs.forEach((m, i) => {
      if (!Array.isArray(m.content)) return;
      m.content.forEach((c: ContentPart, j) => {
        const kind = c.type === 'video' || 'video' in c ? 'video' : c.type === 'image' || 'image' in c ? 'image' : null;
        if (!kind) return;
        const field = `${key}[${i}].content[${j}]`;
        const src = c.path ?? c[kind] ?? c.url;
        if (src !== undefined) items.push(itemOf(kind, src, c.fps, where, field));
        else {
          if (used[kind] >= cols[kind].length)
            throw new DataError(
              `pacer: ${where}: ${field} is a ${kind} without a path, and the '${kind}s' column has no entry left`,
              { field },
            );
          items.push(itemOf(kind, cols[kind][used[kind]++], c.fps, where, `${kind}s[${used[kind] - 1}]`));
        }
      });
    });
  else
    for (const kind of ['image', 'video'] as const)
      cols[kind].forEach((s, i) => items.push(itemOf(kind, s, undefined, where, `${kind}s[${i}]`)));
  for (const kind of ['image', 'video'] as const)
    if (msgs && used[kind] < cols[kind].length)
      throw new DataError(
        `pacer: ${where}: the '${kind}s' column has ${cols[kind].length} entries but the ${key}'s content parts ` +
          `use ${used[kind]}; add a {"type": "${kind}"} part for each`,
        { field: `${kind}s` },
      );
  return items;
}

async function decodeOne(file: string): Promise<Frames> {
  const t = await decodeFrames(file, { indices: [0] });
  const f = framesFromTensor(t, file);
  t.dispose();
  return f;
}

/** Decode one item: an image, a video (fps-sampled) or a folder of frames. Returns frames and their rate. */
export async function loadVisionItem(
  item: VisionItem,
  o: MediaOptions,
  where: string,
  question = '',
): Promise<{ frames: Frames; fps: number; chosen?: ChosenFrames }> {
  const file = isAbsolute(item.source) ? item.source : resolve(o.baseDir, item.source);
  if (!existsSync(file)) throw new DataError(`pacer: ${where}: ${item.kind} not found: ${file}`);
  const fps = item.fps ?? o.videoFps ?? 2;
  if (item.kind === 'video' && o.frameSelector) return selectedFrames(file, o.frameSelector, where, question);
  if (statSync(file).isDirectory()) {
    const names = readdirSync(file)
      .filter((n) => IMAGE_EXT.test(n))
      .sort();
    if (!names.length) throw new DataError(`pacer: ${where}: ${file} is a folder without frame images (png, jpg, …)`);
    const frames = await Promise.all(names.map((n) => decodeOne(join(file, n))));
    const [h, w] = [frames[0].height, frames[0].width];
    const odd = frames.findIndex((f) => f.height !== h || f.width !== w);
    if (odd >= 0)
      throw new DataError(
        `pacer: ${where}: frame ${names[odd]} in ${file} is ${frames[odd].width}×${frames[odd].height}, ` +
          `the first is ${w}×${h}`,
      );
    return { frames: { frames: frames.flatMap((f) => f.frames), height: h, width: w }, fps };
  }
  if (item.kind === 'image') return { frames: await decodeOne(file), fps };
  const info = await probeVideo(file);
  const s = fpsSample(info, { fps, maxFrames: o.videoMaxFrames ?? 768 });
  const t = await decodeFrames(file, { indices: s.indices }, { info });
  const frames = framesFromTensor(t, file);
  t.dispose();
  return { frames, fps: (s.indices.length / info.frames) * info.fps };
}

/** The frames a selector picks for the question, decoded, with their timestamps. */
async function selectedFrames(
  file: string,
  sel: FrameSelector,
  where: string,
  question: string,
): Promise<{ frames: Frames; fps: number; chosen: ChosenFrames }> {
  if (statSync(file).isDirectory())
    throw new DataError(`pacer: ${where}: a frame selector reads a video file or a .npz frame array, not ${file}/`);
  const info = await probeVideo(file);
  const { indices } = await sel.select(file, question);
  let s: ReturnType<typeof explicitSample>;
  try {
    if (!indices.length) throw new RangeError('pacer: the frame selector chose no frames');
    if (indices.some((x, i) => i > 0 && x <= indices[i - 1]))
      throw new RangeError(`pacer: the frame selector's indices must ascend, got ${indices.join(',')}`);
    s = explicitSample(info, indices);
  } catch (e) {
    throw new DataError(`pacer: ${where}: ${file}: ${(e as Error).message.replace(/^pacer: /, '')}`);
  }
  const t = await decodeFrames(file, { indices: s.indices }, { info });
  const frames = framesFromTensor(t, file);
  t.dispose();
  return { frames, fps: info.fps, chosen: { source: file, indices: s.indices, timestamps: s.timestamps } };
}

/**
 * Per temporal grid step, the time (s) of its first frame after the first chosen frame: (index[g·Tp] −
 * index[0]) / fps; evenly spaced frames at rate r give g·Tp/r = g · second_per_grid_t.
 */
export function gridTimes(indices: readonly number[], fps: number, temporalPatchSize: number): number[] {
  const gt = Math.ceil(indices.length / temporalPatchSize);
  return Array.from({ length: gt }, (_, g) => (indices[g * temporalPatchSize] - indices[0]) / fps);
}

/** A video part of chosen frames (resized): its grid times, and their mean step as second_per_grid_t. */
function chosenPart(
  resized: Frames,
  grid: [number, number, number],
  chosen: ChosenFrames,
  fps: number,
  cfg: ProcessorConfig,
): VisionPart {
  const times = gridTimes(chosen.indices, fps, cfg.temporalPatchSize);
  // the mean step, for readers of second_per_grid_t alone; M-RoPE reads the times
  const spgt = times.length > 1 ? times[times.length - 1] / (times.length - 1) : cfg.temporalPatchSize / fps;
  return { kind: 'video', frames: resized, grid, secondPerGrid: spgt, chosen, gridTimes: times };
}

/**
 * A row's vision of one video given as frames already decoded (all frames of a video at `fps`) and the
 * indices to show, as a selector's frames would be (a VLM answerer shows many subsets of one video).
 */
export function chosenFramesVision(
  all: Frames,
  indices: readonly number[],
  fps: number,
  processors: MediaOptions['processors'],
  source: string,
): RowVision {
  const cfg = processors.video;
  const picked = { ...all, frames: indices.map((i) => all.frames[i]) };
  const resized = resizeFrames(picked, cfg, source);
  const chosen = { source, indices: [...indices], timestamps: indices.map((i) => i / fps) };
  const part = chosenPart(resized, gridOf(resized, cfg), chosen, fps, cfg);
  return { parts: [part], grids: { image: [], video: [[...part.grid]] }, processors, padIds: [] };
}

/** One image or video of a row, resized as the processor resizes it (uint8 RGB), and its grid. */
export interface VisionPart {
  kind: 'image' | 'video';
  frames: Frames;
  grid: [number, number, number];
  /** Videos: temporal_patch_size / the rate the frames were sampled at (second_per_grid_t). */
  secondPerGrid?: number;
  /** Videos whose frames a selector chose: the chosen frames, and each grid step's time (gridTimes). */
  chosen?: ChosenFrames;
  gridTimes?: number[];
}

/**
 * A row's images and videos, decoded and resized once (what a trainer keeps per example: uint8 frames,
 * 4× smaller than the float pixel rows, which rowPixels() makes per batch).
 */
export interface RowVision {
  parts: VisionPart[];
  grids: { image: number[][]; video: number[][] };
  processors: MediaOptions['processors'];
  /** Token ids of the vision pads (MediaOptions.padIds). */
  padIds: number[];
}

/** Decode and resize one item (a processor error becomes a DataError naming the row and the file). */
export async function prepareVisionPart(
  it: VisionItem,
  o: MediaOptions,
  where: string,
  question = '',
): Promise<VisionPart> {
  const { frames, fps, chosen } = await loadVisionItem(it, o, where, question);
  const cfg = o.processors[it.kind];
  const frames1 = it.kind === 'image' ? { ...frames, frames: frames.frames.slice(0, 1) } : frames;
  try {
    const resized = resizeFrames(frames1, cfg, `${where}: ${it.source}`);
    const grid = gridOf(resized, cfg);
    if (chosen) return chosenPart(resized, grid, chosen, fps, cfg);
    return {
      kind: it.kind,
      frames: resized,
      grid,
      secondPerGrid: it.kind === 'video' ? cfg.temporalPatchSize / fps : undefined,
    };
  } catch (e) {
    throw new DataError((e as Error).message);
  }
}

/** A row's parts (in prompt order per kind) as a RowVision; `memo` shares parts between rows that repeat them. */
export async function prepareRowVision(
  items: VisionItem[],
  o: MediaOptions,
  where: string,
  memo?: Map<string, Promise<VisionPart>>,
  question = '',
): Promise<RowVision> {
  const parts: VisionPart[] = [];
  for (const it of items) {
    const file = isAbsolute(it.source) ? it.source : resolve(o.baseDir, it.source);
    const asked = o.frameSelector && it.kind === 'video' ? question : '';
    const key = `${it.kind}\0${file}\0${it.fps ?? ''}\0${asked}`;
    let p = memo?.get(key);
    if (!p) {
      p = prepareVisionPart(it, o, where, question);
      memo?.set(key, p);
    }
    parts.push(await p);
  }
  const grids = {
    image: parts.filter((p) => p.kind === 'image').map((p) => [...p.grid]),
    video: parts.filter((p) => p.kind === 'video').map((p) => [...p.grid]),
  };
  return { parts, grids, processors: o.processors, padIds: o.padIds ?? [] };
}

/** The processor outputs of a prepared row (tensors in the current scope): pixel rows, grids, seconds per grid. */
export function rowPixels(rv: RowVision): PromptMedia | null {
  if (!rv.parts.length) return null;
  const px: Record<'image' | 'video', Tensor[]> = { image: [], video: [] };
  const spgt: number[] = [];
  const times: number[] = [];
  for (const p of rv.parts) {
    px[p.kind].push(patchify(p.frames, rv.processors[p.kind]).pixelValues);
    if (p.kind !== 'video') continue;
    spgt.push(p.secondPerGrid!);
    times.push(...(p.gridTimes ?? evenGridTimes(p.grid[0], p.secondPerGrid!)));
  }
  const grid = (g: number[][]) => (g.length ? tensor(g.flat(), { dtype: 'int64' }).view(g.length, 3) : undefined);
  const one = (ts: Tensor[]) => (ts.length === 1 ? ts[0] : ts.length ? cat(ts, 0) : undefined);
  return {
    pixelValues: one(px.image),
    imageGridThw: grid(rv.grids.image),
    pixelValuesVideos: one(px.video),
    videoGridThw: grid(rv.grids.video),
    secondPerGridTs: spgt.length ? tensor(spgt) : undefined,
    videoGridTimes: rv.parts.some((p) => p.gridTimes) ? tensor(times) : undefined,
  };
}

/**
 * The text a frame selector reads as the question: a string prompt without its special tokens, or the
 * text parts of a conversational prompt's (or messages') user turns, one per line.
 */
export function rowQuestion(rec: Record<string, unknown>): string {
  if (typeof rec.prompt === 'string') return rec.prompt.replace(/<\|[a-z_]+\|>/g, ' ').trim();
  const msgs = visionMessages(rec) ?? [];
  return msgs
    .filter((m) => m.role === 'user')
    .flatMap((m) =>
      typeof m.content === 'string' ? [m.content] : m.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])),
    )
    .join('\n');
}

export interface VisionPrompt {
  /** The prompt text with each pad expanded. */
  text: string;
  media: PromptMedia | null;
  grids: { image: number[][]; video: number[][] };
  /** The frames a frame selector chose, per video it chose for (empty without a selector). */
  chosen: ChosenFrames[];
}

/** Decode and process a row's items; returns PromptMedia for generate()/scoring and the grids. */
export async function processRowMedia(
  items: VisionItem[],
  o: MediaOptions,
  where: string,
  question = '',
): Promise<Omit<VisionPrompt, 'text'>> {
  const rv = await prepareRowVision(items, o, where, undefined, question);
  const chosen = rv.parts.flatMap((p) => (p.chosen ? [p.chosen] : []));
  return { media: rowPixels(rv), grids: rv.grids, chosen };
}

/**
 * A row's prompt for a vision-language model: the text (standard: as given; conversational: the chat
 * template with a generation prompt) with pads expanded, and the processed media.
 */
export async function visionPrompt(
  tok: Tokenizer,
  rec: Record<string, unknown>,
  o: MediaOptions & { merge: number },
  where: string,
): Promise<VisionPrompt> {
  const items = rowVisionItems(rec, where);
  const { media, grids, chosen } = await processRowMedia(items, o, where, o.frameSelector ? rowQuestion(rec) : '');
  const p = rec.prompt;
  let text: string;
  if (typeof p === 'string') text = p;
  else if (isVisionMessages(p)) text = tok.applyChatTemplate(p, { addGenerationPrompt: true });
  else
    throw new DataError(`pacer: ${where}: 'prompt' must be a string or a list of {role, content} messages`, {
      field: 'prompt',
    });
  try {
    return { text: expandVisionPads(text, grids, o.merge, where), media, grids, chosen };
  } catch (e) {
    throw new DataError((e as Error).message, { field: 'prompt' });
  }
}

/** A row's text with each vision pad expanded to its item's token count (HF's processor); errors name the row. */
export function expandRowPads(rv: RowVision, text: string, where: string, field = 'prompt'): string {
  try {
    return expandVisionPads(text, rv.grids, rv.processors.video.mergeSize, where);
  } catch (e) {
    throw new DataError((e as Error).message, { field });
  }
}

/**
 * Decode and resize the vision of every row that has items (rows naming the same file share one copy),
 * setting `vision` on it; returns how many rows have vision. With a frame selector, `question` gives the
 * text it reads for each row (rows asking the same of the same video share one copy). Training keeps these
 * uint8 frames and makes pixel rows per batch (visionInputs).
 */
export async function attachVision<T extends { where: string; visionItems?: VisionItem[]; vision?: RowVision }>(
  rows: T[],
  o: MediaOptions,
  question?: (row: T) => string,
): Promise<number> {
  const memo = new Map<string, Promise<VisionPart>>();
  let n = 0;
  for (const r of rows) {
    if (!r.visionItems?.length) continue;
    r.vision = await prepareRowVision(r.visionItems, o, r.where, memo, question?.(r) ?? '');
    n++;
  }
  return n;
}

/**
 * The media inputs of a batch whose rows have `rows[b]` vision (null: a text row), in row order:
 * grids and seconds per grid for every row, and either the pixel rows of every row, or — given
 * `encode` (the model's vision tower) — embeddings, each distinct RowVision encoded once and its
 * embeddings repeated for the rows that share it (a DPO pair's two rows, a GRPO group's G rows);
 * gradients flow back through the repeats. Tensors live in the current scope.
 */
export function visionInputs(
  rows: Array<RowVision | null | undefined>,
  encode?: (pixels: Tensor, grid: Tensor) => Tensor,
): ModelInputs {
  const present = rows.filter((r): r is RowVision => !!r);
  if (!present.length) return {};
  const px = new Map<RowVision, PromptMedia>();
  for (const rv of present) if (!px.has(rv)) px.set(rv, rowPixels(rv)!);
  const join = (ts: Array<Tensor | undefined>) => {
    const xs = ts.filter((t): t is Tensor => !!t);
    return xs.length === 0 ? undefined : xs.length === 1 ? xs[0] : cat(xs, 0);
  };
  const all = (k: keyof PromptMedia) => join(present.map((rv) => px.get(rv)![k]));
  const grids = {
    imageGridThw: all('imageGridThw'),
    videoGridThw: all('videoGridThw'),
    secondPerGridTs: all('secondPerGridTs'),
    videoGridTimes: gridTimesOf(present.map((rv) => px.get(rv)!)),
  };
  if (!encode) return { ...grids, pixelValues: all('pixelValues'), pixelValuesVideos: all('pixelValuesVideos') };
  const enc = new Map<RowVision, { image?: Tensor; video?: Tensor }>();
  for (const [rv, m] of px)
    enc.set(rv, {
      image: m.pixelValues ? encode(m.pixelValues, m.imageGridThw!) : undefined,
      video: m.pixelValuesVideos ? encode(m.pixelValuesVideos, m.videoGridThw!) : undefined,
    });
  return {
    ...grids,
    imageEmbeds: join(present.map((rv) => enc.get(rv)!.image)),
    videoEmbeds: join(present.map((rv) => enc.get(rv)!.video)),
  };
}
