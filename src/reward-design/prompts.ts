// ICPL's prompts (Yu et al. 2024, In-Context Preference Learning; icpl-research/ICPL icpl/utils/prompts/*.txt and
// the assembly in icpl/icpl.py, MIT licence), for reward functions written in JavaScript:
//   system   initial_system (reward engineer; the signature) + code_output_tip (total + components, a
//            temperature per transformed component, inputs only from the environment)
//   user     initial_user: the environment code shown to the LLM + "Write a reward function for the
//            following task: {description}."
//   feedback (replaces the previous feedback message each iteration, ICPL's user_list_only) =
//            history_prompt + history (traces and LLM-written differences of the good programs) +
//            "Next, the two reward functions generated in the Nth iteration are provided." + for each of
//            good and bad: "The 1st generated reward function is provided:\n" + code + policy feedback
//            (training statistics) + preference + code_feedback + code_output_tip.
// The templates marked VERBATIM are ICPL's text byte for byte; the others replace Python/TorchScript
// specifics (torch.jit.script, torch.exp, `self.` attributes, ```python fences) by their JavaScript
// counterparts. `format` substitutes {name} fields as Python's str.format does; `pyFixed` prints numbers as
// Python's '{:.2f}'.format (round half to even on exact ties).

export const TEMPLATES = {
  /** Adapted: JavaScript in a sandbox instead of TorchScript on a device. */
  initial_system:
    'You are a reward engineer trying to write reward functions to solve reinforcement learning tasks as ' +
    'effective as possible.\nYour goal is to write a reward function for the environment that will help the agent ' +
    'learn the task described in text. \nYour reward function should use useful variables from the environment as ' +
    'inputs. As an example,\nthe reward function signature can be: {task_reward_signature_string}\nSince the reward ' +
    'function will run in a JavaScript sandbox without Node.js globals,\nplease make sure that the code is plain ' +
    'JavaScript (use Math and other ECMAScript built-ins; there is no require, import, process or timers). \nThe ' +
    "function is called once per environment step with that step's state object and must return finite numbers. ",
  /** Adapted: a JavaScript signature. */
  reward_signature: 'function compute_reward(state) {\n    ...\n    return { total: reward, components: {} };\n}\n',
  /** Adapted: "JavaScript environment" for "Python environment". */
  initial_user:
    'The JavaScript environment is {task_obs_code_string}. Write a reward function for the following task: ' +
    '{task_description}.',
  /** Adapted: JavaScript fences, Math.exp, an object of components, fields of `state` for `self.` attributes. */
  code_output_tip:
    'The output of the reward function should consist of two items:\n    (1) the total reward,\n    (2) an object ' +
    'of each individual reward component,\nreturned together as { total, components }.\nThe code output should be ' +
    'formatted as a javascript code string: "```javascript ... ```".\n\nSome helpful tips for writing the reward ' +
    'function code:\n    (1) You may find it helpful to normalize the reward to a fixed range by applying ' +
    'transformations like Math.exp to the overall reward or its components\n    (2) If you choose to transform a ' +
    'reward component, then you must also introduce a temperature parameter inside the transformation function; ' +
    'this parameter must be a named variable in the reward function and it must not be an input variable. Each ' +
    'transformed reward component should have its own temperature variable\n    (3) Make sure every input is used ' +
    'as a number; the fields of the state object are numbers (flags are 0 or 1)\n    (4) Most importantly, the ' +
    "reward code's input variables must contain only fields of the state object of the provided environment " +
    'code (namely, variables read as state.<field>). Under no circumstance can you introduce new input variables.\n',
  /** VERBATIM. */
  policy_feedback:
    'We trained a RL policy using {response_index} reward function code and tracked the values of the individual ' +
    'components in the reward function as well as global metric episode_lengths after every {epoch_freq} epochs ' +
    'and the maximum, mean, minimum values encountered:\n',
  /** VERBATIM. */
  behavior_feedback: 'The behavior trained based on {response_index} reward function is as follows: ',
  /** VERBATIM. */
  code_feedback:
    'Please carefully analyze the policy feedback and provide a new, improved reward function that can better ' +
    'solve the task. Some helpful tips for analyzing the policy feedback:\n    (1) If the success rates are always ' +
    'near zero, then you must rewrite the entire reward function\n    (2) If the values for a certain reward ' +
    'component are near identical throughout, then this means RL is not able to optimize this component as it is ' +
    'written. You may consider\n        (a) Changing its scale or the value of its temperature parameter\n        ' +
    '(b) Re-writing the reward component \n        (c) Discarding the reward component\n    (3) If some reward ' +
    "components' magnitude is significantly larger, then you must re-scale its value to a proper range\nPlease " +
    'analyze each existing reward component in the suggested manner above first, and then write the reward ' +
    'function code. \n',
  /** VERBATIM. */
  execution_error_feedback:
    'Executing the reward function code above has the following error: {traceback_msg}. Please fix the bug and ' +
    'provide a new, improved reward function!\n',
  /** VERBATIM. */
  history_prompt:
    'The reward function has been iterated {num_iterations} rounds. \nIn each iteration, a good reward function ' +
    'and a bad reward function are generated. \nThe good reward function generated in the x-th iteration is ' +
    'denoted as "iterx-good", and the bad reward function generated is denoted as "iterx-bad". \nThe following ' +
    'outlines the differences between these reward functions.\n',
  /** VERBATIM. */
  preference:
    'The following content is the MOST important information.\nGood example: 1st reward function. Bad example: ' +
    '2nd reward function.\nYou need to modify based on the good examples. DO NOT based on the bad examples.',
  /** VERBATIM. */
  difference_initial_system:
    'You are an engineer skilled at comparing the differences between two reward function code snippets used in ' +
    'reinforcement learning.\nYour goal is to describe the differences of two reward function code snippets.',
  /** Adapted: "JavaScript code" for "Python code". */
  difference:
    'The following are two reward functions written in JavaScript code used for the task: {task_description}.\n' +
    'The first reward function is as follows: \n{reward_code_1}\nThe second reward function is as follows: \n' +
    '{reward_code_2}\nPlease directly describe the differences of these two codes. No additional descriptions ' +
    'other than the differences are required.',
} as const;

/** Python's str.format for {name} fields ({{ and }} are literal braces); a missing field is an error. */
export function format(template: string, fields: Record<string, string | number>): string {
  return template.replace(/\{\{|\}\}|\{(\w+)\}/g, (m, name?: string) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    if (!(name! in fields)) throw new Error(`pacer: prompt template field '${name}' has no value`);
    return String(fields[name!]);
  });
}

/** floor(|x|·10^d) when |x|·10^d lies exactly halfway between two integers (exact binary arithmetic), else null. */
function exactTie(x: number, digits: number): bigint | null {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const mant = (bits & ((1n << 52n) - 1n)) | (exp ? 1n << 52n : 0n);
  const e = (exp || 1) - 1075; // |x| = mant · 2^e
  if (e >= 0 || mant === 0n) return null;
  const num = mant * 10n ** BigInt(digits);
  const den = 1n << BigInt(-e);
  return (2n * num) % (2n * den) === den ? num / den : null;
}

/** Python's '{:.Nf}'.format(x): JavaScript's toFixed is exact but breaks exact ties upwards; Python to even. */
export function pyFixed(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const neg = x < 0 || Object.is(x, -0);
  const tie = exactTie(x, digits);
  // toFixed switches to exponent notation from 1e21; such doubles are integers
  let s =
    Math.abs(x) >= 1e21
      ? `${BigInt(Math.abs(x))}${digits ? `.${'0'.repeat(digits)}` : ''}`
      : Math.abs(x).toFixed(digits);
  if (tie !== null) {
    const q = (tie % 2n === 0n ? tie : tie + 1n).toString().padStart(digits + 1, '0');
    s = digits ? `${q.slice(0, -digits)}.${q.slice(-digits)}` : q;
  }
  return neg ? `-${s}` : s;
}

/** ICPL's ordinal: 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th. */
export function ordinal(i: number): string {
  if (i === 11 || i === 12 || i === 13) return `${i}th`;
  if (i % 10 === 1) return `${i}st`;
  if (i % 10 === 2) return `${i}nd`;
  if (i % 10 === 3) return `${i}rd`;
  return `${i}th`;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The first two messages: system (initial_system + code_output_tip) and user (environment code + task). */
export function initialMessages(observationCode: string, description: string): ChatMessage[] {
  const system =
    format(TEMPLATES.initial_system, { task_reward_signature_string: TEMPLATES.reward_signature }) +
    TEMPLATES.code_output_tip;
  const user = format(TEMPLATES.initial_user, { task_obs_code_string: observationCode, task_description: description });
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** One training statistic as ICPL prints it: name, values every epochFreq, and max/mean/min over all. */
export function statLine(name: string, values: number[], epochFreq: number): string {
  const vs = values.filter(Number.isFinite);
  if (vs.length === 0) return `${name}: [], Max: nan, Mean: nan, Min: nan \n`;
  const sampled = vs.filter((_, i) => i % epochFreq === 0).map((v) => `'${pyFixed(v)}'`);
  const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
  return (
    `${name}: [${sampled.join(', ')}], Max: ${pyFixed(Math.max(...vs))}, Mean: ${pyFixed(mean)}, ` +
    `Min: ${pyFixed(Math.min(...vs))} \n`
  );
}

/**
 * A candidate's environment feedback (ICPL's env_feedback file): policy_feedback with epoch_freq filled and
 * {response_index} left open, then one line per statistic (reward components, episode_lengths, and
 * task_score only when the score may be shown, as in Eureka).
 */
export function envFeedback(stats: Array<{ name: string; values: number[] }>): string {
  const n = Math.max(0, ...stats.map((s) => s.values.length));
  const epochFreq = Math.max(Math.floor(n / 10), 1);
  const head = format(TEMPLATES.policy_feedback, { epoch_freq: epochFreq, response_index: '{response_index}' });
  return head + stats.map((s) => statLine(s.name, s.values, epochFreq)).join('');
}

export interface Shown {
  /** The text put in the conversation: the code (ICPL's _rewardonly file), or the whole response (Eureka). */
  text: string;
  /** Its environment feedback (envFeedback), with {response_index} open. */
  feedback: string;
}

/**
 * ICPL's generate_conversation (user_list_only): the history header and history (when given), then each
 * shown reward function with its feedback, then the preference (when given), code_feedback and
 * code_output_tip. Returns the content of the feedback message.
 */
export function feedbackMessage(o: {
  shown: Shown[];
  preference: boolean;
  /** Iterations so far and the accumulated history text; null leaves the history out. */
  history: { iterations: number; text: string } | null;
}): string {
  let head = '';
  if (o.history) {
    head += format(TEMPLATES.history_prompt, { num_iterations: o.history.iterations });
    head += o.history.text;
    const which = o.shown.length === 2 ? 'the two reward functions' : 'the reward functions';
    head += `Next, ${which} generated in the ${ordinal(o.history.iterations)} iteration are provided.\n`;
  }
  const one = o.shown.length === 1;
  const users = o.shown.map((s, i) => {
    const index = one ? 'the provided' : `the ${ordinal(i + 1)}`;
    return `${format(s.feedback, { response_index: index })}\n`;
  });
  const assistants = o.shown.map((s, i) =>
    one ? `${s.text}\n` : `The ${ordinal(i + 1)} generated reward function is provided:\n${s.text}\n`,
  );
  if (o.preference) users[users.length - 1] += `${TEMPLATES.preference}\n`;
  users[users.length - 1] += TEMPLATES.code_feedback + TEMPLATES.code_output_tip;
  return head + assistants.map((a, i) => a + users[i]).join('');
}

/** The messages asking for the difference of two programs (difference_initial_system, difference). */
export function differenceMessages(code1: string, code2: string, description: string): ChatMessage[] {
  return [
    { role: 'system', content: TEMPLATES.difference_initial_system },
    {
      role: 'user',
      content: format(TEMPLATES.difference, {
        reward_code_1: code1,
        reward_code_2: code2,
        task_description: description,
      }),
    },
  ];
}

/** ICPL's renaming of "the first/second reward function" (…) in a difference to the programs' names. */
export function nameDifference(text: string, name1: string, name2: string): string {
  let out = text;
  const tails = ['reward function', 'function', 'snippet', 'code', 'one'];
  for (const head of ['The first', 'the first', 'First', 'first'])
    for (const tail of tails) out = out.split(`${head} ${tail}`).join(name1);
  for (const head of ['The second', 'the second', 'Second', 'second'])
    for (const tail of tails) out = out.split(`${head} ${tail}`).join(name2);
  return out;
}

/**
 * ICPL's history entry after iteration i (1-based) when i > 1: the previous good program's feedback with
 * response_index iter(i−1)-good (the reward trace), then "The difference between iter<i>-good and
 * iter<i−1>-good is: \n <difference>\n".
 */
export function historyEntry(i: number, previousGoodFeedback: string, difference: string): string {
  const trace = format(previousGoodFeedback, { response_index: `iter${i - 1}-good` });
  return `${trace}The difference between iter${i}-good and iter${i - 1}-good is: \n ${difference}\n`;
}

/**
 * The reward code in an LLM answer, as ICPL extracts it (its regexes, for JavaScript fences): the first
 * ```javascript / ```js block, else the first ``` block (a language tag line dropped), else the whole answer;
 * a leading `export ` is dropped.
 */
export function extractCode(answer: string): string {
  const patterns = [/```(?:javascript|js)\b(.*?)```/is, /```(.*?)```/s];
  let code: string | null = null;
  for (const p of patterns) {
    const m = p.exec(answer);
    if (m) {
      code = m[1].replace(/^[A-Za-z]*[ \t]*\n/, '').trim();
      break;
    }
  }
  return (code ?? answer.trim()).replace(/^export\s+(?=function\b)/gm, '');
}
