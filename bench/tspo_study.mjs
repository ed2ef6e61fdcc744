#!/usr/bin/env node
// TSPO study on the needle world with settings other than `pacer recipe tspo`'s (src/recipes/tspo.ts holds
// the study: worlds, encoder warm-up, both agents, every arm, summary.json and report.html):
//   node bench/tspo_study.mjs [--seeds 0,1,2] [--smoke] [--out DIR] [--steps N] [--train N] [--eval N]
//     [--lr X] [--tau-start X] [--tau-end X] [--window W] [--weight W] [--batch N] [--threads N]
//     [--bins B] [--dim D] [--warm-steps N]   (the colour-histogram encoder and its contrastive warm-up)
//     [--vlm MODEL_DIR]   (arms answered by a Qwen2(.5)-VL model: uniform_vlm, feature_vlm, tspo_a_on_vlm)
// e.g. the authors' temperature schedule: --tau-start 0.025 --tau-end 0.01.
import { parseArgs } from 'node:util';
import { runTspoStudy, tspoStudySpec } from '../dist/recipes/tspo.js';

const { values: v } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0,1,2' },
    smoke: { type: 'boolean' },
    out: { type: 'string', default: 'runs/tspo-study' },
    steps: { type: 'string' },
    train: { type: 'string' },
    eval: { type: 'string' },
    lr: { type: 'string' },
    'tau-start': { type: 'string' },
    'tau-end': { type: 'string' },
    window: { type: 'string' },
    weight: { type: 'string' },
    batch: { type: 'string' },
    bins: { type: 'string' },
    dim: { type: 'string' },
    'warm-steps': { type: 'string' },
    vlm: { type: 'string' },
    threads: { type: 'string', default: '1' },
  },
});
const num = (x) => (x === undefined ? undefined : Number(x));
const over = {
  steps: num(v.steps),
  nTrain: num(v.train),
  nEval: num(v.eval),
  lr: num(v.lr),
  tauStart: num(v['tau-start']),
  tauEnd: num(v['tau-end']),
  window: num(v.window),
  temporalWeight: num(v.weight),
  batch: num(v.batch),
  vlmModel: v.vlm,
};
for (const k of Object.keys(over)) if (over[k] === undefined) delete over[k];
const S = tspoStudySpec(!!v.smoke, over);
S.encoder = {
  ...S.encoder,
  ...(v.bins ? { bins: Number(v.bins) } : {}),
  ...(v.dim ? { dim: Number(v.dim) } : {}),
  ...(v['warm-steps'] ? { warmSteps: Number(v['warm-steps']) } : {}),
};
const seeds = v.seeds.split(',').map(Number);
const say = (s) => process.stderr.write(`${s}\n`);
const s = await runTspoStudy(v.out, seeds, S, { smoke: !!v.smoke, threads: Number(v.threads), log: say });
const f = (m) => (Number.isFinite(m?.mean) ? `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}` : '-');
const rows = Object.entries(s.arms).map(([a, m]) => `${a.padEnd(12)} ${f(m.accuracy)}  ${f(m.hit_rate)}`);
say(`arm          accuracy        hit_rate\n${rows.join('\n')}\ntransfer kept ${s.transfer.kept}`);
