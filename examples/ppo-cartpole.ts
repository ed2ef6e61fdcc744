// PPO on Gymnasium's CartPole-v1 (pacer/envs: same dynamics, rewards, termination and seeding as
// Gymnasium) with CleanRL's defaults, then the trained policy played greedily on fresh episodes.
// 200k steps solve it (≈ 500). Guide: docs/environments-ppo.md.
//   node ppo-cartpole.js         (PACER_SMOKE=1: 2 iterations)
import { Generator } from 'pacer/engine';
import { makeEnv } from 'pacer/envs';
import { trainPPO } from 'pacer/trainers';
import { SMOKE } from './tiny.ts';

const result = await trainPPO(
  { envId: 'CartPole-v1', seed: 1, totalTimesteps: SMOKE ? 1024 : 200_000, threads: 1 },
  {
    onIteration: (m) => {
      if (!SMOKE && m['charts/episodes'] > 0)
        console.log(`step ${m.global_step}: return ${m['charts/episodic_return'].toFixed(1)}`);
    },
  },
);

// play 5 episodes with the policy's most likely action
const env = makeEnv('CartPole-v1', { seed: 100, numEnvs: 1 });
const gen = new Generator(0);
let { obs } = env.reset();
const returns: number[] = [];
while (returns.length < 5) {
  const step = env.step(result.policy.act(obs, gen, true));
  obs = step.obs;
  if (step.episodes[0]) returns.push(step.episodes[0].return);
}
console.log(JSON.stringify({ steps: result.globalStep, greedy_returns: returns }));
