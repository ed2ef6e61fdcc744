// The offline proposer: a stand-in for the LLM that needs no model, for the demo, CI and studies without an
// endpoint. It is NOT an LLM and says so in every answer. It reads the same chat messages an LLM would and
// answers them:
//   • a reward-writing conversation without feedback (the initial prompt): n random programs from the task's
//     grammar of observation terms (tasks.ts: position, velocity, energy, height, action penalty, goal) —
//     each term is in with probability 1/2, with a weight drawn from U(−1, 2);
//   • with ICPL's feedback (the 1st program good, the 2nd bad, after the preference message): programs that
//     move from the good one away from the bad one, w = w_good + 0.5·(w_good − w_bad) + σ·N(0, 1) per term
//     (σ = 0.5/√k after k iterations, read from the history header), each term switched on or off with
//     probability 0.1;
//   • with Eureka's feedback (one program, no preference): w = w_best + σ·N(0, 1);
//   • ICPL's difference request (two programs): a sentence per term whose weight differs.
// A program is `function compute_reward(s)` with one `const w_<term> = <weight>;` line per term in use, and
// the weights are read back from the code shown in the messages — so what the proposer does depends only on
// what the prompt carries. Answers are reproducible: the generator is seeded from the call's seed, the
// sample index and a hash of the last message.
import { rng } from '../data/random.js';
import { TEMPLATES, type ChatMessage } from './prompts.js';
import type { Proposer } from './proposers.js';
import type { GrammarTerm, RewardTask } from './tasks.js';

export const OFFLINE_NOTICE =
  'pacer offline proposer (not an LLM): a reward program from a grammar of observation terms';

type Weights = Partial<Record<GrammarTerm['name'], number>>;

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Standard normal draws from a uniform generator (Box-Muller). */
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The JavaScript program for a set of weights (terms in grammar order). */
export function programCode(task: RewardTask, w: Weights): string {
  const terms = task.grammar.filter((t) => w[t.name] !== undefined);
  const lines = [
    'function compute_reward(s) {',
    ...terms.map((t) => `  const w_${t.name} = ${w[t.name]};`),
    ...terms.map((t) => `  const ${t.name} = ${t.expr}; // ${t.doc}`),
    `  const components = { ${terms.map((t) => `${t.name}: w_${t.name} * ${t.name}`).join(', ')} };`,
    `  const total = ${terms.map((t) => `components.${t.name}`).join(' + ') || '0'};`,
    '  return { total, components };',
    '}',
  ];
  return lines.join('\n');
}

/** The weights of the programs in a text, in order of appearance (each `function compute_reward` starts one). */
export function readPrograms(text: string): Weights[] {
  return text
    .split(/function compute_reward\s*\(/)
    .slice(1)
    .map((part) => {
      const w: Weights = {};
      const body = part.split(/\n}\n?/)[0];
      for (const m of body.matchAll(/const w_(\w+) = (-?\d+(?:\.\d+)?(?:e-?\d+)?);/g))
        w[m[1] as GrammarTerm['name']] = Number(m[2]);
      return w;
    })
    .filter((w) => Object.keys(w).length > 0);
}

export class OfflineProposer implements Proposer {
  readonly isLLM = false;
  readonly description = 'offline (pacer’s grammar-based reward writer; not an LLM)';

  constructor(private readonly task: RewardTask) {}

  async complete(messages: ChatMessage[], n: number, seed: number): Promise<string[]> {
    const last = messages[messages.length - 1]?.content ?? '';
    if (messages[0]?.content === TEMPLATES.difference_initial_system) return [this.difference(last)];
    const shown = messages.length > 2 ? readPrograms(last) : [];
    const iterations = Number(/has been iterated (\d+) rounds/.exec(last)?.[1] ?? 1);
    const preferred = last.includes(TEMPLATES.preference) && shown.length >= 2;
    return Array.from({ length: n }, (_, k) => {
      const r = rng((hash(last) ^ Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0);
      let w: Weights;
      let how: string;
      if (shown.length === 0) {
        w = this.random(r);
        how = 'drawn at random (no feedback yet)';
      } else if (preferred) {
        w = this.step(shown[0], shown[1], 0.5 / Math.sqrt(iterations), r);
        how = `moved from the preferred (1st) program away from the other (2nd), after ${iterations} iteration(s)`;
      } else {
        w = this.step(shown[0], shown[0], 0.5 / Math.sqrt(iterations), r);
        how = 'perturbed from the program shown';
      }
      return `${OFFLINE_NOTICE}; ${how}.\n\n\`\`\`javascript\n${programCode(this.task, w)}\n\`\`\`\n`;
    });
  }

  private random(r: () => number): Weights {
    const w: Weights = {};
    for (const t of this.task.grammar) if (r() < 0.5) w[t.name] = round2(-1 + 3 * r());
    if (Object.keys(w).length === 0) w.height = round2(-1 + 3 * r());
    return w;
  }

  private step(good: Weights, bad: Weights, sigma: number, r: () => number): Weights {
    const w: Weights = {};
    for (const t of this.task.grammar) {
      const g = good[t.name];
      const b = bad[t.name] ?? 0;
      let v = g === undefined ? undefined : g + 0.5 * (g - b) + sigma * normal(r);
      if (r() < 0.1) v = v === undefined ? -1 + 3 * r() : undefined;
      if (v !== undefined) w[t.name] = round2(Math.min(Math.max(v, -3), 3));
    }
    if (Object.keys(w).length === 0) return { ...good };
    return w;
  }

  /** The answer to ICPL's difference request: one sentence per term whose weight differs. */
  private difference(text: string): string {
    const [a, b] = readPrograms(text);
    if (!a || !b) return `${OFFLINE_NOTICE}: the two programs could not be read.`;
    const say = (v: number | undefined) => (v === undefined ? 'does not use it' : `weighs it by ${v}`);
    const lines = this.task.grammar
      .filter((t) => a[t.name] !== b[t.name])
      .map(
        (t) =>
          `- ${t.name}: the first reward function ${say(a[t.name])}; the second reward function ${say(b[t.name])}.`,
      );
    return lines.length ? lines.join('\n') : 'The two reward functions use the same terms and weights.';
  }
}
