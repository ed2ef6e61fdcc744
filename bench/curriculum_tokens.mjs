#!/usr/bin/env node
// Curriculum revisited (issue 13): the demo's curricula counted in generated tokens, not optimizer
// steps. Per seed: the demo's data and SFT model once, then GRPO from it with each sampler on the
// same prompts, steps and seed, dynamic sampling on in every arm (groups whose rewards are all equal
// are resampled, up to 3 more tries; their tokens count). Target: the uniform run's final accuracy
// (mean of its last 5 evaluations); each arm's tokens_to_target is the trainer's tokens/generated at
// its first evaluation at or above it. Prints one JSON object (mean ± std over seeds per arm) on
// stdout; narration goes to stderr. An arm "S:plain" runs sampler S with dynamic sampling off (e.g.
// uniform:plain, the demo's own GRPO run, as a second baseline).
//
//   node bench/curriculum_tokens.mjs [--seeds 0,1,2] [--arms uniform,sec,dump,vcrl,balanced]
//     [--grpo-steps 200] [--out /tmp/pacer-curriculum-tokens] [--threads N] [--quick]
import { availableParallelism } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setThreads, manualSeed } from '../dist/engine/index.js';
import {
  DEMO_DEFAULTS,
  DEMO_QUICK,
  demoCommon,
  demoData,
  sftPhase,
  grpoPhase,
  finalAccuracy,
  stepsToTarget,
  tokensToTarget,
  generatedTokens,
} from '../dist/cli/demo.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    arms: { type: 'string' },
    'grpo-steps': { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
    quick: { type: 'boolean' },
  },
});
const seeds = (values.seeds ?? '0,1,2').split(',').map(Number);
const arms = (values.arms ?? 'uniform,sec,dump,vcrl,balanced').split(',');
if (arms[0] !== 'uniform') throw new Error('pacer: --arms must start with uniform (it sets the target)');
const outRoot = values.out ?? '/tmp/pacer-curriculum-tokens';
const threads = Number(values.threads ?? availableParallelism());
const say = (s) => console.error(s);

const runs = [];
for (const seed of seeds) {
  const o = {
    seed,
    threads,
    progress: false,
    log: say,
    ...DEMO_DEFAULTS,
    ...(values.quick ? DEMO_QUICK : {}),
    ...(values['grpo-steps'] ? { grpoSteps: Number(values['grpo-steps']) } : {}),
    dynamicSampling: true,
    out: join(outRoot, `seed-${seed}`),
  };
  setThreads(threads);
  manualSeed(seed);
  mkdirSync(join(o.out, 'data'), { recursive: true });
  const d = demoData(o, say);
  const common = demoCommon(o);
  const sft = await sftPhase(o, d, common, say);
  sft.model.dispose();
  const per = {};
  for (const arm of arms) {
    say(`seed ${seed}: GRPO ${arm} (${o.grpoSteps} steps)`);
    const [sampler, mode] = arm.split(':');
    if (mode !== undefined && mode !== 'plain')
      throw new Error(`pacer: arm '${arm}': only ':plain' may follow a sampler`);
    const g = await grpoPhase(
      { ...o, dynamicSampling: mode !== 'plain' },
      d,
      sampler,
      arm.replace(':', '-'),
      sft.tok,
      common,
    );
    per[arm] = { curve: g.curve, history: g.run.history };
  }
  const target = finalAccuracy(per.uniform.curve);
  const row = { seed, target, sft_accuracy: sft.accuracy, arms: {} };
  for (const arm of arms) {
    const { curve, history } = per[arm];
    row.arms[arm] = {
      final_accuracy: finalAccuracy(curve),
      steps_to_target: stepsToTarget(curve, target),
      tokens_to_target: tokensToTarget(curve, target, history),
      generated_tokens: generatedTokens(history),
      trained_tokens:
        [...history].reverse().find((h) => typeof h['tokens/trained'] === 'number')?.['tokens/trained'] ?? 0,
      frac_reward_zero_std:
        history.filter((h) => 'frac_reward_zero_std' in h).reduce((a, h) => a + h.frac_reward_zero_std, 0) /
        Math.max(1, history.filter((h) => 'frac_reward_zero_std' in h).length),
    };
  }
  for (const arm of arms) {
    const a = row.arms[arm];
    const u = row.arms.uniform;
    a.tokens_ratio = a.tokens_to_target !== null && u.tokens_to_target ? a.tokens_to_target / u.tokens_to_target : null;
  }
  runs.push(row);
  say(`seed ${seed}: ${JSON.stringify(row.arms)}`);
}

const stat = (xs) => {
  const v = xs.filter((x) => x !== null);
  if (v.length === 0) return { mean: null, std: null, n: 0 };
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return { mean: m, std: sd, n: v.length };
};
const summary = {
  seeds,
  definitions: {
    target: "the uniform arm's final accuracy (mean of its last 5 evaluations), per seed",
    tokens_to_target: 'tokens/generated at the first evaluation at or above the target (null: not reached)',
    tokens_ratio: "tokens_to_target / the uniform arm's tokens_to_target, per seed; n counts seeds that reached it",
  },
  arms: Object.fromEntries(
    arms.map((arm) => [
      arm,
      Object.fromEntries(
        [
          'final_accuracy',
          'steps_to_target',
          'tokens_to_target',
          'tokens_ratio',
          'generated_tokens',
          'trained_tokens',
          'frac_reward_zero_std',
        ].map((k) => [k, stat(runs.map((r) => r.arms[arm][k]))]),
      ),
    ]),
  ),
  runs,
};
console.log(JSON.stringify(summary, null, 2));
