// HTTP client plumbing for pacer's clients (rollout servers, reward servers): JSON POSTs with
// timeouts, retries and exponential backoff, and errors that name the server and say whether it
// did not answer or answered with errors (4xx at once, with its message; 5xx and 429 after retries).
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
  let answered = false;
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
      answered = true;
      last = new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
      continue;
    }
    if (!res.ok) throw new Error(`pacer: ${what} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`pacer: ${what} ${url} answered with invalid JSON: ${text.slice(0, 200)}`);
    }
  }
  // a server that answers with errors is running: say what it answered, not that it may be down
  if (answered)
    throw new Error(`pacer: ${what} ${url} kept failing after ${retries + 1} attempts, last with ${last?.message}`);
  throw new Error(
    `pacer: ${what} ${url} did not answer after ${retries + 1} attempts (${last?.message}); ` +
      'is it running, and is the URL right?',
  );
}
