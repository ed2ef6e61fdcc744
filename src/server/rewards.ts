// A reward server speaking OpenRLHF's remote reward-model protocol:
//   POST /get_reward  {"query": [prompt+response, …], "prompts": [prompt, …], "labels": [label, …]}
//   -> {"rewards": [r, …], "scores": [r, …], "extra_logs": {"rewards/<name>/mean": m, …, "rewards/errors": k}}
// (extra list-valued keys such as OpenRLHF's "metas" reach the rewards as columns) with bearer-token
// auth (401), input validation (400), a body-size limit (413, then the connection is closed),
// bounded concurrency (requests beyond the queue get 503 and a Retry-After), and GET /health.
// Library rewards run in worker threads, where the per-reward timeout stops them.
//
// OpenRLHF's own client sends no Authorization header, so a server bound to the loopback interface
// may run without a token (noToken); it then refuses requests from other hosts and from web pages
// (cross-origin), since any local process — or page — could otherwise reach it.
import { createServer, type Server } from 'node:http';
import { availableParallelism } from 'node:os';
import {
  HttpError,
  WorkQueue,
  sendJson as send,
  readJsonBody,
  hasBearer,
  isLoopback,
  rejectCrossOrigin,
} from './http.js';
import { RewardWorkerPool, runRewards, type Aggregation, type NamedReward } from '../rewards/index.js';

export interface RewardServerOptions {
  rewards: NamedReward[];
  /** Bearer token every request must carry. */
  token?: string;
  /** Serve without a token: only requests from this machine, and none from web pages. */
  noToken?: boolean;
  maxConcurrency?: number;
  maxQueue?: number;
  maxBodyBytes?: number;
  timeoutMs?: number;
  onError?: 'skip' | 'zero';
  aggregation?: Aggregation;
  log?: (s: string) => void;
  /** Worker threads for library rewards (0: run them in this thread). Default min(4, cores). */
  workers?: number;
  /** Modules that add rewards to REWARDS, imported by each worker (so such rewards run there). */
  rewardModules?: string[];
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
  if (!o.token && !o.noToken)
    throw new Error(
      'pacer: the reward server needs a token (--token or PACER_TOKEN), or noToken on a loopback address',
    );
  const queue = new WorkQueue(o.maxConcurrency ?? 4, o.maxQueue ?? 64);
  const nWorkers = o.workers ?? Math.min(4, availableParallelism());
  const pool = nWorkers > 0 ? new RewardWorkerPool({ size: nWorkers, modules: o.rewardModules }) : undefined;
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (!o.token) {
        if (!isLoopback(req.socket.remoteAddress))
          throw new HttpError(403, 'this server runs without a token and answers only this machine');
        rejectCrossOrigin(req);
      }
      if (req.method === 'GET' && url.pathname === '/health')
        return send(res, 200, { status: 'ok', rewards: o.rewards.map((r) => r.name) });
      if (url.pathname !== '/get_reward') throw new HttpError(404, `no route ${url.pathname} (POST /get_reward)`);
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      if (o.token && !hasBearer(req, o.token))
        throw new HttpError(401, 'missing or wrong bearer token', { headers: { 'www-authenticate': 'Bearer' } });
      const parsed = parseRewardRequest(await readJsonBody(req, o.maxBodyBytes ?? 16 * 2 ** 20));
      const rep = await queue.run(() =>
        runRewards(o.rewards, parsed, {
          timeoutMs: o.timeoutMs,
          onError: o.onError,
          aggregation: o.aggregation,
          log: o.log,
          pool,
        }),
      );
      const rewards = rep.rewards.map((r) => r ?? 0);
      send(res, 200, { rewards, scores: rewards, extra_logs: rep.metrics });
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      send(res, status, { error: (e as Error).message }, e instanceof HttpError ? (e.extra.headers ?? {}) : {});
    }
  });
  server.on('close', () => void pool?.close());
  return server;
}

// The client lives with the rewards (src/rewards/remote.ts), which use it as the 'remote' reward.
export { RemoteRewardClient, type RemoteRewardOptions } from '../rewards/remote.js';
