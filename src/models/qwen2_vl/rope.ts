// M-RoPE (Qwen2-VL, Wang et al. 2024, arXiv 2409.12191; Qwen2.5-VL, arXiv 2502.13923): every token has
// three positions (temporal, height, width). transformers' get_rope_index, per row over the unpadded
// tokens: a text run takes the same index on all three axes, starting at max(previous) + 1; a vision
// block at offset s gets t = s + ⌊g · second_per_grid_t · tokens_per_second⌋ (Qwen2.5-VL; transformers
// casts second_per_grid_t to the integer dtype first, so fractional seconds truncate; images use 0;
// Qwen2-VL: t = s + g), h = s + 0..H/merge−1, w = s + 0..W/merge−1 in (t, h, w) order. With grid times
// (videoGridTimes: frames chosen unevenly, src/data/media.ts) Qwen2.5-VL's t = s + ⌊time_g · tokens_per_second⌋
// instead (1e-6 added before the floor so that exact products like 0.5 s · 2 are not lost to rounding). Padding gets
// position 1; rope_delta = max + 1 − padded length, so a token fed at cache index c sits at c + delta.
// Applying it: per axis fp32 freqs = pos · inv_freq, emb = [freqs ‖ freqs]; the last dim is cut into
// mrope_section × 2 chunks, chunk i from axis i mod 3 (chunked, not interleaved), then rotate_half.
import { type Tensor, F, tensor } from '../../engine/index.js';
import type { ModelInputs } from '../types.js';

type VideoMedia = Pick<ModelInputs, 'videoGridThw' | 'secondPerGridTs' | 'videoGridTimes'>;

export type Grid = [number, number, number];

export interface RopeIndexOptions {
  version: '2' | '2.5';
  merge: number;
  tokensPerSecond: number;
  imageTokenId: number;
  videoTokenId: number;
  visionStartTokenId: number;
}

/** One vision block's (t, h, w) positions starting at `start`. */
function blockPositions(grid: Grid, sec: number, start: number, o: RopeIndexOptions, times?: number[]): number[][] {
  const [t, h, w] = [grid[0], grid[1] / o.merge, grid[2] / o.merge];
  const out: number[][] = [[], [], []];
  const step = o.version === '2.5' ? Math.trunc(sec) * o.tokensPerSecond : 1;
  const tpos = (g: number) =>
    o.version === '2.5' && times ? Math.floor(times[g] * o.tokensPerSecond + 1e-6) : Math.trunc(g * step);
  for (let g = 0; g < t; g++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        out[0].push(start + tpos(g));
        out[1].push(start + i);
        out[2].push(start + j);
      }
  return out;
}

interface Counters {
  image: number;
  video: number;
}

/** Positions [3][n] of one row's unpadded tokens (get_rope_index's per-row loop). */
function rowPositions(
  toks: number[],
  images: Grid[],
  videos: Grid[],
  spgt: number[] | null,
  c: Counters,
  o: RopeIndexOptions,
  row: number,
  times: number[][] | null,
): number[][] {
  let nImg = 0;
  let nVid = 0;
  toks.forEach((t, i) => {
    if (t !== o.visionStartTokenId || i + 1 >= toks.length) return;
    if (toks[i + 1] === o.imageTokenId) nImg++;
    else if (toks[i + 1] === o.videoTokenId) nVid++;
  });
  const pos: number[][] = [[], [], []];
  let st = 0;
  let next = 0;
  const pushText = (len: number) => {
    for (let i = 0; i < len; i++) for (let a = 0; a < 3; a++) pos[a].push(next + i);
  };
  const total = nImg + nVid;
  for (let k = 0; k < total; k++) {
    const ei = nImg > 0 ? toks.indexOf(o.imageTokenId, st) : -1;
    const ev = nVid > 0 ? toks.indexOf(o.videoTokenId, st) : -1;
    const isImage = ei >= 0 && (ev < 0 || ei < ev);
    const list = isImage ? images : videos;
    const idx = isImage ? c.image : c.video;
    if (idx >= list.length)
      throw new Error(
        `pacer: row ${row}: the prompt has more ${isImage ? 'images' : 'videos'} (<|vision_start|> + ` +
          `${isImage ? '<|image_pad|>' : '<|video_pad|>'}) than the batch's ${isImage ? 'image' : 'video'}_grid_thw ` +
          `rows (${list.length})`,
      );
    const ed = isImage ? ei : ev;
    if (ed < 0) break;
    const grid = list[idx];
    const sec = isImage ? 0 : spgt ? spgt[idx] : 1;
    const gtimes = isImage ? undefined : (times?.[idx] ?? undefined);
    if (isImage) {
      c.image++;
      nImg--;
    } else {
      c.video++;
      nVid--;
    }
    pushText(ed - st);
    const start = next + ed - st;
    const block = blockPositions(grid, sec, start, o, gtimes);
    for (let a = 0; a < 3; a++) pos[a].push(...block[a]);
    next = start + Math.max(block[0][block[0].length - 1] - start, grid[1] / o.merge - 1, grid[2] / o.merge - 1) + 1;
    st = ed + block[0].length;
  }
  if (st < toks.length) pushText(toks.length - st);
  return pos;
}

/**
 * get_rope_index: position ids [3][B][T] and rope deltas [B] for token ids [B][T] (left padding in
 * `mask`), the batch's image and video grids in order, and seconds per temporal grid step per video.
 */
export function ropeIndex(
  ids: number[][],
  mask: number[][] | null,
  images: Grid[],
  videos: Grid[],
  spgt: number[] | null,
  o: RopeIndexOptions,
  gridTimes: number[] | null = null,
): { positions: number[][][]; deltas: number[] } {
  let times: number[][] | null = null;
  if (gridTimes) {
    const need = videos.reduce((a, g) => a + g[0], 0);
    if (gridTimes.length !== need)
      throw new RangeError(
        `pacer: videoGridTimes has ${gridTimes.length} entries; the videos' grids have ${need} steps`,
      );
    let off = 0;
    times = videos.map((g) => gridTimes.slice(off, (off += g[0])));
  }
  const B = ids.length;
  const T = B ? ids[0].length : 0;
  const positions = [0, 1, 2].map(() => ids.map(() => new Array<number>(T).fill(1)));
  const deltas: number[] = [];
  const c: Counters = { image: 0, video: 0 };
  for (let b = 0; b < B; b++) {
    const keep = ids[b].map((_, i) => !mask || mask[b][i] === 1);
    const toks = ids[b].filter((_, i) => keep[i]);
    const p = images.length || videos.length ? rowPositions(toks, images, videos, spgt, c, o, b, times) : null;
    let k = 0;
    let max = -1;
    for (let i = 0; i < T; i++) {
      if (!keep[i]) continue;
      for (let a = 0; a < 3; a++) {
        const v = p ? p[a][k] : k;
        positions[a][b][i] = v;
        max = Math.max(max, v);
      }
      k++;
    }
    if (!p && keep.includes(false)) max = Math.max(max, 1); // text only: padding's position 1 counts
    deltas.push(max + 1 - T);
  }
  return { positions, deltas };
}

/**
 * cos and sin [B, 1, T, headDim] for M-RoPE positions [3, B, T] (int64) and inv_freq [headDim/2]. Positions
 * [B, T] (the three axes equal: text, decoding) give the same values through plain 1-D RoPE.
 */
export function mropeCosSin(pos: Tensor, invFreq: Tensor, section: number[]): [Tensor, Tensor] {
  const freqs = pos.to('float32').unsqueeze(-1).mul(invFreq);
  const emb = F.cat([freqs, freqs], -1);
  if (pos.ndim === 2) return [emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)];
  const pick = (x: Tensor) => {
    const chunks: Tensor[] = [];
    let off = 0;
    [...section, ...section].forEach((len, i) => {
      chunks.push(x.select(0, i % 3).narrow(-1, off, len));
      off += len;
    });
    return F.cat(chunks, -1).unsqueeze(1);
  };
  return [pick(emb.cos()), pick(emb.sin())];
}

/** [3, B, T] int64 tensor from nested positions. */
export function positionsTensor(p: number[][][]): Tensor {
  const [A, B, T] = [p.length, p[0].length, p[0][0]?.length ?? 0];
  const flat = new BigInt64Array(A * B * T);
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) flat[(a * B + b) * T + t] = BigInt(p[a][b][t]);
  return tensor(flat, { shape: [A, B, T] });
}

/** The grid times HF's positions imply for evenly spaced frames: g · trunc(second_per_grid_t) (M-RoPE). */
export function evenGridTimes(gridT: number, secondPerGrid: number): number[] {
  return Array.from({ length: gridT }, (_, g) => g * Math.trunc(secondPerGrid));
}

/**
 * The videoGridTimes of a batch's media (each video's own, or the even times of its second_per_grid_t),
 * or undefined when no video carries times (HF's positions then follow from second_per_grid_t alone).
 */
export function gridTimesOf(media: VideoMedia[]): Tensor | undefined {
  const videos = media.filter((m) => m.videoGridThw);
  if (!videos.some((m) => m.videoGridTimes)) return undefined;
  const all: number[] = [];
  for (const m of videos) {
    if (m.videoGridTimes) {
      all.push(...(m.videoGridTimes.toArray() as number[]));
      continue;
    }
    const grids = m.videoGridThw!.toArray() as number[];
    const spgt = m.secondPerGridTs ? (m.secondPerGridTs.toArray() as number[]) : grids.map(() => 1);
    for (let v = 0; v < grids.length / 3; v++) all.push(...evenGridTimes(grids[v * 3], spgt[v]));
  }
  return tensor(all);
}
