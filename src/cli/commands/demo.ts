// `pacer demo` (what `npm start` runs) and `pacer demo text`.
import { join } from 'node:path';
import { runDemo, DEMO_DEFAULTS, DEMO_QUICK } from '../demo.js';
import { runVideoDemo, VIDEO_DEMO_DEFAULTS, VIDEO_DEMO_QUICK } from '../demo-video.js';
import { runTextDemo } from '../demo-text.js';
import { defineCommand, int, oneOf, str, threadsOpt } from '../command.js';
import { SAMPLERS } from '../../curriculum/online.js';

export const demo = defineCommand({
  name: 'demo',
  summary: 'the whole loop on arithmetic: SFT, GRPO with and without a curriculum, DPO, report (npm start)',
  usage:
    'pacer demo [--out runs/demo] [--seed 0] [--threads N] [--curriculum sec] [--dynamic-sampling] [--quick] ' +
    '[--no-video] [--video-steps N] [--no-progress]',
  description: `A tiny Llama learns column arithmetic ("27+05=032") at five levels from a teacher who forgets
carries and borrows 60% of the time; GRPO (exact-answer reward) runs twice from it on the same
prompts — uniform sampling and a curriculum over the levels — and DPO trains on pairs of its own
right and wrong answers. Then the video stage (pacer demo video): temporal grounding GRPO from the committed
tiny Qwen2.5-VL base (assets/vlm-base), held-out mIoU / R@0.5 before and after, OUT/video/report.html with
test videos and their segments. About 5-6 minutes on 2 cores. Writes OUT/summary.json (accuracy.sft,
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
    'no-video': { type: 'boolean', help: 'skip the video stage' },
    'video-steps': { type: 'string', arg: 'N', help: 'GRPO steps of the video stage', default: '40' },
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
      video: v['no-video'] ? null : { ...base.video!, steps: int(v['video-steps'], 'video-steps', base.video!.steps) },
    });
    return 0;
  },
});

export const demoVideo = defineCommand({
  name: 'demo video',
  summary: "npm start's video stage alone: temporal grounding GRPO from the tiny video-language base",
  usage: 'pacer demo video [--out runs/demo] [--seed 0] [--threads N] [--steps 40] [--base DIR] [--quick]',
  description: `GRPO with the tIoU reward on the grounding world ("When does the green square move up?"), from
the committed tiny Qwen2.5-VL base (assets/vlm-base; without it, pacer recipe vlm-base makes one, about 20
minutes). Greedy answers on held-out videos before and after give mIoU and R@{0.3,0.5,0.7}. Writes
OUT/video/report.html (the table, the reward curve, test videos with true and predicted segments),
OUT/video/grpo (the trained model) and OUT/video/data.`,
  options: {
    out: { type: 'string', arg: 'DIR', help: 'output folder', default: 'runs/demo' },
    seed: { type: 'string', arg: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    steps: { type: 'string', arg: 'N', help: 'GRPO steps', default: String(VIDEO_DEMO_DEFAULTS.steps) },
    base: { type: 'string', arg: 'DIR', help: 'the base model folder (default: the committed vlm-base)' },
    quick: { type: 'boolean', help: 'a tiny configuration that runs in seconds (numbers mean nothing)' },
    'no-progress': { type: 'boolean', help: 'no progress lines' },
  },
  async run(v) {
    const o = v.quick ? { ...VIDEO_DEMO_DEFAULTS, ...VIDEO_DEMO_QUICK } : VIDEO_DEMO_DEFAULTS;
    const s = await runVideoDemo({
      ...o,
      steps: int(v.steps, 'steps', o.steps),
      out: str(v.out) ?? 'runs/demo',
      seed: int(v.seed, 'seed', 0, 0),
      threads: threadsOpt(v.threads),
      progress: !v['no-progress'],
      base: str(v.base),
    });
    console.log(`report: ${join(str(v.out) ?? 'runs/demo', 'video', 'report.html')} (${s.seconds} s)`);
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
