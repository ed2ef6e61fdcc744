// The ICPL study of issue 15: MountainCarContinuous and Acrobot, 3 seeds, 5 iterations x 6 candidates, every
// arm (ICPL with the proxy human, Eureka, no-feedback best-of-30, sparse task reward only, Gymnasium's hand-
// written reward), with the offline proposer — or an LLM when PACER_LLM_URL is set (PACER_LLM_MODEL, key in
// OPENAI_API_KEY). Each arm's best reward (and the sparse and hand-written rewards) is trained again on 3
// fresh seeds and scored by greedy evaluation on 10 episodes (the task's success rate). Videos are off (the
// loop renders them in normal runs; the study compares scores). The proxy and the choice of each arm's best
// reward order equal scores by the Gymnasium return. Each (env, seed) run goes to its own folder
// and is skipped when its summary.json exists, so the study can be stopped and continued. Run after `npx tsc`:
//   node bench/icpl_study.mjs [--out runs/icpl-study] [--envs mountaincar-continuous,acrobot] [--seeds 0,1,2]
// and print the table of finished runs with: node bench/icpl_study.mjs --table [--out …]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runICPL } from '../dist/reward-design/icpl.js';
import { OfflineProposer } from '../dist/reward-design/offline-proposer.js';
import { proxyPreferences } from '../dist/reward-design/preferences.js';
import { LLMProposer } from '../dist/reward-design/proposers.js';
import { rewardTask } from '../dist/reward-design/tasks.js';
import { writeICPLReport } from '../dist/reward-design/report.js';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/icpl-study' },
    envs: { type: 'string', default: 'mountaincar-continuous,acrobot' },
    seeds: { type: 'string', default: '0,1,2' },
    iterations: { type: 'string', default: '5' },
    samples: { type: 'string', default: '6' },
    'final-seeds': { type: 'string', default: '3' },
    table: { type: 'boolean', default: false },
  },
});
const out = resolve(a.out);
const envs = a.envs.split(',');
const seeds = a.seeds.split(',').map(Number);
const ARMS = ['icpl', 'eureka', 'bestofn', 'sparse', 'handwritten'];

async function runAll() {
  for (const env of envs)
    for (const seed of seeds) {
      const dir = join(out, `${env}-seed${seed}`);
      if (existsSync(join(dir, 'summary.json'))) continue;
      const task = rewardTask(env);
      const proposer = process.env.PACER_LLM_URL
        ? new LLMProposer({
            url: process.env.PACER_LLM_URL,
            model: process.env.PACER_LLM_MODEL,
            apiKey: process.env.OPENAI_API_KEY,
          })
        : new OfflineProposer(task);
      const t0 = performance.now();
      console.error(`${env} seed ${seed}: ${proposer.description}`);
      const opts = {
        task,
        iterations: Number(a.iterations),
        samples: Number(a.samples),
        proposer,
        preferences: proxyPreferences(),
        arms: ARMS,
        seed,
        out: dir,
        video: false,
        evalEpisodes: 10,
        finalSeeds: Number(a['final-seeds']),
        threads: 1,
        log: (l) => console.error(`  ${env} seed ${seed}: ${l}`),
      };
      const { arms, summary } = await runICPL(opts);
      await writeICPLReport(opts, arms, summary);
      console.error(`${env} seed ${seed}: ${((performance.now() - t0) / 60000).toFixed(1)} min`);
    }
}

const mean = (xs) => xs.reduce((p, q) => p + q, 0) / xs.length;
const std = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const pm = (xs) => (xs.length ? `${mean(xs).toFixed(2)} ± ${std(xs).toFixed(2)}` : '—');
const median = (xs) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function table() {
  for (const env of envs) {
    const runs = seeds
      .map((seed) => join(out, `${env}-seed${seed}`, 'summary.json'))
      .filter(existsSync)
      .map((f) => JSON.parse(readFileSync(f, 'utf8')));
    if (!runs.length) continue;
    console.log(
      `\n${env} (${runs.length} seeds; ${runs[0].proposer}; ${(mean(runs.map((r) => r.seconds)) / 60).toFixed(1)} min per seed)`,
    );
    console.log(
      '| arm | final score, mean ± std over seeds | per seed (mean of 3 retrains) | Gymnasium return | env steps per seed |',
    );
    console.log('|---|---|---|---|---|');
    for (const arm of ARMS) {
      const per = runs.map((r) => r.arms[arm].final_score_mean);
      const rets = runs.map((r) => mean(r.arms[arm].final_returns.filter(Number.isFinite)));
      const steps = mean(runs.map((r) => r.arms[arm].env_steps));
      console.log(
        `| ${arm} | ${pm(per)} | ${per.map((x) => x.toFixed(2)).join(', ')} | ${pm(rets)} | ${Math.round(steps)} |`,
      );
    }
    const hand = mean(runs.map((r) => r.arms.handwritten.final_score_mean));
    const icpl = runs.map((r) => r.arms.icpl.final_score_mean);
    const above = runs.filter((r) => r.arms.icpl.final_score_mean > r.arms.bestofn.final_score_mean).length;
    const ties = runs.filter((r) => r.arms.icpl.final_score_mean === r.arms.bestofn.final_score_mean).length;
    console.log(
      `ICPL / hand-written: ${(mean(icpl) / hand).toFixed(2)} (target >= 0.9: ${mean(icpl) >= 0.9 * hand ? 'met' : 'not met'}); ` +
        `ICPL above best-of-30 in ${above}/${runs.length} seeds (${ties} ties; target >= 2: ${above >= 2 ? 'met' : 'not met'}); ` +
        `sparse ${pm(runs.map((r) => r.arms.sparse.final_score_mean))}`,
    );
    for (const arm of ['icpl', 'eureka', 'bestofn']) {
      const med = (k) => runs.map((r) => median(r.arms[arm].iterations[k].scores.filter((x) => x !== null)));
      const n = runs[0].arms[arm].iterations.length;
      console.log(`  ${arm}: median candidate score iteration 1 ${pm(med(0))}, iteration ${n} ${pm(med(n - 1))}`);
    }
  }
}

if (!a.table) await runAll();
table();
