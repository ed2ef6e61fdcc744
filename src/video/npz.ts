// Frame arrays as NumPy .npz files (what `pacer video make --frames-only` writes): a ZIP archive
// (PKWARE APPNOTE: local headers, deflated data, central directory, end record) of .npy members
// (NumPy format 1.0: magic "\x93NUMPY", version, a little-endian u16 header length, a Python dict
// literal {'descr', 'fortran_order', 'shape'} padded to a multiple of 64 bytes, then the raw data).
// A frames file holds `frames` (uint8 [T, H, W, 3], RGB) and `fps` (float64 scalar), so
// `np.load(f)['frames']` reads it in Python; readFramesNpz reads it here (decodeFrames does so for .npz).
// Archives are deterministic: fixed timestamps (1980-01-01), members in the order given.
import { readFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { crc32 } from './png.js';
import { VideoError } from './ffmpeg.js';

export interface NpyArray {
  dtype: 'uint8' | 'float64';
  shape: number[];
  data: Uint8Array | Float64Array;
}

const DESCR = { uint8: '|u1', float64: '<f8' } as const;

/** One array as .npy bytes. */
export function encodeNpy(a: NpyArray): Buffer {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[a.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

function decodeNpy(b: Buffer, where: string): NpyArray {
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${where} is not a .npy array`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${where} is Fortran-ordered (not supported)`);
  const dtype = descr === '|u1' ? 'uint8' : descr === '<f8' ? 'float64' : null;
  if (!dtype || shapeText === undefined) throw new Error(`${where} has dtype ${descr} (expected |u1 or <f8)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const raw = b.subarray(start + hlen);
  const n = shape.reduce((x, y) => x * y, 1);
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  const data = dtype === 'uint8' ? copy : new Float64Array(copy.buffer, 0, raw.length / 8);
  if (data.length !== n) throw new Error(`${where} holds ${data.length} values, its shape needs ${n}`);
  return { dtype, shape, data };
}

const DOS_DATE = 0x21; // 1980-01-01

function localHeader(name: Buffer, crc: number, csize: number, usize: number): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4); // version needed
  h.writeUInt16LE(8, 8); // deflate
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(crc, 14);
  h.writeUInt32LE(csize, 18);
  h.writeUInt32LE(usize, 22);
  h.writeUInt16LE(name.length, 26);
  return Buffer.concat([h, name]);
}

function centralEntry(name: Buffer, crc: number, csize: number, usize: number, offset: number): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(20, 4); // made by
  h.writeUInt16LE(20, 6); // needed
  h.writeUInt16LE(8, 10);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(crc, 16);
  h.writeUInt32LE(csize, 20);
  h.writeUInt32LE(usize, 24);
  h.writeUInt16LE(name.length, 28);
  h.writeUInt32LE(offset, 42);
  return Buffer.concat([h, name]);
}

/** Named arrays as .npz bytes (np.savez_compressed layout: members "<name>.npy", deflated). */
export function encodeNpz(arrays: Record<string, NpyArray>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [key, a] of Object.entries(arrays)) {
    const name = Buffer.from(`${key}.npy`, 'utf8');
    const npy = encodeNpy(a);
    const crc = crc32(npy);
    const comp = deflateRawSync(npy, { level: 6 });
    const lh = localHeader(name, crc, comp.length, npy.length);
    centrals.push(centralEntry(name, crc, comp.length, npy.length, offset));
    locals.push(lh, comp);
    offset += lh.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length, 8);
  end.writeUInt16LE(centrals.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function member(b: Buffer, at: number, file: string): { name: string; data: Buffer; next: number } {
  if (b.readUInt32LE(at) !== 0x02014b50) throw new Error('a central directory entry is damaged');
  const method = b.readUInt16LE(at + 10);
  const crc = b.readUInt32LE(at + 16);
  const csize = b.readUInt32LE(at + 20);
  const nlen = b.readUInt16LE(at + 28);
  const next = at + 46 + nlen + b.readUInt16LE(at + 30) + b.readUInt16LE(at + 32);
  const name = b.toString('utf8', at + 46, at + 46 + nlen);
  const lo = b.readUInt32LE(at + 42);
  const start = lo + 30 + b.readUInt16LE(lo + 26) + b.readUInt16LE(lo + 28);
  const comp = b.subarray(start, start + csize);
  if (comp.length !== csize) throw new Error(`member ${name} is truncated`);
  const data = method === 8 ? inflateRawSync(comp) : method === 0 ? comp : null;
  if (!data) throw new Error(`member ${name} uses compression method ${method} (expected 0 or 8)`);
  if (crc32(data) !== crc) throw new Error(`member ${name} fails its CRC check in ${file}`);
  return { name, data, next };
}

/** All arrays of an .npz file (or bytes), by name without ".npy". */
export function decodeNpz(b: Buffer, file = '<buffer>'): Record<string, NpyArray> {
  try {
    let e = b.length - 22;
    while (e >= 0 && b.readUInt32LE(e) !== 0x06054b50) e--;
    if (e < 0) throw new Error('no ZIP end record (not an .npz file, or truncated)');
    const count = b.readUInt16LE(e + 10);
    let at = b.readUInt32LE(e + 16);
    const out: Record<string, NpyArray> = {};
    for (let i = 0; i < count; i++) {
      const m = member(b, at, file);
      out[m.name.replace(/\.npy$/, '')] = decodeNpy(m.data, m.name);
      at = m.next;
    }
    return out;
  } catch (err) {
    throw new VideoError(`pacer: cannot read ${file} as .npz: ${(err as Error).message}`, file);
  }
}

export interface FramesArray {
  frames: number;
  height: number;
  width: number;
  fps: number;
  /** T × H × W × 3 bytes. */
  data: Uint8Array;
}

/** A frames file: `frames` uint8 [T, H, W, 3] and `fps` float64. */
export function encodeFramesNpz(a: FramesArray): Buffer {
  return encodeNpz({
    frames: { dtype: 'uint8', shape: [a.frames, a.height, a.width, 3], data: a.data },
    fps: { dtype: 'float64', shape: [], data: Float64Array.of(a.fps) },
  });
}

/** Read a frames .npz written by encodeFramesNpz or by NumPy (np.savez[_compressed](f, frames=…, fps=…)). */
export function readFramesNpz(file: string): FramesArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new VideoError(`pacer: cannot read ${file}: ${(e as Error).message}`, file);
  }
  const z = decodeNpz(bytes, file);
  const f = z.frames;
  if (f?.dtype !== 'uint8' || f.shape.length !== 4 || f.shape[3] !== 3)
    throw new VideoError(`pacer: ${file} needs a 'frames' array of uint8 [T, H, W, 3]`, file);
  const fps = z.fps?.data[0];
  if (typeof fps !== 'number' || !(fps > 0))
    throw new VideoError(`pacer: ${file} needs a positive scalar 'fps' array`, file);
  const [frames, height, width] = f.shape;
  return { frames, height, width, fps, data: f.data as Uint8Array };
}
