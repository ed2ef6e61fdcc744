// Rewards routed by task, so one run trains several tasks each with its own rewards (Cue-R1's
// multitask RL over recognition, grounding, detection, …; Yu et al., arXiv 2511.00613). A row's task
// column names its route, a list of rewards; a routed reward is called on its task's rows only (so it
// never sees another task's samples or needs their columns) and is null on the others, so each row's
// combined reward aggregates its own task's rewards (plus any reward shared by every task). Routed
// rewards are named "<task>/<reward>", so their means log as rewards/<task>/<reward>/mean. A row whose
// task has no route is an error naming the task and the routes (checkTasks at data load; at scoring
// time too).
import type { NamedReward, RewardFunction, RewardInput } from './types.js';

/** The rows of `input` at the given indices. */
function subset(input: RewardInput, idx: number[]): RewardInput {
  return {
    prompts: idx.map((i) => input.prompts[i]),
    completions: idx.map((i) => input.completions[i]),
    completionIds: input.completionIds ? idx.map((i) => input.completionIds![i]) : undefined,
    columns: Object.fromEntries(Object.entries(input.columns).map(([k, v]) => [k, idx.map((i) => v[i])])),
  };
}

/** What is wrong with a row's task value given the routes, or null. */
export function taskProblem(task: unknown, routes: readonly string[], column: string): string | null {
  if (typeof task === 'string' && routes.includes(task)) return null;
  const got = task === undefined ? 'no value' : JSON.stringify(task);
  return `the '${column}' column has ${got}, which names no reward route (routes: ${routes.join(', ')})`;
}

function routed(task: string, inner: RewardFunction, column: string, all: readonly string[]): RewardFunction {
  return async (input) => {
    const tasks = input.columns[column];
    if (!tasks) throw new Error(`pacer: reward routing needs a '${column}' column in the dataset`);
    tasks.forEach((t, i) => {
      const why = taskProblem(t, all, column);
      if (why) throw new Error(`pacer: sample ${i}: ${why}`);
    });
    const idx = tasks.flatMap((t, i) => (t === task ? [i] : []));
    const out: Array<number | null> = new Array(input.completions.length).fill(null);
    if (idx.length === 0) return out;
    const got = await inner(subset(input, idx));
    if (!Array.isArray(got) || got.length !== idx.length)
      throw new Error(`returned ${Array.isArray(got) ? got.length : typeof got} values for ${idx.length} samples`);
    idx.forEach((i, j) => (out[i] = got[j]));
    return out;
  };
}

/** Each route's rewards, wrapped to score only their task's rows and named "<task>/<reward>". */
export function routeRewards(routes: Record<string, NamedReward[]>, column = 'task'): NamedReward[] {
  const all = Object.keys(routes);
  return Object.entries(routes).flatMap(([task, rewards]) =>
    rewards.map((r) => ({ name: `${task}/${r.name}`, fn: routed(task, r.fn, column, all), weight: r.weight })),
  );
}
