// A client for the preference studio's API (src/studio/server.ts), for loops that put people in
// them — ICPL posts the K rollout videos of an iteration and waits for a person to pick the best and
// the worst. Every call carries the admin token as a bearer token. Uploads and additions are not
// retried (a retry could add a prompt twice); waiting is a series of long polls (≤ 300 s each).
import { readFileSync } from 'node:fs';

export interface StudioCandidate {
  text?: string | Array<{ role: string; content: string }>;
  /** A file name returned by uploadVideo. */
  video?: string;
  /** The system behind the candidate (hidden from annotators until they have voted). */
  model?: string;
  segments?: Array<{ start: number; end: number; label?: string }>;
}

export interface StudioGroup {
  prompt: string | Array<{ role: string; content: string }>;
  candidates: StudioCandidate[];
  category?: string;
  /** A rank per candidate (1 = best) when the answer is known (gold). */
  gold?: number[];
}

export interface TaskAnswers {
  task: number;
  /** The task's candidates as positions in the group's candidate list. */
  candidates: number[];
  votes: number;
  overlap: number;
  done: boolean;
  /**
   * Answers with candidates as positions: {"verdict"} (a / b of `candidates`), {"best", "worst"},
   * {"ranks"} or {"score"}.
   */
  answers: Array<{ annotator: string; answer: Record<string, unknown>; rationale: string | null }>;
}

export class StudioClient {
  private readonly base: string;
  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly o: { timeoutMs?: number } = {},
  ) {
    this.base = baseUrl.replace(/\/$/, '');
  }

  private async call(method: string, path: string, body?: BodyInit, type?: string, timeoutMs?: number): Promise<any> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        body,
        signal: AbortSignal.timeout(timeoutMs ?? this.o.timeoutMs ?? 60_000),
        headers: { authorization: `Bearer ${this.token}`, ...(type ? { 'content-type': type } : {}) },
      });
    } catch (e) {
      throw new Error(`pacer: the studio at ${this.base} did not answer ${method} ${path} (${(e as Error).message})`);
    }
    const text = await res.text();
    if (!res.ok)
      throw new Error(`pacer: the studio answered ${method} ${path} with ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  createProject(
    name: string,
    settings: Record<string, unknown> = {},
  ): Promise<{ name: string; settings: Record<string, unknown> }> {
    return this.call('POST', '/api/projects', JSON.stringify({ name, settings }), 'application/json');
  }

  /** Upload an MP4 or WebM (a path or the bytes); returns its file name in the project. */
  async uploadVideo(project: string, video: string | Uint8Array): Promise<string> {
    const bytes = typeof video === 'string' ? readFileSync(video) : video;
    const type = bytes[0] === 0x1a ? 'video/webm' : 'video/mp4';
    const body = new Blob([new Uint8Array(bytes)]);
    return (await this.call('POST', `/api/projects/${encodeURIComponent(project)}/media`, body, type)).file;
  }

  addGroups(project: string, groups: StudioGroup[]): Promise<{ groups: number[]; tasks: number[] }> {
    return this.call(
      'POST',
      `/api/projects/${encodeURIComponent(project)}/groups`,
      JSON.stringify({ groups }),
      'application/json',
    );
  }

  /** Wait until a task has all its answers (or timeoutS passes; then done is false). */
  async waitForAnswers(project: string, task: number, o: { timeoutS?: number } = {}): Promise<TaskAnswers> {
    const end = Date.now() + (o.timeoutS ?? 3600) * 1000;
    for (;;) {
      const wait = Math.max(0, Math.min(300, Math.ceil((end - Date.now()) / 1000)));
      const path = `/api/projects/${encodeURIComponent(project)}/tasks/${task}?wait=${wait}`;
      const r = (await this.call('GET', path, undefined, undefined, (wait + 30) * 1000)) as TaskAnswers;
      if (r.done || Date.now() >= end) return r;
    }
  }

  stats(project: string, rounds = 1000): Promise<any> {
    return this.call('GET', `/api/projects/${encodeURIComponent(project)}/stats?rounds=${rounds}`);
  }
}
