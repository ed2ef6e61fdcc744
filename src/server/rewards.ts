// A reward server speaking OpenRLHF's remote reward-model protocol:
//   POST /get_reward  {"query": [prompt+response, …], "prompts": [prompt, …], "labels": [label, …]}
//   -> {"rewards": [r, …], "scores": [r, …], "extra_logs": {"rewards/<name>/mean": m, …}}
// with bearer-token auth (401), input validation (400), a body-size limit (413), bounded
// concurrency (requests beyond the queue get 503 and a Retry-After), and GET /health. Plus a client
// that retries with exponential backoff and then reports clearly.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { runRewards, type Aggregation, type NamedReward } from '../rewards/index.js';

export interface RewardServerOptions {
  rewards: NamedReward[];
  token: string;
  maxConcurrency?: number;
  maxQueue?: number;
  maxBodyBytes?: number;
  timeoutMs?: number;
  onError?: 'skip' | 'zero';
  aggregation?: Aggregation;
  log?: (s: string) => void;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { reject(new HttpError(413, `request body over ${limit} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function authorized(req: IncomingMessage, token: string): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(h);
  if (!m) return false;
  const a = Buffer.from(m[1]), b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Validate an OpenRLHF request body; returns completions and columns. */
export function parseRewardRequest(body: unknown): { prompts: string[]; completions: string[]; columns: Record<string, unknown[]> } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object with a "query" list');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.query) || !b.query.every((q) => typeof q === 'string')) throw new HttpError(400, '"query" must be a list of strings (prompt + response)');
  const n = b.query.length;
  if (n === 0) throw new HttpError(400, '"query" is empty');
  if (b.prompts !== undefined && (!Array.isArray(b.prompts) || b.prompts.length !== n || !b.prompts.every((p) => typeof p === 'string')))
    throw new HttpError(400, `"prompts" must be a list of ${n} strings, like "query"`);
  if (b.labels !== undefined && (!Array.isArray(b.labels) || b.labels.length !== n)) throw new HttpError(400, `"labels" must be a list of ${n} values, like "query"`);
  const prompts = (b.prompts as string[] | undefined) ?? new Array(n).fill('');
  const completions = (b.query as string[]).map((q, i) => (q.startsWith(prompts[i]) ? q.slice(prompts[i].length) : q));
  const columns: Record<string, unknown[]> = {};
  if (b.labels) { columns.answer = b.labels as unknown[]; columns.label = b.labels as unknown[]; }
  for (const [k, v] of Object.entries(b)) if (!['query', 'prompts', 'labels'].includes(k) && Array.isArray(v) && v.length === n) columns[k] = v;
  return { prompts, completions, columns };
}

export function createRewardServer(o: RewardServerOptions): Server {
  if (!o.token) throw new Error('pacer: the reward server needs a token (--token or PACER_TOKEN)');
  const maxC = o.maxConcurrency ?? 4, maxQ = o.maxQueue ?? 64;
  let active = 0;
  const waiting: Array<() => void> = [];
  const acquire = async () => {
    if (active < maxC) { active++; return; }
    if (waiting.length >= maxQ) throw new HttpError(503, 'the server is busy; retry later');
    await new Promise<void>((r) => waiting.push(r));
    active++;
  };
  const release = () => { active--; waiting.shift()?.(); };
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { status: 'ok', rewards: o.rewards.map((r) => r.name) });
      if (url.pathname !== '/get_reward') throw new HttpError(404, `no route ${url.pathname} (POST /get_reward)`);
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      if (!authorized(req, o.token)) return send(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req, o.maxBodyBytes ?? 16 * 2 ** 20));
      } catch (e) {
        if (e instanceof HttpError) throw e;
        throw new HttpError(400, `the body is not valid JSON (${(e as Error).message})`);
      }
      const parsed = parseRewardRequest(body);
      await acquire();
      try {
        const rep = await runRewards(o.rewards, parsed, { timeoutMs: o.timeoutMs, onError: o.onError, aggregation: o.aggregation, log: o.log });
        const rewards = rep.rewards.map((r) => r ?? 0);
        send(res, 200, { rewards, scores: rewards, extra_logs: { ...rep.metrics, 'rewards/errors': rep.errors.length } });
      } finally {
        release();
      }
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      send(res, status, { error: (e as Error).message }, status === 503 ? { 'retry-after': '1' } : {});
    }
  });
}

export interface RemoteRewardOptions { token?: string; timeoutMs?: number; retries?: number; backoffMs?: number }

/** Client for a remote reward server (OpenRLHF protocol), with retries and backoff. */
export class RemoteRewardClient {
  constructor(readonly url: string, readonly o: RemoteRewardOptions = {}) {}
  async score(query: string[], prompts?: string[], labels?: unknown[]): Promise<{ rewards: number[]; scores: number[]; extra_logs: Record<string, number> }> {
    const retries = this.o.retries ?? 3;
    let last: Error | null = null;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 200) * 2 ** (attempt - 1)));
      try {
        const res = await fetch(this.url, {
          method: 'POST', signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
          headers: { 'content-type': 'application/json', ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}) },
          body: JSON.stringify({ query, prompts, labels }),
        });
        const text = await res.text();
        if (res.status >= 500) { last = new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`); continue; }
        if (!res.ok) throw new Error(`pacer: reward server ${this.url} answered ${res.status}: ${text.slice(0, 300)}`);
        const j = JSON.parse(text);
        if (!Array.isArray(j.rewards) || j.rewards.length !== query.length) throw new Error(`pacer: reward server ${this.url} returned ${j.rewards?.length} rewards for ${query.length} queries`);
        return j;
      } catch (e) {
        if ((e as Error).message.startsWith('pacer:')) throw e;
        last = e as Error;
      }
    }
    throw new Error(`pacer: reward server ${this.url} did not answer after ${retries + 1} attempts (${last?.message}); is it running, and is the URL right?`);
  }
}
