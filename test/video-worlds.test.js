// Procedural video worlds (src/video/worlds/) and `pacer video make`: the same seed gives the same
// bytes and another seed other ones; event logs agree with the rendered pixels (read back from the
// files `video make` wrote); answers agree with the event logs; partially labelled items hold two
// occurrences; counterfactual pairs and anomaly twins differ only where they should; rows are valid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as V from '../dist/video/index.js';
import { hierarchicalLabelReward, loadTaxonomy } from '../dist/rewards/index.js';

const { worlds } = V;
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacer-video-worlds-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function pacer(...args) {
  const r = spawnSync(process.execPath, ['bin/pacer.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function make(name, ...args) {
  const out = join(dir, name);
  const r = pacer('video', 'make', '--out', out, '--json', ...args);
  assert.equal(r.code, 0, r.err);
  const rows = readFileSync(join(out, 'data.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
  return { out, rows, result: JSON.parse(r.out) };
}
const knobsOf = (w, given = {}) => worlds.parseKnobs(w, given);
const opts = (w, given) => ({ width: 56, height: 56, fps: w.fps, knobs: knobsOf(w, given) });
const pixel = (data, W, x, y) =>
  Array.from(data.subarray((Math.floor(y) * W + Math.floor(x)) * 3, (Math.floor(y) * W + Math.floor(x)) * 3 + 3));

test('every world is deterministic: same seed, same rows and pixels; another seed, others', () => {
  for (const w of Object.values(worlds.WORLDS)) {
    const a = w.generate(2, 7, opts(w));
    const b = w.generate(2, 7, opts(w));
    const c = w.generate(2, 8, opts(w));
    assert.deepEqual(a.rows, b.rows, w.name);
    const pix = (it) => Buffer.concat(it.videos.map((v) => Buffer.from(worlds.renderAll(v.video))));
    assert.ok(pix(a).equals(pix(b)), `${w.name}: same seed, different pixels`);
    assert.ok(
      !pix(a).equals(pix(c)) || JSON.stringify(a.rows) !== JSON.stringify(c.rows),
      `${w.name}: seeds 7 and 8 agree`,
    );
    assert.notDeepEqual(a.rows, c.rows, w.name);
  }
});

test('video make writes the same bytes for the same seed (MP4 too) and different ones for another seed', () => {
  const a = make('det-a', '--world', 'grounding', '--n', '3', '--seed', '4');
  const b = make('det-b', '--world', 'grounding', '--n', '3', '--seed', '4');
  const c = make('det-c', '--world', 'grounding', '--n', '3', '--seed', '5');
  const bytes = (d, f) => readFileSync(join(d, f));
  assert.ok(bytes(a.out, 'data.jsonl').equals(bytes(b.out, 'data.jsonl')));
  for (const f of readdirSync(join(a.out, 'videos')))
    assert.ok(bytes(a.out, `videos/${f}`).equals(bytes(b.out, `videos/${f}`)), f);
  assert.ok(!bytes(a.out, 'data.jsonl').equals(bytes(c.out, 'data.jsonl')));
  assert.ok(!bytes(a.out, 'videos/grounding-000000.mp4').equals(bytes(c.out, 'videos/grounding-000000.mp4')));
});

test('grounding: the event log agrees with the pixels of the written video', async () => {
  const n = 12;
  const { out, rows } = make('ground', '--world', 'grounding', '--n', String(n), '--seed', '11', '--frames-only');
  const w = worlds.grounding;
  let checked = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const scene = w.generate(i, 11, opts(w)).videos[0].video;
    const file = join(out, row.videos[0]);
    const info = await V.probeVideo(file);
    const frames = Buffer.from((await V.decodeFrames(file, { indices: [...Array(info.frames).keys()] })).data());
    const at = (k, x, y) => pixel(frames.subarray(k * 56 * 56 * 3), 56, x, y);
    const fps = info.fps;
    for (const e of row.truth.events) {
      const mine = row.truth.events.filter((x) => x.subject === e.subject || x.t0 >= e.t1);
      const next = Math.min(info.duration, ...mine.filter((x) => x.t0 >= e.t1 && x !== e).map((x) => x.t0));
      const before = Math.floor(e.t0 * fps);
      const afterK = Math.ceil(e.t1 * fps);
      const nextK = Math.min(info.frames - 1, Math.floor(next * fps));
      const [colour, shape] = e.subject.split(' ');
      const th = scene.clips[0].things.find(
        (t) =>
          t.shape === shape &&
          String(t.color) === String(worlds.COLORS[colour]) &&
          t.actions.some((a) => a.t0 === e.t0 && a.t1 === e.t1),
      );
      if (!th) continue; // a reverting event in a partial item: its subject has its later colour
      if (e.verb === 'turn') {
        assert.deepEqual(
          at(before, th.x, th.y),
          [...worlds.COLORS[e.attributes.from]],
          `${row.id}: ${e.subject} before ${e.t0}`,
        );
        assert.deepEqual(
          at(afterK, th.x, th.y),
          [...worlds.COLORS[e.attributes.to]],
          `${row.id}: ${e.subject} after ${e.t1}`,
        );
        assert.deepEqual(at(nextK, th.x, th.y), [...worlds.COLORS[e.attributes.to]]);
        checked++;
      } else if (e.verb === 'appear' || e.verb === 'vanish') {
        const bg = [24, 24, 24];
        const color = [...worlds.COLORS[e.subject.split(' ')[0]]];
        assert.deepEqual(at(before, th.x, th.y), e.verb === 'appear' ? bg : color, `${row.id}: ${e.verb} before`);
        assert.deepEqual(at(afterK, th.x, th.y), e.verb === 'appear' ? color : bg, `${row.id}: ${e.verb} after`);
        checked++;
      } else if (e.verb === 'move' && !row.truth.partial) {
        const color = [...worlds.COLORS[e.subject.split(' ')[0]]];
        const [dx, dy] = { left: [-14, 0], right: [14, 0], up: [0, -14], down: [0, 14] }[e.attributes.direction];
        assert.deepEqual(at(before, th.x, th.y), color);
        assert.deepEqual(at(afterK, th.x + dx, th.y + dy), color, `${row.id}: moved ${e.attributes.direction}`);
        assert.deepEqual(at(afterK, th.x, th.y), [24, 24, 24], `${row.id}: left its cell`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 10, `only ${checked} events checked`);
});

test('grounding rows: the segment is the queried event; partial items hold two occurrences, one labelled', () => {
  const { rows } = make(
    'partial',
    '--world',
    'grounding',
    '--n',
    '10',
    '--seed',
    '1',
    '--frames-only',
    '--partial',
    '1',
  );
  for (const r of rows) {
    const t = r.truth;
    assert.equal(t.partial, true);
    assert.equal(t.occurrences.length, 2);
    const [[a0, a1], [b0, b1]] = t.occurrences;
    assert.ok(a1 < b0, `${r.id}: occurrences overlap`);
    assert.deepEqual(r.segment, t.occurrences[t.labelled]);
    const q = t.events.filter((e) => (e.t0 === a0 && e.t1 === a1) || (e.t0 === b0 && e.t1 === b1));
    assert.ok(q.length >= 2);
    const same = q.filter((e) => e.subject === q[0].subject && e.verb === q[0].verb);
    assert.equal(same.length, 2, `${r.id}: the two occurrences are not the same event`);
    assert.deepEqual(same[0].attributes, same[1].attributes);
    assert.ok(r.query.includes(same[0].subject), r.query);
    assert.ok(r.segment[0] >= 0 && r.segment[1] <= r.duration);
  }
  const plain = make(
    'plain',
    '--world',
    'grounding',
    '--n',
    '6',
    '--seed',
    '1',
    '--frames-only',
    '--partial',
    '0',
  ).rows;
  for (const r of plain) assert.deepEqual([r.truth.partial, r.truth.occurrences], [false, [r.segment]]);
});

function checkRow(r, dataDir) {
  assert.equal(typeof r.id, 'string');
  assert.ok(Array.isArray(r.videos) && r.videos.length === 1);
  assert.ok(existsSync(join(dataDir, r.videos[0])), r.videos[0]);
  assert.equal(r.prompt[0].role, 'user');
  assert.deepEqual(
    r.prompt[0].content.map((c) => c.type),
    ['video', 'text'],
  );
  assert.ok(r.completion || (r.chosen && r.rejected), `${r.id}: no completion or preference columns`);
  assert.equal(typeof r.truth, 'object');
  if (r.options) {
    assert.ok(r.options.every((o) => typeof o === 'string'));
    assert.match(r.answer, /^[A-J]$/);
    assert.ok(r.answer.charCodeAt(0) - 65 < r.options.length);
  }
  if (r.segment) {
    assert.ok(r.segment[0] < r.segment[1] && r.segment[0] >= 0 && r.segment[1] <= r.duration, `${r.id}: segment`);
  }
}

test('video make writes valid rows for every world', async () => {
  for (const w of Object.keys(worlds.WORLDS)) {
    const out = join(dir, `rows-${w}`);
    const result = await V.makeDataset({ world: w, n: 4, seed: 3, out, framesOnly: true });
    const rows = readFileSync(join(out, 'data.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
    assert.equal(result.rows, rows.length);
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, `${w}: duplicate ids`);
    for (const r of rows) checkRow(r, out);
    const info = JSON.parse(readFileSync(join(out, 'info.json'), 'utf8'));
    assert.deepEqual([info.world, info.n, info.seed, info.format], [w, 4, 3, 'npz']);
  }
  const mp4 = make('rows-mp4', '--world', 'temporal', '--n', '2', '--size', '112x56');
  for (const r of mp4.rows) checkRow(r, mp4.out);
  assert.match(mp4.rows[0].videos[0], /\.mp4$/);
  const bad = pacer('video', 'make', '--world', 'shots', '--out', join(dir, 'x'), '--partial', '0.3');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--partial does not apply to --world shots/);
  assert.equal(pacer('video', 'make', '--world', 'nope', '--out', join(dir, 'x')).code, 2);
});

test('temporal answers agree with the event log in every dimension', () => {
  const w = worlds.temporal;
  for (const dimension of worlds.DIMENSIONS)
    for (let i = 0; i < 6; i++) {
      const r = w.generate(i, 0, opts(w, { dimension, format: 'multi-choice' })).rows[0];
      const ev = r.truth.events;
      const right = r.options[r.answer.charCodeAt(0) - 65];
      if (dimension === 'direction') assert.equal(right, ev.find((e) => e.verb === 'move').attributes.direction);
      if (dimension === 'speed') {
        const [fast] = [...ev].sort((a, b) => a.t1 - a.t0 - (b.t1 - b.t0));
        assert.equal(right, `the ${fast.subject}`);
      }
      if (dimension === 'order') assert.ok(right.toLowerCase().startsWith(`the ${ev[0].subject}`), right);
      if (dimension === 'attribute_change') {
        const e = ev[0];
        assert.equal(right, e.verb === 'turn' ? `It turns ${e.attributes.to}.` : `It ${e.verb}s.`);
      }
      const yn = w.generate(i, 0, opts(w, { dimension: 'direction', format: 'yes_no' })).rows[0];
      const dir = yn.truth.events.find((e) => e.verb === 'move').attributes.direction;
      assert.equal(yn.answer === 'A', yn.prompt[0].content[1].text.includes(`move ${dir}?`));
      assert.deepEqual(yn.options, ['yes', 'no']);
    }
});

test('vinoground pairs: same things and words, opposite order, different videos', () => {
  const w = worlds.vinoground;
  for (let i = 0; i < 8; i++) {
    const it = w.generate(i, 0, opts(w));
    const [pos, neg] = it.rows;
    assert.equal(pos.pair_id, neg.pair_id);
    assert.deepEqual([pos.variant, neg.variant], ['pos', 'neg']);
    assert.notEqual(pos.caption, neg.caption);
    const words = (s) => s.toLowerCase().replace(/[.,]/g, '').split(/\s+/).sort().join(' ');
    assert.equal(words(pos.caption), words(neg.caption));
    assert.deepEqual(pos.options, neg.options);
    assert.equal(pos.options[pos.answer.charCodeAt(0) - 65], pos.caption);
    assert.equal(neg.options[neg.answer.charCodeAt(0) - 65], neg.caption);
    const [a, b] = it.videos.map((v) => Buffer.from(worlds.renderAll(v.video)));
    assert.ok(a.subarray(0, 56 * 56 * 3).equals(b.subarray(0, 56 * 56 * 3)), 'the first frames differ');
    assert.ok(!a.equals(b));
    const [e1, e2] = pos.truth.events;
    const [f1, f2] = neg.truth.events;
    assert.deepEqual([f1.t0, f2.t0], [e1.t0, e2.t0]);
    assert.equal(f1.verb, e2.verb);
    assert.equal(f2.verb, e1.verb);
  }
});

test('anomaly: taxonomy, labels and twins; a conditional twin differs from its anomaly only in the cue', () => {
  const { out, rows } = make('anom', '--world', 'anomaly', '--n', '6', '--seed', '2', '--frames-only');
  const tax = JSON.parse(readFileSync(join(out, 'taxonomy.json'), 'utf8'));
  assert.deepEqual(
    tax.children.map((c) => c.name),
    ['normal', 'anomaly'],
  );
  assert.deepEqual(
    tax.children[1].children.map((c) => c.name),
    ['absolute', 'conditional'],
  );
  const paths = new Set();
  const walk = (n, p) => (n.children ? n.children.forEach((c) => walk(c, [...p, c.name])) : paths.add(p.join('/')));
  walk(tax, []);
  assert.equal(paths.size, 12);
  for (const r of rows) {
    assert.ok(paths.has(r.label.join('/')), r.label.join('/'));
    if (r.task === 'detection') assert.equal(r.answer, r.label[0] === 'anomaly' ? 'A' : 'B');
    if (r.task === 'grounding') assert.deepEqual(r.segment, r.truth.anomaly);
    if (r.task === 'recognition') assert.deepEqual(r.option_labels[r.answer.charCodeAt(0) - 65], r.label);
    assert.ok(rows.some((x) => x.videos[0] === `videos/${r.twin_id}.npz`));
  }
  assert.ok(!rows.some((r) => r.task === 'grounding' && r.label[0] === 'normal'));
  // item 3 is crossing on red vs on green: only the traffic light (x >= 0.8 W, y < 0.34 H) may differ
  const a = V.readFramesNpz(join(out, 'videos/anomaly-000003-anomaly.npz'));
  const b = V.readFramesNpz(join(out, 'videos/anomaly-000003-normal.npz'));
  let diff = 0;
  for (let i = 0; i < a.data.length; i += 3) {
    if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) continue;
    const p = i / 3;
    const [x, y] = [p % 56, Math.floor(p / 56) % 56];
    assert.ok(x >= 0.8 * 56 - 1 && y < 0.34 * 56 + 1, `pixel (${x}, ${y}) differs outside the light`);
    diff++;
  }
  assert.ok(diff > 0);
});

test('anomaly: the five Cue-R1 task rows carry exact labels; hierarchical_label scores them on taxonomy.json', async () => {
  const { out, rows } = make('anom5', '--world', 'anomaly', '--n', '6', '--seed', '4', '--frames-only');
  // per item: 5 tasks on the anomaly, 4 on its normal twin (no grounding)
  assert.equal(rows.length, 6 * 9);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const tax = loadTaxonomy(join(out, 'taxonomy.json'));
  const reward = hierarchicalLabelReward({ taxonomy: tax });
  // the cue that decides each conditional class, written here by hand from the scenes
  const CUE = { cross_on_red: 'red', cross_on_green: 'green', swim_at_night: 'night', swim_by_day: 'day' };
  for (const r of rows) {
    const video = r.id.slice(0, -(r.task.length + 1));
    const twin = byId.get(`${r.twin_id}-${r.task}`);
    if (r.task === 'detection') assert.equal(r.solution, r.label[0] === 'anomaly' ? 'yes' : 'no');
    if (!['recognition', 'anticipation', 'cue'].includes(r.task)) continue;
    const k = r.answer.charCodeAt(0) - 65;
    assert.equal(r.option_classes[k], r.class, r.id);
    assert.equal(r.option_classes[r.twin_answer.charCodeAt(0) - 65], twin.class, r.id);
    assert.equal(new Set(r.option_classes).size, 4);
    if (r.task === 'cue' && CUE[r.class]) assert.match(r.options[k], new RegExp(`\\b${CUE[r.class]}\\b`), r.id);
    // the right letter earns 1; the twin's letter is a context error: 0 (anomaly vs normal)
    const got = await reward({
      prompts: ['q', 'q'],
      completions: [r.answer, r.twin_answer],
      columns: { class: [r.class, r.class], option_classes: [r.option_classes, r.option_classes] },
    });
    assert.deepEqual(got, [1, 0], r.id);
    if (r.task === 'anticipation') {
      // both twins cut where the anomaly starts: onset × 2 fps frames
      assert.equal(r.videos[0], `videos/${video}-cut.npz`);
      const onset = (r.truth.anomaly ?? byId.get(`${r.twin_id}-grounding`).truth.anomaly)[0];
      assert.equal(V.readFramesNpz(join(out, r.videos[0])).frames, onset * 2, r.id);
      // the cue is visible before the onset: an anomaly's cut video differs from its twin's
      if (r.label[0] === 'anomaly') {
        const a = V.readFramesNpz(join(out, r.videos[0])).data;
        const b = V.readFramesNpz(join(out, twin.videos[0])).data;
        assert.ok(
          a.some((x, i) => x !== b[i]),
          `${r.id}: the cut twins are identical`,
        );
      }
    }
  }
  // partial credit by hand against crash: fire (also absolute) 0.5, cross_on_red (an anomaly) 0.25, pass_by 0
  const texts = ['fire', 'cross_on_red', 'pass_by'];
  assert.deepEqual(
    await reward({ prompts: texts, completions: texts, columns: { class: Array(3).fill('crash') } }),
    [0.5, 0.25, 0],
  );
});

test('needle: the mask marks exactly the needle copies, which are identical clips', () => {
  const { out, rows } = make(
    'needle',
    '--world',
    'needle',
    '--n',
    '3',
    '--seed',
    '9',
    '--frames-only',
    '--distractor-clips',
    '5',
    '--clip-frames',
    '8',
  );
  for (const r of rows) {
    const a = V.readFramesNpz(join(out, r.videos[0]));
    assert.equal(r.needle_mask.length, a.frames);
    assert.equal(a.frames, (5 + r.needle_segments.length) * 8);
    assert.equal(r.needle_mask.filter(Boolean).length, r.needle_segments.length * 8);
    const fb = 56 * 56 * 3;
    const clips = r.needle_segments.map(([s]) => Buffer.from(a.data.subarray(s * fb, (s + 8) * fb)));
    for (const [s, e] of r.needle_segments) for (let k = s; k < e; k++) assert.equal(r.needle_mask[k], 1);
    for (const c of clips) assert.ok(c.equals(clips[0]));
    const needleEvent = r.truth.needle_clip_event;
    assert.ok(r.prompt[0].content[1].text.includes(needleEvent.subject));
  }
});

test("shots: TEMPLE's perturbations and pair filters", () => {
  const r = new worlds.Rand(1);
  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.deepEqual(worlds.perturb(r, xs, 'reverse', 4), [7, 8, 5, 6, 3, 4, 1, 2]);
  const dropped = worlds.perturb(r, xs, 'drop', 4);
  assert.equal(dropped.length, 2);
  assert.deepEqual(
    dropped,
    [...dropped].sort((a, b) => a - b),
  );
  const sh = worlds.perturb(r, xs, 'shuffle', 2);
  assert.ok(
    [sh.slice(0, 4), sh.slice(4)].every((c) => c[3] - c[0] === 3),
    `chunks broken: ${sh}`,
  );
  assert.equal(worlds.keepPair('drop', 'a b c', 'a b c'), false);
  assert.equal(worlds.keepPair('shuffle', 'a b c d', 'c d a b'), true);
  assert.equal(worlds.keepPair('reverse', 'aaaa', 'aaaaaaaa'), false);
  const w = worlds.shots;
  const row = w.generate(0, 0, opts(w, { shots: '8' })).rows[0];
  assert.equal(row.shots.length, 8);
  const chosen = row.chosen[0].content[0].text;
  let at = -1;
  for (const s of row.shots) {
    const k = chosen.indexOf(s.caption, at + 1);
    assert.ok(k > at, `caption out of order: ${s.caption}`);
    at = k;
  }
  assert.equal(row.perturbation.kept, true);
  assert.notEqual(row.rejected[0].content[0].text, chosen);
});

test('bench video runs end to end (tiny sizes; no timing asserted)', () => {
  const r = pacer(
    'bench',
    'video',
    '--json',
    '--rounds',
    '1',
    '--seconds',
    '1',
    '--size',
    '64x48',
    '--long-seconds',
    '2',
    '--long-size',
    '64x48',
    '--items',
    '1',
  );
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.decode.runs.length, 1);
  assert.equal(j.rss.frames, 50);
  assert.deepEqual(Object.keys(j.worlds.render_frames_per_s).sort(), Object.keys(worlds.WORLDS).sort());
});

test("shots: ffmpeg's scene detection finds every cut of a shots video at the logged shot starts", async () => {
  const { out, rows } = make(
    'shots-mp4',
    '--world',
    'shots',
    '--n',
    '1',
    '--seed',
    '6',
    '--shots',
    '6',
    '--shot-frames',
    '3',
  );
  const s = await V.sceneSample(join(out, rows[0].videos[0]));
  assert.deepEqual(
    s.timestamps,
    rows[0].shots.map((x) => x.t0),
  );
  assert.deepEqual(s.indices, [0, 3, 6, 9, 12, 15]);
});

test('video make is all or nothing; short videos cut events to fit, too-short ones are refused up front', async () => {
  // events longer than a short video allows are cut (down to 1 s) instead of failing at item k
  const short = make('short', '--world', 'grounding', '--n', '3', '--seed', '7', '--duration', '6-8', '--frames-only');
  for (const r of short.rows) {
    checkRow(r, short.out);
    assert.ok(r.segment[1] - r.segment[0] >= 1 && r.segment[1] <= r.duration - 1, `${r.id}: ${r.segment}`);
  }
  // a duration where even 1-second events cannot fit: refused, nothing written
  const tooShort = join(dir, 'too-short');
  const bad = pacer('video', 'make', '--world', 'grounding', '--out', tooShort, '--duration', '4-5', '--frames-only');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--duration 4-5 is too short: .* at least 6 \(or --partial 0\)/);
  assert.ok(!existsSync(tooShort));
  // a world failing at item 2 (after items 0 and 1 were written) leaves the output folder as it was
  const { grounding } = worlds.WORLDS;
  worlds.WORLDS.failing = {
    ...grounding,
    name: 'failing',
    generate: (i, seed, o) => {
      if (i === 2) throw new Error('pacer: item 2 cannot be made');
      return grounding.generate(i, seed, o);
    },
  };
  try {
    const out = join(dir, 'all-or-nothing');
    await assert.rejects(V.makeDataset({ world: 'failing', n: 4, seed: 0, out, framesOnly: true }), /item 2/);
    assert.ok(!existsSync(out), 'no half-written output folder');
    // into an existing dataset: a failed run leaves it untouched, a finished one replaces its files
    await V.makeDataset({ world: 'grounding', n: 2, seed: 0, out, framesOnly: true });
    const before = readFileSync(join(out, 'data.jsonl'), 'utf8');
    await assert.rejects(V.makeDataset({ world: 'failing', n: 4, seed: 1, out, framesOnly: true }), /item 2/);
    assert.equal(readFileSync(join(out, 'data.jsonl'), 'utf8'), before);
    assert.deepEqual(readdirSync(join(out, 'videos')).sort(), ['grounding-000000.npz', 'grounding-000001.npz']);
    await V.makeDataset({ world: 'grounding', n: 3, seed: 5, out, framesOnly: true });
    assert.equal(readFileSync(join(out, 'data.jsonl'), 'utf8').trim().split('\n').length, 3);
    assert.equal(readdirSync(join(out, 'videos')).length, 3);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.partial-')),
      [],
      'no staging folder left',
    );
  } finally {
    delete worlds.WORLDS.failing;
  }
});

test('grounding --grid: fewer cells, bigger things; a grid too small for the events is refused naming --grid', () => {
  const lit = (out) => {
    const f = V.readFramesNpz(join(out, 'videos', 'grounding-000000.npz'));
    let n = 0;
    for (let i = 0; i < 56 * 56; i++) if (f.data[i * 3] + f.data[i * 3 + 1] + f.data[i * 3 + 2] > 150) n++;
    return n; // pixels of the first frame that are not background (one thing: --events 1, no clutter)
  };
  const knobs = ['--events', '1', '--distractors', '0', '--clutter', '0', '--duration', '8-8', '--frames-only'];
  const small = make('grid4', '--world', 'grounding', '--n', '1', '--seed', '3', ...knobs);
  const big = make('grid2', '--world', 'grounding', '--n', '1', '--seed', '3', '--grid', '2', ...knobs);
  // a thing spans 0.6 of a cell: 0.6·14 ≈ 8 px on the 4×4 grid, 0.6·28 ≈ 17 px on the 2×2 one (about 4× the area)
  assert.ok(lit(small.out) > 20 && lit(big.out) > 3 * lit(small.out), `${lit(small.out)} vs ${lit(big.out)} pixels`);
  const bad = pacer('video', 'make', '--world', 'grounding', '--n', '1', '--grid', '2', '--out', join(dir, 'g'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /the 2x2 grid has 4 — lower --events, --distractors or --clutter, or raise --grid/);
});
