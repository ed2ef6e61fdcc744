// `pacer logprobs` and `pacer generate`: scoring and sampling with a local HF model folder.
import { fromPretrained } from '../models/pretrained.js';
import { scoreCompletions, type ScoreItem } from '../models/scoring.js';
import { generate } from '../models/generate.js';
import { Tokenizer } from '../tokenizers/index.js';
import { readJsonl, isMessages, DataError } from '../data/jsonl.js';
import { setThreads, type DType } from '../engine/index.js';

/** Tokenize a prompt/completion line (standard or conversational) the way TRL does. */
export function tokenizePair(tok: Tokenizer, rec: Record<string, unknown>, where: string): ScoreItem {
  const { prompt, completion } = rec;
  if (prompt === undefined) throw new DataError(`pacer: ${where}: missing field 'prompt'`);
  if (completion === undefined) throw new DataError(`pacer: ${where}: missing field 'completion'`);
  if (typeof prompt === 'string' && typeof completion === 'string')
    return { prompt: tok.encode(prompt, { addSpecialTokens: true }), completion: tok.encode(completion) };
  if (isMessages(prompt) && isMessages(completion)) {
    const p = tok.applyChatTemplate(prompt, { addGenerationPrompt: true });
    const full = tok.applyChatTemplate([...prompt, ...completion]);
    if (!full.startsWith(p))
      throw new DataError(
        `pacer: ${where}: the chat template does not render the prompt as a prefix of prompt + completion`,
      );
    return { prompt: tok.encode(p), completion: tok.encode(full.slice(p.length)) };
  }
  throw new DataError(
    `pacer: ${where}: 'prompt' and 'completion' must both be strings or both be lists of {role, content} messages`,
  );
}

export function cmdLogprobs(o: {
  model: string;
  data: string;
  batchSize: number;
  dtype: DType;
  threads: number;
}): void {
  setThreads(o.threads);
  const recs = readJsonl(o.data);
  const tok = Tokenizer.fromPretrained(o.model);
  const items = recs.map((r) => tokenizePair(tok, r.value, `${o.data}:${r.line}`));
  items.forEach((it, i) => {
    if (it.prompt.length === 0)
      throw new DataError(`pacer: ${o.data}:${recs[i].line}: the prompt tokenizes to nothing`);
  });
  const pm = fromPretrained(o.model, { dtype: o.dtype });
  const pad = tok.padTokenId ?? tok.eosTokenId ?? 0;
  const res = scoreCompletions(pm.model, items, { batchSize: o.batchSize, padTokenId: pad });
  for (const r of res) process.stdout.write(JSON.stringify({ logprob: r.logprob, tokens: r.tokens }) + '\n');
}

export function cmdGenerate(o: {
  model: string;
  prompts: string[];
  chat: boolean;
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed: number;
  stop: string[];
  dtype: DType;
  threads: number;
  json: boolean;
}): void {
  setThreads(o.threads);
  const tok = Tokenizer.fromPretrained(o.model);
  const pm = fromPretrained(o.model, { dtype: o.dtype });
  const ids = o.prompts.map((p) =>
    o.chat
      ? tok.encode(tok.applyChatTemplate([{ role: 'user', content: p }], { addGenerationPrompt: true }))
      : tok.encode(p, { addSpecialTokens: true }),
  );
  const res = generate(
    pm.model,
    ids,
    {
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature,
      topK: o.topK,
      topP: o.topP,
      minP: o.minP,
      seed: o.seed,
      stopStrings: o.stop.length ? o.stop : undefined,
    },
    tok,
  );
  res.forEach((r, i) => {
    if (o.json)
      process.stdout.write(
        JSON.stringify({
          prompt: o.prompts[i],
          text: r.text,
          tokens: r.tokens,
          logprobs: r.logprobs,
          finish_reason: r.finishReason,
        }) + '\n',
      );
    else process.stdout.write(`${o.prompts[i]}${r.text}\n`);
  });
}
