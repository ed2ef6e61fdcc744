// Who is asking, and may they write. A request is authenticated by "Authorization: Bearer TOKEN"
// (scripts, the ICPL loop) or by the session cookie a browser got at the login form. Every write is
// refused when cross-origin (Origin / Sec-Fetch-Site, src/server/http.ts); a write that rides on the
// session cookie must also carry the session's CSRF token (header X-CSRF-Token, or a "csrf" form
// field), since browsers attach cookies on their own — bearer tokens they never attach. The login
// form itself is guarded by a double-submit cookie. Cookies: HttpOnly, SameSite=Strict, Path=/.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, bearerToken, rejectCrossOrigin, sameSecret } from '../server/http.js';
import { SESSION_MAX_AGE_S, type User, type Users } from './users.js';

export const SESSION_COOKIE = 'pacer_session';
export const LOGIN_COOKIE = 'pacer_login';

export interface Caller {
  user: User;
  /** The session's CSRF token when the caller came by cookie; null for bearer tokens. */
  csrf: string | null;
  sessionId: string | null;
}

export function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

export function setCookie(res: ServerResponse, name: string, value: string, maxAgeS: number): void {
  const prev = res.getHeader('set-cookie');
  const list = Array.isArray(prev) ? prev : prev ? [String(prev)] : [];
  const c = `${name}=${encodeURIComponent(value)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}`;
  res.setHeader('set-cookie', [...list, c]);
}

/** The caller, or null when the request carries no valid credentials. */
export function identify(req: IncomingMessage, users: Users): Caller | null {
  const token = bearerToken(req);
  if (token !== null) {
    const user = users.byToken(token);
    return user ? { user, csrf: null, sessionId: null } : null;
  }
  const sid = cookies(req)[SESSION_COOKIE];
  if (!sid) return null;
  const s = users.session(sid);
  return s ? { user: s.user, csrf: s.csrf, sessionId: sid } : null;
}

/** Checks for a write: same origin, and the CSRF token when the caller came by cookie. */
export function checkWrite(req: IncomingMessage, c: Caller, formCsrf?: string): void {
  rejectCrossOrigin(req);
  if (c.csrf === null) return;
  const sent = formCsrf ?? req.headers['x-csrf-token'];
  if (typeof sent !== 'string' || !sameSecret(sent, c.csrf))
    throw new HttpError(403, 'missing or wrong CSRF token (reload the page)');
}

export function requireCaller(req: IncomingMessage, users: Users): Caller {
  const c = identify(req, users);
  if (!c)
    throw new HttpError(401, 'sign in, or send "Authorization: Bearer TOKEN"', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  return c;
}

export function requireAdmin(c: Caller): void {
  if (c.user.role !== 'admin') throw new HttpError(403, 'this needs the admin token');
}

/**
 * The double-submit token for the login form (cookie + hidden field): the browser's current one, so
 * that a second tab or a background request to /login does not invalidate an open form, else a new one.
 */
export function loginCsrf(req: IncomingMessage, res: ServerResponse): string {
  const have = cookies(req)[LOGIN_COOKIE];
  const t = have && /^[A-Za-z0-9_-]{24}$/.test(have) ? have : randomBytes(18).toString('base64url');
  setCookie(res, LOGIN_COOKIE, t, 3600);
  return t;
}

export const SESSION_COOKIE_MAX_AGE = SESSION_MAX_AGE_S;
