// The preference studio without a browser: safe Markdown, tokens / sessions / CSRF / origins,
// media (range requests, traversal, symlinks, upload limits), the task queue (overlap, leases,
// idempotent votes, gold items), the four task kinds, agreement and export against hand-worked
// values, active pair selection, the ICPL client's long poll, and `studio:` as a training dataset.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as S from '../dist/studio/index.js';
import { Queue } from '../dist/studio/queue.js';
import { StudioClient } from '../dist/clients/studio.js';
import { loadDataset, parseExamples } from '../dist/data/datasets.js';
import { ADMIN, call, cleanup, makeVideo, startStudio, tmpDir } from './studio-helpers.js';

const dirs = [];
const fresh = () => {
  const d = tmpDir();
  dirs.push(d);
  return d;
};
after(() => dirs.forEach(cleanup));

const text = (prompt, cands, extra = {}) => ({
  prompt,
  candidates: cands.map(([t, system]) => ({ kind: 'text', text: t, system })),
  source: 'test',
  ...extra,
});

test('Markdown is rendered from escaped text: raw HTML and script URLs never come through', () => {
  const h = S.renderMarkdown(
    '<img src=x onerror="alert(1)"> **b** `<i>` [x](javascript:alert(1)) [y](https://e.org/?a="q")',
  );
  assert.ok(!h.includes('<img'), h);
  assert.ok(h.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'));
  assert.ok(h.includes('<strong>b</strong>') && h.includes('<code>&lt;i&gt;</code>'));
  assert.ok(!/href="javascript/i.test(h), 'no javascript: link');
  assert.ok(h.includes('href="https://e.org/?a=&quot;q&quot;"'), 'the quote cannot close the attribute');
  assert.equal(
    S.renderMarkdown('```html\n<script>x</script>\n```'),
    '<pre><code class="language-html">&lt;script&gt;x&lt;/script&gt;</code></pre>',
  );
  assert.equal(S.renderMarkdown('- a\n- b\n\n1. c'), '<ul><li>a</li><li>b</li></ul>\n<ol><li>c</li></ol>');
  assert.deepEqual(S.wordDiff('the cat sat', 'the dog sat'), {
    a: 'the <del>cat</del> sat',
    b: 'the <ins>dog</ins> sat',
  });
});

test('tokens, sessions, CSRF and origins: every write needs a token; pages need a session', async () => {
  const data = fresh();
  const s = await startStudio(data);
  try {
    const alice = s.studio.users.add('alice');
    assert.equal((await call(s.url, '/api/projects', { token: null })).status, 401, 'no token');
    assert.equal((await call(s.url, '/api/projects', { token: 'pst_wrong' })).status, 401, 'wrong token');
    assert.equal((await call(s.url, '/api/projects', { token: alice })).status, 200);
    const mk = await call(s.url, '/api/projects', { token: alice, method: 'POST', json: { name: 'x' } });
    assert.equal(mk.status, 403, 'annotators cannot create projects');
    const evil = await call(s.url, '/api/projects', {
      method: 'POST',
      json: { name: 'x' },
      headers: { origin: 'http://evil.example' },
    });
    assert.equal(evil.status, 403, 'cross-origin writes are refused even with a token');
    assert.equal((await call(s.url, '/api/projects', { method: 'POST', json: { name: 'x' } })).status, 201);
    const page = await fetch(`${s.url}/p/x`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/login');
    // the login form: a double-submit cookie; the token travels in the body, never in the URL
    const form = await fetch(`${s.url}/login`);
    const cookie = form.headers.get('set-cookie').split(';')[0];
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())[1];
    const post = (body, c = cookie) =>
      fetch(`${s.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: c, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    assert.equal((await post(`token=${alice}&csrf=wrong`)).status, 403);
    assert.equal((await post(`token=nope&csrf=${csrf}`)).status, 401);
    const ok = await post(`token=${alice}&csrf=${csrf}`);
    assert.equal(ok.status, 303);
    const session = ok.headers.get('set-cookie').split(';')[0];
    assert.match(ok.headers.get('set-cookie'), /HttpOnly; SameSite=Strict/);
    const html = await (await fetch(`${s.url}/p/x`, { headers: { cookie: session } })).text();
    const pageCsrf = /name="csrf" content="([^"]+)"/.exec(html)[1];
    const next = await call(s.url, '/api/projects/x/next', { token: null, headers: { cookie: session } });
    assert.equal(next.status, 200);
    assert.equal(next.body.done, true);
    const vote = (headers) =>
      call(s.url, '/api/projects/x/votes', {
        token: null,
        method: 'POST',
        json: { assignment: 'none', choice: 'A' },
        headers: { cookie: session, ...headers },
      });
    assert.equal((await vote({})).status, 403, 'a cookie write without the CSRF token');
    assert.equal((await vote({ 'x-csrf-token': 'forged' })).status, 403);
    assert.equal((await vote({ 'x-csrf-token': pageCsrf })).status, 404, 'past the guards: no such assignment');
    assert.match((await fetch(`${s.url}/login`)).headers.get('content-security-policy'), /script-src 'self'/);
  } finally {
    await s.stop();
  }
});

test('media: range requests, names only inside the project folder, symlinks out refused, upload limits', async () => {
  const data = fresh();
  const s = await startStudio(data, { uploadLimit: 200_000 });
  try {
    await call(s.url, '/api/projects', { method: 'POST', json: { name: 'v' } });
    const vid = await makeVideo(join(data, 'a.mp4'), [200, 50, 50], 1);
    const bytes = readFileSync(vid);
    const up = await call(s.url, '/api/projects/v/media', {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'video/mp4' },
    });
    assert.equal(up.status, 201);
    assert.match(up.body.file, /^[0-9a-f]{32}\.mp4$/);
    const r = await fetch(`${s.url}/p/v/media/${up.body.file}`, {
      headers: { authorization: `Bearer ${ADMIN}`, range: 'bytes=4-11' },
    });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), `bytes 4-11/${bytes.length}`);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), bytes.subarray(4, 12));
    assert.equal((await fetch(`${s.url}/p/v/media/${up.body.file}`)).status, 401, 'media need a token too');
    const media = join(data, 'projects', 'v', 'media');
    writeFileSync(join(data, 'secret.mp4'), bytes);
    symlinkSync(join(data, 'secret.mp4'), join(media, 'out.mp4'));
    symlinkSync(join(media, up.body.file), join(media, 'in.mp4'));
    const get = (name) => fetch(`${s.url}/p/v/media/${name}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal((await get('out.mp4')).status, 404, 'a symlink out of the folder');
    assert.equal((await get('in.mp4')).status, 200, 'a symlink within it');
    for (const bad of ['..%2Fproject.sqlite', '..%2F..%2Fsecret.mp4', '%2Fetc%2Fpasswd', 'project.sqlite'])
      assert.equal((await get(bad)).status, 404, bad);
    const big = await call(s.url, '/api/projects/v/media', {
      method: 'POST',
      body: Buffer.alloc(300_000, 1),
      headers: { 'content-type': 'video/mp4' },
    });
    assert.equal(big.status, 413);
    const notVideo = await call(s.url, '/api/projects/v/media', {
      method: 'POST',
      body: Buffer.from('<html>'),
      headers: { 'content-type': 'video/mp4' },
    });
    assert.equal(notVideo.status, 415);
  } finally {
    await s.stop();
  }
});

/** Open a project in `data` with groups, served by a running studio. */
function project(data, name, settings, groups) {
  const p = S.Project.create(data, name, settings);
  const r = S.addGroups(p, groups);
  p.close();
  return r;
}

test('the queue: overlap, a reload gets the same task, votes count once, answers are checked', async () => {
  const data = fresh();
  project(data, 'q', { overlap: 1 }, [
    text('p1', [
      ['x', 'm1'],
      ['y', 'm2'],
    ]),
    text('p2', [
      ['x', 'm1'],
      ['y', 'm2'],
    ]),
  ]);
  project(data, 'q2', { overlap: 2 }, [
    text('p1', [
      ['x', 'm1'],
      ['y', 'm2'],
    ]),
  ]);
  const s = await startStudio(data);
  try {
    const [a, b] = [s.studio.users.add('a'), s.studio.users.add('b')];
    const na = (await call(s.url, '/api/projects/q/next', { token: a })).body;
    const nb = (await call(s.url, '/api/projects/q/next', { token: b })).body;
    assert.notEqual(na.assignment, nb.assignment);
    assert.notEqual(na.prompt_html, nb.prompt_html, 'overlap 1: two people get two different tasks');
    assert.equal((await call(s.url, '/api/projects/q/next', { token: a })).body.assignment, na.assignment, 'reload');
    assert.ok(!JSON.stringify(na).includes('m1'), 'no system names before the vote');
    const vote = (t, json) => call(s.url, '/api/projects/q/votes', { token: t, method: 'POST', json });
    assert.equal((await vote(a, { assignment: na.assignment, choice: 'C' })).status, 400);
    assert.equal((await vote(b, { assignment: na.assignment, choice: 'A' })).status, 404, "another's assignment");
    const v1 = await vote(a, { assignment: na.assignment, choice: 'A', rationale: 'clearer', duration_ms: 1200 });
    assert.equal(v1.body.duplicate, false);
    assert.equal(v1.body.reveal.length, 2);
    assert.deepEqual([...v1.body.reveal].sort(), ['m1', 'm2'], 'identities after the vote');
    const v2 = await vote(a, { assignment: na.assignment, choice: 'B' });
    assert.equal(v2.body.duplicate, true, 'a repeated vote is not counted again');
    const { p } = s.studio.project('q');
    assert.equal(p.voteCount(), 1);
    assert.equal(p.votes()[0].rationale, 'clearer');
    assert.equal((await call(s.url, '/api/projects/q/next', { token: a })).body.done, true, 'b holds the other task');
    const qa = (await call(s.url, '/api/projects/q2/next', { token: a })).body;
    const qb = (await call(s.url, '/api/projects/q2/next', { token: b })).body;
    assert.equal(qa.prompt_html, qb.prompt_html, 'overlap 2: both get the same task');
  } finally {
    await s.stop();
  }
});

test('the progress counter: exact between recounts for this process’s votes, recounted afresh on the end page', async () => {
  const data = fresh();
  const pair = (k) =>
    text(`p${k}`, [
      ['x', 'm1'],
      ['y', 'm2'],
    ]);
  project(data, 'c', { overlap: 1 }, [pair(1), pair(2), pair(3)]);
  const p = S.Project.open(data, 'c');
  const other = S.Project.open(data, 'c'); // as a second process (pacer studio import, another server) would
  try {
    const q = new Queue(p);
    const T = 1_000_000;
    assert.deepEqual(p.progressCounts('a', T), { mine: 0, done: 0, target: 3 });
    q.vote('a', { assignment: q.next('a', T).assignment, choice: 'A' }, T);
    q.vote('a', { assignment: q.next('a', T).assignment, choice: 'B' }, T);
    assert.deepEqual(p.progressCounts('a', T + 10), { mine: 2, done: 2, target: 3 }, 'no 1 s lag for own votes');
    const q2 = new Queue(other);
    q2.vote('b', { assignment: q2.next('b', T).assignment, choice: 'A' }, T);
    assert.equal(p.progressCounts('a', T + 20).done, 2, "another process's vote waits for the recount");
    assert.equal(p.progressCounts('a', T + 20, true).done, 3, 'fresh: recounted now');
    assert.equal(p.progressCounts('a', T + 2000).done, 3);
  } finally {
    p.close();
    other.close();
  }
  const s = await startStudio(data);
  try {
    const a = s.studio.users.add('a2');
    const { p: served } = s.studio.project('c');
    served.progressCounts('a2'); // cache the count (3)
    const more = S.addGroups(served, [pair(4)]);
    assert.equal(more.tasks.length, 1);
    const n = (await call(s.url, '/api/projects/c/next', { token: a })).body;
    const side = S.Project.open(data, 'c');
    const q3 = new Queue(side);
    q3.vote('a2', { assignment: n.assignment, choice: 'A' });
    side.close();
    const end = (await call(s.url, '/api/projects/c/next', { token: a })).body;
    assert.equal(end.done, true);
    assert.deepEqual(end.progress, { mine: 1, done: 4, target: 4 }, 'the end page counts afresh');
  } finally {
    await s.stop();
  }
});

/** The shown position of the candidate whose text is `t`. */
const posOf = (view, t) => view.candidates.findIndex((c) => c.html.includes(`<p>${t}</p>`));

test('best/worst, ranking and Likert answers are stored by candidate, whatever order they were shown in', async () => {
  const data = fresh();
  const cands = [
    ['good', 's1'],
    ['ok', 's2'],
    ['bad', 's3'],
  ];
  project(data, 'bw', { task: 'best_worst', overlap: 3 }, [text('p', cands)]);
  project(data, 'rk', { task: 'ranking', overlap: 3 }, [text('p', cands)]);
  project(data, 'lk', { task: 'likert', overlap: 3 }, [text('p', cands)]);
  const s = await startStudio(data);
  try {
    const people = ['a', 'b', 'c'].map((n) => s.studio.users.add(n));
    for (const t of people) {
      const bw = (await call(s.url, '/api/projects/bw/next', { token: t })).body;
      await call(s.url, '/api/projects/bw/votes', {
        token: t,
        method: 'POST',
        json: { assignment: bw.assignment, best: posOf(bw, 'good'), worst: posOf(bw, 'bad') },
      });
      const rk = (await call(s.url, '/api/projects/rk/next', { token: t })).body;
      const ranks = [0, 0, 0];
      ranks[posOf(rk, 'good')] = 1;
      ranks[posOf(rk, 'ok')] = 2;
      ranks[posOf(rk, 'bad')] = 2;
      const r = await call(s.url, '/api/projects/rk/votes', {
        token: t,
        method: 'POST',
        json: { assignment: rk.assignment, ranks },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (let k = 0; k < 3; k++) {
        const lk = (await call(s.url, '/api/projects/lk/next', { token: t })).body;
        const score = lk.candidates[0].html.includes('good') ? 7 : lk.candidates[0].html.includes('ok') ? 4 : 1;
        await call(s.url, '/api/projects/lk/votes', {
          token: t,
          method: 'POST',
          json: { assignment: lk.assignment, score },
        });
      }
    }
    const ids = (name) =>
      new Map(
        s.studio
          .project(name)
          .p.candidates()
          .map((c) => [c.content, c.id]),
      );
    const bwIds = ids('bw');
    for (const v of s.studio.project('bw').p.votes())
      assert.deepEqual(v.answer, { best: bwIds.get('good'), worst: bwIds.get('bad') });
    for (const v of s.studio.project('rk').p.votes())
      assert.deepEqual(v.answer, { ranks: [1, 2, 2] }, 'ranks in candidate order');
    // exports: best over worst; every pair of the ranking (good>ok, good>bad; ok=bad a tie, dropped)
    const bwRows = S.exportRows(s.studio.project('bw').p);
    assert.equal(bwRows.length, 3);
    assert.deepEqual([bwRows[0].chosen, bwRows[0].rejected], ['good', 'bad']);
    assert.equal(
      S.exportRows(s.studio.project('bw').p, { format: 'pairs' }).length,
      3 * 3,
      '2K − 3 = 3 pairs per vote',
    );
    const rkPairs = S.exportRows(s.studio.project('rk').p, { format: 'pairs' });
    assert.deepEqual(
      rkPairs.slice(0, 2).map((r) => `${r.chosen}>${r.rejected}`),
      ['good>ok', 'good>bad'],
    );
    assert.equal(rkPairs.length, 6, 'two decisive pairs per vote; the tie is dropped');
    assert.equal(S.exportRows(s.studio.project('rk').p, { format: 'pairs', ties: 'keep' }).length, 9);
    const lkPref = S.exportRows(s.studio.project('lk').p);
    assert.deepEqual(
      lkPref.map((r) => [r.chosen, r.rejected, r.margin]),
      [['good', 'bad', 6]],
      'Likert: argmax over argmin',
    );
    const kto = S.exportRows(s.studio.project('lk').p, { format: 'kto' });
    assert.deepEqual(kto.map((r) => `${r.completion}:${r.label}`).sort(), [
      'bad:false',
      'bad:false',
      'bad:false',
      'good:true',
      'good:true',
      'good:true',
    ]);
    const lr = S.ratings(s.studio.project('lk').p, 50);
    assert.deepEqual(
      lr.rows.map((r) => [r.name, r.rating]),
      [
        ['s1', 7],
        ['s2', 4],
        ['s3', 1],
      ],
    );
  } finally {
    await s.stop();
  }
});

test('agreement (κ, α) and gold accuracy against hand-worked values', async () => {
  const data = fresh();
  const gold = text(
    'g',
    [
      ['right', 'm1'],
      ['wrong', 'm2'],
    ],
    { gold: [1, 2] },
  );
  const groups = [1, 2, 3, 4].map((k) =>
    text(`p${k}`, [
      [`x${k}`, 'm1'],
      [`y${k}`, 'm2'],
    ]),
  );
  project(data, 'ag', { overlap: 2, gold_every: 2 }, [...groups, gold]);
  const s = await startStudio(data);
  try {
    const [a, b] = [s.studio.users.add('a'), s.studio.users.add('b')];
    // a picks x, x, y, y; b picks x, y, y, y (x_k is the first candidate, "a" in canonical terms)
    const want = { a: ['x', 'x', 'y', 'y'], b: ['x', 'y', 'y', 'y'] };
    for (const [who, t] of [
      ['a', a],
      ['b', b],
    ]) {
      for (let n = 0; n < 5; n++) {
        const v = (await call(s.url, '/api/projects/ag/next', { token: t })).body;
        const k = Number(/p(\d)/.exec(v.prompt_html)?.[1] ?? 0);
        const pick = k ? `${want[who][k - 1]}${k}` : who === 'a' ? 'right' : 'wrong';
        const choice = posOf(v, pick) === 0 ? 'A' : 'B';
        if (n === 1) assert.equal(k, 0, 'the second task served is the gold one (gold_every 2)');
        await call(s.url, '/api/projects/ag/votes', {
          token: t,
          method: 'POST',
          json: { assignment: v.assignment, choice },
        });
      }
    }
    const ag = S.agreement(s.studio.project('ag').p);
    // p_o = 3/4; a: a .5, b .5; b: a .25, b .75 → p_e = .5·.25 + .5·.75 = .5 → κ = (.75 − .5)/.5 = .5
    assert.equal(ag.kappa.length, 1);
    assert.ok(Math.abs(ag.kappa[0].kappa - 0.5) < 1e-12, `κ ${ag.kappa[0].kappa}`);
    // coincidences o_aa = 2, o_ab = o_ba = 1, o_bb = 4: n_a = 3, n_b = 5, n = 8 → α = 1 − 7·2/(2·3·5) = 8/15
    assert.ok(Math.abs(ag.alpha - 8 / 15) < 1e-12, `α ${ag.alpha}`);
    assert.equal(ag.raw, 3 / 4);
    const pr = S.progress(s.studio.project('ag').p);
    assert.deepEqual(
      pr.people.map((x) => [x.name, x.gold, x.goldAccuracy]),
      [
        ['a', 1, 1],
        ['b', 1, 0],
      ],
    );
    assert.equal(pr.done, 8);
    assert.equal(pr.target, 8);
    assert.equal(S.exportRows(s.studio.project('ag').p).length, 8, 'gold votes are not exported');
  } finally {
    await s.stop();
  }
});

/** Vote in `name` as `token` until done: pick(view) gives the choice. */
async function voteAll(s, name, token, pick) {
  for (let n = 0; n < 1000; n++) {
    const v = (await call(s.url, `/api/projects/${name}/next`, { token })).body;
    if (v.done) return n;
    const r = await call(s.url, `/api/projects/${name}/votes`, {
      token,
      method: 'POST',
      json: { assignment: v.assignment, ...pick(v) },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  throw new Error('more than 1000 tasks');
}

test('pairwise export: TRL preference rows (ties dropped or labelled), majority, KTO; all load as TRL data', async () => {
  const data = fresh();
  const groups = [
    text(
      'q1',
      [
        ['good1', 'm1'],
        ['bad1', 'm2'],
      ],
      { category: 'chat' },
    ),
    text(
      'q2',
      [
        ['good2', 'm2'],
        ['bad2', 'm3'],
      ],
      { category: 'math' },
    ),
    text('q3', [
      ['same3a', 'm1'],
      ['same3b', 'm3'],
    ]),
    text('q4', [
      ['bad4a', 'm1'],
      ['bad4b', 'm2'],
    ]),
  ];
  project(data, 'ex', { overlap: 3 }, groups);
  const s = await startStudio(data);
  try {
    const people = ['a', 'b', 'c'].map((n) => s.studio.users.add(n));
    for (const [k, t] of people.entries())
      await voteAll(s, 'ex', t, (v) => {
        const html = v.candidates.map((c) => c.html).join(' ');
        if (html.includes('same3')) return { choice: 'tie' };
        if (html.includes('bad4')) return { choice: 'both_bad' };
        // c disagrees on q2
        const good = html.includes('good2') && k === 2 ? 'bad2' : /good\d/.exec(html)[0];
        return { choice: posOf(v, good) === 0 ? 'A' : 'B' };
      });
    const p = s.studio.project('ex').p;
    const rows = S.exportRows(p);
    assert.equal(rows.length, 6, 'q1 × 3 and q2 × 3; ties and both-bad dropped');
    assert.deepEqual(
      rows
        .filter((r) => r.prompt === 'q2')
        .map((r) => r.chosen)
        .sort(),
      ['bad2', 'good2', 'good2'],
    );
    assert.deepEqual(Object.keys(rows[0]).sort(), [
      'annotator',
      'category',
      'chosen',
      'chosen_model',
      'duration_ms',
      'prompt',
      'rejected',
      'rejected_model',
      'task',
    ]);
    const kept = S.exportRows(p, { ties: 'keep' });
    assert.equal(kept.length, 12);
    assert.deepEqual([...new Set(kept.map((r) => r.outcome))].sort(), ['both_bad', 'tie', 'win']);
    const maj = S.exportRows(p, { aggregate: 'majority' });
    assert.deepEqual(
      maj.map((r) => [r.chosen, r.votes, r.agreement]),
      [
        ['good1', 3, 1],
        ['good2', 3, 2 / 3],
      ],
    );
    const kto = S.exportRows(p, { format: 'kto' });
    assert.equal(kto.length, 6 * 2 + 3 * 2, 'winner and loser per vote, and both-bad as two false rows');
    assert.equal(
      kto.filter((r) => r.completion.startsWith('bad4')).every((r) => r.label === false),
      true,
    );
    // through the HTTP export, then TRL's own format rules (pacer's dataset loader)
    const file = join(data, 'pref.jsonl');
    const res = await fetch(`${s.url}/api/projects/ex/export?format=preference`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    writeFileSync(file, await res.text());
    const ex = await loadDataset(file);
    assert.equal(ex.length, 6);
    assert.ok(ex.every((e) => e.format === 'preference' && typeof e.chosen === 'string'));
    const k = parseExamples(
      kto.map((value, i) => ({ where: `kto:${i}`, value })),
      'kto',
    );
    assert.ok(k.every((e) => e.format === 'unpaired_preference'));
  } finally {
    await s.stop();
  }
});

test('active pairs: the most informative pair next, every system seen (fairness floor), within the budget', async () => {
  const data = fresh();
  const systems = ['s0', 's1', 's2', 's3', 's4', 's5'];
  const groups = Array.from({ length: 4 }, (_, g) =>
    text(
      `prompt ${g}`,
      systems.map((m) => [`${m} answer ${g}`, m]),
    ),
  );
  const r = project(data, 'act', { pairs: 'active', budget: 30 }, groups);
  assert.equal(r.tasks.length, 0, 'no pair tasks until someone asks');
  const s = await startStudio(data);
  try {
    const t = s.studio.users.add('a');
    // the better system (higher index) always wins
    const n = await voteAll(s, 'act', t, (v) => {
      const [x, y] = v.candidates.map((c) => Number(/s(\d)/.exec(c.html)[1]));
      return { choice: x > y ? 'A' : 'B' };
    });
    assert.equal(n, 30, 'the budget');
    const p = s.studio.project('act').p;
    const tasks = p.tasks();
    assert.ok(tasks.every((x) => x.reason === 'active:fairness' || x.reason === 'active:uncertainty'));
    assert.ok(
      tasks.some((x) => x.reason === 'active:uncertainty'),
      'past the floor, uncertainty chooses',
    );
    const keys = tasks.map((x) => `${x.groupId}:${x.candidates}`);
    assert.equal(new Set(keys).size, keys.length, 'no pair asked twice on a prompt');
    const seen = new Map();
    const sys = new Map(p.candidates().map((c) => [c.id, c.system]));
    for (const x of tasks) for (const c of x.candidates) seen.set(sys.get(c), (seen.get(sys.get(c)) ?? 0) + 1);
    assert.deepEqual([...seen.keys()].sort(), systems);
    assert.ok(Math.min(...seen.values()) >= 4, `every system compared several times: ${[...seen.values()]}`);
    const lb = S.ratings(p, 100);
    assert.deepEqual(
      lb.rows.map((x) => x.name),
      [...systems].reverse(),
      'the ratings recover the order',
    );
    assert.ok(lb.rows.every((x) => x.lower <= x.rating && x.rating <= x.upper));
  } finally {
    await s.stop();
  }
});

test('the ICPL loop through StudioClient: post candidate videos, wait for the best and worst', async () => {
  const data = fresh();
  const s = await startStudio(data);
  try {
    const client = new StudioClient(s.url, ADMIN);
    await client.createProject('icpl-1', { task: 'best_worst' });
    const files = [];
    for (const [k, c] of [
      [200, 40, 40],
      [40, 200, 40],
      [40, 40, 200],
    ].entries())
      files.push(await client.uploadVideo('icpl-1', await makeVideo(join(data, `r${k}.mp4`), c, 1)));
    const { tasks } = await client.addGroups('icpl-1', [
      { prompt: 'Which humanoid runs best?', candidates: files.map((f, k) => ({ video: f, model: `reward_${k}` })) },
    ]);
    assert.equal(tasks.length, 1);
    const waiting = client.waitForAnswers('icpl-1', tasks[0], { timeoutS: 60 });
    const person = s.studio.users.add('human');
    const v = (await call(s.url, '/api/projects/icpl-1/next', { token: person })).body;
    assert.equal(v.media, 'video');
    const shownFile = (k) => v.candidates[k].video.split('/').pop();
    const best = v.candidates.findIndex((_, k) => shownFile(k) === files[1]);
    const worst = v.candidates.findIndex((_, k) => shownFile(k) === files[2]);
    await call(s.url, '/api/projects/icpl-1/votes', {
      token: person,
      method: 'POST',
      json: { assignment: v.assignment, best, worst },
    });
    const got = await waiting;
    assert.equal(got.done, true);
    assert.deepEqual(got.answers[0].answer, { best: 1, worst: 2 }, 'positions as posted');
    const none = await client.waitForAnswers('icpl-1', tasks[0], { timeoutS: 0 });
    assert.equal(none.done, true);
  } finally {
    await s.stop();
  }
});

test('`train_dataset: studio:PROJECT` — pacer train reads a project’s votes as TRL preference rows', async () => {
  const { spawnSync } = await import('node:child_process');
  const { FIXTURES } = await import('./helpers.js');
  const data = fresh();
  const groups = Array.from({ length: 6 }, (_, k) =>
    text(`${k}+${k}=`, [
      [`${2 * k}`, 'right'],
      [`${2 * k + 1}`, 'wrong'],
    ]),
  );
  project(data, 'dpo', {}, groups);
  const p = S.Project.open(data, 'dpo');
  const q = new Queue(p);
  for (let v = q.next('a'); v; v = q.next('a')) {
    const right = p.candidates(v.groupId).find((c) => c.system === 'right').id;
    q.vote('a', { assignment: v.assignment, choice: v.shown[0] === right ? 'A' : 'B' });
  }
  p.close();
  const ex = await loadDataset(`studio:${join(data, 'projects', 'dpo')}`);
  assert.equal(ex.length, 6);
  assert.deepEqual([ex[0].prompt, ex[0].chosen, ex[0].rejected], ['0+0=', '0', '1']);
  await assert.rejects(loadDataset(`studio:${join(data, 'projects', 'dpo')}?ties=keep`), /not preferences/);
  await assert.rejects(loadDataset(`studio:${join(data, 'nothing')}`), /not a studio project folder/);
  await assert.rejects(loadDataset('nosuch:thing.jsonl'), /no dataset scheme 'nosuch' is registered/);
  // through the CLI, with the project path relative to the config file
  const cfg = join(data, 'dpo.yaml');
  writeFileSync(
    cfg,
    [
      'trainer: dpo',
      `model_name_or_path: ${join(FIXTURES, 'models', 'llama')}`,
      'train_dataset: studio:projects/dpo',
      'output_dir: out',
      'per_device_train_batch_size: 2',
      'max_steps: 2',
      'logging_steps: 1',
      'threads: 1',
      'report: false',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, ['bin/pacer.js', 'train', cfg, '--no-progress'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(out.global_step, 2);
  assert.ok(Number.isFinite(out.final.loss));
});

test('pacer studio import | annotator | export | stats from the command line; bad lines name file and line', async () => {
  const { spawnSync } = await import('node:child_process');
  const { existsSync } = await import('node:fs');
  const d = fresh();
  const pacer = (...args) =>
    spawnSync(process.execPath, ['bin/pacer.js', 'studio', ...args], { encoding: 'utf8', timeout: 60_000 });
  await makeVideo(join(d, 'a.mp4'), [200, 40, 40], 1);
  await makeVideo(join(d, 'b.mp4'), [40, 40, 200], 1);
  writeFileSync(
    join(d, 'v.jsonl'),
    `${JSON.stringify({ prompt: 'which?', videos: ['a.mp4', 'b.mp4'], models: ['r1', 'r2'], segments: [[{ start: 0, end: 0.5, label: 'x' }], null] })}\n`,
  );
  let r = pacer('import', '--data', join(d, 'data'), '--project', 'v', '--jsonl', join(d, 'v.jsonl'), '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).tasks, 1);
  const { readdirSync } = await import('node:fs');
  assert.equal(readdirSync(join(d, 'data', 'projects', 'v', 'media')).length, 2, 'both videos copied in');
  writeFileSync(
    join(d, 'bad.jsonl'),
    '{"prompt": "p", "completions": ["a", "b"]}\n{"prompt": "q", "completion": 3}\n{"prompt": "q", "completion": "x"}\n',
  );
  r = pacer('import', '--data', join(d, 'data'), '--project', 'bad', '--jsonl', join(d, 'bad.jsonl'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.jsonl:2: 'candidate 0 text' must be a string/);
  assert.ok(!existsSync(join(d, 'data', 'projects', 'bad')), 'no half-made project is left behind');
  r = pacer('import', '--data', join(d, 'data'), '--project', 'v', '--jsonl', join(d, 'v.jsonl'), '--task', 'ranking');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /task cannot change/);
  r = pacer('annotator', '--data', join(d, 'data'), '--add', 'dora');
  assert.equal(r.status, 0, r.stderr);
  const token = JSON.parse(r.stdout).token;
  const p = S.Project.open(join(d, 'data'), 'v');
  const v = new Queue(p).next('dora');
  new Queue(p).vote('dora', { assignment: v.assignment, choice: 'A' });
  p.close();
  const users = new S.Users(join(d, 'data'));
  assert.equal(users.byToken(token).name, 'dora');
  users.close();
  r = pacer('export', '--data', join(d, 'data'), '--project', 'v', '--format', 'kto', '--out', join(d, 'kto.jsonl'));
  assert.equal(r.status, 0, r.stderr);
  const rows = readFileSync(join(d, 'kto.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((x) => x.label).sort(), [false, true]);
  assert.ok(
    rows.every((x) => x.completion.startsWith(join(d, 'data', 'projects', 'v', 'media'))),
    'videos export as paths',
  );
  r = pacer('stats', '--data', join(d, 'data'), '--project', 'v', '--rounds', '50', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout)
      .rows.map((x) => x.name)
      .sort(),
    ['r1', 'r2'],
  );
  r = pacer('export', '--data', join(d, 'data'), '--project', 'nope', '--out', join(d, 'x.jsonl'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no project 'nope'/);
});

test('a new admin token ends the old admin sessions; the name admin is reserved', () => {
  const d = fresh();
  const u = new S.Users(d);
  u.setAdminToken('first-admin-token-0123');
  const sid = u.openSession(u.byToken('first-admin-token-0123')).id;
  u.setAdminToken('first-admin-token-0123');
  assert.equal(u.session(sid)?.user.name, 'admin', 'the same token keeps the session');
  u.setAdminToken('second-admin-token-456');
  assert.equal(u.session(sid), null, 'a new token ends it');
  assert.equal(u.byToken('first-admin-token-0123'), null);
  assert.throws(() => u.add('admin'), /the studio's own admin/);
  assert.throws(() => u.add('../x'), /annotator names are/);
  const t = u.add('eve');
  u.rotate('eve');
  assert.equal(u.byToken(t), null, 'a rotated token stops working');
  u.close();
});
