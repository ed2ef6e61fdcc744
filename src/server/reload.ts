// Weight reload for `pacer serve model` (SGLang's POST /update_weights_from_disk {"model_path": DIR}):
// the trainer writes the policy in the Hugging Face layout and the server swaps it in.
//
// All or nothing: every file is checked and every tensor read into fresh memory before the served
// weights are touched; they are then copied in one synchronous pass, so a bad checkpoint (another
// MLP width, a missing tensor, a truncated shard) leaves the served model exactly as it was.
//
// Files are handled as untrusted: under a reload root (--reload-root) the folder and every file must
// resolve (symlinks followed) inside it; each must be a regular file (a FIFO or device is refused
// before it is opened, and re-checked on the open handle), within a size bound, and is read
// asynchronously. Errors name the file and the problem but never quote its content (JSON parser
// messages do, so they are not passed on), and a path outside the root gets the same answer
// whether or not it exists.
import { constants, type Stats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { type DType, type Tensor, empty, keep, noGrad, scope } from '../engine/index.js';
import { native } from '../engine/native.js';
import { hfStateDict } from '../models/pretrained.js';
import type { CausalLM } from '../models/types.js';
import { HttpError } from './http.js';

const CONFIG_MAX = 2 ** 20;
const INDEX_MAX = 16 * 2 ** 20;
const HEADER_MAX = 100_000_000; // the safetensors format's own header limit
const FLOAT: Record<string, [DType, number]> = {
  F32: ['float32', 4],
  F16: ['float16', 2],
  BF16: ['bfloat16', 2],
  F64: ['float64', 8],
};
/** config.json keys that fix the architecture: they must equal the served model's. */
const ARCH_KEYS = [
  'model_type',
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'max_position_embeddings',
  'rope_theta',
  'rope_scaling',
  'rms_norm_eps',
  'tie_word_embeddings',
  'sliding_window',
  'n_embd',
  'n_layer',
  'n_head',
  'n_inner',
  'n_positions',
  'layer_norm_epsilon',
  'activation_function',
];

const inside = (p: string, root: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
const outsideRoot = () => new HttpError(403, "'model_path' must be a folder under the server's reload root");

interface Checked {
  fh: FileHandle;
  size: number;
  name: string;
}

/** Resolve and open a file of the checkpoint folder: inside the root, a regular file, at most max bytes. */
async function openChecked(dir: string, name: string, max: number, root: string | null): Promise<Checked | null> {
  let real: string;
  try {
    real = await realpath(join(dir, name));
  } catch {
    return null;
  }
  if (root && !inside(real, root)) throw new HttpError(403, `${name} resolves outside the server's reload root`);
  const st = await stat(real);
  if (!st.isFile()) throw new HttpError(400, `${name} is not a regular file`);
  if (st.size > max) throw new HttpError(400, `${name} is larger than ${max} bytes`);
  // O_NONBLOCK: if the file was swapped for a FIFO since stat(), opening it cannot hang
  const fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
  const again: Stats = await fh.stat();
  if (!again.isFile() || again.ino !== st.ino || again.dev !== st.dev) {
    await fh.close();
    throw new HttpError(400, `${name} changed while it was being opened`);
  }
  return { fh, size: again.size, name };
}

async function readAll(f: Checked, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await f.fh.read(into, done, Math.min(into.length - done, 2 ** 30), position + done);
    if (bytesRead <= 0) throw new HttpError(400, `${f.name} is truncated`);
    done += bytesRead;
  }
}

async function readJsonFile(f: Checked): Promise<Record<string, any>> {
  const buf = Buffer.alloc(f.size);
  await readAll(f, buf, 0);
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new HttpError(400, `${f.name} is not valid JSON`); // the parser's message would quote the file
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, `${f.name} is not a JSON object`);
  return v as Record<string, any>;
}

/** The folder to load: resolved, inside the root when there is one, a directory. */
async function checkedFolder(modelPath: unknown, root: string | null): Promise<string> {
  if (typeof modelPath !== 'string' || !modelPath || modelPath.includes('\0'))
    throw new HttpError(400, "'model_path' must be a folder path", { param: 'model_path' });
  const abs = resolve(root ?? process.cwd(), modelPath);
  if (root && !inside(abs, root)) throw outsideRoot();
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    if (root) throw outsideRoot();
    throw new HttpError(400, `'model_path' ${modelPath} is not a readable folder`);
  }
  if (root && !inside(real, root)) throw outsideRoot();
  if (!(await stat(real)).isDirectory()) throw new HttpError(400, `'model_path' ${modelPath} is not a folder`);
  return real;
}

function checkConfig(cfg: Record<string, any>, served: Record<string, unknown>): void {
  for (const k of ARCH_KEYS) {
    if (cfg[k] === undefined || served[k] === undefined) continue; // a default on one side: shapes decide
    if (JSON.stringify(cfg[k]) !== JSON.stringify(served[k]))
      throw new HttpError(
        400,
        `config.json: '${k}' differs from the served model's (${JSON.stringify(served[k] ?? null)}); ` +
          'only weights of the same architecture can be loaded',
      );
  }
}

interface Entry {
  file: Checked;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Read and check a safetensors header; entries by tensor name. */
async function readHeader(f: Checked): Promise<{ entries: Map<string, Entry>; dataStart: number }> {
  if (f.size < 8) throw new HttpError(400, `${f.name} is not a safetensors file`);
  const lenBuf = Buffer.alloc(8);
  await readAll(f, lenBuf, 0);
  const len = Number(lenBuf.readBigUInt64LE(0));
  if (len < 2 || len > HEADER_MAX || 8 + len > f.size) throw new HttpError(400, `${f.name} is not a safetensors file`);
  const hb = Buffer.alloc(len);
  await readAll(f, hb, 8);
  let json: Record<string, any>;
  try {
    json = JSON.parse(hb.toString('utf8'));
  } catch {
    throw new HttpError(400, `${f.name}: the safetensors header is not valid JSON`);
  }
  const entries = new Map<string, Entry>();
  let maxEnd = 0;
  for (const [name, info] of Object.entries(json ?? {})) {
    if (name === '__metadata__') continue;
    const ok =
      info &&
      Array.isArray(info.shape) &&
      info.shape.every((s: unknown) => Number.isInteger(s) && (s as number) >= 0) &&
      Array.isArray(info.data_offsets) &&
      info.data_offsets.length === 2 &&
      info.data_offsets.every((s: unknown) => Number.isInteger(s) && (s as number) >= 0);
    if (!ok) throw new HttpError(400, `${f.name}: a tensor entry lacks a valid shape or data_offsets`);
    const [begin, end] = info.data_offsets as [number, number];
    const item = FLOAT[info.dtype]?.[1];
    const numel = (info.shape as number[]).reduce((a, b) => a * b, 1);
    if (item !== undefined && end - begin !== numel * item)
      throw new HttpError(400, `${f.name}: a tensor's data_offsets do not match its shape`);
    maxEnd = Math.max(maxEnd, end);
    entries.set(name, { file: f, dtype: info.dtype, shape: info.shape, begin, end });
  }
  if (8 + len + maxEnd !== f.size)
    throw new HttpError(400, `${f.name}: the file size does not match its header (truncated or padded)`);
  return { entries, dataStart: 8 + len };
}

/** The checkpoint's name for a served tensor name, and names the served model ignores. */
function normaliseName(modelType: string, name: string): string | null {
  if (modelType !== 'gpt2') return name;
  if (/\.attn\.(bias|masked_bias)$/.test(name)) return null;
  return name.startsWith('transformer.') || name === 'lm_head.weight' ? name : `transformer.${name}`;
}

/** Gather the header entries of model.safetensors or of every shard of the index. */
async function checkpointEntries(dir: string, root: string | null, maxFile: number, opened: Checked[]) {
  const single = await openChecked(dir, 'model.safetensors', maxFile, root);
  const files: Checked[] = [];
  if (single) files.push(single);
  else {
    const idx = await openChecked(dir, 'model.safetensors.index.json', INDEX_MAX, root);
    if (!idx) throw new HttpError(400, 'the folder has neither model.safetensors nor model.safetensors.index.json');
    opened.push(idx);
    const map = (await readJsonFile(idx)).weight_map;
    if (!map || typeof map !== 'object') throw new HttpError(400, `${idx.name} has no weight_map`);
    for (const shard of new Set(Object.values(map as Record<string, unknown>))) {
      if (typeof shard !== 'string' || !/^[\w.-]+\.safetensors$/.test(shard) || shard.startsWith('.'))
        throw new HttpError(400, `${idx.name}: shard names must be plain *.safetensors file names`);
      const f = await openChecked(dir, shard, maxFile, root);
      if (!f) throw new HttpError(400, `${idx.name} names a shard that is missing`);
      files.push(f);
    }
  }
  opened.push(...files);
  const all = new Map<string, Entry & { dataStart: number }>();
  for (const f of files) {
    const { entries, dataStart } = await readHeader(f);
    for (const [k, e] of entries) all.set(k, { ...e, dataStart });
  }
  return all;
}

/** Read every served tensor from the checkpoint into fresh tensors (the served dtype). */
async function readTensors(
  model: CausalLM,
  modelType: string,
  entries: Map<string, Entry & { dataStart: number }>,
): Promise<Map<string, Tensor>> {
  // names, shapes and dtypes only (GPT-2's transposed views are freed with the scope)
  const served = scope(
    () => new Map([...hfStateDict(model, modelType)].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }])),
  );
  const byName = new Map<string, Entry & { dataStart: number }>();
  for (const [k, e] of entries) {
    const n = normaliseName(modelType, k);
    if (n !== null) byName.set(n, e);
  }
  const missing = [...served.keys()].filter((k) => !byName.has(k));
  if (missing.length)
    throw new HttpError(
      400,
      `the checkpoint lacks ${missing.length} tensor(s) of the served model: ${missing.slice(0, 5).join(', ')}`,
    );
  const extra = [...byName.keys()].filter((k) => !served.has(k) && k !== 'lm_head.weight');
  if (extra.length)
    throw new HttpError(400, `the checkpoint holds ${extra.length} tensor(s) the served model does not have`);
  const fresh = new Map<string, Tensor>();
  try {
    for (const [k, target] of served) {
      const e = byName.get(k)!;
      if (e.shape.join(',') !== target.shape.join(','))
        throw new HttpError(400, `tensor '${k}' has another shape than the served model's [${target.shape}]`);
      if (!FLOAT[e.dtype])
        throw new HttpError(400, `tensor '${k}' is not stored as floating point (F32, F16, BF16, F64)`);
      const t = keep(noGrad(() => empty(e.shape, { dtype: FLOAT[e.dtype][0] })));
      fresh.set(k, t);
      if (e.end > e.begin) await readAll(e.file, new Uint8Array(native().dataView(t.handle)), e.dataStart + e.begin);
      if (t.dtype !== target.dtype) {
        fresh.set(k, keep(noGrad(() => t.to(target.dtype))));
        t.dispose();
      }
    }
  } catch (e) {
    for (const t of fresh.values()) t.dispose();
    throw e;
  }
  return fresh;
}

/**
 * Load the weights of the HF checkpoint folder `modelPath` into the served model (same
 * architecture and shapes), all or nothing. root: the reload root (real path), or null to accept
 * any folder (servers that check a bearer token). Returns the number of tensors loaded.
 */
export async function reloadWeights(model: CausalLM, modelPath: unknown, root: string | null): Promise<number> {
  if (root !== null && !isAbsolute(root)) throw new Error('pacer: the reload root must be an absolute real path');
  const dir = await checkedFolder(modelPath, root);
  const modelType = String((model.config as unknown as Record<string, unknown>).model_type ?? 'llama');
  const opened: Checked[] = [];
  try {
    const cfg = await openChecked(dir, 'config.json', CONFIG_MAX, root);
    if (!cfg) throw new HttpError(400, 'the folder has no config.json');
    opened.push(cfg);
    checkConfig(await readJsonFile(cfg), model.config as unknown as Record<string, unknown>);
    const maxFile = HEADER_MAX + 8 + model.parameters().reduce((a, p) => a + p.numel * 8, 0);
    const entries = await checkpointEntries(dir, root, maxFile, opened);
    const fresh = await readTensors(model, modelType, entries);
    try {
      // every check passed and every tensor is in memory: swap in one synchronous pass
      return scope(() =>
        noGrad(() => {
          const served = hfStateDict(model, modelType);
          for (const [k, t] of served) t.copy_(fresh.get(k)!);
          return served.size;
        }),
      );
    } finally {
      for (const t of fresh.values()) t.dispose();
    }
  } finally {
    await Promise.all(opened.map((f) => f.fh.close().catch(() => undefined)));
  }
}
