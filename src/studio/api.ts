// The studio's JSON API (see src/studio/server.ts for the routes and docs/… in the command's help).
// Annotators: GET next, POST votes, GET stats. Admin (the admin token, or an admin's session): create
// projects, upload videos, add prompts with candidates, wait for a task's answers (the ICPL loop),
// export TRL rows, add annotators.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJsonBody, requireJsonContentType, sendJson } from '../server/http.js';
import { type Caller, checkWrite, requireAdmin } from './auth.js';
import { EXPORT_FORMATS, type ExportOptions, exportRows } from './export.js';
import { addGroups } from './items.js';
import { receiveUpload } from './media.js';
import type { CandidateInput, GroupInput, Project } from './project.js';
import { agreement, labelAgreement, progress } from './stats.js';
import type { Studio } from './studio.js';
import { taskView } from './view.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  studio: Studio;
  caller: Caller;
}

async function jsonBody(c: Ctx, limit: number): Promise<Record<string, unknown>> {
  checkWrite(c.req, c.caller);
  requireJsonContentType(c.req);
  return readJsonBody(c.req, limit);
}

export async function createProject(c: Ctx): Promise<void> {
  requireAdmin(c.caller);
  const b = await jsonBody(c, 2 ** 20);
  if (typeof b.name !== 'string') throw new HttpError(400, "'name' is required");
  const settings = (b.settings ?? {}) as Record<string, unknown>;
  if (typeof settings !== 'object' || Array.isArray(settings)) throw new HttpError(400, "'settings' must be an object");
  const p = c.studio.create(b.name, settings);
  sendJson(c.res, 201, { name: p.name, settings: p.settings });
}

export async function upload(c: Ctx, name: string): Promise<void> {
  requireAdmin(c.caller);
  checkWrite(c.req, c.caller);
  const { p } = c.studio.project(name);
  const file = await receiveUpload(c.req, p.mediaDir, c.studio.uploadLimit);
  sendJson(c.res, 201, { file });
}

/** API candidates: {"text"} or {"video": FILE (an uploaded name)}, with "model" and "segments". */
function apiGroup(g: unknown, k: number): GroupInput {
  if (!g || typeof g !== 'object' || !Array.isArray((g as Record<string, unknown>).candidates))
    throw new HttpError(400, `groups[${k}] must be {"prompt", "candidates": [...]}`);
  const x = g as Record<string, any>;
  const candidates: CandidateInput[] = x.candidates.map((c: Record<string, any>) =>
    c && 'video' in c
      ? { kind: 'video', media: c.video, system: c.model ?? null, meta: { segments: c.segments } }
      : { kind: 'text', text: c?.text, system: c?.model ?? null },
  );
  return {
    prompt: x.prompt,
    candidates,
    category: x.category ?? null,
    gold: x.gold ?? null,
    source: `api groups[${k}]`,
    meta: x.meta,
  };
}

export async function postGroups(c: Ctx, name: string): Promise<void> {
  requireAdmin(c.caller);
  const b = await jsonBody(c, 16 * 2 ** 20);
  if (!Array.isArray(b.groups)) throw new HttpError(400, "'groups' must be a list");
  const { p } = c.studio.project(name);
  let r: { groups: number[]; tasks: number[] };
  try {
    r = addGroups(p, b.groups.map(apiGroup));
  } catch (e) {
    throw new HttpError(400, (e as Error).message.replace(/^pacer: /, ''));
  }
  sendJson(c.res, 201, r);
}

export function next(c: Ctx, name: string): void {
  const { p, q } = c.studio.project(name);
  const s = q.next(c.caller.user.name);
  const prog = p.progressCounts(c.caller.user.name, Date.now(), !s); // the end page counts afresh
  sendJson(c.res, 200, s ? { ...taskView(p, s), progress: prog } : { done: true, progress: prog });
}

export async function vote(c: Ctx, name: string): Promise<void> {
  const b = await jsonBody(c, 2 ** 16);
  const { q } = c.studio.project(name);
  const r = q.vote(c.caller.user.name, b);
  if (!r.duplicate) c.studio.notify(name, r.taskId);
  sendJson(c.res, 200, { ok: true, duplicate: r.duplicate, reveal: r.reveal });
}

/** An answer with candidate ids replaced by their positions in the group as it was posted. */
function byPosition(p: Project, groupId: number, answer: Record<string, unknown>): Record<string, unknown> {
  const pos = new Map(p.candidates(groupId).map((x) => [x.id, x.position]));
  const out: Record<string, unknown> = { ...answer };
  for (const k of ['best', 'worst'] as const) if (k in out) out[k] = pos.get(out[k] as number);
  return out;
}

/** A task's answers; with ?wait=S, first wait up to S seconds (at most 300) until it has `overlap` votes. */
export async function taskResult(c: Ctx, name: string, id: number): Promise<void> {
  requireAdmin(c.caller);
  const { p } = c.studio.project(name);
  const wait = Math.min(300, Math.max(0, Number(c.url.searchParams.get('wait') ?? 0) || 0));
  const ac = new AbortController();
  c.res.on('close', () => ac.abort());
  const deadline = Date.now() + wait * 1000;
  let t = p.task(id);
  if (!t) throw new HttpError(404, `no task ${id} in '${name}'`);
  while (t!.votes < p.settings.overlap && Date.now() < deadline && !ac.signal.aborted) {
    await c.studio.waitForVote(name, id, deadline - Date.now(), ac.signal);
    t = p.task(id);
  }
  const task = t!;
  const pos = new Map(p.candidates(task.groupId).map((x) => [x.id, x.position]));
  const answers = p
    .votes()
    .filter((v) => v.taskId === id)
    .map((v) => ({ annotator: v.annotator, answer: byPosition(p, task.groupId, v.answer), rationale: v.rationale }));
  sendJson(c.res, 200, {
    task: id,
    candidates: task.candidates.map((x) => pos.get(x)),
    votes: task.votes,
    overlap: p.settings.overlap,
    done: task.votes >= p.settings.overlap,
    answers,
  });
}

export async function stats(c: Ctx, name: string): Promise<void> {
  const { p } = c.studio.project(name);
  const rounds = Math.min(10_000, Math.max(1, Number(c.url.searchParams.get('rounds') ?? 1000) || 1000));
  const r = await c.studio.ratings(name, rounds);
  sendJson(c.res, 200, {
    ratings: r,
    agreement: agreement(p),
    progress: progress(p),
    label_agreement: labelAgreement(p),
  });
}

export function exportJsonl(c: Ctx, name: string): void {
  requireAdmin(c.caller);
  const { p } = c.studio.project(name);
  const q = c.url.searchParams;
  const o: ExportOptions = {
    format: (q.get('format') ?? 'preference') as ExportOptions['format'],
    ties: (q.get('ties') ?? 'drop') as ExportOptions['ties'],
    aggregate: (q.get('aggregate') ?? 'vote') as ExportOptions['aggregate'],
  };
  if (!EXPORT_FORMATS.includes(o.format!))
    throw new HttpError(400, `format must be one of ${EXPORT_FORMATS.join(', ')}`);
  let rows: Array<Record<string, unknown>>;
  try {
    rows = exportRows(p, o);
  } catch (e) {
    throw new HttpError(400, (e as Error).message.replace(/^pacer: /, ''));
  }
  const body = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  c.res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'content-disposition': `attachment; filename="${name}-${o.format}.jsonl"`,
  });
  c.res.end(body);
}

export async function addAnnotator(c: Ctx): Promise<void> {
  requireAdmin(c.caller);
  const b = await jsonBody(c, 2 ** 14);
  const role = (b.role ?? 'annotator') as 'admin' | 'annotator';
  let token: string;
  try {
    token = c.studio.users.add(String(b.name ?? ''), role);
  } catch (e) {
    const msg = (e as Error).message.replace(/^pacer: /, '');
    throw new HttpError(/already/.test(msg) ? 409 : 400, msg);
  }
  sendJson(c.res, 201, { name: b.name, role, token });
}
