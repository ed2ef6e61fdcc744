// Shared by the studio tests: an in-process studio on 127.0.0.1 (port 0), small videos made with
// pacer's own encoder, and JSON calls with a bearer token or a browser-like session.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudioServer } from '../dist/studio/index.js';
import { encodeVideo } from '../dist/video/encode.js';
import { createFrame, fillCircle, fillRect } from '../dist/video/raster.js';

export const ADMIN = 'admin-token-for-tests-0123456789';

export function tmpDir(prefix = 'pacer-studio-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Start a studio on a free port; returns its URL and a stop function. */
export async function startStudio(dataDir, o = {}) {
  const { server, studio } = createStudioServer({ dataDir, adminToken: ADMIN, rounds: 200, ...o });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const stop = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    });
  return { url, server, studio, stop };
}

/** fetch with a bearer token, returning {status, body (parsed JSON when it is JSON), headers}. */
export async function call(url, path, { token = ADMIN, method = 'GET', json, body, headers = {} } = {}) {
  const h = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers };
  if (json !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(url + path, {
    method,
    headers: h,
    body: json !== undefined ? JSON.stringify(json) : body,
    redirect: 'manual',
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A ball crossing the frame in `color`, `seconds` long at 25 fps (160×120). */
export async function makeVideo(file, color, seconds) {
  const n = Math.round(seconds * 25);
  const frames = Array.from({ length: n }, (_, t) => {
    const f = createFrame(160, 120, [20, 20, 30]);
    fillCircle(f, 10 + (140 * t) / n, 60, 12, color);
    fillRect(f, 0, 110, Math.round((160 * t) / n), 10, [200, 200, 200]);
    return f;
  });
  await encodeVideo(frames, file, { fps: 25 });
  return file;
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}
