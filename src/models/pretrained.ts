// Hugging Face checkpoint folders: fromPretrained(dir) reads config.json and model.safetensors (or
// a sharded model.safetensors.index.json), picks the architecture, checks every tensor's shape
// against the config and loads it in the requested dtype; savePretrained writes the same layout
// back (GPT-2's Conv1D weights transposed back, tied LM heads omitted, as transformers does).
import { existsSync, mkdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Tensor,
  loadSafetensors,
  loadShardedSafetensors,
  saveShardedSafetensors,
  atomicWrite,
  noGrad,
  scope,
  type DType,
} from '../engine/index.js';
import { modelEntry } from './registry.js';
import type { CausalLM } from './types.js';

export interface PretrainedModel {
  model: CausalLM;
  /** config.json as read (unknown keys preserved for saving). */
  config: Record<string, any>;
  modelType: string;
  dir: string;
  /** Tensors in the checkpoint that the model does not use. */
  unexpected: string[];
}

export function readJson(file: string, what: string): any {
  if (!existsSync(file)) throw new Error(`pacer: ${file} not found (${what})`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`pacer: ${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** The model type ('gpt2', 'llama', 'mistral', 'qwen2', 'qwen3', …) a config describes. */
export function modelTypeOf(config: Record<string, any>, file = 'config.json'): string {
  return modelEntry(config, file).modelType;
}

/**
 * A freshly initialised model for a config, initialised as transformers' from_config does
 * (_init_weights, the registry entry's init): every Linear and Embedding weight ~ N(0,
 * initializer_range, default 0.02), biases 0, norm weights 1 (GPT-2 also scales c_proj by
 * 1/sqrt(2·n_layer)). PyTorch's own module defaults — N(0, 1) embeddings — would give
 * tied-embedding models peaked logits.
 */
export function modelFromConfig(config: Record<string, any>, file = 'config.json'): CausalLM {
  const m = buildModel(config, file);
  modelEntry(config, file).init(m, config);
  return m;
}

/** Config keys that are sizes: when present they must be positive integers. */
const SIZE_KEY = /(^|_)(size|dim|heads|layers|positions|embd|layer|head|inner)$/;

function buildModel(config: Record<string, any>, file: string): CausalLM {
  const entry = modelEntry(config, file);
  for (const k of entry.required)
    if (!Number.isInteger(config[k]) || config[k] <= 0)
      throw new Error(`pacer: ${file}: '${k}' must be a positive integer, got ${JSON.stringify(config[k])}`);
  for (const [k, v] of Object.entries(config))
    if (SIZE_KEY.test(k) && typeof v === 'number' && !(Number.isInteger(v) && v > 0))
      throw new Error(`pacer: ${file}: '${k}' must be a positive integer, got ${JSON.stringify(v)}`);
  try {
    return entry.create(config);
  } catch (e) {
    // shapes the architecture cannot use (an odd head_dim) or memory it cannot get
    const why = (e as Error).message.replace(/^pacer: /, '');
    throw new Error(`pacer: ${file}: cannot build the ${entry.architectures[0]} this config describes: ${why}`);
  }
}

export interface FromPretrainedOptions {
  /** dtype of floating-point weights after loading (default float32). */
  dtype?: DType;
  device?: string;
}

/** Load a causal LM from a local HF-layout folder. */
export function fromPretrained(dir: string, opts: FromPretrainedOptions = {}): PretrainedModel {
  const cfgFile = join(dir, 'config.json');
  const config = readJson(cfgFile, 'a Hugging Face model folder needs config.json');
  const entry = modelEntry(config, cfgFile);
  const t = entry.modelType;
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(single) && !existsSync(index))
    throw new Error(
      `pacer: ${dir}: no weights found (expected model.safetensors or model.safetensors.index.json; .bin ` +
        `checkpoints are not read — convert them to safetensors)`,
    );
  const weightsFile = existsSync(single) ? single : index;
  const model = buildModel(config, cfgFile); // weights come from the checkpoint: no init
  const dtype = opts.dtype ?? 'float32';
  const unexpected: string[] = [];
  noGrad(() =>
    scope(() => {
      const loaded = existsSync(single) ? loadSafetensors(single) : loadShardedSafetensors(index);
      const own = new Map(model.namedParameters());
      const seen = new Set<string>();
      for (const [fname, raw] of loaded) {
        const name = entry.fromCheckpoint ? entry.fromCheckpoint(fname) : fname;
        if (name === null) continue;
        const p = own.get(name);
        if (!p) {
          if (!(name === 'lm_head.weight' && !own.has(name))) unexpected.push(fname);
          continue;
        }
        let w = raw;
        const transposed = !!entry.transposed?.test(name);
        if (transposed) w = raw.T.contiguous();
        if (w.shape.join(',') !== p.shape.join(','))
          throw new Error(
            `pacer: ${weightsFile}: tensor '${fname}' has shape [${raw.shape}] but ${cfgFile} implies ` +
              `[${transposed ? [...p.shape].reverse() : p.shape}] — the config and the weights disagree`,
          );
        let v = w.dtype === dtype || !['float32', 'float16', 'bfloat16', 'float64'].includes(w.dtype) ? w : w.to(dtype);
        if (opts.device && opts.device !== 'cpu') v = v.to(opts.device);
        model.setParameter(name, v); // setParameter keeps it out of this scope
        seen.add(name);
      }
      const missing = [...own.keys()].filter((n) => !seen.has(n));
      if (missing.length)
        throw new Error(
          `pacer: ${weightsFile}: missing ${missing.length} tensor(s) the config needs: ${missing
            .slice(0, 5)
            .map((n) => `'${n}' [${own.get(n)!.shape.join(', ')}]`)
            .join(', ')}${missing.length > 5 ? ', …' : ''}`,
        );
    }),
  );
  return { model, config, modelType: t, dir, unexpected };
}

/** HF-layout tensors of a model (names and orientation as transformers saves them). */
export function hfStateDict(model: CausalLM, modelType: string): Map<string, Tensor> {
  const entry = modelEntry({ model_type: modelType });
  const out = new Map<string, Tensor>();
  for (const [name, p] of model.namedParameters()) {
    if (name.includes('.lora.')) continue; // adapters are saved separately (PEFT layout) unless merged
    if (entry.transposed?.test(name)) out.set(name, p.detach().T);
    else out.set(name, p);
  }
  return out;
}

/** Write config.json and the weights (sharded above maxShardBytes) to dir. */
export function savePretrained(
  pm: Pick<PretrainedModel, 'model' | 'config'> & { modelType?: string },
  dir: string,
  opts: { maxShardBytes?: number } = {},
): void {
  mkdirSync(dir, { recursive: true });
  scope(() => {
    const sd = hfStateDict(pm.model, pm.modelType ?? modelEntry(pm.config).modelType);
    const dtypes = new Set([...sd.values()].map((t) => t.dtype));
    const config = { ...pm.config };
    if (dtypes.size === 1) config.torch_dtype = [...dtypes][0];
    saveShardedSafetensors(dir, sd, opts.maxShardBytes ?? 5 * 2 ** 30, 'model', { format: 'pt' });
    atomicWrite(join(dir, 'config.json'), (fd) => writeSync(fd, JSON.stringify(config, null, 2) + '\n'));
  });
}
