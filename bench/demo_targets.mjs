#!/usr/bin/env node
// The demo's targets over several seeds (issue: GRPO >= 15 points above its SFT start; a curriculum
// reaches the uniform sampler's final accuracy in <= 70% of its steps). Runs the same code as
// `npm start` (pacer demo) once per seed and averages; prints one JSON object on stdout (the demo's
// narration goes to stderr).
//
//   node bench/demo_targets.mjs [--seeds 0,1,2] [--out /tmp/pacer-demo-targets] [--curriculum sec] [--threads N]
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runDemo } from '../dist/cli/demo.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    out: { type: 'string' },
    curriculum: { type: 'string' },
    threads: { type: 'string' },
  },
});
const seeds = (values.seeds ?? '0,1,2').split(',').map(Number);
const out = values.out ?? '/tmp/pacer-demo-targets';
const runs = [];
for (const seed of seeds) {
  const s = await runDemo({
    out: join(out, `seed-${seed}`),
    seed,
    threads: Number(values.threads ?? availableParallelism()),
    progress: false,
    log: (x) => console.error(x),
    ...(values.curriculum ? { curriculum: values.curriculum } : {}),
  });
  runs.push({ seed, accuracy: s.accuracy, steps_to_target: s.steps_to_target, seconds: s.seconds });
  console.error(`seed ${seed}: ${JSON.stringify(s.accuracy)} ${JSON.stringify(s.steps_to_target)}`);
}
const mean = (f) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
const reached = (k) => runs.every((r) => r.steps_to_target[k] !== null);
const acc = Object.fromEntries(['sft', 'grpo', 'grpo_uniform', 'dpo'].map((k) => [k, mean((r) => r.accuracy[k])]));
const steps = {
  curriculum: reached('curriculum') ? mean((r) => r.steps_to_target.curriculum) : null,
  uniform: mean((r) => r.steps_to_target.uniform),
};
const summary = {
  seeds,
  runs,
  mean_accuracy: acc,
  mean_steps_to_target: steps,
  grpo_minus_sft_points: 100 * (acc.grpo - acc.sft),
  grpo_uniform_minus_sft_points: 100 * (acc.grpo_uniform - acc.sft),
  dpo_minus_sft_points: 100 * (acc.dpo - acc.sft),
  curriculum_steps_ratio: steps.curriculum === null ? null : steps.curriculum / steps.uniform,
  targets: {
    grpo_at_least_15_points: 100 * (acc.grpo - acc.sft) >= 15,
    curriculum_at_most_70_percent_of_uniform_steps:
      steps.curriculum !== null && steps.curriculum <= 0.7 * steps.uniform,
  },
};
console.log(JSON.stringify(summary, null, 2));
