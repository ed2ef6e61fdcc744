// A frame cache: decoded frames kept in memory under the key (file, modification time, file size,
// frame indices, output size, interpolation), so the same frames are not decoded twice (e.g. the
// G rollouts of one prompt, or epochs over a small set). Least recently used entries are dropped
// past a byte budget. A file that changes on disk gets a new key, so stale frames are never served.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { tensor, type Tensor } from '../engine/index.js';
import { decodeFrames, outputSize, selectionIndices, type DecodeOptions, type FrameSelection } from './decode.js';
import { probeVideo, requireFile, type VideoInfo } from './probe.js';

interface Entry {
  shape: number[];
  data: Uint8Array;
}

export class FrameCache {
  private entries = new Map<string, Entry>();
  private infos = new Map<string, VideoInfo>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  /** maxBytes: the memory budget for cached frames (default 256 MiB). */
  constructor(readonly maxBytes = 256 * 2 ** 20) {
    if (!(maxBytes > 0)) throw new RangeError(`pacer: FrameCache needs maxBytes > 0, got ${maxBytes}`);
  }

  /** Bytes of frames held now. */
  get size(): number {
    return this.bytes;
  }

  private async fileKey(file: string): Promise<string> {
    await requireFile(file);
    const s = await stat(file);
    return `${resolve(file)}\u0000${s.mtimeMs}\u0000${s.size}`;
  }

  private async info(fk: string, file: string, o: DecodeOptions): Promise<VideoInfo> {
    let info = this.infos.get(fk);
    if (!info) {
      info = await probeVideo(file, o);
      this.infos.set(fk, info);
    }
    return info;
  }

  /** decodeFrames through the cache: a uint8 tensor [T, H, W, 3] (a fresh tensor on every call). */
  async decode(file: string, sel: FrameSelection, o: DecodeOptions = {}): Promise<Tensor> {
    const fk = await this.fileKey(file);
    const info = await this.info(fk, file, o);
    const indices = selectionIndices(info, sel);
    const [w, h] = outputSize(info, o);
    const key = `${fk}\u0000${indices.join(',')}\u0000${w}x${h}\u0000${o.interpolation ?? 'bicubic'}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.hits++;
      this.entries.delete(key); // move to the most recently used end
      this.entries.set(key, hit);
      return tensor(hit.data, { shape: hit.shape });
    }
    this.misses++;
    const t = await decodeFrames(file, { indices }, { ...o, info });
    this.store(key, { shape: t.shape, data: t.data() as Uint8Array });
    return t;
  }

  private store(key: string, e: Entry): void {
    if (e.data.length > this.maxBytes) return;
    this.entries.set(key, e);
    this.bytes += e.data.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.data.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.infos.clear();
    this.bytes = 0;
  }
}
