/**
 * Reinforcement-learning environments with Gymnasium's ids, dynamics and vector API:
 *   import { makeEnv } from 'pacer/envs';
 *   const env = makeEnv('CartPole-v1', { seed: 0, numEnvs: 16 });
 *   let { obs } = env.reset();
 *   const { obs, reward, terminated, truncated, finalObs, episodes } = env.step(actions);
 * See vector.ts for seeding, time limits and autoreset (Gymnasium's SAME_STEP mode), and each
 * environment's file for its equations and what it scores.
 *
 * @module pacer/envs
 */
import { AcrobotEnv } from './acrobot.js';
import { CartPoleEnv } from './cartpole.js';
import { LunarLanderEnv } from './lunar-lander.js';
import { MountainCarContinuousEnv, MountainCarEnv } from './mountain-car.js';
import { PendulumEnv } from './pendulum.js';
import type { EnvOptions, VectorEnv } from './vector.js';

export * from './vector.js';
export { NumpyRandom } from './rng.js';
export * from './normalize.js';
export { AcrobotEnv, CartPoleEnv, LunarLanderEnv, MountainCarContinuousEnv, MountainCarEnv, PendulumEnv };

export const ENVS = {
  'CartPole-v1': CartPoleEnv,
  'Pendulum-v1': PendulumEnv,
  'MountainCar-v0': MountainCarEnv,
  'MountainCarContinuous-v0': MountainCarContinuousEnv,
  'Acrobot-v1': AcrobotEnv,
  'LunarLander-v3': LunarLanderEnv,
} as const;
export type EnvId = keyof typeof ENVS;
/** Gymnasium's metadata["render_fps"] of each environment. */
export const RENDER_FPS: Record<EnvId, number> = {
  'CartPole-v1': 50,
  'Pendulum-v1': 30,
  'MountainCar-v0': 30,
  'MountainCarContinuous-v0': 30,
  'Acrobot-v1': 15,
  'LunarLander-v3': 50,
};
export const ENV_IDS = Object.keys(ENVS) as EnvId[];

/** A vector of `numEnvs` copies (default 1) of a Gymnasium environment, seeded with seed + i (default seed 0). */
export function makeEnv(id: EnvId, opts: EnvOptions = {}): VectorEnv {
  const Env = (ENVS as Record<string, new (o: EnvOptions) => VectorEnv>)[id];
  if (!Env) throw new Error(`pacer: unknown environment '${id}' (expected one of ${ENV_IDS.join(', ')})`);
  const known = new Set(['seed', 'numEnvs']);
  for (const k of Object.keys(opts))
    if (!known.has(k)) throw new Error(`pacer: makeEnv option '${k}' is not known (expected seed, numEnvs)`);
  return new Env(opts);
}
