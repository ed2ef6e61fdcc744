// Reward-design tasks: for each environment, what ICPL shows the LLM — a pruned JavaScript rendering of the
// environment's step (ICPL's <env>_obs.py: the dynamics and the state the reward sees, nothing of the
// ground-truth score) and a task description (ICPL's cfg/env/<env>.yaml) — how a rollout becomes the reward's
// per-step state objects, the sparse task reward (1 where the goal is met: the flag, the tip above the line;
// the "sparse only" baseline),
// the grammar of observation terms the offline proposer writes programs from, and the PPO budget.
// The reward function is called once per step with the state after the step (Gymnasium's state names), the
// action taken and `terminated` (1 when the step ended the episode in a terminal state).
import type { EnvId } from '../envs/index.js';
import type { PPOControlOptions, RolloutBatch } from '../trainers/ppo-control.js';

/** One term of the offline proposer's grammar: a JavaScript expression over the state `s`. */
export interface GrammarTerm {
  name: 'position' | 'velocity' | 'energy' | 'height' | 'action_penalty' | 'goal';
  expr: string;
  doc: string;
}

export interface RewardTask {
  envId: EnvId;
  /** Short name for the command line (mountaincar-continuous). */
  alias: string;
  description: string;
  observationCode: string;
  /** The fields of the state object, in order. */
  fields: readonly string[];
  grammar: readonly GrammarTerm[];
  /** PPO options for every candidate (the study's budget; CleanRL's defaults fill the rest). */
  ppo: Partial<PPOControlOptions>;
  /** A continuous action is clipped to these bounds before the reward sees it (as the environment does). */
  actionBounds?: readonly [number, number];
  /** The sparse task reward per step: 1 where the task's goal is met, else 0. */
  sparse: (fields: Record<string, Float64Array>) => Float64Array;
}

const atGoal = (f: Record<string, Float64Array>) => Float64Array.from(f.terminated);

const MCC_CODE = `class MountainCarContinuous {
    // Rest of the environment definition omitted.
    // A car on the curve height(x) = 0.45 * Math.sin(3 * x) + 0.55, x in [-1.2, 0.6]; it starts at rest
    // near the bottom of the valley (x in [-0.6, -0.4]); its engine is too weak to climb the right hill
    // directly. The episode ends when the car reaches the flag (position >= 0.45), or after 999 steps.
    step(action) {
        const force = Math.min(Math.max(action, -1.0), 1.0);
        this.velocity += force * 0.0015 - 0.0025 * Math.cos(3 * this.position);
        this.velocity = Math.min(Math.max(this.velocity, -0.07), 0.07);
        this.position += this.velocity;
        this.position = Math.min(Math.max(this.position, -1.2), 0.6);
        if (this.position === -1.2 && this.velocity < 0) this.velocity = 0;
        const terminated = this.position >= 0.45 && this.velocity >= 0 ? 1 : 0;
        const state = { position: this.position, velocity: this.velocity, action, terminated };
        const { total, components } = compute_reward(state);
        return { observation: [this.position, this.velocity], reward: total, terminated };
    }
}`;

const ACROBOT_CODE = `class Acrobot {
    // Rest of the environment definition omitted.
    // Two links hang from a fixed pivot: theta1 is the angle of the first link from pointing straight down,
    // theta2 the angle of the second link relative to the first (both wrapped into [-pi, pi]); dtheta1 and
    // dtheta2 are their angular velocities (clipped to +-4*pi and +-9*pi). Both links have length 1 and
    // mass 1. The action applies a torque of -1, 0 or +1 (action 0, 1 or 2) at the joint between the links.
    // The episode ends when the free end rises above the line one link length above the pivot, or after
    // 500 steps.
    step(action) {
        const torque = [-1.0, 0.0, 1.0][action];
        [this.theta1, this.theta2, this.dtheta1, this.dtheta2] = rk4(this.dynamics, this.state(), torque, 0.2);
        const tipHeight = -Math.cos(this.theta1) - Math.cos(this.theta1 + this.theta2);
        const terminated = tipHeight > 1.0 ? 1 : 0;
        const state = {
            theta1: this.theta1, theta2: this.theta2, dtheta1: this.dtheta1, dtheta2: this.dtheta2, action, terminated,
        };
        const { total, components } = compute_reward(state);
        const observation = [Math.cos(this.theta1), Math.sin(this.theta1), Math.cos(this.theta2),
            Math.sin(this.theta2), this.dtheta1, this.dtheta2];
        return { observation, reward: total, terminated };
    }
}`;

const CARTPOLE_CODE = `class CartPole {
    // Rest of the environment definition omitted.
    // A pole hinged on a cart that moves along a track; x is the cart position, theta the pole angle from
    // upright (radians), x_dot and theta_dot their velocities. Action 0 pushes the cart left, 1 right, with
    // a force of 10. The episode ends when |x| > 2.4 or |theta| > 0.2095, or after 500 steps.
    step(action) {
        const force = action === 1 ? 10.0 : -10.0;
        [this.x, this.x_dot, this.theta, this.theta_dot] = euler(this.dynamics, this.state(), force, 0.02);
        const terminated = Math.abs(this.x) > 2.4 || Math.abs(this.theta) > 0.2095 ? 1 : 0;
        const state = {
            x: this.x, x_dot: this.x_dot, theta: this.theta, theta_dot: this.theta_dot, action, terminated,
        };
        const { total, components } = compute_reward(state);
        return { observation: [this.x, this.x_dot, this.theta, this.theta_dot], reward: total, terminated };
    }
}`;

const PENDULUM_CODE = `class Pendulum {
    // Rest of the environment definition omitted.
    // A pendulum on a frictionless pivot; theta is its angle from upright (0 = up), theta_dot its angular
    // velocity (clipped to +-8). The action is a torque in [-2, 2]. Episodes last 200 steps.
    step(action) {
        const u = Math.min(Math.max(action, -2.0), 2.0);
        this.theta_dot += (3 * 10.0 / 2 * Math.sin(this.theta) + 3.0 * u) * 0.05;
        this.theta_dot = Math.min(Math.max(this.theta_dot, -8), 8);
        this.theta += this.theta_dot * 0.05;
        const state = { theta: this.theta, theta_dot: this.theta_dot, action, terminated: 0 };
        const { total, components } = compute_reward(state);
        return { observation: [Math.cos(this.theta), Math.sin(this.theta), this.theta_dot], reward: total };
    }
}`;

const MC_ENERGY = '(0.5 * s.velocity * s.velocity + (0.0025 / 3) * Math.sin(3 * s.position)) / 0.0025';
// the acrobot's mechanical energy (m = l = 1, centres of mass at 0.5, inertia 1, g = 9.8), from hanging
// at rest (0) to standing upright at rest (1)
const ACRO_ENERGY =
  '(0.5 * ((3.5 + Math.cos(s.theta2)) * s.dtheta1 * s.dtheta1 + 2 * (1.25 + 0.5 * Math.cos(s.theta2)) * ' +
  's.dtheta1 * s.dtheta2 + 1.25 * s.dtheta2 * s.dtheta2) - 9.8 * (1.5 * Math.cos(s.theta1) + 0.5 * ' +
  'Math.cos(s.theta1 + s.theta2)) + 19.6) / 39.2';

export const TASKS: Record<string, RewardTask> = {
  'MountainCarContinuous-v0': {
    envId: 'MountainCarContinuous-v0',
    alias: 'mountaincar-continuous',
    description: 'to drive the car up the right hill so that it reaches the flag',
    observationCode: MCC_CODE,
    fields: ['position', 'velocity', 'action', 'terminated'],
    grammar: [
      { name: 'position', expr: 's.position + 0.5', doc: 'how far right of the valley floor the car is' },
      { name: 'velocity', expr: 'Math.abs(s.velocity) / 0.07', doc: 'speed, as a fraction of the limit' },
      { name: 'energy', expr: MC_ENERGY, doc: 'kinetic plus potential energy of the car' },
      { name: 'height', expr: 'Math.sin(3 * s.position) * 0.45 + 0.55', doc: 'height of the car on the curve' },
      { name: 'action_penalty', expr: '-(s.action * s.action)', doc: 'minus the squared force' },
      { name: 'goal', expr: 's.terminated', doc: '1 at the flag' },
    ],
    ppo: { numEnvs: 16, numSteps: 128, numMinibatches: 4, updateEpochs: 4, totalTimesteps: 65_536 },
    actionBounds: [-1, 1],
    sparse: atGoal,
  },
  'Acrobot-v1': {
    envId: 'Acrobot-v1',
    alias: 'acrobot',
    description: 'to swing the free end of the two-link arm up above the line one link length above the pivot',
    observationCode: ACROBOT_CODE,
    fields: ['theta1', 'theta2', 'dtheta1', 'dtheta2', 'action', 'terminated'],
    grammar: [
      { name: 'position', expr: '-Math.cos(s.theta1)', doc: 'height of the joint between the links' },
      {
        name: 'velocity',
        expr: '(Math.abs(s.dtheta1) + Math.abs(s.dtheta2)) / (4 * Math.PI)',
        doc: 'angular speeds',
      },
      { name: 'energy', expr: ACRO_ENERGY, doc: 'mechanical energy, 0 hanging at rest, 1 upright at rest' },
      { name: 'height', expr: '-Math.cos(s.theta1) - Math.cos(s.theta1 + s.theta2)', doc: 'height of the free end' },
      { name: 'action_penalty', expr: '-Math.abs(s.action - 1)', doc: 'minus the torque magnitude' },
      { name: 'goal', expr: 's.terminated', doc: '1 when the end is above the line' },
    ],
    ppo: { numEnvs: 16, numSteps: 128, numMinibatches: 4, updateEpochs: 4, totalTimesteps: 131_072 },
    sparse: atGoal,
  },
  'CartPole-v1': {
    envId: 'CartPole-v1',
    alias: 'cartpole',
    description: 'to balance a pole on a cart so that the pole stays upright',
    observationCode: CARTPOLE_CODE,
    fields: ['x', 'x_dot', 'theta', 'theta_dot', 'action', 'terminated'],
    grammar: [
      { name: 'position', expr: '-Math.abs(s.x) / 2.4', doc: 'minus the distance from the centre' },
      { name: 'velocity', expr: '-(Math.abs(s.x_dot) + Math.abs(s.theta_dot))', doc: 'minus the speeds' },
      { name: 'energy', expr: '-(s.theta_dot * s.theta_dot + s.x_dot * s.x_dot)', doc: 'minus the kinetic terms' },
      { name: 'height', expr: 'Math.cos(s.theta)', doc: 'height of the pole tip' },
      { name: 'action_penalty', expr: '0', doc: 'no force cost (the force is fixed)' },
      { name: 'goal', expr: '1 - s.terminated', doc: '1 while the pole is up' },
    ],
    ppo: { numEnvs: 16, numSteps: 128, numMinibatches: 4, updateEpochs: 4, totalTimesteps: 65_536 },
    sparse: (f) => f.terminated.map((t) => 1 - t),
  },
  'Pendulum-v1': {
    envId: 'Pendulum-v1',
    alias: 'pendulum',
    description: 'to swing the pendulum up and keep it upright',
    observationCode: PENDULUM_CODE,
    fields: ['theta', 'theta_dot', 'action', 'terminated'],
    grammar: [
      { name: 'position', expr: '-Math.abs(Math.atan2(Math.sin(s.theta), Math.cos(s.theta)))', doc: 'minus angle' },
      { name: 'velocity', expr: '-Math.abs(s.theta_dot) / 8', doc: 'minus the angular speed' },
      {
        name: 'energy',
        expr: '(0.5 * s.theta_dot * s.theta_dot / 3 + 5 * Math.cos(s.theta)) / 5',
        doc: 'energy, 1 upright at rest',
      },
      { name: 'height', expr: 'Math.cos(s.theta)', doc: 'height of the tip' },
      { name: 'action_penalty', expr: '-(s.action * s.action) / 4', doc: 'minus the squared torque' },
      { name: 'goal', expr: 'Math.cos(s.theta) > 0.95 ? 1 : 0', doc: '1 near upright' },
    ],
    ppo: { numEnvs: 16, numSteps: 128, numMinibatches: 4, updateEpochs: 4, totalTimesteps: 131_072 },
    actionBounds: [-2, 2],
    sparse: (f) => f.theta.map((th) => (Math.cos(th) > 0.95 ? 1 : 0)),
  },
};

/** The task for an environment id or alias (mountaincar-continuous, acrobot, cartpole, pendulum). */
export function rewardTask(name: string): RewardTask {
  const t = TASKS[name] ?? Object.values(TASKS).find((x) => x.alias === name.toLowerCase());
  if (!t) {
    const known = Object.values(TASKS).map((x) => `${x.alias} (${x.envId})`);
    throw new Error(`pacer: no reward-design task for '${name}' (known: ${known.join(', ')})`);
  }
  return t;
}

/** The per-step state fields of a rollout (time-major), as the reward function sees them. */
export function stateFields(task: RewardTask, b: RolloutBatch): Record<string, Float64Array> {
  const n = b.numSteps * b.numEnvs;
  const k = b.stateNames.length;
  const out: Record<string, Float64Array> = {};
  b.stateNames.forEach((name, j) => {
    const col = new Float64Array(n);
    for (let t = 0; t < n; t++) col[t] = b.nextStates[t * k + j];
    out[name] = col;
  });
  const action = new Float64Array(n);
  const [lo, hi] = task.actionBounds ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (let t = 0; t < n; t++) action[t] = Math.min(Math.max(b.actions[t * b.actionDim], lo), hi);
  out.action = action;
  out.terminated = Float64Array.from(b.terminated);
  for (const f of task.fields)
    if (!(f in out)) throw new Error(`pacer: reward task ${task.envId}: the rollout has no field '${f}'`);
  return Object.fromEntries(task.fields.map((f) => [f, out[f]]));
}
