// The studio in a real browser: Debian's chromium, headless, driven by playwright-core (no browser
// download). Two annotators sign in with their tokens and vote by keyboard on text pairs (Markdown,
// XSS payloads shown as text) and on a video pair; the video pair plays in sync (both players'
// currentTime after a seek, a frame step, play and pause); identities appear only after the vote; the
// leaderboard shows ratings with intervals; the export is valid TRL preference data matching the
// votes; requests without a token or CSRF token are refused. Waits are on page conditions; their
// timeouts only bound the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as S from '../dist/studio/index.js';
import { loadDataset } from '../dist/data/datasets.js';
import { cleanup, makeVideo, startStudio, tmpDir, ADMIN } from './studio-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && 'chromium is not installed (npm run setup installs it)';
const WAIT = { timeout: 30_000 };

let data, s, browser, tokens;
const votes = []; // {who, prompt, chosen, rejected} for decisive votes

const XSS = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [click](javascript:window.__xss=3)';
// [prompt, candidate texts, systems, a piece of each candidate's rendered text that names it]
const GROUPS = [
  ['Say hi in **bold**', ['**hi** [better]', 'hello'], ['m1', 'm2'], ['hi [better]', 'hello']],
  ['Sum 2+2', ['```python\nprint(2+2)  # 4 [better]\n```', `five ${XSS}`], ['m2', 'm3'], ['print(2+2)', 'five']],
  ['Pick a colour', ['blue [same]', 'red [same]'], ['m1', 'm3'], ['blue', 'red']],
  ['Count to 3', ['1 2 4 [junk]', 'one two [junk]'], ['m3', 'm1'], ['1 2 4', 'one two']],
];

before(async () => {
  if (skip) return;
  data = tmpDir('pacer-studio-browser-');
  const p = S.Project.create(data, 'text', { overlap: 2, title: 'Text pairs' });
  S.addGroups(
    p,
    GROUPS.map(([prompt, texts, models]) => ({
      prompt,
      candidates: texts.map((t, k) => ({ kind: 'text', text: t, system: models[k] })),
      source: 'test',
    })),
  );
  p.close();
  const v = S.Project.create(data, 'video', { overlap: 2 });
  const { importMedia } = await import('../dist/studio/media.js');
  const red = importMedia(v.mediaDir, await makeVideo(join(data, 'red.mp4'), [220, 40, 40], 3), 'test');
  const blue = importMedia(v.mediaDir, await makeVideo(join(data, 'blue.mp4'), [40, 80, 220], 2), 'test');
  S.addGroups(v, [
    {
      prompt: 'Which ball moves more smoothly?',
      candidates: [
        {
          kind: 'video',
          media: red,
          system: 'reward_1',
          meta: { segments: [{ start: 0.5, end: 1.2, label: 'bounce' }] },
        },
        { kind: 'video', media: blue, system: 'reward_2' },
      ],
      source: 'test',
    },
  ]);
  v.close();
  const vr = S.Project.create(data, 'vrank', { task: 'ranking' });
  S.addGroups(vr, [
    {
      prompt: 'Rank the balls',
      candidates: ['red', 'blue'].map((c) => ({
        kind: 'video',
        media: importMedia(vr.mediaDir, join(data, `${c}.mp4`), 't'),
      })),
      source: 'test',
    },
  ]);
  vr.close();
  const three = {
    prompt: 'Rank these',
    candidates: ['good', 'ok', 'bad'].map((t) => ({ kind: 'text', text: t })),
    source: 't',
  };
  for (const [name, task] of [
    ['best_worst', 'best_worst'],
    ['ranking', 'ranking'],
    ['likert', 'likert'],
    ['bw_click', 'best_worst'],
    ['rank_click', 'ranking'],
  ]) {
    const q = S.Project.create(data, name, { task });
    S.addGroups(q, [three]);
    q.close();
  }
  s = await startStudio(data);
  tokens = { alice: s.studio.users.add('alice'), bob: s.studio.users.add('bob') };
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await s?.stop();
  if (data) cleanup(data);
});

async function signIn(token) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${s.url}/`);
  assert.equal(new URL(page.url()).pathname, '/login', 'signed-out visitors are sent to the login form');
  await page.focus('#token');
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${s.url}/`, WAIT);
  return page;
}

/** Wait for the next task (a new data-seq) or the end. */
async function nextTask(page, prevSeq) {
  await page.waitForFunction(
    (prev) => {
      const a = document.getElementById('app');
      return a.dataset.state === 'done' || (a.dataset.state === 'ready' && a.dataset.seq !== prev);
    },
    prevSeq,
    WAIT,
  );
  return page.evaluate(() => ({ state: app.dataset.state, seq: app.dataset.seq }));
}

/** Vote on every text task by keyboard; `disagree` flips the vote on the prompt containing it. */
async function voteText(page, who, disagree) {
  await page.goto(`${s.url}/p/text`);
  let t = await nextTask(page, null);
  for (let n = 0; t.state === 'ready'; n++) {
    assert.ok(n < 10, 'bounded');
    const view = await page.evaluate(() => ({
      prompt: document.querySelector('.prompt').textContent.trim(),
      cands: [...document.querySelectorAll('.cand .text')].map((e) => e.textContent),
      app: document.getElementById('app').textContent,
    }));
    assert.ok(!/\bm[123]\b/.test(view.app), 'no system names before the vote');
    const better = view.cands.findIndex((c) => c.includes('[better]'));
    let key = view.cands[0].includes('[same]') ? '3' : view.cands[0].includes('[junk]') ? '0' : String(better + 1);
    if (disagree && view.prompt.includes(disagree)) key = key === '1' ? '2' : '1';
    if (key === '1' || key === '2') {
      const w = Number(key) - 1;
      const [, texts, , keys] = GROUPS.find((g) => view.prompt === g[0].replace(/\*\*/g, ''));
      const original = (shown) => texts[keys.findIndex((k) => shown.includes(k))];
      votes.push({ who, prompt: view.prompt, chosen: original(view.cands[w]), rejected: original(view.cands[1 - w]) });
    }
    await page.keyboard.press(key);
    await page.waitForSelector(`#choice button.on[data-key="${key}"]`, WAIT);
    await page.keyboard.press('Enter');
    t = await nextTask(page, t.seq);
    if (t.state === 'ready' || t.state === 'done') {
      const reveal = await page.textContent('#reveal');
      assert.match(reveal, /A: m\d · B: m\d/, 'identities are shown after the vote');
      const said = { 1: 'A is better', 2: 'B is better', 3: 'Tie', 0: 'Both are bad' }[key];
      assert.ok(reveal.endsWith(` — you chose: ${said}`), `the strip repeats the choice: ${reveal}`);
      const above = await page.evaluate(
        () => document.getElementById('reveal').compareDocumentPosition(app) & Node.DOCUMENT_POSITION_FOLLOWING,
      );
      assert.ok(above, 'the strip is above the task, not below the Keys panel');
    }
  }
  assert.equal(t.state, 'done');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran');
}

test('two annotators vote on text pairs by keyboard; Markdown renders, HTML in completions stays text', {
  skip,
}, async () => {
  const alice = await signIn(tokens.alice);
  const bob = await signIn(tokens.bob);
  await alice.goto(`${s.url}/p/text`);
  await nextTask(alice, null);
  await alice.waitForSelector('.cand .text strong, .cand .text pre', WAIT);
  await voteText(alice, 'alice', null);
  await voteText(bob, 'bob', 'Sum');
  const p = s.studio.project('text').p;
  assert.equal(p.voteCount(), 8, 'two annotators × four tasks');
  const xssShown = p.candidates().find((c) => String(c.content).includes('onerror'));
  assert.ok(xssShown, 'the payload was in a candidate');
  await alice.context().close();
  await bob.context().close();
});

test('a video pair plays in sync: seek, frame step, play and pause move both players together', { skip }, async () => {
  for (const who of ['alice', 'bob']) {
    const page = await signIn(tokens[who]);
    await page.goto(`${s.url}/p/video`);
    const t = await nextTask(page, null);
    await page.waitForFunction(
      () => [...document.querySelectorAll('video')].every((v) => v.readyState >= 2),
      null,
      WAIT,
    );
    const times = () => page.evaluate(() => [...document.querySelectorAll('video')].map((v) => v.currentTime));
    // wait until no player is seeking and `check(times)` holds (the timeout only bounds the test)
    const settled = (check, arg) =>
      page.waitForFunction(
        ([name, x]) => {
          const vs = [...document.querySelectorAll('video')];
          const t = vs.map((v) => v.currentTime);
          const checks = {
            at: () => t.every((v) => Math.abs(v - x) < 1e-3),
            together: () => t[0] > x && Math.abs(t[0] - t[1]) < 1e-3 && vs.every((v) => v.paused),
          };
          return vs.every((v) => !v.seeking) && checks[name]();
        },
        [check, arg],
        WAIT,
      );
    if (who === 'alice') {
      await page.keyboard.press('ArrowRight'); // seek +1 s
      await settled('at', 1);
      const [a, b] = await times();
      assert.ok(Math.abs(a - 1) < 1e-3 && Math.abs(b - 1) < 1e-3, `after seek: ${a}, ${b}`);
      await page.keyboard.press('.'); // one frame on
      await settled('together', 1.001);
      await page.keyboard.press(' '); // play both
      await page.waitForFunction(
        () => {
          const vs = [...document.querySelectorAll('video')];
          return (
            vs.every((v) => !v.paused) &&
            vs[0].currentTime > 1.5 &&
            Math.abs(vs[0].currentTime - vs[1].currentTime) < 0.15
          );
        },
        null,
        WAIT,
      );
      await page.keyboard.press(' '); // pause both, aligned to the clock
      await settled('together', 1.5);
      const [c, d] = await times();
      assert.ok(c > 1.5 && Math.abs(c - d) < 1e-3, `after play and pause: ${c}, ${d}`);
      await page.keyboard.press(']'); // faster
      assert.deepEqual(
        await page.evaluate(() => [...document.querySelectorAll('video')].map((v) => v.playbackRate)),
        [1.5, 1.5],
      );
      assert.ok((await page.$$('#timeline .seg')).length >= 1, 'the annotated segment is on the timeline');
    }
    await page.keyboard.press('2');
    await page.keyboard.press('Enter');
    const after = await nextTask(page, t.seq);
    assert.equal(after.state, 'done');
    assert.match(await page.textContent('#reveal'), /reward_\d/);
    await page.context().close();
  }
  assert.equal(s.studio.project('video').p.voteCount(), 2);
});

test('the leaderboard shows ratings with intervals; the export is valid TRL preference data', { skip }, async () => {
  const admin = await signIn(ADMIN);
  await admin.goto(`${s.url}/p/text/leaderboard`);
  const rows = await admin.$$eval('#ratings tbody tr', (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent)),
  );
  assert.deepEqual(rows.map((r) => r[1]).sort(), ['m1', 'm2', 'm3']);
  for (const r of rows) {
    const [lo, hi] = r[3].replace(/[[\]]/g, '').split(',').map(Number);
    assert.ok(lo <= Number(r[2]) && Number(r[2]) <= hi, `rating inside its interval: ${r}`);
  }
  assert.equal((await admin.$$('#forest circle')).length, 3, 'one point per system');
  assert.equal((await admin.$$('#forest line.ci')).length, 9, 'an interval and two end ticks per system');
  assert.equal((await admin.$$('#winmatrix rect')).length, 9);
  await admin.goto(`${s.url}/p/text/admin`);
  assert.equal((await admin.$$('#people tbody tr')).length, 2);
  assert.equal((await admin.$$('#kappa tbody tr')).length, 1, "Cohen's κ for alice and bob");
  const res = await admin.request.get(`${s.url}/api/projects/text/export?format=preference`);
  assert.equal(res.status(), 200);
  const file = join(data, 'export.jsonl');
  writeFileSync(file, await res.text());
  const ex = await loadDataset(file);
  assert.ok(ex.every((e) => e.format === 'preference'));
  const got = ex.map((e) => `${e.extra.annotator}|${e.chosen}|${e.rejected}`).sort();
  const want = votes.map((v) => `${v.who}|${v.chosen}|${v.rejected}`).sort();
  assert.deepEqual(got, want, 'one row per decisive vote, chosen = what was picked');
  await admin.context().close();
});

test('requests without a token, or cookie writes without the CSRF token, are refused', { skip }, async () => {
  const ctx = await browser.newContext();
  const anon = await ctx.request.get(`${s.url}/api/projects/text/next`);
  assert.equal(anon.status(), 401);
  const media = await ctx.request.get(`${s.url}/p/video/media/x.mp4`, { maxRedirects: 0 });
  assert.equal(media.status(), 401);
  await ctx.close();
  const alice = await signIn(tokens.alice);
  await alice.goto(`${s.url}/p/text`);
  const status = await alice.evaluate(async () => {
    const r = await fetch('/api/projects/text/votes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assignment: 'x', choice: 'A' }),
    });
    return r.status;
  });
  assert.equal(status, 403, 'the session cookie alone cannot write');
  await alice.context().close();
});

test('best/worst, ranking and Likert by keyboard; an admin adds an annotator from the admin page', {
  skip,
}, async () => {
  const page = await signIn(tokens.alice);
  const texts = () => page.$$eval('.cand .text', (es) => es.map((e) => e.textContent.trim()));
  const pos = async (t) => String((await texts()).indexOf(t) + 1);
  await page.goto(`${s.url}/p/best_worst`);
  let t = await nextTask(page, null);
  await page.keyboard.press(await pos('good'));
  await page.keyboard.press(await pos('bad'));
  await page.waitForFunction(() => !document.getElementById('submit').disabled, null, WAIT);
  await page.keyboard.press('Enter');
  assert.equal((await nextTask(page, t.seq)).state, 'done');
  assert.equal(await page.textContent('#progress'), 'You: 1 answer · project: 1 / 1');
  await page.goto(`${s.url}/p/ranking`);
  t = await nextTask(page, null);
  // good first, then ok and bad tied: "good", "ok", "=", "bad"
  for (const k of [await pos('good'), await pos('ok'), '=', await pos('bad')]) await page.keyboard.press(k);
  assert.match(await page.textContent('#selection'), /1\. \d {3}2\. \d = \d/);
  await page.keyboard.press('Enter');
  assert.equal((await nextTask(page, t.seq)).state, 'done');
  await page.goto(`${s.url}/p/likert`);
  t = await nextTask(page, null);
  assert.equal(await page.textContent('.cand h2'), 'Response', 'a neutral heading, not a "1" that reads as a score');
  assert.deepEqual(await page.$$eval('#choice button[data-key]', (bs) => bs.map((b) => b.textContent)), [
    '1 very bad',
    '2',
    '3',
    '4 neutral',
    '5',
    '6',
    '7 excellent',
  ]);
  for (let k = 0; k < 3; k++) {
    const [text] = await texts();
    await page.keyboard.press({ good: '7', ok: '4', bad: '1' }[text]);
    await page.keyboard.press('r');
    await page.keyboard.type(`because ${text}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    t = await nextTask(page, t.seq);
  }
  assert.equal(t.state, 'done');
  const ids = (name) =>
    new Map(
      s.studio
        .project(name)
        .p.candidates()
        .map((c) => [c.content, c.id]),
    );
  const [bw] = s.studio.project('best_worst').p.votes();
  assert.deepEqual(bw.answer, { best: ids('best_worst').get('good'), worst: ids('best_worst').get('bad') });
  assert.deepEqual(s.studio.project('ranking').p.votes()[0].answer, { ranks: [1, 2, 2] });
  const lk = s.studio.project('likert').p.votes();
  assert.deepEqual(lk.map((v) => [v.answer.score, v.rationale]).sort(), [
    [1, 'because bad'],
    [4, 'because ok'],
    [7, 'because good'],
  ]);
  await page.context().close();
  const admin = await signIn(ADMIN);
  await admin.goto(`${s.url}/p/text/admin`);
  await admin.focus('input[name="name"]');
  await admin.keyboard.type('carol');
  await admin.keyboard.press('Enter');
  await admin.waitForSelector('#new-token', WAIT);
  const token = await admin.textContent('#new-token');
  assert.equal(s.studio.users.byToken(token)?.name, 'carol');
  await admin.context().close();
});

test('on a video ranking `=` only marks a tie; `[` and `]` change the speed, as the Keys panel says', {
  skip,
}, async () => {
  const page = await signIn(tokens.alice);
  await page.goto(`${s.url}/p/vrank`);
  const t = await nextTask(page, null);
  const rates = () => page.evaluate(() => [...document.querySelectorAll('video')].map((v) => v.playbackRate));
  const keys = await page.$$eval('#keys dt', (dts) => dts.map((d) => `${d.textContent}: ${d.nextSibling.textContent}`));
  assert.ok(keys.includes('[ ]: slower / faster') && keys.includes('=: tie with the previous'), keys.join('; '));
  assert.equal(keys.filter((k) => k.startsWith('=') || k.includes(' =')).length, 1, `'=' has one meaning: ${keys}`);
  const groups = await page.$$eval('#keys dl > div', (ds) => ds.map((d) => [...d.children].map((c) => c.tagName)));
  assert.deepEqual(
    groups,
    keys.map(() => ['DT', 'DD']),
    'each key and its description in one group',
  );
  await page.keyboard.press('='); // before any pick: nothing to tie with, and not a speed key
  assert.deepEqual(await rates(), [1, 1]);
  await page.keyboard.press(']');
  assert.deepEqual(await rates(), [1.5, 1.5]);
  assert.equal(await page.textContent('#speed'), '1.5×');
  await page.keyboard.press('[');
  await page.keyboard.press('[');
  assert.deepEqual(await rates(), [0.5, 0.5]);
  await page.keyboard.press('1');
  await page.keyboard.press('=');
  await page.keyboard.press('2');
  assert.deepEqual(await rates(), [0.5, 0.5], "'=' after a pick is a tie, not a speed change");
  await page.keyboard.press('Enter');
  assert.equal((await nextTask(page, t.seq)).state, 'done');
  assert.deepEqual(s.studio.project('vrank').p.votes()[0].answer, { ranks: [1, 1] });
  assert.equal(await page.isVisible('#keys'), false, 'no empty Keys box on the end page');
  assert.match(await page.textContent('#progress'), /project: 1 \/ 1$/, 'an up-to-date count on the end page');
  await page.click('#again'); // asks the server again: still nothing left
  await page.waitForFunction(() => app.dataset.state === 'done' && document.getElementById('again'), null, WAIT);
  await page.context().close();
});

test('ranking and best/worst by mouse: click the cards, badges name the picks, buttons do what the keys do', {
  skip,
}, async () => {
  const page = await signIn(tokens.bob);
  const texts = () => page.$$eval('.cand .text', (es) => es.map((e) => e.textContent.trim()));
  const card = async (t) => `.cand[data-pos="${(await texts()).indexOf(t)}"]`;
  const badges = async () => {
    const [shown, b] = [await texts(), await page.$$eval('.cand .badge', (es) => es.map((e) => e.textContent))];
    return Object.fromEntries(shown.map((t, k) => [t, b[k]]));
  };
  const enabled = () => page.$eval('#submit', (b) => !b.disabled);
  await page.goto(`${s.url}/p/bw_click`);
  let t = await nextTask(page, null);
  await page.click(await card('good'));
  await page.click(await card('ok'));
  assert.deepEqual(await badges(), { good: 'Best', ok: 'Worst', bad: '' });
  await page.click('#choice button[data-key="Backspace"]'); // Clear
  assert.deepEqual(await badges(), { good: '', ok: '', bad: '' });
  assert.equal(await enabled(), false);
  await page.click(await card('good'));
  await page.click(await card('bad'));
  assert.deepEqual(await badges(), { good: 'Best', ok: '', bad: 'Worst' });
  await page.click('#submit');
  assert.equal((await nextTask(page, t.seq)).state, 'done');
  const ids = (name) =>
    new Map(
      s.studio
        .project(name)
        .p.candidates()
        .map((c) => [c.content, c.id]),
    );
  const [bw] = s.studio.project('bw_click').p.votes();
  assert.deepEqual(bw.answer, { best: ids('bw_click').get('good'), worst: ids('bw_click').get('bad') });

  await page.goto(`${s.url}/p/rank_click`);
  t = await nextTask(page, null);
  const tie = '#choice button[data-key="="]';
  assert.equal(await page.$eval(tie, (b) => b.disabled), true, 'nothing to tie with yet');
  await page.click(await card('good'));
  await page.click(tie);
  assert.match(await page.textContent('#selection'), /^1\. \d =$/, 'a pending tie is shown');
  assert.equal(await page.$eval(tie, (b) => b.classList.contains('on')), true);
  await page.click(await card('ok'));
  assert.deepEqual(await badges(), { good: 'Rank 1', ok: 'Rank 1', bad: '' });
  await page.click('#choice button[data-key="Backspace"]'); // Undo
  assert.deepEqual(await badges(), { good: 'Rank 1', ok: '', bad: '' });
  await page.click(await card('good')); // already ranked: no change
  await page.click(await card('ok'));
  assert.equal(await enabled(), false);
  await page.keyboard.press(String((await texts()).indexOf('bad') + 1)); // keys still work alongside
  assert.deepEqual(await badges(), { good: 'Rank 1', ok: 'Rank 2', bad: 'Rank 3' });
  await page.click('#submit');
  assert.equal((await nextTask(page, t.seq)).state, 'done');
  assert.deepEqual(s.studio.project('rank_click').p.votes()[0].answer, { ranks: [1, 2, 3] });
  await page.context().close();
});
