// OpenAI-compatible serving of a pacer model: POST /v1/completions and /v1/chat/completions (JSON
// or Server-Sent Events with stream: true), GET /v1/models, and SGLang's weight reload POST
// /update_weights_from_disk. Requests are validated (src/server/openai-request.ts) and answered in
// OpenAI's shapes (src/server/openai-format.ts); weight reloads are all-or-nothing and treat the
// files as untrusted (src/server/reload.ts).
//
// One generation runs at a time; it yields to the event loop after every token, so /v1/models and
// new requests are answered meanwhile, and a client that disconnects stops its generation. Up to
// maxQueue requests wait; beyond that the answer is 503 with Retry-After. The work one request may
// ask for is bounded (maxNumSeqs sequences, maxBatchTokens tokens).
//
// Auth: with a token every request needs "Authorization: Bearer T". Weight reloads are refused
// unless the server has a token or a reload root; under a reload root only folders inside it load.
// Reloads must be application/json and not cross-origin, so a web page cannot trigger one.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  HttpError,
  WorkQueue,
  hasBearer,
  readJsonBody,
  rejectCrossOrigin,
  requireJsonContentType,
  sendJson as send,
} from './http.js';
import { noGrad, scope, tensor } from '../engine/index.js';
import type { CausalLM } from '../models/types.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { generateAsync } from '../models/generate.js';
import { contextLength, parseGenerationRequest, type GenerationRequest, type RequestLimits } from './openai-request.js';
import { EventStream, responseBody, type PromptLogprobs, type ResponseMeta } from './openai-format.js';
import { reloadWeights } from './reload.js';
import { resolveChatMedia, type ServerMediaOptions } from './media.js';

export interface ModelServerOptions {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** The name in /v1/models and in responses; requests may name it or leave 'model' out. */
  modelName: string;
  /** More names the model answers to (as vLLM's --served-model-name A B). */
  aliases?: string[];
  token?: string;
  /** Weight reloads load only folders under this directory (and are allowed without a token). */
  reloadRoot?: string;
  /** prompts × n per request (default 256, as vLLM's max_num_seqs). */
  maxNumSeqs?: number;
  /** Σ n·(prompt + max_tokens) per request (default 262144). */
  maxBatchTokens?: number;
  /** Requests waiting behind the running one before 503 (default 32). */
  maxQueue?: number;
  /** Vision-language models: processors, and where local media files may be read (vLLM's flag). */
  media?: ServerMediaOptions;
  log?: (msg: string) => void;
}

/** Raw log-probs of each prompt's tokens given the ones before (the first has none), with the top k. */
function promptLogprobs(model: CausalLM, prompts: number[][], k: number): PromptLogprobs[] {
  return prompts.map((ids) =>
    noGrad(() =>
      scope(() => {
        const L = ids.length;
        const out: PromptLogprobs = [null];
        if (L < 2) return out;
        const lp = model
          .forward({ ids: tensor(ids, { dtype: 'int64' }).view(1, L) })
          .to('float32')
          .logSoftmax(-1)
          .squeeze(0)
          .narrow(0, 0, L - 1);
        const chosen = lp.gather(1, tensor(ids.slice(1), { dtype: 'int64' }).view(L - 1, 1)).toArray();
        const [tv, ti] = k > 0 ? lp.topk(k, -1).map((t) => t.toArray()) : [[], []];
        for (let t = 0; t < L - 1; t++)
          out.push({
            logprob: chosen[t],
            top: Array.from({ length: k }, (_, j): [number, number] => [ti[t * k + j], tv[t * k + j]]),
          });
        return out;
      }),
    ),
  );
}

/** The reload root as a real path (symlinks resolved), which must be an existing folder. */
function reloadRootOf(dir: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(dir));
  } catch {
    throw new Error(`pacer: the reload root ${dir} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new Error(`pacer: the reload root ${dir} is not a folder`);
  return real;
}

function errorBody(status: number, e: Error) {
  const x = e instanceof HttpError ? e.extra : {};
  const type = status >= 500 ? 'server_error' : status === 401 ? 'authentication_error' : 'invalid_request_error';
  return { error: { message: e.message, type, param: x.param ?? null, code: x.code ?? null } };
}

/** What the handlers share. */
interface Ctx {
  o: ModelServerOptions;
  names: string[];
  root: string | null;
  limits: RequestLimits;
  queue: WorkQueue;
}

async function reload(c: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!c.o.token && !c.root)
    throw new HttpError(
      403,
      'weight reloads are disabled: start the server with --token T (reloads then need it) or with --reload-root DIR',
    );
  rejectCrossOrigin(req);
  requireJsonContentType(req);
  const body = await readJsonBody(req, 2 ** 16);
  const n = await c.queue.run(() => reloadWeights(c.o.model, body.model_path, c.root));
  c.o.log?.(`pacer: loaded ${n} tensors from ${body.model_path}`);
  send(res, 200, { success: true, message: `loaded ${n} tensors from ${body.model_path}` });
}

/** Generate for a validated request, as one JSON answer or as events; stops when the client leaves. */
async function generateFor(c: Ctx, q: GenerationRequest, meta: ResponseMeta, res: ServerResponse, signal: AbortSignal) {
  const { model, tokenizer: tok } = c.o;
  signal.throwIfAborted();
  const batch = q.prompts.flatMap((ids) => Array.from({ length: q.n }, () => ids));
  const plp = q.echo ? promptLogprobs(model, q.prompts, q.logprobs ? q.topLogprobs : 0) : null;
  if (!q.stream) {
    const out = await generateAsync(model, batch, q.generate, tok, { signal });
    return send(res, 200, responseBody(tok, q, meta, out, plp));
  }
  const events = new EventStream(res, tok, q, meta);
  events.start(plp);
  try {
    events.end(await generateAsync(model, batch, q.generate, tok, { signal, onStep: (t) => events.step(t) }));
  } catch (e) {
    if (!signal.aborted) events.fail((e as Error).message);
    else c.o.log?.('pacer: the client went away; its generation stopped');
  }
}

async function generation(c: Ctx, req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
  // requests with base64 images and videos need room (vision-language models only)
  const body = await readJsonBody(req, (c.o.media ? 64 : 8) * 2 ** 20);
  const vision = chat ? await resolveChatMedia(body, c.o.media ?? null) : null;
  const q = parseGenerationRequest(body, chat, c.o.tokenizer, c.o.model, c.limits, vision);
  const meta: ResponseMeta = {
    id: `${chat ? 'chatcmpl' : 'cmpl'}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`,
    created: Math.floor(Date.now() / 1000),
    model: c.names[0],
  };
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  await c.queue.run(() => generateFor(c, q, meta, res, ac.signal));
}

async function route(c: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (c.o.token && !hasBearer(req, c.o.token))
    throw new HttpError(401, 'missing or wrong bearer token', { headers: { 'www-authenticate': 'Bearer' } });
  if (req.method === 'GET' && path === '/v1/models')
    return send(res, 200, {
      object: 'list',
      data: c.names.map((id) => ({ id, object: 'model', owned_by: 'pacer', max_model_len: c.limits.contextLength })),
    });
  if (req.method === 'POST' && path === '/update_weights_from_disk') return reload(c, req, res);
  if (req.method === 'POST' && (path === '/v1/completions' || path === '/v1/chat/completions'))
    return generation(c, req, res, path === '/v1/chat/completions');
  throw new HttpError(404, `no route ${req.method} ${path}`);
}

export function createModelServer(o: ModelServerOptions): Server {
  o.model.eval();
  const names = [o.modelName, ...(o.aliases ?? [])];
  const c: Ctx = {
    o,
    names,
    root: o.reloadRoot ? reloadRootOf(o.reloadRoot) : null,
    limits: {
      modelNames: names,
      contextLength: contextLength(o.model),
      maxNumSeqs: o.maxNumSeqs ?? 256,
      maxBatchTokens: o.maxBatchTokens ?? 2 ** 18,
    },
    queue: new WorkQueue(1, o.maxQueue ?? 32),
  };
  return createServer((req, res) => {
    route(c, req, res).catch((e: Error) => {
      if (e.name === 'AbortError') return void o.log?.('pacer: the client went away; its generation stopped');
      const status = e instanceof HttpError ? e.status : 500;
      if (status === 500) o.log?.(`pacer: model server error: ${e.message}`);
      const body = errorBody(status, e);
      // SGLang's clients read {success, message} from the reload endpoint
      const payload = req.url?.startsWith('/update_weights_from_disk')
        ? { success: false, message: e.message, ...body }
        : body;
      send(res, status, payload, e instanceof HttpError ? (e.extra.headers ?? {}) : {});
    });
  });
}
