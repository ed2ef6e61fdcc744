// Nothing is lost on kill -9: a studio process takes votes from four concurrent clients and is
// killed with SIGKILL while votes are in flight. Afterwards the database is intact, every vote the
// server acknowledged is there exactly once, nothing is there that was not sent, and the task
// counters agree with the votes; a restarted server takes the unanswered votes again, counting the
// ones it had already stored as duplicates.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as S from '../dist/studio/index.js';
import { ADMIN, cleanup, tmpDir } from './studio-helpers.js';

const dirs = [];
after(() => dirs.forEach(cleanup));

/** Start `pacer studio` on a free port; resolves with the child and its URL (bounded by a timeout). */
function serve(data) {
  const child = spawn(process.execPath, ['bin/pacer.js', 'studio', '--data', data, '--port', '0'], {
    env: { ...process.env, PACER_STUDIO_TOKEN: ADMIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the studio did not start: ${err}`)), 30_000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve({ child, url: JSON.parse(out.split('\n')[0]).url.replace(/\/$/, '') });
    });
    child.on('exit', (code) => reject(new Error(`the studio exited (${code}): ${err}`)));
  });
}

const exited = (child) =>
  new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on('exit', r)));

async function post(url, token, body) {
  const r = await fetch(`${url}/api/projects/d/votes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

test('kill -9 mid-vote: acknowledged votes survive exactly once; resent votes are not doubled', async () => {
  const data = tmpDir('pacer-studio-kill-');
  dirs.push(data);
  const p = S.Project.create(data, 'd', { overlap: 1 });
  S.addGroups(
    p,
    Array.from({ length: 400 }, (_, k) => ({
      prompt: `prompt ${k}`,
      candidates: ['a', 'b'].map((x) => ({ kind: 'text', text: `${x}${k}`, system: x })),
      source: 'test',
    })),
  );
  p.close();
  const users = new S.Users(data);
  const tokens = ['p1', 'p2', 'p3', 'p4'].map((n) => users.add(n));
  users.close();
  const first = await serve(data);
  const acked = new Map(); // assignment → body
  const sent = new Map();
  let killed = false;
  const client = async (token) => {
    for (let i = 0; i < 1000 && !killed; i++) {
      try {
        const n = await (
          await fetch(`${first.url}/api/projects/d/next`, { headers: { authorization: `Bearer ${token}` } })
        ).json();
        if (n.done) return;
        const body = { assignment: n.assignment, choice: i % 3 ? 'A' : 'B', duration_ms: i };
        sent.set(n.assignment, { token, body });
        const r = await post(first.url, token, body);
        if (r.status === 200) acked.set(n.assignment, body);
        if (acked.size >= 60 && !killed) {
          killed = true;
          first.child.kill('SIGKILL'); // the other three clients have requests in flight
        }
      } catch {
        return; // the server is gone
      }
    }
  };
  await Promise.all(tokens.map(client));
  await exited(first.child);
  assert.equal(first.child.signalCode, 'SIGKILL');
  const q = S.Project.open(data, 'd');
  assert.equal(q.db.pragma('integrity_check', { simple: true }), 'ok');
  const stored = new Map(
    q.db
      .prepare('SELECT a.id, v.answer FROM votes v JOIN assignments a ON a.id = v.assignment_id')
      .all()
      .map((r) => [r.id, JSON.parse(r.answer)]),
  );
  for (const a of acked.keys()) assert.ok(stored.has(a), `acknowledged vote ${a} is stored`);
  for (const a of stored.keys()) assert.ok(sent.has(a), 'nothing stored that was not sent');
  assert.equal(q.db.prepare('SELECT count(*) AS n FROM votes').get().n, stored.size, 'one row per assignment');
  assert.equal(q.db.prepare('SELECT sum(votes) AS n FROM tasks').get().n, stored.size, 'task counters agree');
  q.close();
  // restart; the votes that got no answer are sent again
  const second = await serve(data);
  try {
    let dup = 0;
    for (const [a, { token, body }] of sent) {
      if (acked.has(a)) continue;
      const r = await post(second.url, token, body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.duplicate, stored.has(a));
      dup += r.body.duplicate ? 1 : 0;
    }
    const [a0] = acked.keys();
    const again = await post(second.url, sent.get(a0).token, sent.get(a0).body);
    assert.equal(again.body.duplicate, true, 'an acknowledged vote, resent, is not a new vote');
    const r = S.Project.open(data, 'd');
    assert.equal(r.voteCount(), sent.size, `every sent vote exactly once (${dup} had been stored unanswered)`);
    r.close();
  } finally {
    second.child.kill('SIGTERM');
    await exited(second.child);
  }
});
