// HTTP plumbing for pacer's servers: JSON responses, bounded raw and JSON bodies (413 with Connection: close
// after draining what the client already sent, so the answer is not lost to a reset), constant-time
// bearer-token checks, browser guards (cross-origin requests and non-JSON content types refused)
// and a bounded work queue (503 + Retry-After when full). (The client side — POSTs with retries —
// is src/clients/http.ts.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

export interface HttpErrorExtra {
  /** OpenAI's error.param: the request parameter at fault. */
  param?: string;
  /** OpenAI's error.code (e.g. 'model_not_found'). */
  code?: string;
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: HttpErrorExtra = {},
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
  if (res.headersSent) {
    res.end();
    return;
  }
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

/**
 * Read a body of at most `limit` bytes. Beyond the limit the rest is read and discarded (up to
 * max(4·limit, 1 MiB), then the socket is cut) before the 413 is thrown, and the error asks for
 * Connection: close — answering while the client is still sending, then closing, would reset the
 * connection under the answer.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const drainCap = Math.max(4 * limit, 2 ** 20);
    const declared = Number(req.headers['content-length']);
    let size = 0;
    let over = false;
    const tooLarge = () => new HttpError(413, `request body over ${limit} bytes`, { headers: { connection: 'close' } });
    // a body declared larger than the limit plus what would be drained is not read: answer, then cut
    if (Number.isFinite(declared) && declared > limit + drainCap) return reject(tooLarge());
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > limit + drainCap) reject(tooLarge());
        return;
      }
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
  });
}

/** Parse a JSON object body of at most `limit` bytes: 400 when it is not a JSON object, 413 beyond it. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit);
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    // the parser's message quotes the body; it is not repeated to the client
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

/** The token of an "Authorization: Bearer <token>" header, or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : null;
}

/** Constant-time string equality. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a),
    y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Does the request carry "Authorization: Bearer <token>"? (constant-time comparison) */
export function hasBearer(req: IncomingMessage, token: string): boolean {
  const t = bearerToken(req);
  return t !== null && sameSecret(t, token);
}

/**
 * Refuse (403) what a web page in a browser may send to a local server: a request with an Origin
 * other than the server's own host, or marked cross-site by Sec-Fetch-Site. Clients outside
 * browsers (curl, requests, the openai SDK) send neither header.
 */
export function rejectCrossOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  let same = origin === undefined;
  if (origin !== undefined) {
    try {
      same = new URL(origin).host === req.headers.host;
    } catch {
      same = false;
    }
  }
  if (!same || site === 'cross-site' || site === 'same-site')
    throw new HttpError(403, 'cross-origin requests are refused (a web page may not call this endpoint)');
}

/** 415 unless the body is declared as application/json (browsers' simple requests cannot declare it). */
export function requireJsonContentType(req: IncomingMessage): void {
  const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (ct !== 'application/json')
    throw new HttpError(415, `the body must be sent as Content-Type: application/json, got '${ct || 'none'}'`);
}

/** Is the peer on this machine? */
export function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

/**
 * At most maxActive jobs run at once and at most maxQueue wait; beyond that, run() throws 503 with
 * Retry-After (the client should come back, as vLLM and OpenAI ask on overload).
 */
export class WorkQueue {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(
    readonly maxActive: number,
    readonly maxQueue: number,
  ) {}
  get pending(): number {
    return this.waiting.length;
  }
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.active < this.maxActive) this.active++;
    else if (this.waiting.length >= this.maxQueue)
      throw new HttpError(503, 'the server is busy; retry later', { headers: { 'retry-after': '1' } });
    else await new Promise<void>((r) => this.waiting.push(r)); // a finishing job hands its slot over
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
