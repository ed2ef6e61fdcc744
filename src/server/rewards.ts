// A reward server speaking OpenRLHF's remote reward-model protocol:
//   POST /get_reward  {"query": [prompt+response, …], "prompts": [prompt, …], "labels": [label, …]}
//   -> {"rewards": [r, …], "scores": [r, …], "extra_logs": {"rewards/<name>/mean": m, …}}
// with bearer-token auth (401), input validation (400), a body-size limit (413), bounded
// concurrency (requests beyond the queue get 503 and a Retry-After), and GET /health. Plus a client
// that retries with exponential backoff and then reports clearly.
import { createServer, type Server } from 'node:http';
import { HttpError, sendJson as send, readJsonBody, hasBearer } from './http.js';
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

/** Validate an OpenRLHF request body; returns completions and columns. */
export function parseRewardRequest(body: unknown): {
  prompts: string[];
  completions: string[];
  columns: Record<string, unknown[]>;
} {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'the body must be a JSON object with a "query" list');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.query) || !b.query.every((q) => typeof q === 'string'))
    throw new HttpError(400, '"query" must be a list of strings (prompt + response)');
  const n = b.query.length;
  if (n === 0) throw new HttpError(400, '"query" is empty');
  if (
    b.prompts !== undefined &&
    (!Array.isArray(b.prompts) || b.prompts.length !== n || !b.prompts.every((p) => typeof p === 'string'))
  )
    throw new HttpError(400, `"prompts" must be a list of ${n} strings, like "query"`);
  if (b.labels !== undefined && (!Array.isArray(b.labels) || b.labels.length !== n))
    throw new HttpError(400, `"labels" must be a list of ${n} values, like "query"`);
  const prompts = (b.prompts as string[] | undefined) ?? new Array(n).fill('');
  const completions = (b.query as string[]).map((q, i) => (q.startsWith(prompts[i]) ? q.slice(prompts[i].length) : q));
  const columns: Record<string, unknown[]> = {};
  if (b.labels) {
    columns.answer = b.labels as unknown[];
    columns.label = b.labels as unknown[];
  }
  for (const [k, v] of Object.entries(b))
    if (!['query', 'prompts', 'labels'].includes(k) && Array.isArray(v) && v.length === n) columns[k] = v;
  return { prompts, completions, columns };
}

export function createRewardServer(o: RewardServerOptions): Server {
  if (!o.token) throw new Error('pacer: the reward server needs a token (--token or PACER_TOKEN)');
  const maxC = o.maxConcurrency ?? 4,
    maxQ = o.maxQueue ?? 64;
  let active = 0;
  const waiting: Array<() => void> = [];
  const acquire = async () => {
    if (active < maxC) {
      active++;
      return;
    }
    if (waiting.length >= maxQ) throw new HttpError(503, 'the server is busy; retry later');
    await new Promise<void>((r) => waiting.push(r));
    active++;
  };
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/health')
        return send(res, 200, { status: 'ok', rewards: o.rewards.map((r) => r.name) });
      if (url.pathname !== '/get_reward') throw new HttpError(404, `no route ${url.pathname} (POST /get_reward)`);
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      if (!hasBearer(req, o.token))
        return send(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
      const parsed = parseRewardRequest(await readJsonBody(req, o.maxBodyBytes ?? 16 * 2 ** 20));
      await acquire();
      try {
        const rep = await runRewards(o.rewards, parsed, {
          timeoutMs: o.timeoutMs,
          onError: o.onError,
          aggregation: o.aggregation,
          log: o.log,
        });
        const rewards = rep.rewards.map((r) => r ?? 0);
        send(res, 200, {
          rewards,
          scores: rewards,
          extra_logs: { ...rep.metrics, 'rewards/errors': rep.errors.length },
        });
      } finally {
        release();
      }
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      send(res, status, { error: (e as Error).message }, status === 503 ? { 'retry-after': '1' } : {});
    }
  });
}

// The client lives with the rewards (src/rewards/remote.ts), which use it as the 'remote' reward.
export { RemoteRewardClient, type RemoteRewardOptions } from '../rewards/remote.js';
