// An arithmetic task family with difficulty levels (number of digits, operations), a character
// tokenizer for it, and exact-answer checking — the project's own task for efficacy benchmarks
// and the demo. Levels: 1 = 1-digit +, 2 = 2-digit +, 3 = 2-digit + and −, 4 = 2-digit × 1-digit,
// 5 = 2-digit × 2-digit.
// Two written forms: 'plain' ("27+5=32") and 'columns', where operands have two digits and answers a
// fixed width per operation, zero-padded ("27+05=032", "15-66=-51", "27*05=0135") — as numbers are
// lined up for column arithmetic, so that a tiny model finds each digit at a fixed offset.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../data/random.js';
import type { CausalLM } from '../models/types.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { generate, type GenerateOptions } from '../models/generate.js';

export type ArithmeticFormat = 'plain' | 'columns';

/** A problem: `prompt`, the canonical `answer` ("32", "-51") and `target`, the answer as written in the format. */
export interface Problem {
  prompt: string;
  answer: string;
  target: string;
  level: number;
  a: number;
  b: number;
  op: string;
  format: ArithmeticFormat;
}

export { rng };

const LEVELS: Record<number, { digits: [number, number]; ops: string[] }> = {
  1: { digits: [1, 1], ops: ['+'] },
  2: { digits: [2, 2], ops: ['+'] },
  3: { digits: [2, 2], ops: ['+', '-'] },
  4: { digits: [2, 1], ops: ['*'] },
  5: { digits: [2, 2], ops: ['*'] },
};
export const ARITHMETIC_LEVELS = Object.keys(LEVELS).map(Number);
export const LEVEL_NAMES: Record<number, string> = {
  1: '1-digit +',
  2: '2-digit +',
  3: '2-digit + and -',
  4: '2-digit x 1-digit',
  5: '2-digit x 2-digit',
};

/** The answer value v written in a format (columns: + and − three characters, × four). */
export function writeAnswer(v: number, op: string, format: ArithmeticFormat): string {
  if (format === 'plain') return String(v);
  const w = op === '*' ? 4 : 3;
  return v < 0 ? '-' + String(-v).padStart(w - 1, '0') : String(v).padStart(w, '0');
}

function writeProblem(a: number, op: string, b: number, level: number, format: ArithmeticFormat): Problem {
  const v = op === '+' ? a + b : op === '-' ? a - b : a * b;
  const n = (x: number) => (format === 'columns' ? String(x).padStart(2, '0') : String(x));
  return {
    prompt: `${n(a)}${op}${n(b)}=`,
    answer: String(v),
    target: writeAnswer(v, op, format),
    level,
    a,
    b,
    op,
    format,
  };
}

export function makeProblem(level: number, r: () => number, format: ArithmeticFormat = 'plain'): Problem {
  const spec = LEVELS[level];
  if (!spec) throw new Error(`pacer: unknown arithmetic level ${level} (levels: ${ARITHMETIC_LEVELS.join(', ')})`);
  const a = Math.floor(r() * 10 ** spec.digits[0]),
    b = Math.floor(r() * 10 ** spec.digits[1]);
  const op = spec.ops[Math.floor(r() * spec.ops.length)];
  return writeProblem(a, op, b, level, format);
}

/**
 * n distinct problems, levels drawn uniformly from `levels`, none whose prompt is in `exclude`.
 * Small levels (level 1 has 100 problems) simply run out; fewer than n may come back.
 */
export function makeProblems(
  n: number,
  levels: number[],
  seed: number,
  exclude: Set<string> = new Set(),
  format: ArithmeticFormat = 'plain',
): Problem[] {
  const r = rng(seed);
  const out: Problem[] = [];
  const seen = new Set(exclude);
  let guard = 0;
  while (out.length < n && guard++ < n * 100) {
    const p = makeProblem(levels[Math.floor(r() * levels.length)], r, format);
    if (seen.has(p.prompt)) continue;
    seen.add(p.prompt);
    out.push(p);
  }
  return out;
}

/**
 * The answer a sloppy teacher writes (in the problem's format): with probability `slip` it makes
 * the classic column mistakes — for +, it forgets every carry (each digit is the column sum mod 10:
 * 27+15 → 32, 8+7 → 5); for −, it subtracts the smaller digit from the larger in each column
 * (42−15 → 33; negative results stay right). × answers are always right. Problems without a carry
 * or borrow come out right either way. Demonstrations from such a teacher give an SFT model that
 * has learned the mistake along with the rule, which RL with an exact-answer reward (and DPO on the
 * model's own samples) can then correct.
 */
export function teacherAnswer(p: Problem, slip: number, r: () => number): string {
  if (p.op === '*' || slip <= 0 || r() >= slip || (p.op === '-' && p.a < p.b)) return p.target;
  const da = String(p.a).split('').reverse().map(Number),
    db = String(p.b).split('').reverse().map(Number);
  const out: number[] = [];
  for (let i = 0; i < Math.max(da.length, db.length); i++) {
    const x = da[i] ?? 0,
      y = db[i] ?? 0;
    out.push(p.op === '+' ? (x + y) % 10 : Math.abs(x - y));
  }
  return writeAnswer(Number(out.reverse().join('')), p.op, p.format);
}

/** The first integer in a completion, or null. */
export function parseAnswer(completion: string): string | null {
  const m = /^\s*(-?\d+)/.exec(completion);
  return m ? String(Number(m[1])) : null;
}

export function isCorrect(p: Problem, completion: string): boolean {
  return parseAnswer(completion) === String(Number(p.answer));
}

const CHARS = '0123456789+-*= ';

/** tokenizer.json + tokenizer_config.json for a character-level tokenizer (BOS added by the post-processor). */
export function charTokenizerFiles(chars = CHARS): {
  tokenizer: Record<string, unknown>;
  config: Record<string, unknown>;
} {
  const specials = ['<pad>', '<s>', '</s>'];
  const vocab: Record<string, number> = {};
  specials.forEach((s, i) => (vocab[s] = i));
  [...chars].forEach((c, i) => (vocab[c] = specials.length + i));
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      normalizer: null,
      pre_tokenizer: null,
      added_tokens: specials.map((s, i) => ({
        id: i,
        content: s,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: { type: 'Fuse' },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: [],
      },
    },
    config: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: '<s>',
      eos_token: '</s>',
      pad_token: '<pad>',
      model_max_length: 256,
    },
  };
}

/** Write a fresh (random) tiny Llama with the character tokenizer to dir. */
export function writeTinyArithmeticModel(
  dir: string,
  o: { hidden?: number; layers?: number; heads?: number; seed?: number; chars?: string; maxPositions?: number } = {},
): Record<string, unknown> {
  const { tokenizer, config: tcfg } = charTokenizerFiles(o.chars);
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: Object.keys((tokenizer.model as { vocab: object }).vocab).length,
    hidden_size: o.hidden ?? 64,
    intermediate_size: 4 * (o.hidden ?? 64),
    num_hidden_layers: o.layers ?? 2,
    num_attention_heads: o.heads ?? 4,
    num_key_value_heads: o.heads ?? 4,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: o.maxPositions ?? 64,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tcfg, null, 2));
  return config;
}

/** Completions for problems, in batches (greedy unless sampling options are given). */
export function complete(
  model: CausalLM,
  tok: Tokenizer,
  problems: Array<{ prompt: string }>,
  o: GenerateOptions & { batchSize?: number; samples?: number } = {},
): string[][] {
  const bs = o.batchSize ?? 64;
  const k = o.samples ?? 1;
  const out: string[][] = problems.map(() => []);
  for (let s = 0; s < problems.length; s += bs) {
    const chunk = problems.slice(s, s + bs);
    for (let j = 0; j < k; j++) {
      const res = generate(
        model,
        chunk.map((p) => tok.encode(p.prompt, { addSpecialTokens: true })),
        { maxNewTokens: 8, ...o, seed: (o.seed ?? 0) + s * 31 + j },
        tok,
      );
      res.forEach((r, i) => out[s + i].push(r.text ?? ''));
    }
  }
  return out;
}

/** Exact-answer accuracy with greedy decoding. */
export function accuracy(model: CausalLM, tok: Tokenizer, problems: Problem[], batchSize = 64): number {
  const c = complete(model, tok, problems, { batchSize });
  return problems.filter((p, i) => isCorrect(p, c[i][0])).length / problems.length;
}
