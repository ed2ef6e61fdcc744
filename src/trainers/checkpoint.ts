// Checkpoints shared by the offline and online trainers: checkpoint-N/ holds weights.safetensors
// (every parameter), optimizer.safetensors, and trainer_state.json (step, scheduler, optimizer
// options, the default RNG state and the trainer's own state: data position, curriculum, …). It is
// written to a temporary folder and renamed, so a killed run never leaves a partial checkpoint.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
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

export class CheckpointError extends Error {}

/** The newest complete checkpoint in a run folder (incomplete temp folders are ignored). */
export function latestCheckpoint(outputDir: string): string | null {
  if (!existsSync(outputDir)) return null;
  const steps = readdirSync(outputDir)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m)
    .filter((m) => existsSync(join(outputDir, m[0], 'trainer_state.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length ? join(outputDir, `checkpoint-${steps[0]}`) : null;
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
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  scope(() => {
    saveSafetensors(join(tmp, 'weights.safetensors'), new Map(model.namedParameters()));
    const sd = opt.stateDict();
    saveSafetensors(join(tmp, 'optimizer.safetensors'), sd.tensors);
    const state = {
      global_step: step,
      scheduler: sched.stateDict(),
      optimizer: { step: sd.step, options: sd.options },
      rng: Buffer.from(getRngState().data() as Uint8Array).toString('base64'),
      ...extra,
    };
    atomicWrite(join(tmp, 'trainer_state.json'), (fd) => writeSync(fd, JSON.stringify(state, null, 1)));
  });
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  if (saveTotalLimit) {
    const all = readdirSync(outputDir)
      .map((n) => /^checkpoint-(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const s of all.slice(0, Math.max(0, all.length - saveTotalLimit)))
      rmSync(join(outputDir, `checkpoint-${s}`), { recursive: true, force: true });
  }
}

/** Restore model, optimizer, scheduler and RNG; returns the saved state (step and trainer extras). */
export function readCheckpoint(dir: string, model: Module, opt: AdamW, sched: LRScheduler): Record<string, any> {
  if (!existsSync(join(dir, 'trainer_state.json')))
    throw new CheckpointError(`pacer: ${dir} is not a complete checkpoint (no trainer_state.json)`);
  const st = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8'));
  scope(() => {
    const w = loadSafetensors(join(dir, 'weights.safetensors'));
    noGrad(() => {
      for (const [n, p] of model.namedParameters()) {
        const t = w.get(n);
        if (!t)
          throw new CheckpointError(`pacer: ${dir}: the checkpoint has no '${n}' (was it made with another config?)`);
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

/** Keep metrics.jsonl lines up to `step` (what the resumed run had logged) and return them. */
export function restoreMetrics(metricsFile: string, step: number): Array<Record<string, number>> {
  const kept = existsSync(metricsFile)
    ? readFileSync(metricsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((m) => m.step <= step)
    : [];
  writeFileSync(metricsFile, kept.map((m) => JSON.stringify(m) + '\n').join(''));
  return kept;
}
