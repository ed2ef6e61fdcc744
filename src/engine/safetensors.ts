// safetensors read/write (https://github.com/huggingface/safetensors format): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then
// the raw little-endian data. Tensors are read straight from the file into their own memory (no
// intermediate copy of the file) and written straight from it. Writes go to a temp file + rename.
import { closeSync, openSync, readSync, statSync, writeSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nativeOrDeferred } from './native.js';
import type { Tensor, DType } from './tensor.js';
import { empty } from './create.js';
import { noGrad } from './scope.js';
import { atomicWrite } from '../util/atomic.js';

const N = nativeOrDeferred();

const ST_TO_DTYPE: Record<string, DType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const DTYPE_TO_ST: Record<string, string> = Object.fromEntries(Object.entries(ST_TO_DTYPE).map(([k, v]) => [v, k]));
const ITEM: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  dataStart: number;
}

/** Read and validate the header of a .safetensors file. */
export function readHeader(file: string): SafetensorsHeader {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    if (size < 8) throw new Error(`pacer: ${file}: not a safetensors file (only ${size} bytes)`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (len <= 0 || 8 + len > size)
      throw new Error(`pacer: ${file}: header length ${len} does not fit in a ${size}-byte file`);
    const hb = Buffer.alloc(len);
    readSync(fd, hb, 0, len, 8);
    let json: Record<string, any>;
    try {
      json = JSON.parse(hb.toString('utf8'));
    } catch (e) {
      throw new Error(`pacer: ${file}: the header is not valid JSON (${(e as Error).message})`);
    }
    const dataStart = 8 + len;
    const tensors = new Map<string, TensorInfo>();
    for (const [name, info] of Object.entries(json)) {
      if (name === '__metadata__') continue;
      const i = info as TensorInfo;
      if (!(i.dtype in ITEM))
        throw new Error(
          `pacer: ${file}: tensor '${name}' has unsupported dtype '${i.dtype}' (supported: ` +
            `${Object.keys(ITEM).join(', ')})`,
        );
      if (!Array.isArray(i.shape) || !Array.isArray(i.data_offsets) || i.data_offsets.length !== 2)
        throw new Error(`pacer: ${file}: tensor '${name}' needs 'shape' and 'data_offsets' [begin, end]`);
      const n = i.shape.reduce((a: number, b: number) => a * b, 1);
      const [b, e] = i.data_offsets;
      if (e - b !== n * ITEM[i.dtype])
        throw new Error(
          `pacer: ${file}: tensor '${name}' of shape [${i.shape}] ${i.dtype} needs ${n * ITEM[i.dtype]} bytes, its ` +
            `offsets give ${e - b}`,
        );
      if (b < 0 || dataStart + e > size)
        throw new Error(`pacer: ${file}: tensor '${name}' data [${b}, ${e}) lies outside the file (truncated?)`);
      tensors.set(name, i);
    }
    return { tensors, metadata: (json.__metadata__ ?? {}) as Record<string, string>, dataStart };
  } finally {
    closeSync(fd);
  }
}

export interface LoadOptions {
  /** Convert floating-point tensors to this dtype after reading. */
  dtype?: DType;
  /** Load only these names. */
  only?: Set<string> | ((name: string) => boolean);
}

/** Load a .safetensors file into tensors (kept out of memory scopes? no: tracked like any tensor). */
export function loadSafetensors(file: string, opts: LoadOptions = {}): Map<string, Tensor> {
  const header = readHeader(file);
  const out = new Map<string, Tensor>();
  const want = (n: string) => !opts.only || (opts.only instanceof Set ? opts.only.has(n) : opts.only(n));
  const fd = openSync(file, 'r');
  try {
    for (const [name, info] of header.tensors) {
      if (!want(name)) continue;
      let t = noGrad(() => empty(info.shape, { dtype: ST_TO_DTYPE[info.dtype] }));
      const nbytes = info.data_offsets[1] - info.data_offsets[0];
      if (nbytes > 0) {
        const view = new Uint8Array(N.dataView(t.handle));
        let done = 0;
        while (done < nbytes) {
          const r = readSync(
            fd,
            view,
            done,
            Math.min(nbytes - done, 1 << 30),
            header.dataStart + info.data_offsets[0] + done,
          );
          if (r <= 0) throw new Error(`pacer: ${file}: unexpected end of file reading '${name}'`);
          done += r;
        }
      }
      const floating = ['float32', 'float16', 'bfloat16', 'float64'].includes(t.dtype);
      if (opts.dtype && floating && t.dtype !== opts.dtype) {
        const c = t.to(opts.dtype);
        t.dispose();
        t = c;
      }
      out.set(name, t);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Write tensors to a .safetensors file. Order: by dtype size (largest first), then by name, as the
 * Python library does, so files are deterministic. Written atomically (temp file + rename).
 */
export function saveSafetensors(
  file: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> = {},
): void {
  const entries = [...(tensors instanceof Map ? tensors : new Map(Object.entries(tensors)))];
  for (const [name, t] of entries) {
    if (!(t.dtype in DTYPE_TO_ST))
      throw new TypeError(`pacer: cannot save '${name}': dtype ${t.dtype} has no safetensors code`);
  }
  entries.sort(
    (a, b) => ITEM[DTYPE_TO_ST[b[1].dtype]] - ITEM[DTYPE_TO_ST[a[1].dtype]] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of entries) {
    const n = t.numel * ITEM[DTYPE_TO_ST[t.dtype]];
    header[name] = { dtype: DTYPE_TO_ST[t.dtype], shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let hjson = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (hjson.length % 8)) % 8;
  if (pad) hjson = Buffer.concat([hjson, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hjson.length));
  atomicWrite(file, (fd) => {
    writeSync(fd, len);
    writeSync(fd, hjson);
    for (const [, t] of entries) {
      if (t.numel === 0) continue;
      const c = t.device === 'cpu' ? t.detach().contiguous() : t.detach().to('cpu').contiguous();
      try {
        const view = new Uint8Array(N.dataView(c.handle));
        let done = 0;
        while (done < view.length) done += writeSync(fd, view, done, view.length - done);
      } finally {
        c.dispose();
      }
    }
  });
}

export interface ShardIndex {
  metadata: { total_size: number };
  weight_map: Record<string, string>;
}

/** Load a sharded checkpoint from its index (model.safetensors.index.json). */
export function loadShardedSafetensors(indexFile: string, opts: LoadOptions = {}): Map<string, Tensor> {
  let index: ShardIndex;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw new Error(`pacer: ${indexFile}: cannot read the shard index (${(e as Error).message})`);
  }
  if (!index.weight_map || typeof index.weight_map !== 'object')
    throw new Error(`pacer: ${indexFile}: no 'weight_map' in the shard index`);
  const dir = dirname(indexFile);
  const byFile = new Map<string, Set<string>>();
  for (const [name, f] of Object.entries(index.weight_map)) {
    if (!byFile.has(f)) byFile.set(f, new Set());
    byFile.get(f)!.add(name);
  }
  const out = new Map<string, Tensor>();
  for (const [f, names] of byFile) {
    const path = join(dir, f);
    if (!existsSync(path))
      throw new Error(`pacer: ${indexFile}: shard '${f}' (holding ${names.size} tensors) is missing`);
    const want = opts.only;
    const only = (n: string) => names.has(n) && (!want || (want instanceof Set ? want.has(n) : want(n)));
    const part = loadSafetensors(path, { ...opts, only });
    for (const n of names)
      if (!part.has(n) && (!want || (want instanceof Set ? want.has(n) : want(n))))
        throw new Error(`pacer: ${indexFile}: '${n}' is mapped to ${f} but not stored there`);
    for (const [n, t] of part) out.set(n, t);
  }
  return out;
}

/**
 * Save as HF-style shards (model-00001-of-0000N.safetensors + model.safetensors.index.json) of at
 * most maxShardBytes each; a single shard is written as model.safetensors with no index.
 */
export function saveShardedSafetensors(
  dir: string,
  tensors: Map<string, Tensor>,
  maxShardBytes: number,
  prefix = 'model',
  metadata: Record<string, string> = { format: 'pt' },
): string[] {
  const shards: Array<Map<string, Tensor>> = [];
  let cur = new Map<string, Tensor>();
  let curBytes = 0;
  let total = 0;
  for (const [name, t] of tensors) {
    const nb = t.numel * ITEM[DTYPE_TO_ST[t.dtype]];
    if (cur.size > 0 && curBytes + nb > maxShardBytes) {
      shards.push(cur);
      cur = new Map();
      curBytes = 0;
    }
    cur.set(name, t);
    curBytes += nb;
    total += nb;
  }
  if (cur.size) shards.push(cur);
  if (shards.length <= 1) {
    saveSafetensors(join(dir, `${prefix}.safetensors`), shards[0] ?? new Map(), metadata);
    return [`${prefix}.safetensors`];
  }
  const pad = (i: number) => String(i).padStart(5, '0');
  const names: string[] = [];
  const weightMap: Record<string, string> = {};
  shards.forEach((s, i) => {
    const f = `${prefix}-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    saveSafetensors(join(dir, f), s, metadata);
    names.push(f);
    for (const n of s.keys()) weightMap[n] = f;
  });
  const index: ShardIndex = {
    metadata: { total_size: total },
    weight_map: Object.fromEntries(Object.entries(weightMap).sort()),
  };
  atomicWrite(join(dir, `${prefix}.safetensors.index.json`), (fd) =>
    writeSync(fd, JSON.stringify(index, null, 2) + '\n'),
  );
  return names;
}

export { atomicWrite };
