// reward_model: a Bradley–Terry reward model trained with `pacer train` (trainer: reward) scores
// prompt + completion, read at the last token (the prompt rendered as training renders it: the
// tokenizer's special tokens, or the chat template for conversations). Loaded once per process.
import { noGrad, scope } from '../engine/index.js';
import { loadScalarHeadModel } from '../models/heads.js';
import { Tokenizer } from '../tokenizers/index.js';
import { collate, renderPrompt } from '../data/tokenize.js';
import { completionText, type RewardFunction } from './types.js';

export function rewardModelReward(dir: string, batchSize = 16): RewardFunction {
  let loaded: { m: ReturnType<typeof loadScalarHeadModel>; tok: Tokenizer } | null = null;
  return (input) => {
    loaded ??= { m: loadScalarHeadModel(dir), tok: Tokenizer.fromPretrained(dir) };
    const { m, tok } = loaded;
    const seqs = input.completions.map((c, i) => {
      const ids = [...renderPrompt(tok, input.prompts[i]), ...tok.encode(completionText(c))];
      return { ids, loss: ids.map(() => false) };
    });
    const out: number[] = [];
    noGrad(() => {
      for (let s = 0; s < seqs.length; s += batchSize)
        scope(() => {
          const b = collate(seqs.slice(s, s + batchSize), tok.padTokenId ?? tok.eosTokenId ?? 0);
          out.push(...m.forward(b).toArray());
        });
    });
    return out;
  };
}
