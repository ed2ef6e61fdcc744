// Checkpoints shared by every trainer: checkpoint-N/ holds weights.safetensors (every trainable
// parameter), optimizer.safetensors, and trainer_state.json (step, scheduler, optimizer options, the
// default RNG state, the run's fingerprint and the trainer's own state: data position, curriculum,
// …). It is written to a temporary folder and renamed, so a killed run never leaves a partial
// checkpoint; a failed write (ENOSPC, …) removes the temporary folder and names the step and folder.
// The fingerprint (the config without the keys a resumed run may change, the data files' sizes and
// hashes, the model's config and weight sizes) tells a resumed run from a different one. The batch
// enters it as the global batch (world size × per_device_train_batch_size × gradient_accumulation_steps):
// a run may resume with another number of data-parallel workers when that product stays the same.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  saveSafetensors,
  loadSafetensors,
  atomicWrite,
  scope,
  noGrad,
  getRngState,
  setRngState,
  tensor,
  type Module,
  type AdamW,
  type LRScheduler,
} from '../engine/index.js';
import { CheckpointError } from '../util/errors.js';
import { datasetScheme, splitDatasetUrl } from '../data/schemes.js';
import type { LoopConfig } from './config.js';

export { CheckpointError };

/** The newest complete checkpoint in a run folder (incomplete temp folders are ignored). */
export function latestCheckpoint(outputDir: string): string | null {
  if (!existsSync(outputDir)) return null;
  const steps = checkpointSteps(outputDir)
    .filter((s) => existsSync(join(outputDir, `checkpoint-${s}`, 'trainer_state.json')))
    .sort((a, b) => b - a);
  return steps.length ? join(outputDir, `checkpoint-${steps[0]}`) : null;
}

function checkpointSteps(outputDir: string): number[] {
  return readdirSync(outputDir)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]));
}

export function writeCheckpoint(
  outputDir: string,
  step: number,
  model: Module,
  opt: AdamW,
  sched: LRScheduler,
  extra: Record<string, unknown>,
  saveTotalLimit: number | null,
): void {
  const final = join(outputDir, `checkpoint-${step}`);
  const tmp = join(outputDir, `.checkpoint-${step}.tmp`);
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    scope(() => {
      saveSafetensors(join(tmp, 'weights.safetensors'), new Map(model.namedParameters()));
      const sd = opt.stateDict();
      saveSafetensors(join(tmp, 'optimizer.safetensors'), sd.tensors);
      const rng = Buffer.from(getRngState().data() as Uint8Array).toString('base64');
      const state = {
        global_step: step,
        scheduler: sched.stateDict(),
        optimizer: { step: sd.step, options: sd.options },
        rng,
        ...extra,
      };
      atomicWrite(join(tmp, 'trainer_state.json'), (fd) => writeSync(fd, JSON.stringify(state, null, 1)));
    });
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const why = (e as Error).message.replace(/^pacer: /, '');
    throw new CheckpointError(`pacer: could not write the checkpoint of step ${step} in ${outputDir}: ${why}`, {
      file: final,
    });
  }
  if (!saveTotalLimit) return;
  const all = checkpointSteps(outputDir).sort((a, b) => a - b);
  for (const s of all.slice(0, Math.max(0, all.length - saveTotalLimit)))
    rmSync(join(outputDir, `checkpoint-${s}`), { recursive: true, force: true });
}

/** Restore model, optimizer, scheduler and RNG; returns the saved state (step and trainer extras). */
export function readCheckpoint(dir: string, model: Module, opt: AdamW, sched: LRScheduler): Record<string, any> {
  const stateFile = join(dir, 'trainer_state.json');
  if (!existsSync(stateFile))
    throw new CheckpointError(`pacer: ${dir} is not a complete checkpoint (no trainer_state.json)`, { file: dir });
  const st = readJson(stateFile);
  scope(() => {
    const w = loadSafetensors(join(dir, 'weights.safetensors'));
    noGrad(() => {
      for (const [n, p] of model.namedParameters()) {
        const t = w.get(n);
        if (!t)
          throw new CheckpointError(`pacer: ${dir}: the checkpoint has no '${n}' (was it made with another config?)`, {
            file: dir,
          });
        p.copy_(t);
      }
    });
    opt.loadStateDict({
      step: st.optimizer.step,
      options: st.optimizer.options,
      tensors: loadSafetensors(join(dir, 'optimizer.safetensors')),
    });
    setRngState(tensor(new Uint8Array(Buffer.from(st.rng, 'base64'))));
  });
  sched.loadStateDict(st.scheduler);
  return st;
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`pacer: ${file}: not valid JSON (${(e as Error).message})`, { file });
  }
}

/**
 * Keep metrics.jsonl lines (or another log of {"step", …} lines) up to `step` — what the resumed run
 * had logged — and return them. A torn final line (a write cut by power loss) is dropped; a broken
 * line elsewhere is an error naming it.
 */
export function restoreMetrics(metricsFile: string, step: number): Array<Record<string, number>> {
  const lines = existsSync(metricsFile) ? readFileSync(metricsFile, 'utf8').split('\n') : [];
  const kept: Array<Record<string, number>> = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    try {
      const m = JSON.parse(l);
      if (m.step <= step) kept.push(m);
    } catch (e) {
      const last = lines.slice(i + 1).every((x) => !x.trim());
      if (!last)
        throw new CheckpointError(`pacer: ${metricsFile}:${i + 1}: not valid JSON (${(e as Error).message})`, {
          file: metricsFile,
          line: i + 1,
        });
    }
  });
  writeFileSync(metricsFile, kept.map((m) => JSON.stringify(m) + '\n').join(''));
  return kept;
}

// ---- run fingerprints

/** Keys a resumed run may change without being a different run. */
const RESUMABLE = new Set([
  'resume_from_checkpoint',
  'overwrite_output_dir',
  'threads',
  'report',
  'logging_steps',
  'save_steps',
  'save_total_limit',
  // in the fingerprint as the global batch
  'per_device_train_batch_size',
  'gradient_accumulation_steps',
]);

/** size:sha256-prefix of a file, read in 1 MiB chunks. */
function fileDigest(file: string | null): string | null {
  const url = file ? splitDatasetUrl(file) : null;
  if (url) return datasetScheme(url.scheme, file!).digest?.(url.rest) ?? null;
  if (!file || !existsSync(file)) return null;
  const h = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'r');
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return `${statSync(file).size}:${h.digest('hex').slice(0, 16)}`;
}

/** What makes a run this run: its config and global batch, its data and its model (when it has one). */
export function runFingerprint(cfg: LoopConfig, worldSize = 1): Record<string, unknown> {
  const config = Object.fromEntries(
    Object.entries(cfg)
      .filter(([k]) => !k.startsWith('_') && !RESUMABLE.has(k))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  const modelDir = cfg.model_name_or_path;
  if (!modelDir) return { config, data: { train: fileDigest(cfg.train_dataset), eval: fileDigest(cfg.eval_dataset) } };
  const weights = existsSync(modelDir)
    ? readdirSync(modelDir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()
        .map((f) => `${f}:${statSync(join(modelDir, f)).size}`)
    : [];
  const perStep = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps;
  return {
    config,
    global_batch: { per_step: worldSize * perStep, per_micro_batch: worldSize * cfg.per_device_train_batch_size },
    data: { train: fileDigest(cfg.train_dataset), eval: fileDigest(cfg.eval_dataset) },
    model: { config: fileDigest(join(modelDir, 'config.json')), weights },
  };
}

/** The differences between a checkpoint's fingerprint and this run's, as "key: saved -> now". */
export function fingerprintDiff(saved: Record<string, any>, now: Record<string, any>, prefix = ''): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(saved), ...Object.keys(now)])) {
    const [a, b] = [saved[k], now[k]];
    const nested = a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b);
    if (nested) out.push(...fingerprintDiff(a, b, `${prefix}${k}.`));
    else if (JSON.stringify(a) !== JSON.stringify(b))
      out.push(`${prefix}${k}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
  }
  return out;
}
