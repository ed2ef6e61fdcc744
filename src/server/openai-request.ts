// Validation of OpenAI /v1/completions and /v1/chat/completions requests for `pacer serve model`,
// after the OpenAI API reference and vLLM's checks: every parameter is range-checked (400 naming
// it), parameters pacer does not implement (tools, response_format, best_of > 1, penalties, …) are
// refused by name rather than ignored, an unknown model is 404 ("The model `x` does not exist."),
// and prompt + max_tokens must fit the model's context, with vLLM's message ("This model's maximum
// context length is N tokens. However, you requested …"). The work a request may ask for is
// bounded: sequences (prompts × n) and tokens (Σ n·(prompt + max_tokens)).
import type { CausalLM } from '../models/types.js';
import type { GenerateOptions } from '../models/generate.js';
import { expandVisionPads } from '../models/qwen2_vl/processor.js';
import type { ChatMessage, ContentPart, Tokenizer } from '../tokenizers/index.js';
import { HttpError } from './http.js';
import type { ChatMedia } from './media.js';

export interface GenerationRequest {
  chat: boolean;
  /** Token ids of each prompt. */
  prompts: number[][];
  /** Each prompt as text (for echo): the string sent, or the ids decoded. */
  promptTexts: string[];
  n: number;
  maxTokens: number;
  generate: GenerateOptions;
  stream: boolean;
  includeUsage: boolean;
  /** Return per-token log-probs (completions: logprobs ≥ 0; chat: logprobs true). */
  logprobs: boolean;
  /** How many alternatives per position (completions: logprobs; chat: top_logprobs). */
  topLogprobs: number;
  /** Completions only: the prompt is returned before the completion (with its log-probs). */
  echo: boolean;
  tokenIds: boolean;
}

export interface RequestLimits {
  /** Names the model answers to (the first is reported). */
  modelNames: string[];
  /** prompt + completion tokens must fit (the model's positions), or Infinity. */
  contextLength: number;
  /** prompts × n per request. */
  maxNumSeqs: number;
  /** Σ over sequences of prompt + max_tokens per request. */
  maxBatchTokens: number;
}

const MAX_LOGPROBS = 20;
const COMMON = ['model', 'max_tokens', 'temperature', 'top_p', 'top_k', 'min_p', 'n', 'stop', 'seed', 'stream'];
const KNOWN = {
  completions: [...COMMON, 'prompt', 'logprobs', 'echo', 'stream_options', 'logit_bias', 'return_tokens_as_token_ids'],
  chat: [...COMMON, 'messages', 'max_completion_tokens', 'logprobs', 'top_logprobs', 'stream_options', 'logit_bias'],
};
/** Accepted only at their no-op value (the API's default); anything else is refused by name. */
const NO_OP: Record<string, unknown[]> = {
  best_of: [1],
  presence_penalty: [0],
  frequency_penalty: [0],
  parallel_tool_calls: [false],
};
const UNSUPPORTED = new Set(['tools', 'tool_choice', 'functions', 'function_call', 'response_format', 'suffix']);
const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

const bad = (param: string, msg: string) => new HttpError(400, msg, { param });

/** The number of positions the model can attend over (GPT-2 n_positions, Llama max_position_embeddings). */
export function contextLength(model: CausalLM): number {
  const c = model.config as unknown as Record<string, unknown>;
  const v = c.model_type === 'gpt2' ? c.n_positions : c.max_position_embeddings;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : Infinity;
}

function checkKeys(b: Record<string, unknown>, chat: boolean): void {
  for (const [k, v] of Object.entries(b)) {
    if (v === null || v === undefined) continue;
    if (UNSUPPORTED.has(k) || (k === 'echo' && chat)) throw bad(k, `'${k}' is not supported by pacer serve model`);
    if (k in NO_OP) {
      if (!NO_OP[k].includes(v))
        throw bad(k, `'${k}' is not supported by pacer serve model (only ${JSON.stringify(NO_OP[k][0])}, the default)`);
      continue;
    }
    if (!(chat ? KNOWN.chat : KNOWN.completions).includes(k))
      throw bad(k, `Unrecognized request argument supplied: ${k}`);
  }
}

function numberParam(b: Record<string, unknown>, k: string, min: number, max: number, integer = false) {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw bad(k, `'${k}' must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function boolParam(b: Record<string, unknown>, k: string): boolean {
  const v = b[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw bad(k, `'${k}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function stopParam(b: Record<string, unknown>): string[] {
  const s = b.stop;
  const list = s === undefined || s === null ? [] : typeof s === 'string' ? [s] : s;
  if (!Array.isArray(list) || list.length > 4 || !list.every((x) => typeof x === 'string' && x.length > 0))
    throw bad('stop', "'stop' must be a non-empty string or a list of up to 4 non-empty strings");
  return list as string[];
}

function logitBiasParam(b: Record<string, unknown>, vocab: number): Record<number, number> | undefined {
  const v = b.logit_bias;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw bad('logit_bias', "'logit_bias' must be an object mapping token ids to biases in [-100, 100]");
  const out: Record<number, number> = {};
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 1024) throw bad('logit_bias', "'logit_bias' may hold at most 1024 tokens");
  for (const [k, x] of entries) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || id >= vocab)
      throw bad('logit_bias', `'logit_bias' key '${k}' is not a token id in [0, ${vocab})`);
    if (typeof x !== 'number' || !Number.isFinite(x) || x < -100 || x > 100)
      throw bad('logit_bias', `'logit_bias' for token ${k} must be a number in [-100, 100], got ${JSON.stringify(x)}`);
    out[id] = x;
  }
  return out;
}

/** The sampling options shared by both endpoints; an unseeded request gets a fresh random seed. */
function samplingOptions(b: Record<string, unknown>, vocab: number): GenerateOptions {
  const temperature = numberParam(b, 'temperature', 0, 2) ?? 1;
  if (b.top_p === 0) throw bad('top_p', "'top_p' must be in (0, 1], got 0");
  const topP = numberParam(b, 'top_p', 0, 1);
  const topK = numberParam(b, 'top_k', -1, vocab, true);
  const seed = numberParam(b, 'seed', 0, Number.MAX_SAFE_INTEGER, true);
  const greedy = temperature === 0;
  return {
    doSample: !greedy,
    temperature: greedy ? undefined : temperature,
    topP,
    topK: topK && topK > 0 ? topK : undefined,
    minP: numberParam(b, 'min_p', 0, 1),
    seed: seed ?? Math.floor(Math.random() * Number.MAX_SAFE_INTEGER),
    logitBias: logitBiasParam(b, vocab),
  };
}

/**
 * A message's content: a string, or a list of {type: 'text', text} parts (joined by newlines, as vLLM);
 * with images or videos (image_url / video_url parts, already resolved to {type: 'image' | 'video'}),
 * the typed parts for the chat template.
 */
function messageContent(c: unknown, i: number): string | ContentPart[] {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c))
    throw bad('messages', `messages[${i}].content must be a string or a list of text parts, got ${JSON.stringify(c)}`);
  c.forEach((p, j) => {
    const ok = (p?.type === 'text' && typeof p.text === 'string') || p?.type === 'image' || p?.type === 'video';
    if (!ok)
      throw bad(
        'messages',
        `messages[${i}].content[${j}] must be {"type": "text", "text": "…"}, {"type": "image_url", …} or ` +
          `{"type": "video_url", …}`,
      );
  });
  if (c.some((p) => p.type !== 'text')) return c as ContentPart[];
  return c.map((p) => p.text as string).join('\n');
}

function chatPrompt(b: Record<string, unknown>, tok: Tokenizer, vision: ChatMedia | null): number[] {
  const msgs = b.messages;
  if (!Array.isArray(msgs) || msgs.length === 0)
    throw bad('messages', "'messages' must be a non-empty list of {role, content} objects");
  const rendered: ChatMessage[] = msgs.map((m, i) => {
    if (!m || typeof m !== 'object') throw bad('messages', `messages[${i}] must be an object with role and content`);
    if (!ROLES.has(m.role))
      throw bad(
        'messages',
        `messages[${i}].role must be one of ${[...ROLES].join(', ')}, got ${JSON.stringify(m.role)}`,
      );
    const out: ChatMessage = {
      role: m.role === 'developer' ? 'system' : m.role,
      content: messageContent(m.content, i),
    };
    if (typeof m.name === 'string') out.name = m.name;
    return out;
  });
  let text: string;
  try {
    text = tok.applyChatTemplate(rendered, { addGenerationPrompt: true });
  } catch (e) {
    throw bad('messages', `the chat template could not render these messages: ${(e as Error).message}`);
  }
  if (vision)
    try {
      text = expandVisionPads(text, vision.grids, vision.merge, 'messages');
    } catch (e) {
      throw bad('messages', (e as Error).message.replace(/^pacer: /, ''));
    }
  return tok.encode(text);
}

function completionPrompts(b: Record<string, unknown>, tok: Tokenizer, vocab: number): number[][] {
  const p = b.prompt;
  const isIds = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((t) => Number.isInteger(t));
  let out: number[][];
  if (typeof p === 'string') out = [tok.encode(p, { addSpecialTokens: true })];
  else if (isIds(p)) out = [p as number[]];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string'))
    out = p.map((x) => tok.encode(x as string, { addSpecialTokens: true }));
  else if (Array.isArray(p) && p.length > 0 && p.every(isIds)) out = p as number[][];
  else throw bad('prompt', "'prompt' must be a string, a list of strings, a list of token ids or a list of such lists");
  out.forEach((ids, i) => {
    if (ids.length === 0) throw bad('prompt', `prompt ${i} tokenizes to nothing`);
    if (ids.some((t) => t < 0 || t >= vocab)) throw bad('prompt', `prompt ${i} holds a token id outside [0, ${vocab})`);
  });
  return out;
}

/** max_tokens checked against the context (vLLM's wording); the default is 16, shortened to fit. */
function maxTokensParam(b: Record<string, unknown>, chat: boolean, prompts: number[][], echo: boolean, ctx: number) {
  const key = chat && b.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const longest = Math.max(...prompts.map((p) => p.length));
  const scoreOnly = echo && b[key] === 0;
  if (longest > ctx || (longest === ctx && !scoreOnly))
    throw bad(
      'prompt',
      `This model's maximum context length is ${ctx} tokens. However, your request has ${longest} input tokens. ` +
        'Please reduce the length of the input messages.',
    );
  const given = numberParam(b, key, 0, Number.MAX_SAFE_INTEGER, true);
  if (given === 0 && !echo)
    throw bad(key, `'${key}' must be at least 1, got 0 (0 is allowed only with echo, to score the prompt)`);
  const maxTokens = given ?? Math.min(16, ctx - longest);
  if (longest + maxTokens > ctx)
    throw bad(
      key,
      `This model's maximum context length is ${ctx} tokens. However, you requested ${longest + maxTokens} tokens ` +
        `(${longest} in the messages, ${maxTokens} in the completion). ` +
        'Please reduce the length of the messages or completion.',
    );
  return maxTokens;
}

function checkWork(prompts: number[][], n: number, maxTokens: number, lim: RequestLimits): void {
  const seqs = prompts.length * n;
  if (seqs > lim.maxNumSeqs)
    throw bad(
      'n',
      `this request asks for ${seqs} sequences (${prompts.length} prompts × n ${n}); ` +
        `the server allows ${lim.maxNumSeqs} per request (--max-num-seqs)`,
    );
  const tokens = prompts.reduce((a, p) => a + n * (p.length + maxTokens), 0);
  if (tokens > lim.maxBatchTokens)
    throw bad(
      'max_tokens',
      `this request asks for ${tokens} tokens (Σ n × (prompt + max_tokens)); ` +
        `the server allows ${lim.maxBatchTokens} per request (--max-batch-tokens)`,
    );
}

function checkModel(b: Record<string, unknown>, names: string[]): void {
  const m = b.model;
  if (m === undefined || m === null) return; // as vLLM: the served model
  if (typeof m !== 'string' || !names.includes(m))
    throw new HttpError(404, `The model \`${String(m)}\` does not exist.`, { param: 'model', code: 'model_not_found' });
}

/** Validate a completions (chat = false) or chat completions request body. */
export function parseGenerationRequest(
  b: Record<string, unknown>,
  chat: boolean,
  tok: Tokenizer,
  model: CausalLM,
  lim: RequestLimits,
  vision: ChatMedia | null = null,
): GenerationRequest {
  checkKeys(b, chat);
  checkModel(b, lim.modelNames);
  const vocab = model.vocabSize;
  const stream = boolParam(b, 'stream');
  const so = b.stream_options;
  if (so !== undefined && so !== null && (!stream || typeof so !== 'object' || Array.isArray(so)))
    throw bad('stream_options', "'stream_options' is only allowed when 'stream' is true, as {include_usage: bool}");
  const includeUsage = so ? boolParam(so as Record<string, unknown>, 'include_usage') : false;
  const echo = !chat && boolParam(b, 'echo');
  let logprobs: boolean, topLogprobs: number;
  if (chat) {
    logprobs = boolParam(b, 'logprobs');
    topLogprobs = numberParam(b, 'top_logprobs', 0, MAX_LOGPROBS, true) ?? 0;
    if (b.top_logprobs != null && !logprobs) throw bad('top_logprobs', "'top_logprobs' needs 'logprobs': true");
  } else {
    const k = numberParam(b, 'logprobs', 0, MAX_LOGPROBS, true);
    logprobs = k !== undefined;
    topLogprobs = k ?? 0;
  }
  const prompts = chat ? [chatPrompt(b, tok, vision)] : completionPrompts(b, tok, vocab);
  const n = numberParam(b, 'n', 1, lim.maxNumSeqs, true) ?? 1;
  const maxTokens = maxTokensParam(b, chat, prompts, echo, lim.contextLength);
  checkWork(prompts, n, maxTokens, lim);
  const generate: GenerateOptions = {
    ...samplingOptions(b, vocab),
    maxNewTokens: maxTokens,
    stopStrings: (() => {
      const s = stopParam(b);
      return s.length ? s : undefined;
    })(),
    topLogprobs: logprobs && topLogprobs > 0 ? topLogprobs : undefined,
    // the prompt's n completions share one media object: encoded once, prefilled once
    media: vision ? new Array(n).fill(vision.media) : undefined,
  };
  const texts = chat ? [] : Array.isArray(b.prompt) ? b.prompt : [b.prompt];
  return {
    chat,
    prompts,
    promptTexts: prompts.map((ids, i) => (typeof texts[i] === 'string' ? (texts[i] as string) : tok.decode(ids))),
    n,
    maxTokens,
    generate,
    stream,
    includeUsage,
    logprobs,
    topLogprobs,
    echo,
    tokenIds: boolParam(b, 'return_tokens_as_token_ids'),
  };
}
