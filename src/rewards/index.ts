// The reward library by name, for configs and the reward server: "NAME" or "NAME:key=value:…".
import { accuracyReward, exactMatchReward, multipleChoiceReward } from './accuracy.js';
import {
  thinkAnswerFormatReward,
  reasoningPatternReward,
  lengthPenaltyReward,
  overlongPenaltyReward,
} from './format.js';
import { iouReward, temporalIoUReward, gaussianPointRewardFn } from './spatial.js';
import { partialMatchReward, hierarchicalReward } from './partial.js';
import { completionText, type NamedReward, type RewardFunction } from './types.js';
import { remoteReward } from './remote.js';

export * from './types.js';
export * from './accuracy.js';
export * from './format.js';
export * from './spatial.js';
export * from './partial.js';
export * from './compose.js';
export * from './remote.js';
export * from './worker.js';

type Opts = Record<string, string>;
const num = (o: Opts, k: string, name: string, dflt?: number): number => {
  if (o[k] === undefined) {
    if (dflt === undefined) throw new Error(`pacer: reward '${name}' needs ${k}=N (e.g. ${name}:${k}=512)`);
    return dflt;
  }
  const v = Number(o[k]);
  if (!Number.isFinite(v)) throw new Error(`pacer: reward '${name}': ${k} must be a number, got '${o[k]}'`);
  return v;
};

export const REWARDS: Record<string, (o: Opts, name: string) => RewardFunction> = {
  accuracy: (o) => accuracyReward({ column: o.column }),
  exact_match: (o) => exactMatchReward({ column: o.column, caseSensitive: o.case_sensitive === 'true' }),
  multiple_choice: (o) => multipleChoiceReward({ column: o.column }),
  think_answer: () => thinkAnswerFormatReward(),
  reasoning_pattern: () => reasoningPatternReward(),
  length: (o, n) => lengthPenaltyReward({ budget: num(o, 'budget', n) }),
  overlong: (o, n) => overlongPenaltyReward({ maxLength: num(o, 'max_length', n), cache: num(o, 'cache', n) }),
  iou: (o) => iouReward({ column: o.column }),
  temporal_iou: (o) => temporalIoUReward({ column: o.column }),
  gaussian_point: (o, n) => gaussianPointRewardFn({ column: o.column, alpha: num(o, 'alpha', n, 0.5) }),
  partial_match: (o) => partialMatchReward({ column: o.column }),
  hierarchical: (o) => hierarchicalReward({ column: o.column, separator: o.separator }),
  remote: (o, n) => {
    if (!o.url)
      throw new Error(`pacer: reward 'remote' needs url=... (e.g. remote:url=http://127.0.0.1:5000/get_reward)`);
    return remoteReward({
      url: o.url,
      tokenEnv: o.token_env ?? 'PACER_REWARD_TOKEN',
      labelColumn: o.label ?? 'answer',
      timeoutMs: num(o, 'timeout', n, 30) * 1000,
      retries: num(o, 'retries', n, 3),
    });
  },
};

/** Parse "accuracy,overlong:max_length=512:cache=128" with optional weights into named rewards. */
export function rewardsFromSpec(spec: string, weights?: number[]): NamedReward[] {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error('pacer: no reward named');
  if (weights && weights.length !== parts.length)
    throw new Error(`pacer: ${weights.length} weights for ${parts.length} rewards`);
  return parts.map((p, i) => {
    // option values may contain ':' (URLs): a fragment without '=' continues the previous value
    const [name, ...frags] = p.split(':');
    const kv: string[] = [];
    for (const f of frags) {
      if (!f.includes('=') && kv.length) kv[kv.length - 1] += ':' + f;
      else kv.push(f);
    }
    const make = REWARDS[name];
    if (!make) throw new Error(`pacer: unknown reward '${name}' (available: ${Object.keys(REWARDS).join(', ')})`);
    const opts: Opts = {};
    for (const x of kv) {
      const j = x.indexOf('=');
      if (j <= 0) throw new Error(`pacer: reward option '${x}' must be key=value`);
      opts[x.slice(0, j)] = x.slice(j + 1);
    }
    return { name, fn: make(opts, name), weight: weights?.[i] ?? 1, spec: p };
  });
}

import { loadScalarHeadModel } from '../models/heads.js';
import { Tokenizer } from '../tokenizers/index.js';
import { collate } from '../data/tokenize.js';
import { noGrad, scope } from '../engine/index.js';

/**
 * reward_model: a Bradley–Terry reward model trained with `pacer train` (trainer: reward) scores
 * prompt + completion, read at the last token. Loaded once per process.
 */
export function rewardModelReward(dir: string, batchSize = 16): import('./types.js').RewardFunction {
  let loaded: { m: ReturnType<typeof loadScalarHeadModel>; tok: Tokenizer } | null = null;
  return (input) => {
    loaded ??= { m: loadScalarHeadModel(dir), tok: Tokenizer.fromPretrained(dir) };
    const { m, tok } = loaded;
    const seqs = input.completions.map((c, i) => {
      const p = input.prompts[i];
      const prompt = Array.isArray(p)
        ? tok.encode(tok.applyChatTemplate(p, { addGenerationPrompt: true }))
        : tok.encode(p, { addSpecialTokens: true });
      const ids = [...prompt, ...tok.encode(completionText(c))];
      return { ids, loss: ids.map(() => false) };
    });
    const out: number[] = [];
    noGrad(() => {
      for (let s = 0; s < seqs.length; s += batchSize)
        scope(() => {
          const b = collate(seqs.slice(s, s + batchSize), tok.padTokenId ?? tok.eosTokenId ?? 0);
          out.push(...m.forward(b.ids, b.attentionMask).toArray());
        });
    });
    return out;
  };
}

REWARDS.reward_model = (o, n) => {
  if (!o.path)
    throw new Error(`pacer: reward '${n}' needs path=DIR (a folder written by pacer train with trainer: reward)`);
  return rewardModelReward(o.path);
};
