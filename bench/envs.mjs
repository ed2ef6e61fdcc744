// Environment steps per second: pacer's vector environments (16 copies) against plain JavaScript loops of the
// same dynamics, wall and CPU time, 3 runs each — the same as `npx pacer bench envs` (src/cli/bench/envs.ts).
// Run after `npx tsc`:
//   node bench/envs.mjs [vector steps per run, default 20000]
import { benchEnvs } from '../dist/cli/bench/envs.js';
import { ENV_IDS } from '../dist/envs/index.js';

const r = benchEnvs({ envs: ENV_IDS, numEnvs: 16, steps: Number(process.argv[2] ?? 20000), runs: 3 });
console.log(JSON.stringify(r, null, 1));
