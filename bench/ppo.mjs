// One PPO update (CleanRL's shapes) in pacer against the same update in PyTorch (bench/pytorch_ppo.py), best
// configuration against best configuration — the same as `npx pacer bench ppo --vs-pytorch`
// (src/cli/bench/ppo.ts). Run after `npx tsc`:
//   node bench/ppo.mjs [CartPole-v1|Pendulum-v1 ...]
import { availableParallelism } from 'node:os';
import { benchPpo, PPO_CASES } from '../dist/cli/bench/ppo.js';

const envs = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(PPO_CASES);
const cores = availableParallelism();
const r = await benchPpo({ envs, threads: cores > 1 ? [1, cores] : [1], runs: 3, vsPytorch: true });
console.log(JSON.stringify(r, null, 1));
