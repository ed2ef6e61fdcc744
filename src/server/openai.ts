// OpenAI-compatible serving of a pacer model (POST /v1/completions, POST /v1/chat/completions,
// GET /v1/models) with per-token log-probs. Requests are validated (400), generation runs one
// request at a time, and an optional bearer token is enforced when set. The matching client is
// src/clients/openai.ts.
import { createServer, type Server } from 'node:http';
import { HttpError, sendJson as send, readJsonBody, hasBearer } from './http.js';
import type { CausalLM } from '../models/types.js';
import type { Tokenizer, ChatMessage } from '../tokenizers/index.js';
import { generate, type GenerationResult } from '../models/generate.js';
import { fromPretrained } from '../models/pretrained.js';

interface SamplingParams {
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  n: number;
  stop: string[];
  seed: number;
  logprobs: boolean;
  tokenIds: boolean;
}

function samplingParams(b: Record<string, unknown>, chat: boolean): SamplingParams {
  const num = (k: string, min: number, max: number): number | undefined => {
    const v = b[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      throw new HttpError(400, `'${k}' must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  };
  const maxTokens =
    num(
      chat ? (b.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens') : 'max_tokens',
      0,
      4096,
    ) ?? 16;
  const n = num('n', 1, 64) ?? 1;
  if (!Number.isInteger(n) || !Number.isInteger(maxTokens))
    throw new HttpError(400, "'n' and 'max_tokens' must be integers");
  const stop = b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string'))
    throw new HttpError(400, "'stop' must be a string or a list of strings");
  const lp = chat ? b.logprobs === true : typeof b.logprobs === 'number' && b.logprobs >= 0;
  return {
    maxTokens,
    n,
    stop,
    logprobs: lp,
    tokenIds: b.return_tokens_as_token_ids === true,
    seed: num('seed', 0, Number.MAX_SAFE_INTEGER) ?? 0,
    temperature: num('temperature', 0, 2),
    topP: num('top_p', 0, 1),
    topK: num('top_k', -1, 1e9),
    minP: num('min_p', 0, 1),
  };
}

function runGeneration(model: CausalLM, tok: Tokenizer, prompts: number[][], p: SamplingParams): GenerationResult[] {
  const greedy = p.temperature === 0;
  const batch = prompts.flatMap((ids) => Array.from({ length: p.n }, () => ids));
  return generate(
    model,
    batch,
    {
      maxNewTokens: p.maxTokens,
      doSample: !greedy,
      temperature: greedy ? undefined : (p.temperature ?? 1),
      topP: p.topP,
      topK: p.topK && p.topK > 0 ? p.topK : undefined,
      minP: p.minP,
      seed: p.seed,
      stopStrings: p.stop.length ? p.stop : undefined,
    },
    tok,
  );
}

export interface ModelServerOptions {
  model: CausalLM;
  tokenizer: Tokenizer;
  modelName: string;
  token?: string;
}

/** Load an HF-layout checkpoint folder's weights into the served model (same architecture and shapes). */
function loadWeightsFromDisk(model: CausalLM, dir: unknown): number {
  if (typeof dir !== 'string' || !dir) throw new HttpError(400, "'model_path' must be a folder path");
  const own = model.stateDict();
  let fresh: CausalLM | null = null;
  try {
    fresh = fromPretrained(dir, { dtype: [...own.values()][0]?.dtype }).model;
    model.loadStateDict(fresh.stateDict(), { strict: true });
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  } finally {
    fresh?.dispose();
  }
  return own.size;
}

export function createModelServer(o: ModelServerOptions): Server {
  let busy: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => T): Promise<T> => {
    const p = busy.then(fn, fn);
    busy = p.catch(() => undefined);
    return p;
  };
  const tok = o.tokenizer;
  const usage = (prompts: number[][], res: GenerationResult[]) => {
    const p = prompts.reduce((a, x) => a + x.length, 0),
      c = res.reduce((a, r) => a + r.tokens.length, 0);
    return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
  };
  const finish = (r: GenerationResult) => (r.finishReason === 'length' ? 'length' : 'stop');
  return createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (o.token && !hasBearer(req, o.token))
        return send(res, 401, { error: { message: 'missing or wrong bearer token', type: 'authentication_error' } });
      if (req.method === 'GET' && path === '/v1/models')
        return send(res, 200, { object: 'list', data: [{ id: o.modelName, object: 'model', owned_by: 'pacer' }] });
      if (req.method === 'POST' && path === '/update_weights_from_disk') {
        // SGLang's weight-reload endpoint: the trainer writes the policy and asks the server to load it
        const body = await readJsonBody(req, 2 ** 16);
        const n = await serial(() => loadWeightsFromDisk(o.model, body.model_path));
        return send(res, 200, { success: true, message: `loaded ${n} tensors from ${body.model_path}` });
      }
      if (req.method !== 'POST' || (path !== '/v1/completions' && path !== '/v1/chat/completions'))
        throw new HttpError(404, `no route ${req.method} ${path}`);
      const body = await readJsonBody(req, 8 * 2 ** 20);
      const chat = path === '/v1/chat/completions';
      const p = samplingParams(body, chat);
      const id = `${chat ? 'chatcmpl' : 'cmpl'}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      const created = Math.floor(Date.now() / 1000);
      if (chat) {
        const msgs = body.messages;
        if (
          !Array.isArray(msgs) ||
          msgs.length === 0 ||
          !msgs.every((m) => m && typeof m.role === 'string' && typeof m.content === 'string')
        )
          throw new HttpError(400, "'messages' must be a non-empty list of {role, content} strings");
        const ids = [tok.encode(tok.applyChatTemplate(msgs as ChatMessage[], { addGenerationPrompt: true }))];
        const out = await serial(() => runGeneration(o.model, tok, ids, p));
        return send(res, 200, {
          id,
          object: 'chat.completion',
          created,
          model: o.modelName,
          usage: usage(ids, out),
          choices: out.map((r, i) => ({
            index: i,
            finish_reason: finish(r),
            message: { role: 'assistant', content: r.text ?? '' },
            logprobs: p.logprobs
              ? {
                  content: r.tokens.map((t, j) => ({
                    token: tok.decode([t]),
                    logprob: r.logprobs[j],
                    bytes: [...Buffer.from(tok.decode([t]))],
                    top_logprobs: [],
                  })),
                }
              : null,
          })),
        });
      }
      const prompt = body.prompt;
      const prompts = typeof prompt === 'string' ? [prompt] : prompt;
      if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every((x) => typeof x === 'string'))
        throw new HttpError(400, "'prompt' must be a string or a non-empty list of strings");
      const ids = (prompts as string[]).map((x) => tok.encode(x, { addSpecialTokens: true }));
      if (ids.some((x) => x.length === 0)) throw new HttpError(400, 'a prompt tokenizes to nothing');
      const out = await serial(() => runGeneration(o.model, tok, ids, p));
      return send(res, 200, {
        id,
        object: 'text_completion',
        created,
        model: o.modelName,
        usage: usage(ids, out),
        choices: out.map((r, i) => {
          // vLLM's return_tokens_as_token_ids: tokens as "token_id:N", so clients get the sampled ids
          const tokens = r.tokens.map((t) => (p.tokenIds ? `token_id:${t}` : tok.decode([t])));
          let off = 0;
          return {
            index: i,
            text: r.text ?? '',
            finish_reason: finish(r),
            logprobs: p.logprobs
              ? {
                  tokens,
                  token_logprobs: r.logprobs,
                  top_logprobs: null,
                  text_offset: r.tokens.map((t) => {
                    const x = off;
                    off += tok.decode([t]).length;
                    return x;
                  }),
                }
              : null,
          };
        }),
      });
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      send(res, status, {
        error: { message: (e as Error).message, type: status === 400 ? 'invalid_request_error' : 'server_error' },
      });
    }
  });
}
