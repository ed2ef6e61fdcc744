// `pacer demo` (what `npm start` runs) and `pacer demo text`.
import { runDemo, DEMO_DEFAULTS, DEMO_QUICK } from '../demo.js';
import { runTextDemo } from '../demo-text.js';
import { defineCommand, int, oneOf, str, threadsOpt } from '../command.js';
import { SAMPLERS } from '../../curriculum/online.js';

export const demo = defineCommand({
  name: 'demo',
  summary: 'the whole loop on arithmetic: SFT, GRPO with and without a curriculum, DPO, report (npm start)',
  usage:
    'pacer demo [--out runs/demo] [--seed 0] [--threads N] [--curriculum sec] [--dynamic-sampling] [--quick] ' +
    '[--no-progress]',
  description: `A tiny Llama learns column arithmetic ("27+05=032") at five levels from a teacher who forgets
carries and borrows 60% of the time; GRPO (exact-answer reward) runs twice from it on the same
prompts — uniform sampling and a curriculum over the levels — and DPO trains on pairs of its own
right and wrong answers. About 3-4 minutes on 2 cores. Writes OUT/summary.json (accuracy.sft,
accuracy.grpo, accuracy.dpo, steps_to_target.curriculum, steps_to_target.uniform,
tokens_to_target (the same point in generated tokens), per-level accuracy, curves), OUT/report.html,
and each run's folder (model, metrics.jsonl) under OUT.`,
  options: {
    out: { type: 'string', arg: 'DIR', help: 'output folder', default: 'runs/demo' },
    seed: { type: 'string', arg: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    curriculum: { type: 'string', arg: 'S', help: `curriculum sampler: ${SAMPLERS.join(', ')}`, default: 'sec' },
    'sft-steps': { type: 'string', arg: 'N', help: 'SFT steps', default: String(DEMO_DEFAULTS.sftSteps) },
    'grpo-steps': { type: 'string', arg: 'N', help: 'GRPO steps per run', default: String(DEMO_DEFAULTS.grpoSteps) },
    'dynamic-sampling': { type: 'boolean', help: "GRPO resamples groups whose rewards are all equal (DAPO's)" },
    quick: { type: 'boolean', help: 'a tiny configuration that runs in seconds (smoke tests; numbers mean nothing)' },
    'no-progress': { type: 'boolean', help: 'no progress lines' },
  },
  async run(v) {
    const base = v.quick ? { ...DEMO_DEFAULTS, ...DEMO_QUICK } : DEMO_DEFAULTS;
    await runDemo({
      ...base,
      out: str(v.out) ?? 'runs/demo',
      seed: int(v.seed, 'seed', 0, 0),
      threads: threadsOpt(v.threads),
      progress: !v['no-progress'],
      curriculum: oneOf(v.curriculum, 'curriculum', SAMPLERS, base.curriculum as (typeof SAMPLERS)[number]),
      sftSteps: int(v['sft-steps'], 'sft-steps', base.sftSteps),
      grpoSteps: int(v['grpo-steps'], 'grpo-steps', base.grpoSteps),
      dynamicSampling: !!v['dynamic-sampling'],
    });
    return 0;
  },
});

export const demoText = defineCommand({
  name: 'demo text',
  summary: 'a tiny GPT learns the bundled text and samples from it',
  usage: 'pacer demo text [--steps 600] [--out runs/demo-gpt] [--seed 0] [--threads N]',
  options: {
    steps: { type: 'string', arg: 'N', help: 'training steps', default: '600' },
    out: { type: 'string', arg: 'DIR', help: 'output folder', default: 'runs/demo-gpt' },
    seed: { type: 'string', arg: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
  },
  async run(v) {
    await runTextDemo({
      steps: int(v.steps, 'steps', 600),
      threads: threadsOpt(v.threads),
      seed: int(v.seed, 'seed', 0, 0),
      out: str(v.out) ?? 'runs/demo-gpt',
    });
    return 0;
  },
});
