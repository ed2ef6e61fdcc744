#!/usr/bin/env node
// The shared-prompt training forward against the plain one, A/B on the same work: the training forward +
// backward of one `bench grpo --video` micro-batch (bench vlm's random Qwen2.5-VL, P prompts with a
// 16-frame video each × G completions of L random tokens, the loss Σ log-probs of the completion tokens)
// through the plain forward (collate + forwardBatch: each video encoded once, every row's prompt through
// the language model) and through the shared-prompt forward (src/trainers/shared-prompt.ts: each prompt
// once, the completions on its keys and values). The two alternate, so that other load on a shared
// machine falls on both alike; wall and process CPU seconds (1 thread: CPU time is the work) per pass,
// median over --reps, and the max relative difference of the two log-prob sums as a check.
//
//   node bench/shared_prompt.mjs [--prompts 8] [--generations 8] [--tokens 32] [--frames 16] [--reps 5]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { manualSeed, scope, setThreads } from '../dist/engine/index.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { loadDataset } from '../dist/data/datasets.js';
import { collate, completionSeq, renderPrompt } from '../dist/data/tokenize.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { labelLogps } from '../dist/models/scoring.js';
import { resolveConfig } from '../dist/trainers/index.js';
import { forwardBatch, prepareVision } from '../dist/trainers/vision.js';
import { sharedLogits, sharedPlan } from '../dist/trainers/shared-prompt.js';
import { VIDEO_FPS, userVideo, writeBenchVlm, writeRandomVideos } from '../dist/cli/bench/vlm-fixture.js';

const { values: a } = parseArgs({
  options: {
    prompts: { type: 'string', default: '8' },
    generations: { type: 'string', default: '8' },
    tokens: { type: 'string', default: '32' },
    frames: { type: 'string', default: '16' },
    reps: { type: 'string', default: '5' },
  },
});
const [P, G, L, F, reps] = ['prompts', 'generations', 'tokens', 'frames', 'reps'].map((k) => Number(a[k]));
const Q = 'How many things move in the video? Answer with a number.';
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

setThreads(1);
manualSeed(0);
const dir = mkdtempSync(join(tmpdir(), 'pacer-shared-bench-'));
try {
  const videos = writeRandomVideos(join(dir, 'videos'), P, F, 0);
  const file = join(dir, 'prompts.jsonl');
  writeFileSync(file, videos.map((v) => JSON.stringify({ prompt: userVideo(Q), videos: [v] })).join('\n') + '\n');
  writeBenchVlm(join(dir, 'model'), [Q, '3']);
  const raw = { trainer: 'grpo', model_name_or_path: join(dir, 'model'), train_dataset: file, output_dir: dir };
  const cfg = resolveConfig({ ...raw, reward_funcs: 'accuracy', video_fps: VIDEO_FPS }, 'bench');
  const ex = await loadDataset(file);
  await prepareVision(ex, cfg, file);
  const tok = Tokenizer.fromPretrained(join(dir, 'model'));
  const pad = tok.padTokenId ?? 0;
  const prompts = ex.map((e) => renderPrompt(tok, e.prompt, undefined, { rv: e.vision, where: e.where }));
  // completion ids above the special tokens (the vision pads among them); lengths L − (k mod 5), as sampled ones differ
  const V = 2000;
  const rows = Array.from({ length: P * G }, (_, k) => ({
    prompt: prompts[Math.floor(k / G)],
    completion: Array.from({ length: L - (k % 5) }, (_, j) => 16 + ((k * 131 + j * 17) % (V - 16))),
    vision: ex[Math.floor(k / G)].vision,
  }));
  const { model } = fromPretrained(join(dir, 'model'));
  const pass = (shared) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const sum = scope(() => {
      for (const p of model.parameters()) p.grad = null;
      let lp;
      if (shared) {
        const plan = sharedPlan(rows, pad);
        lp = labelLogps(sharedLogits(model, plan), plan.labels).sum;
      } else {
        const b = collate(
          rows.map((r) => completionSeq(r.prompt, r.completion, r.vision)),
          pad,
        );
        lp = labelLogps(forwardBatch(model, b), b.labels).sum;
      }
      lp.sum().backward();
      return lp.detach().toArray();
    });
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, sum };
  };
  pass(false);
  pass(true); // warm-up
  const runs = { plain: [], shared: [] };
  for (let r = 0; r < reps; r++) for (const s of [false, true]) runs[s ? 'shared' : 'plain'].push(pass(s));
  const x = runs.plain[0].sum;
  const y = runs.shared[0].sum;
  const rel = Math.max(...x.map((v, i) => Math.abs(v - y[i]) / Math.max(Math.abs(v), 1)));
  const stat = (k) => ({
    wall_s: median(runs[k].map((r) => r.wall)),
    cpu_s: median(runs[k].map((r) => r.cpu)),
    wall_all: runs[k].map((r) => +r.wall.toFixed(3)),
  });
  const out = { rows: P * G, prompt_tokens: prompts[0].length, completion_tokens: L, plain: stat('plain') };
  out.shared = stat('shared');
  out.speedup_cpu = out.plain.cpu_s / out.shared.cpu_s;
  out.speedup_wall = out.plain.wall_s / out.shared.wall_s;
  out.max_rel_diff_logp_sums = rel;
  out.loadavg = (await import('node:os')).loadavg();
  console.log(JSON.stringify(out, null, 2));
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
