// Where ICPL's preferences come from: after each iteration a source is shown the candidates (their rollout
// videos, code and — for the proxy only — ground-truth scores) and names the best and the worst, 0-based as
// ICPL's "x y" prompt does. Sources:
//   proxy   ICPL's preference_type=auto: best = argmax of the ground-truth score, worst = argmin with crashed
//           candidates (score −10000) counted as +10000, so a crash is never worst. Equal scores are
//           ordered by the ground-truth return (the hand-written reward: what ICPL's paper says its proxy
//           compares), then by index; the worst is never the best (ICPL's human prompt requires x ≠ y;
//           its code's proxy would name the same candidate twice when all scores tie).
//   file    answers written in advance, one JSON object per line: {"iteration": 1, "best": 2, "worst": 4}
//           (iteration 1-based; optional "arm" restricts a line to one arm).
//   studio  a person in the browser, through a preference studio that speaks this HTTP contract (JSON,
//           "Authorization: Bearer <token>" on every request when a token is set):
//             POST {url}/api/preference-queries
//               {"kind": "best_worst", "source": "pacer icpl", "run": "…", "arm": "icpl", "iteration": 1,
//                "task": "…", "candidates": [{"index": 0, "code": "…", "video": {"format": "mp4",
//                "base64": "…"} | null}, …]}
//               → 201 {"id": "<query id>"}
//             GET {url}/api/preference-queries/<id>
//               → 200 {"status": "pending"} | {"status": "answered", "best": <index>, "worst": <index>}
//           pacer polls every pollMs until the answer comes or timeoutMs passes (then it stops with an
//           error naming the query). Scores are never sent: the person judges from the videos.

import { readFileSync } from 'node:fs';

export const CRASH_SCORE = -10000;

export interface PreferenceCandidate {
  index: number;
  code: string;
  /** The rollout video (MP4), or null when none was rendered. */
  video: string | null;
  /** The ground-truth task score (CRASH_SCORE for a candidate whose training failed). */
  score: number;
  /** The Gymnasium return of the policy (the hand-written reward), NaN when unknown. */
  gymReturn: number;
  crashed: boolean;
}

export interface PreferenceQuery {
  run: string;
  arm: string;
  /** 1-based. */
  iteration: number;
  task: string;
  candidates: PreferenceCandidate[];
}

export interface PreferenceAnswer {
  best: number;
  worst: number;
}

export interface PreferenceSource {
  readonly name: string;
  choose(q: PreferenceQuery): Promise<PreferenceAnswer>;
}

function check(q: PreferenceQuery, a: PreferenceAnswer, where: string): PreferenceAnswer {
  const n = q.candidates.length;
  const ok = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < n;
  if (!ok(a.best) || !ok(a.worst) || a.best === a.worst)
    throw new Error(
      `pacer: ${where}: best and worst must be two different candidate indices in [0, ${n}) for iteration ` +
        `${q.iteration} of arm ${q.arm}, got best ${JSON.stringify(a.best)}, worst ${JSON.stringify(a.worst)}`,
    );
  return { best: a.best, worst: a.worst };
}

/** What the proxy compares: the task score, then the ground-truth (hand-written) reward's return. */
export interface Scored {
  score: number;
  /** The Gymnasium return (the human-designed reward ICPL's paper compares); breaks ties of score. */
  gymReturn?: number;
  crashed: boolean;
}

/** a better than b: higher score, or the same score and a higher ground-truth return. */
function better(a: Scored, b: Scored): boolean {
  if (a.score !== b.score) return a.score > b.score;
  const ra = Number.isFinite(a.gymReturn) ? (a.gymReturn as number) : Number.NEGATIVE_INFINITY;
  const rb = Number.isFinite(b.gymReturn) ? (b.gymReturn as number) : Number.NEGATIVE_INFINITY;
  return ra > rb;
}

/** The index of the best candidate (ties: the lowest index). */
export function bestOf(c: Scored[]): number {
  let best = 0;
  c.forEach((x, i) => {
    if (better(x, c[best])) best = i;
  });
  return best;
}

/** ICPL's proxy human (preference_type=auto); see the file header. */
export function proxyChoice(c: Scored[]): PreferenceAnswer {
  if (c.length < 2) throw new Error('pacer: a preference needs at least two candidates');
  const best = bestOf(c);
  // for the worst, a crash counts as the best possible score (never worst)
  const forWorst = c.map((x) =>
    x.crashed || x.score <= CRASH_SCORE
      ? { score: -CRASH_SCORE, gymReturn: Number.POSITIVE_INFINITY, crashed: false }
      : x,
  );
  let worst = best === 0 ? 1 : 0;
  forWorst.forEach((x, i) => {
    if (i !== best && better(forWorst[worst], x)) worst = i;
  });
  return { best, worst };
}

export function proxyPreferences(): PreferenceSource {
  return {
    name: 'proxy (ground-truth score, ties by the ground-truth return)',
    choose: async (q) => proxyChoice(q.candidates),
  };
}

/** Answers from a JSONL file; see the file header. */
export function filePreferences(file: string): PreferenceSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`pacer: cannot read preference file ${file}: ${(e as Error).message}`);
  }
  const rows = text.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    let r: any;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new Error(`pacer: ${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (!r || typeof r !== 'object' || !Number.isInteger(r.iteration) || r.iteration < 1)
      throw new Error(`pacer: ${file}:${i + 1}: field 'iteration' must be an integer >= 1 (1-based)`);
    for (const k of ['best', 'worst'])
      if (!Number.isInteger(r[k])) throw new Error(`pacer: ${file}:${i + 1}: field '${k}' must be an integer`);
    if (r.arm !== undefined && typeof r.arm !== 'string')
      throw new Error(`pacer: ${file}:${i + 1}: field 'arm' must be a string`);
    return [{ line: i + 1, ...r } as { line: number; iteration: number; best: number; worst: number; arm?: string }];
  });
  return {
    name: `file ${file}`,
    choose: async (q) => {
      const r = rows.find((x) => x.iteration === q.iteration && (x.arm === undefined || x.arm === q.arm));
      if (!r)
        throw new Error(
          `pacer: ${file} has no answer for iteration ${q.iteration} (arm ${q.arm}); add a line ` +
            `{"iteration": ${q.iteration}, "best": <index>, "worst": <index>}`,
        );
      return check(q, r, `${file}:${r.line}`);
    },
  };
}

export interface StudioOptions {
  url: string;
  token?: string;
  /** How long to wait for a person's answer (default 1 hour). */
  timeoutMs?: number;
  pollMs?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
}

async function studioFetch(url: string, o: StudioOptions, init: RequestInit): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(o.requestTimeoutMs ?? 30_000),
      headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    });
  } catch (e) {
    throw new Error(`pacer: the preference studio at ${url} did not answer (${(e as Error).message}); is it running?`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`pacer: the preference studio answered ${res.status} to ${url}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`pacer: the preference studio answered ${url} with invalid JSON: ${text.slice(0, 200)}`);
  }
}

/** A person's answers through the studio's HTTP contract; see the file header. */
export function studioPreferences(o: StudioOptions): PreferenceSource {
  const base = o.url.replace(/\/$/, '');
  return {
    name: `studio ${base}`,
    choose: async (q) => {
      const candidates = q.candidates.map((c) => ({
        index: c.index,
        code: c.code,
        video: c.video ? { format: 'mp4', base64: readFileSync(c.video).toString('base64') } : null,
      }));
      const body = { kind: 'best_worst', source: 'pacer icpl', ...q, candidates };
      const posted = await studioFetch(`${base}/api/preference-queries`, o, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      if (typeof posted?.id !== 'string') throw new Error(`pacer: the preference studio at ${base} gave no query id`);
      const url = `${base}/api/preference-queries/${encodeURIComponent(posted.id)}`;
      const deadline = Date.now() + (o.timeoutMs ?? 3_600_000);
      for (;;) {
        const r = await studioFetch(url, o, { method: 'GET' });
        if (r?.status === 'answered') return check(q, r, `the preference studio (${url})`);
        if (r?.status !== 'pending')
          throw new Error(`pacer: the preference studio answered ${url} with status ${JSON.stringify(r?.status)}`);
        if (Date.now() > deadline)
          throw new Error(`pacer: no answer to preference query ${posted.id} at ${base} within the time limit`);
        await new Promise((res) => setTimeout(res, o.pollMs ?? 1000));
      }
    },
  };
}
