#!/usr/bin/env node
// TSPO study on the needle world (issue 14, item 5; no `pacer recipe` on this branch yet, so a script):
//   node bench/tspo_study.mjs [--seeds 0,1,2] [--smoke] [--out DIR] [--steps N] [--train N] [--eval N]
// Per seed: needle videos (12 distractor clips of 16 frames at 1 fps + the needle clip 1–4 times,
// 208–256 frames; --smoke: 6 clips of 4 frames, 28–40 frames), a colour-histogram frame encoder warmed
// up CLIP-style on a separate set (src/video/histogram-encoder.ts), then `trainer: tspo` (G = 8, k = 16,
// --smoke k = 4) with answerer A. Answerers are frame-reading oracles over the world's exact annotations
// (src/video/answerers.ts), not video LLMs: A = needle_oracle (right iff ≥ k/4 chosen frames lie in a
// needle copy, else a blind guess), B = event_oracle (right iff ≥ k/8 chosen frames fall during the
// needle's action). Arms on held-out questions, answered by A:
//   uniform  round(i (T−1)/(k−1))        random   k frames drawn without replacement (seeded)
//   feature  top-k of cos(f_t, q)        tspo     the trained agent, topk      bin_max  the agent, bin-max
// Transfer: tspo_a_on_b = the agent trained with A, answered by B; tspo_b_on_b = an agent trained with B;
// kept = (tspo_a_on_b − uniform_b) / (tspo_b_on_b − uniform_b). Writes DIR/summary.json:
// arms.<arm>.{accuracy, hit_rate} (mean over seeds) and .per_seed, transfer.kept, the settings.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeDataset } from '../dist/video/worlds/make.js';
import { FeatureCache, fitPooledEncoder } from '../dist/video/frame-features.js';
import { HistogramEncoder } from '../dist/video/histogram-encoder.js';
import { makeAnswerer, readVideoQuestions } from '../dist/video/answerers.js';
import { uniformProposals } from '../dist/video/sampler-agent.js';
import { train } from '../dist/trainers/index.js';
import { agentChoice, featureItems, scoreChoices } from '../dist/trainers/tspo.js';
import { TemporalAgent } from '../dist/video/sampler-agent.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0,1,2' },
    smoke: { type: 'boolean' },
    out: { type: 'string', default: 'runs/tspo-study' },
    steps: { type: 'string' },
    train: { type: 'string' },
    eval: { type: 'string' },
    lr: { type: 'string', default: '3e-3' },
    threads: { type: 'string', default: '2' },
  },
});
const smoke = !!values.smoke;
const seeds = values.seeds.split(',').map(Number);
const S = {
  k: smoke ? 4 : 16,
  knobs: smoke
    ? { 'distractor-clips': '6', 'clip-frames': '4', repeats: '1-2' }
    : { 'distractor-clips': '12', 'clip-frames': '16', repeats: '1-4' },
  nWarm: smoke ? 200 : 300,
  nTrain: Number(values.train ?? (smoke ? 16 : 200)),
  nEval: Number(values.eval ?? (smoke ? 16 : 100)),
  steps: Number(values.steps ?? (smoke ? 30 : 300)),
  lr: Number(values.lr),
  width: 32,
};
const A = { name: 'needle_oracle', min: Math.max(1, S.k / 4) };
const B = { name: 'event_oracle', min: Math.max(1, S.k / 8) };
const say = (s) => process.stderr.write(`${s}\n`);

/** A seeded k-subset (mulberry32), sorted. */
function randomK(T, k, seed) {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Array.from({ length: T }, (_, i) => i);
  for (let i = T - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p.slice(0, k).sort((x, y) => x - y);
}

function featureTopK(x, k) {
  const f = x.f.toArray();
  const q = x.q.toArray();
  const D = q.length;
  const T = f.length / D;
  const qn = Math.hypot(...q);
  const cos = Array.from({ length: T }, (_, t) => {
    const row = f.slice(t * D, (t + 1) * D);
    return row.reduce((s, v, j) => s + v * q[j], 0) / (Math.hypot(...row) * qn || 1);
  });
  const order = cos.map((c, t) => [c, t]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return order
    .slice(0, Math.min(k, T))
    .map((p) => p[1])
    .sort((a, b) => a - b);
}

async function world(dir, seed) {
  const make = (name, n, s) =>
    makeDataset({
      world: 'needle',
      n,
      seed: s,
      out: join(dir, name),
      framesOnly: true,
      width: S.width,
      knobs: S.knobs,
    });
  await make('warm', S.nWarm, 1000 + seed);
  await make('train', S.nTrain, 2000 + seed);
  await make('eval', S.nEval, 3000 + seed);
  const enc = new HistogramEncoder(4, 64, 32, seed);
  const pairs = readVideoQuestions(join(dir, 'warm', 'data.jsonl')).map((q) => ({
    video: q.video,
    text: q.question,
    frames: q.needleMask.flatMap((m, i) => (m ? [i] : [])),
  }));
  await fitPooledEncoder(enc, pairs, { steps: 400, batchSize: 16, lr: 3e-3, seed, perPair: 4 });
  enc.save(join(dir, 'enc'));
  enc.dispose();
}

async function trainAgent(dir, seed, ans, name) {
  const t0 = Date.now();
  await train(
    {
      trainer: 'tspo',
      train_dataset: join(dir, 'train', 'data.jsonl'),
      frame_encoder: join(dir, 'enc'),
      feature_cache_dir: join(dir, 'features'),
      output_dir: join(dir, name),
      overwrite_output_dir: true,
      num_frames: S.k,
      num_generations: 8,
      per_device_train_batch_size: 4,
      agent_heads: 4,
      tau_start: 0.2,
      tau_end: 0.1,
      learning_rate: S.lr,
      max_steps: S.steps,
      logging_steps: 10,
      save_steps: 1_000_000,
      answerer: ans.name,
      answerer_min_frames: ans.min,
      threads: Number(values.threads),
      report: false,
      seed,
    },
    { progress: false, log: () => {} },
  );
  return (Date.now() - t0) / 1000;
}

async function runSeed(seed) {
  const dir = join(values.out, `seed-${seed}`);
  rmSync(dir, { recursive: true, force: true });
  await world(dir, seed);
  const secA = await trainAgent(dir, seed, A, 'agent-a');
  const secB = await trainAgent(dir, seed, B, 'agent-b');
  const cache = new FeatureCache(join(dir, 'features'));
  const { items, owned } = await featureItems(
    readVideoQuestions(join(dir, 'eval', 'data.jsonl')),
    join(dir, 'enc'),
    cache,
  );
  const ansA = makeAnswerer(A.name, { min_frames: A.min });
  const ansB = makeAnswerer(B.name, { min_frames: B.min });
  const agentA = TemporalAgent.load(join(dir, 'agent-a')).agent;
  const agentB = TemporalAgent.load(join(dir, 'agent-b')).agent;
  const uniform = (x) => uniformProposals(x.f.shape[0] - 1, S.k);
  const arms = {
    uniform: await scoreChoices(items, uniform, ansA),
    random: await scoreChoices(items, (x, i) => randomK(x.f.shape[0], S.k, seed * 7919 + i), ansA),
    feature: await scoreChoices(items, (x) => featureTopK(x, S.k), ansA),
    tspo: await scoreChoices(items, (x) => agentChoice(agentA, x, S.k, 'topk'), ansA),
    bin_max: await scoreChoices(items, (x) => agentChoice(agentA, x, S.k, 'bin-max'), ansA),
    uniform_b: await scoreChoices(items, uniform, ansB),
    feature_b: await scoreChoices(items, (x) => featureTopK(x, S.k), ansB),
    tspo_a_on_b: await scoreChoices(items, (x) => agentChoice(agentA, x, S.k, 'topk'), ansB),
    tspo_b_on_b: await scoreChoices(items, (x) => agentChoice(agentB, x, S.k, 'topk'), ansB),
  };
  agentA.dispose();
  agentB.dispose();
  cache.clear();
  for (const q of owned) q.dispose();
  say(`seed ${seed}: train ${secA.toFixed(0)} s + ${secB.toFixed(0)} s; ${JSON.stringify(arms)}`);
  return arms;
}

const per = [];
for (const seed of seeds) per.push(await runSeed(seed));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const arms = {};
for (const arm of Object.keys(per[0]))
  arms[arm] = {
    accuracy: mean(per.map((p) => p[arm].accuracy)),
    hit_rate: mean(per.map((p) => p[arm].hit_rate)),
    per_seed: per.map((p) => ({ accuracy: p[arm].accuracy, hit_rate: p[arm].hit_rate })),
  };
const gain = (a) => arms[a].accuracy - arms.uniform_b.accuracy;
const summary = {
  study: 'tspo',
  smoke,
  seeds,
  settings: { ...S, answerer_a: A, answerer_b: B, encoder: 'colour_histogram (4 bins, 64 word buckets, dim 32)' },
  arms,
  transfer: { kept: gain('tspo_b_on_b') > 0 ? gain('tspo_a_on_b') / gain('tspo_b_on_b') : null },
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
const row = (a) =>
  `${a.padEnd(12)} ${arms[a].accuracy.toFixed(3)}  ${Number.isFinite(arms[a].hit_rate) ? arms[a].hit_rate.toFixed(3) : '-'}`;
say(
  `arm          accuracy  hit_rate\n${Object.keys(arms).map(row).join('\n')}\ntransfer kept ${summary.transfer.kept}`,
);
