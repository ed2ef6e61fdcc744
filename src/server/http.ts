// HTTP plumbing shared by pacer's servers and clients: JSON responses, bounded JSON bodies,
// constant-time bearer-token checks, and POSTs with retries and exponential backoff.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

/** Parse a JSON object body of at most `limit` bytes (413 beyond, 400 when not a JSON object). */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

/** Does the request carry "Authorization: Bearer <token>"? (constant-time comparison) */
export function hasBearer(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]),
    b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface RetryOptions {
  token?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

/**
 * POST a JSON body and return the parsed JSON answer. Network errors, timeouts, 429 and 5xx are
 * retried with exponential backoff; other HTTP errors fail at once, naming the server and status.
 */
export async function postJsonWithRetry(url: string, body: unknown, o: RetryOptions, what: string): Promise<any> {
  const retries = o.retries ?? 3;
  let last: Error | null = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, (o.backoffMs ?? 200) * 2 ** (attempt - 1)));
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
        headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
        body: JSON.stringify(body),
      });
      text = await res.text();
    } catch (e) {
      last = e as Error;
      continue;
    }
    if (res.status >= 500 || res.status === 429) {
      last = new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      continue;
    }
    if (!res.ok) throw new Error(`pacer: ${what} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`pacer: ${what} ${url} answered with invalid JSON: ${text.slice(0, 200)}`);
    }
  }
  throw new Error(
    `pacer: ${what} ${url} did not answer after ${retries + 1} attempts (${last?.message}); is it running, and is the URL right?`,
  );
}
