// ICPL's prompts, byte for byte: the expected strings below are written out from ICPL's prompt files
// (icpl-research/ICPL icpl/utils/prompts/*.txt; the verbatim ones were diffed byte-equal against the files)
// and assembled by hand the way icpl/icpl.py's generate_conversation, generate_specify_difference and
// process_reward_function do; statistics lines use values printed by Python 3's '{:.2f}'.format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TEMPLATES,
  envFeedback,
  extractCode,
  feedbackMessage,
  format,
  historyEntry,
  initialMessages,
  nameDifference,
  ordinal,
  pyFixed,
  statLine,
  differenceMessages,
} from '../dist/reward-design/prompts.js';

// ---- ICPL's files, as written (the ones pacer keeps verbatim)
const POLICY_FEEDBACK =
  'We trained a RL policy using {response_index} reward function code and tracked the values of the individual ' +
  'components in the reward function as well as global metric episode_lengths after every {epoch_freq} epochs and ' +
  'the maximum, mean, minimum values encountered:\n';
const CODE_FEEDBACK = `Please carefully analyze the policy feedback and provide a new, improved reward function that can better solve the task. Some helpful tips for analyzing the policy feedback:
    (1) If the success rates are always near zero, then you must rewrite the entire reward function
    (2) If the values for a certain reward component are near identical throughout, then this means RL is not able to optimize this component as it is written. You may consider
        (a) Changing its scale or the value of its temperature parameter
        (b) Re-writing the reward component 
        (c) Discarding the reward component
    (3) If some reward components' magnitude is significantly larger, then you must re-scale its value to a proper range
Please analyze each existing reward component in the suggested manner above first, and then write the reward function code. 
`;
const HISTORY_PROMPT = `The reward function has been iterated {num_iterations} rounds. 
In each iteration, a good reward function and a bad reward function are generated. 
The good reward function generated in the x-th iteration is denoted as "iterx-good", and the bad reward function generated is denoted as "iterx-bad". 
The following outlines the differences between these reward functions.
`;
const PREFERENCE = `The following content is the MOST important information.
Good example: 1st reward function. Bad example: 2nd reward function.
You need to modify based on the good examples. DO NOT based on the bad examples.`;
const EXECUTION_ERROR =
  'Executing the reward function code above has the following error: {traceback_msg}. Please fix the bug and ' +
  'provide a new, improved reward function!\n';
const DIFFERENCE_SYSTEM = `You are an engineer skilled at comparing the differences between two reward function code snippets used in reinforcement learning.
Your goal is to describe the differences of two reward function code snippets.`;
// ---- adapted to JavaScript (the Python/TorchScript sentences replaced, the rest as ICPL wrote it)
const INITIAL_SYSTEM = `You are a reward engineer trying to write reward functions to solve reinforcement learning tasks as effective as possible.
Your goal is to write a reward function for the environment that will help the agent learn the task described in text. 
Your reward function should use useful variables from the environment as inputs. As an example,
the reward function signature can be: function compute_reward(state) {
    ...
    return { total: reward, components: {} };
}

Since the reward function will run in a JavaScript sandbox without Node.js globals,
please make sure that the code is plain JavaScript (use Math and other ECMAScript built-ins; there is no require, import, process or timers). 
The function is called once per environment step with that step's state object and must return finite numbers. `;
const CODE_OUTPUT_TIP = `The output of the reward function should consist of two items:
    (1) the total reward,
    (2) an object of each individual reward component,
returned together as { total, components }.
The code output should be formatted as a javascript code string: "\`\`\`javascript ... \`\`\`".

Some helpful tips for writing the reward function code:
    (1) You may find it helpful to normalize the reward to a fixed range by applying transformations like Math.exp to the overall reward or its components
    (2) If you choose to transform a reward component, then you must also introduce a temperature parameter inside the transformation function; this parameter must be a named variable in the reward function and it must not be an input variable. Each transformed reward component should have its own temperature variable
    (3) Make sure every input is used as a number; the fields of the state object are numbers (flags are 0 or 1)
    (4) Most importantly, the reward code's input variables must contain only fields of the state object of the provided environment code (namely, variables read as state.<field>). Under no circumstance can you introduce new input variables.
`;

test('the verbatim templates are ICPL’s text; format fills {fields} as str.format', () => {
  assert.equal(TEMPLATES.policy_feedback, POLICY_FEEDBACK);
  assert.equal(TEMPLATES.code_feedback, CODE_FEEDBACK);
  assert.equal(TEMPLATES.history_prompt, HISTORY_PROMPT);
  assert.equal(TEMPLATES.preference, PREFERENCE);
  assert.equal(TEMPLATES.execution_error_feedback, EXECUTION_ERROR);
  assert.equal(TEMPLATES.difference_initial_system, DIFFERENCE_SYSTEM);
  assert.equal(
    TEMPLATES.behavior_feedback,
    'The behavior trained based on {response_index} reward function is as follows: ',
  );
  assert.equal(format('a {x} {{y}} {x}', { x: 1 }), 'a 1 {y} 1');
  assert.throws(() => format('{missing}', {}), /field 'missing' has no value/);
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101].map(ordinal), [
    '1st',
    '2nd',
    '3rd',
    '4th',
    '11th',
    '12th',
    '13th',
    '21st',
    '22nd',
    '23rd',
    '101st',
  ]);
});

test('the first two messages: system = initial_system with the signature + code_output_tip; user = code + task', () => {
  const [sys, user] = initialMessages('class Env {}', 'to reach the flag');
  assert.equal(sys.role, 'system');
  assert.equal(sys.content, INITIAL_SYSTEM + CODE_OUTPUT_TIP);
  assert.equal(user.role, 'user');
  assert.equal(
    user.content,
    'The JavaScript environment is class Env {}. Write a reward function for the following task: to reach the flag.',
  );
});

test("statistics print as Python's '{:.2f}'.format, sampled every max(n // 10, 1) epochs", () => {
  // Python: ['{:.2f}'.format(x) for x in xs]
  const xs = [0.125, 0.375, 2.675, -0.004, 1.005, 0.5, -0.125, -2.5e-3, 0.625, 12.345, 1e-9, 0.015, -0, 2.5, 3.5];
  const py = '0.12 0.38 2.67 -0.00 1.00 0.50 -0.12 -0.00 0.62 12.35 0.00 0.01 -0.00 2.50 3.50';
  assert.equal(xs.map((x) => pyFixed(x)).join(' '), py);
  const vals = [0.125, 0.375, 2.675, -0.004, 1.005, 0.5, -0.125, 0.625, 12.345, 0.015, 0.2, 0.3];
  vals.push(0.4, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.4, 1.5);
  // Python: f"r: {cur}, Max: {max:.2f}, Mean: {mean:.2f}, Min: {min:.2f} \n" with cur = vals[::2] formatted
  assert.equal(
    statLine('r', vals, 2),
    "r: ['0.12', '2.67', '1.00', '-0.12', '12.35', '0.20', '0.40', '0.70', '0.90', '1.20', '1.40'], " +
      'Max: 12.35, Mean: 1.27, Min: -0.12 \n',
  );
  const fb = envFeedback([
    { name: 'height', values: [1, 2, 3] },
    { name: 'episode_lengths', values: [999, Number.NaN, 500] },
  ]);
  assert.equal(
    fb,
    `${POLICY_FEEDBACK.replace('{epoch_freq}', '1')}` +
      "height: ['1.00', '2.00', '3.00'], Max: 3.00, Mean: 2.00, Min: 1.00 \n" +
      "episode_lengths: ['999.00', '500.00'], Max: 999.00, Mean: 749.50, Min: 500.00 \n",
  );
});

test('the feedback message of iteration 2 is assembled as ICPL’s generate_conversation (user_list_only)', () => {
  const fb = (name) =>
    `${POLICY_FEEDBACK.replace('{epoch_freq}', '1')}${name}: ['1.00'], Max: 1.00, Mean: 1.00, Min: 1.00 \n`;
  const good1 = { text: 'function compute_reward(s) { return { total: 1, components: {} }; }', feedback: fb('a') };
  const good2 = { text: 'function compute_reward(s) { return { total: 2, components: {} }; }', feedback: fb('b') };
  const bad2 = { text: 'function compute_reward(s) { return { total: 0, components: {} }; }', feedback: fb('c') };
  // generate_specify_difference after the 2nd iteration: iter1-good's trace, then the difference
  const history = historyEntry(2, good1.feedback, 'iter2-good returns 2; iter1-good returns 1.');
  assert.equal(
    history,
    `${POLICY_FEEDBACK.replace('{epoch_freq}', '1').replace('{response_index}', 'iter1-good')}a: ['1.00'], ` +
      'Max: 1.00, Mean: 1.00, Min: 1.00 \nThe difference between iter2-good and iter1-good is: \n iter2-good returns 2; ' +
      'iter1-good returns 1.\n',
  );
  const msg = feedbackMessage({ shown: [good2, bad2], preference: true, history: { iterations: 2, text: history } });
  const expected =
    HISTORY_PROMPT.replace('{num_iterations}', '2') +
    history +
    'Next, the two reward functions generated in the 2nd iteration are provided.\n' +
    `The 1st generated reward function is provided:\n${good2.text}\n` +
    `${good2.feedback.replace('{response_index}', 'the 1st')}\n` +
    `The 2nd generated reward function is provided:\n${bad2.text}\n` +
    `${bad2.feedback.replace('{response_index}', 'the 2nd')}\n` +
    `${PREFERENCE}\n${CODE_FEEDBACK}${CODE_OUTPUT_TIP}`;
  assert.equal(msg, expected);
  // Eureka (preference_type=no): the one response, "the provided", no preference, no history
  const eureka = feedbackMessage({ shown: [good1], preference: false, history: null });
  assert.equal(
    eureka,
    `${good1.text}\n${good1.feedback.replace('{response_index}', 'the provided')}\n${CODE_FEEDBACK}${CODE_OUTPUT_TIP}`,
  );
  // a crashed candidate's feedback is ICPL's execution error message
  assert.equal(
    format(TEMPLATES.execution_error_feedback, { traceback_msg: 'threw at step 3: x is not defined' }),
    EXECUTION_ERROR.replace('{traceback_msg}', 'threw at step 3: x is not defined'),
  );
});

test("the difference request and ICPL's renaming of 'the first/second …' to the programs' names", () => {
  const [sys, user] = differenceMessages('A()', 'B()', 'to reach the flag');
  assert.equal(sys.content, DIFFERENCE_SYSTEM);
  assert.equal(
    user.content,
    'The following are two reward functions written in JavaScript code used for the task: to reach the flag.\n' +
      'The first reward function is as follows: \nA()\nThe second reward function is as follows: \nB()\n' +
      'Please directly describe the differences of these two codes. No additional descriptions other than the ' +
      'differences are required.',
  );
  assert.equal(
    nameDifference(
      'The first reward function adds speed; the second one does not. First code is longer.',
      'iter3-good',
      'iter2-good',
    ),
    'iter3-good adds speed; iter2-good does not. iter3-good is longer.',
  );
});

test('code is extracted as ICPL does: the javascript fence, else any fence, else the whole answer', () => {
  assert.equal(
    extractCode('Here:\n```javascript\nfunction compute_reward(s) {}\n```\nmore ```x```'),
    'function compute_reward(s) {}',
  );
  assert.equal(extractCode('```js\nconst a = 1;\n```'), 'const a = 1;');
  assert.equal(extractCode('text\n```\nfunction f() {}\n```'), 'function f() {}');
  assert.equal(
    extractCode('```typescript\nexport function compute_reward(s) {}\n```'),
    'function compute_reward(s) {}',
  );
  assert.equal(extractCode('  function compute_reward(s) { return 1; }  '), 'function compute_reward(s) { return 1; }');
});
