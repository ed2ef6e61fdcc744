// The preference studio's HTTP server (Node's http; no framework: a route table, the shared
// helpers of src/server/http.ts for bodies, tokens and origins, and a dozen routes).
//
// Pages (session cookie from the login form):
//   GET  /login, POST /login, POST /logout           sign in with a token (form post, CSRF-guarded)
//   GET  /                                           projects with their progress
//   GET  /p/NAME                                     annotate (keyboard: keys listed on the page)
//   GET  /p/NAME/leaderboard                         ratings, 95% intervals, win rates, agreement
//   GET  /p/NAME/admin, POST /p/NAME/admin/annotators   people, agreement, export links (admin)
//   GET  /p/NAME/media/FILE                          the project's videos (range requests)
// JSON API ("Authorization: Bearer TOKEN", or the session cookie plus X-CSRF-Token on writes):
//   GET  /api/projects                               names, settings, progress
//   POST /api/projects {"name", "settings"}          create (admin)
//   POST /api/projects/NAME/media   (video body)     upload an MP4/WebM → {"file"} (admin, size-limited)
//   POST /api/projects/NAME/groups {"groups": [{"prompt", "candidates": [{"text"} | {"video": FILE},
//        "model"?, "segments"?], "gold"?, "category"?}]}   add prompts → {"groups", "tasks"} (admin)
//   GET  /api/projects/NAME/next                     the caller's next task, or {"done": true}
//   POST /api/projects/NAME/votes {"assignment", "choice" | "best"+"worst" | "ranks" | "score",
//        "rationale"?, "duration_ms"?}               → {"ok", "duplicate", "reveal"}
//   GET  /api/projects/NAME/tasks/ID?wait=S          a task's answers, waiting up to S s for them (admin)
//   GET  /api/projects/NAME/stats?rounds=N           ratings, agreement, progress
//   GET  /api/projects/NAME/export?format=preference|pairs|kto&ties=drop|keep&aggregate=vote|majority
//   POST /api/annotators {"name", "role"?}           → {"token"} (admin, shown once)
// Pages send a Content-Security-Policy that allows only this server's scripts, styles and media.
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError, readBody, rejectCrossOrigin, sameSecret, sendJson } from '../server/http.js';
import * as api from './api.js';
import {
  LOGIN_COOKIE,
  SESSION_COOKIE,
  SESSION_COOKIE_MAX_AGE,
  type Caller,
  checkWrite,
  cookies,
  identify,
  loginCsrf,
  requireAdmin,
  requireCaller,
  setCookie,
} from './auth.js';
import { escapeHtml } from './markdown.js';
import { resolveMedia, serveMedia } from './media.js';
import { adminPage, annotatePage, layout, leaderboardPage, loginPage, projectsPage } from './pages.js';
import { agreement, labelAgreement, progress } from './stats.js';
import { Studio, type StudioOptions } from './studio.js';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'studio', 'public');
const STATIC: Record<string, string> = {
  'annotate.js': 'text/javascript; charset=utf-8',
  'sync.js': 'text/javascript; charset=utf-8',
  'studio.css': 'text/css; charset=utf-8',
};

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin', // no-referrer would make form posts carry "Origin: null"
    'cache-control': 'no-store',
  });
  res.end(html);
}

function redirect(res: ServerResponse, to: string): void {
  res.writeHead(303, { location: to, 'cache-control': 'no-store' });
  res.end();
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (ct !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'expected a form post');
  return new URLSearchParams((await readBody(req, 2 ** 16)).toString('utf8'));
}

async function login(studio: Studio, req: IncomingMessage, res: ServerResponse): Promise<void> {
  rejectCrossOrigin(req);
  const f = await formBody(req);
  const want = cookies(req)[LOGIN_COOKIE];
  const sent = f.get('csrf') ?? '';
  if (!want || !sameSecret(sent, want))
    return sendHtml(res, 403, loginPage(loginCsrf(req, res), 'The form expired; try again.'));
  const user = studio.users.byToken(f.get('token') ?? '');
  if (!user) return sendHtml(res, 401, loginPage(loginCsrf(req, res), 'That token is not valid.'));
  const s = studio.users.openSession(user);
  setCookie(res, SESSION_COOKIE, s.id, SESSION_COOKIE_MAX_AGE);
  redirect(res, '/');
}

async function logout(studio: Studio, req: IncomingMessage, res: ServerResponse, c: Caller): Promise<void> {
  const f = await formBody(req);
  checkWrite(req, c, f.get('csrf') ?? '');
  if (c.sessionId) studio.users.closeSession(c.sessionId);
  setCookie(res, SESSION_COOKIE, '', 0);
  redirect(res, '/login');
}

async function addAnnotatorForm(studio: Studio, req: IncomingMessage, res: ServerResponse, c: Caller, name: string) {
  requireAdmin(c);
  const f = await formBody(req);
  checkWrite(req, c, f.get('csrf') ?? '');
  const who = f.get('name') ?? '';
  let token: string;
  try {
    token = studio.users.add(who);
  } catch (e) {
    throw new HttpError(400, (e as Error).message.replace(/^pacer: /, ''));
  }
  sendHtml(res, 200, renderAdmin(studio, name, c, { name: who, token }));
}

function renderAdmin(studio: Studio, name: string, c: Caller, newToken?: { name: string; token: string }): string {
  const { p } = studio.project(name);
  const d = {
    progress: progress(p),
    agreement: agreement(p),
    labels: labelAgreement(p),
    people: studio.users.list(),
    newToken,
  };
  return adminPage(name, p.settings, d, { user: c.user, csrf: c.csrf });
}

async function page(studio: Studio, c: Caller, path: string, res: ServerResponse): Promise<boolean> {
  const o = { user: c.user, csrf: c.csrf };
  if (path === '/') {
    const list = studio.names().map((n) => {
      const { p } = studio.project(n);
      return { name: n, s: p.settings, progress: progress(p) };
    });
    sendHtml(res, 200, projectsPage(c.user, c.csrf ?? '', list));
    return true;
  }
  const m = /^\/p\/([^/]+)(\/leaderboard|\/admin)?$/.exec(path);
  if (!m) return false;
  const name = decodeURIComponent(m[1]);
  const { p } = studio.project(name);
  if (!m[2]) sendHtml(res, 200, annotatePage(name, p.settings, c.user, c.csrf ?? ''));
  else if (m[2] === '/leaderboard')
    sendHtml(res, 200, leaderboardPage(name, p.settings, await studio.ratings(name), agreement(p), progress(p), o));
  else {
    requireAdmin(c);
    sendHtml(res, 200, renderAdmin(studio, name, c));
  }
  return true;
}

function serveStatic(res: ServerResponse, file: string): void {
  const type = STATIC[file];
  if (!type) throw new HttpError(404, 'no such file');
  const body = readFileSync(join(PUBLIC, file));
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  });
  res.end(body);
}

async function apiRoute(studio: Studio, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const c: api.Ctx = { req, res, url, studio, caller: requireCaller(req, studio.users) };
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === '/api/whoami' && method === 'GET') return sendJson(res, 200, c.caller.user);
  if (path === '/api/projects' && method === 'GET')
    return sendJson(res, 200, {
      projects: studio
        .names()
        .map((n) => ({ name: n, settings: studio.project(n).p.settings, progress: progress(studio.project(n).p) })),
    });
  if (path === '/api/projects' && method === 'POST') return api.createProject(c);
  if (path === '/api/annotators' && method === 'POST') return api.addAnnotator(c);
  if (path === '/api/annotators' && method === 'GET') {
    requireAdmin(c.caller);
    return sendJson(res, 200, { annotators: studio.users.list() });
  }
  const m = /^\/api\/projects\/([^/]+)\/(media|groups|next|votes|stats|export|tasks\/(\d+))$/.exec(path);
  if (!m) throw new HttpError(404, `no route ${method} ${path}`);
  const name = decodeURIComponent(m[1]);
  const route = `${method} ${m[3] ? 'tasks' : m[2]}`;
  if (route === 'POST media') return api.upload(c, name);
  if (route === 'POST groups') return api.postGroups(c, name);
  if (route === 'GET next') return api.next(c, name);
  if (route === 'POST votes') return api.vote(c, name);
  if (route === 'GET stats') return api.stats(c, name);
  if (route === 'GET export') return api.exportJsonl(c, name);
  if (route === 'GET tasks') return api.taskResult(c, name, Number(m[3]));
  throw new HttpError(405, `${method} is not allowed on ${path}`);
}

async function route(studio: Studio, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://studio');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path.startsWith('/api/')) return apiRoute(studio, req, res, url);
  if (path.startsWith('/static/') && method === 'GET') return serveStatic(res, path.slice(8));
  if (path === '/favicon.ico') return void res.writeHead(204).end();
  if (path === '/login' && method === 'GET') return sendHtml(res, 200, loginPage(loginCsrf(req, res)));
  if (path === '/login' && method === 'POST') return login(studio, req, res);
  const c = identify(req, studio.users);
  if (!c) {
    if (method === 'GET' && (path === '/' || path.startsWith('/p/')) && !path.includes('/media/'))
      return redirect(res, '/login');
    throw new HttpError(401, 'sign in first');
  }
  if (path === '/logout' && method === 'POST') return logout(studio, req, res, c);
  const media = /^\/p\/([^/]+)\/media\/([^/]+)$/.exec(path);
  if (media && (method === 'GET' || method === 'HEAD')) {
    const { p } = studio.project(decodeURIComponent(media[1]));
    const real = resolveMedia(p.mediaDir, decodeURIComponent(media[2]));
    if (!real) throw new HttpError(404, 'no such video in this project');
    return serveMedia(req, res, real);
  }
  const form = /^\/p\/([^/]+)\/admin\/annotators$/.exec(path);
  if (form && method === 'POST') return addAnnotatorForm(studio, req, res, c, decodeURIComponent(form[1]));
  if (method === 'GET' && (await page(studio, c, path, res))) return;
  throw new HttpError(404, `no page ${path}`);
}

function fail(req: IncomingMessage, res: ServerResponse, e: Error, log?: (s: string) => void): void {
  const status = e instanceof HttpError ? e.status : 500;
  if (status === 500) log?.(`pacer: studio error: ${e.stack ?? e.message}`);
  const msg = status === 500 ? 'internal error (see the server log)' : e.message;
  const headers = e instanceof HttpError ? (e.extra.headers ?? {}) : {};
  if (res.headersSent) return void res.end();
  if ((req.url ?? '').startsWith('/api/') || (req.headers.accept ?? '').includes('application/json')) {
    sendJson(res, status, { error: { message: msg, status } }, headers);
    return;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  sendHtml(
    res,
    status,
    layout('Error', `<h1>${status}</h1><p class="error">${escapeHtml(msg)}</p><p><a href="/">Back</a></p>`),
  );
}

export function createStudioServer(o: StudioOptions): { server: Server; studio: Studio } {
  const studio = new Studio(o);
  const server = createServer((req, res) => {
    route(studio, req, res).catch((e: Error) => fail(req, res, e, o.log));
  });
  server.on('close', () => studio.close());
  return { server, studio };
}
