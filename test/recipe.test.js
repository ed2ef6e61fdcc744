// `pacer recipe vlm-base --smoke`: the whole recipe (worlds → word-level tokenizer → Qwen2.5-VL from
// scratch → SFT → held-out evaluation) on tiny data; the folder is a Hugging Face model pacer loads and
// generates with, its tokenizer is lossless on the worlds' text and splits it into the words, spaces and
// punctuation its pattern names, the record holds the configuration, seed and metrics, a second run
// reuses the folder, and an unknown recipe is a usage error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fromPretrained } from '../dist/models/pretrained.js';
import { loadSafetensors } from '../dist/engine/index.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', timeout: 600_000 });

test('recipe vlm-base --smoke: an HF-layout Qwen2.5-VL with a word-level tokenizer and held-out metrics', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-recipe-'));
  try {
    const out = join(d, 'base');
    const r = pacer('recipe', 'vlm-base', '--smoke', '--out', out, '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.cached, false);
    for (const k of ['qa_accuracy', 'caption_accuracy', 'objects_accuracy', 'grounding_miou', 'grounding_r@0.5'])
      assert.ok(res.metrics[k] >= 0 && res.metrics[k] <= 1, `${k}: ${res.metrics[k]}`);
    const held = readFileSync(join(out, 'work', 'data', 'held.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(res.metrics.held_out_rows, held.length);
    // 2 items × 2 worlds, each a question, a caption and an objects row, plus the grounding videos' other events
    const tasks = held.map((r) => r.task);
    assert.equal(tasks.filter((t) => t === 'caption').length, 4);
    assert.equal(tasks.filter((t) => t === 'objects').length, 4);
    assert.ok(tasks.filter((t) => t === 'grounding').length >= 2);
    for (const r of held.filter((x) => x.task === 'objects'))
      assert.match(r.completion[0].content[0].text, /^The [a-z]+ [a-z]+( and the [a-z]+ [a-z]+)*\.$/);
    // video reliance: the answers' NLL with their own and with another video, over the rows that have a partner
    assert.ok(res.metrics.nll_own_video > 0 && res.metrics.nll_other_video > 0);
    assert.ok(res.metrics.reliance_rows >= 2 && res.metrics.reliance_rows <= held.length);
    assert.ok(Number.isFinite(res.metrics.final_loss));
    const rec = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
    assert.equal(rec.seed, 0);
    assert.ok(rec.params > 1e6 && rec.params < 3e6, `${rec.params} parameters`);
    const model = join(out, 'model');
    for (const f of [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'chat_template.json',
      'preprocessor_config.json',
    ])
      assert.ok(existsSync(join(model, f)), f);
    // the language model trained; the vision tower and merger kept their initialisation bit for bit
    const init = loadSafetensors(join(out, 'work', 'init', 'model.safetensors'));
    const done = loadSafetensors(join(model, 'model.safetensors'));
    const same = (k) => Buffer.from(init.get(k).data().buffer).equals(Buffer.from(done.get(k).data().buffer));
    const visual = [...init.keys()].filter((k) => k.startsWith('visual.'));
    assert.ok(visual.length > 20 && visual.every(same), 'vision tower and merger unchanged');
    assert.ok(!same('model.layers.0.self_attn.q_proj.weight'), 'the language model trained');
    const pm = fromPretrained(model);
    assert.equal(pm.modelType, 'qwen2_5_vl');
    pm.model.dispose();
    // the tokenizer: Qwen's special strings are single tokens; words, spaces and punctuation one token each
    const tok = Tokenizer.fromPretrained(model);
    const vocab = JSON.parse(readFileSync(join(model, 'tokenizer.json'), 'utf8')).model.vocab;
    const s = '<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe the video.';
    const want = ['<|im_start|>', 'user', '\n', '<|vision_start|>', '<|video_pad|>', '<|vision_end|>']
      .concat(['Describe', ' ', 'the', ' ', 'video', '.'])
      .map((w) => vocab[w]);
    assert.ok(want.every((id) => Number.isInteger(id)));
    assert.deepEqual(tok.encode(s), want);
    assert.equal(tok.decode(tok.encode(s)), s);
    const rows = readFileSync(join(out, 'work', 'data', 'train.jsonl'), 'utf8')
      .trim()
      .split('\n');
    for (const line of rows) {
      const row = JSON.parse(line);
      const text = tok.applyChatTemplate([...row.prompt, ...row.completion]);
      assert.equal(tok.decode(tok.encode(text)), text);
    }
    // every world's words are known, not only the two worlds trained on (the cue recipe asks about anomalies)
    const cue = 'Is anything anomalous happening? A pedestrian crosses the road while the light is red.';
    assert.ok(!tok.encode(cue).includes(vocab['[UNK]']), 'anomaly words are in the vocabulary');
    assert.equal(tok.decode(tok.encode(cue)), cue);
    // the same configuration and seed again: reused
    const again = pacer('recipe', 'vlm-base', '--smoke', '--out', out, '--json');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).cached, true);
    const bad = pacer('recipe', 'vlm-bsae');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown recipe 'vlm-bsae' \(recipes: vlm-base(, [a-z-]+)*\)/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('study summaries: mean and sample std per arm and metric, every arm on every seed', async () => {
  const { meanStd, summarizeArms, writeSummary } = await import('../dist/recipes/study.js');
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1 }); // ((1 + 0 + 1) / 2) ** 0.5
  assert.deepEqual(meanStd([0.5]), { mean: 0.5, std: 0 });
  const runs = [
    { arm: 'a', seed: 0, metrics: { acc: 0.5, tok: 10 } },
    { arm: 'a', seed: 1, metrics: { acc: 0.7, tok: 14 } },
    { arm: 'b', seed: 0, metrics: { acc: 0.1 } },
    { arm: 'b', seed: 1, metrics: { acc: 0.3 } },
  ];
  const s = summarizeArms('demo', [0, 1], runs);
  assert.ok(Math.abs(s.arms.a.acc.mean - 0.6) < 1e-12 && Math.abs(s.arms.a.acc.std - Math.SQRT2 * 0.1) < 1e-12);
  assert.deepEqual(s.arms.a.tok.values, [10, 14]);
  assert.throws(() => summarizeArms('demo', [0, 1, 2], runs), /arm 'a' has 0 runs for seed 2/);
  const d = mkdtempSync(join(tmpdir(), 'pacer-study-'));
  try {
    writeSummary(
      join(d, 'summary.json'),
      summarizeArms('demo', [0], [{ arm: 'x', seed: 0, metrics: { m: Number.NaN } }]),
    );
    assert.equal(JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')).arms.x.m.mean, null);
    // an earlier summary is reused only for the same configuration and seeds
    const { reusableSummary, armMeans } = await import('../dist/recipes/study.js');
    writeSummary(join(d, 'again.json'), { ...summarizeArms('demo', [0, 1], runs), spec: { lr: 1 } });
    assert.ok(reusableSummary(join(d, 'again.json'), { lr: 1 }, [0, 1]));
    assert.equal(reusableSummary(join(d, 'again.json'), { lr: 2 }, [0, 1]), null);
    assert.equal(reusableSummary(join(d, 'again.json'), { lr: 1 }, [0]), null);
    assert.equal(reusableSummary(join(d, 'missing.json'), { lr: 1 }, [0, 1]), null);
    assert.deepEqual(armMeans(s, ['tok'], '/'), { 'a/tok': 12 });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
  const two = pacer('recipe', 'vlm-base', '--smoke', '--seeds', '0,1', '--out', join(tmpdir(), 'pacer-never'));
  assert.notEqual(two.status, 0);
  assert.match(two.stderr, /vlm-base trains one model per run; give one --seed/);
  const rep = pacer('recipe', 'vlm-base', '--seeds', '1,1');
  assert.equal(rep.status, 2);
  assert.match(rep.stderr, /--seeds repeats a seed/);
});

test('the committed default base (assets/vlm-base) matches the default configuration and is reused', async () => {
  const { vlmBaseSpec, COMMITTED_VLM_BASE } = await import('../dist/recipes/vlm-base.js');
  const rec = JSON.parse(readFileSync(join(COMMITTED_VLM_BASE, 'recipe.json'), 'utf8'));
  // a changed configuration needs a new committed base (node scripts/commit-vlm-base.mjs), or npm start trains one
  assert.deepEqual(rec.spec, vlmBaseSpec(false));
  const { WORLDS } = await import('../dist/video/worlds/registry.js');
  assert.deepEqual([...rec.spec.vocabulary_worlds].sort(), Object.keys(WORLDS).sort(), 'every world in the vocabulary');
  assert.equal(rec.seed, 0);
  assert.equal(rec.dtype, 'bfloat16');
  const file = join(COMMITTED_VLM_BASE, 'model', 'model.safetensors');
  assert.ok(statSync(file).size <= 8e6, `${statSync(file).size} bytes`);
  const w = loadSafetensors(file);
  assert.ok([...w.values()].every((t) => t.dtype === 'bfloat16'));
  const r = pacer('recipe', 'vlm-base', '--json');
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.cached, true);
  assert.equal(res.dir, COMMITTED_VLM_BASE);
  assert.ok(res.metrics.nll_other_video > res.metrics.nll_own_video, 'the committed base uses its video');
});

/** Run node with args in a child process; resolves with its exit code and stderr (killed after 10 minutes). */
async function nodeChild(args) {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args);
    let err = '';
    p.stderr.on('data', (b) => {
      err += b;
    });
    const kill = setTimeout(() => p.kill(), 600_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, err });
    });
  });
}

/** A lock file in d left by a process that no longer runs. */
function writeStaleLock(d) {
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  writeFileSync(join(d, '.lock'), dead.stdout);
}

test('a folder lock: a second holder waits; a stale lock is taken over; a long wait is an error', async () => {
  const { withDirLock } = await import('../dist/util/lock.js');
  const d = mkdtempSync(join(tmpdir(), 'pacer-lock-'));
  try {
    const events = [];
    let release;
    const first = withDirLock(d, async () => {
      events.push('first starts');
      await new Promise((r) => {
        release = r;
      });
      events.push('first ends');
    });
    const second = withDirLock(d, async () => events.push('second runs'), {
      pollMs: 5,
      onWait: (owner) => {
        events.push(`second waits for ${owner}`);
        // a third caller that will not wait: an error naming the lock file and its owner
        withDirLock(d, async () => events.push('third runs'), { maxWaitMs: -1 }).catch((e) =>
          events.push(
            e.message.includes(join(d, '.lock')) && e.message.includes(String(process.pid))
              ? 'third refused'
              : e.message,
          ),
        );
        setImmediate(() => release());
      },
    });
    await Promise.all([first, second]);
    assert.deepEqual(events, [
      'first starts',
      `second waits for ${process.pid}`,
      'third refused',
      'first ends',
      'second runs',
    ]);
    assert.ok(!existsSync(join(d, '.lock')), 'released');
    writeStaleLock(d);
    assert.equal(await withDirLock(d, async () => 'taken over', { maxWaitMs: -1 }), 'taken over');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a folder lock under contention: four processes, a stale lock at first, never two holders', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-lock-'));
  try {
    writeStaleLock(d);
    const log = join(d, 'log');
    const lock = pathToFileURL(join(root, 'dist/util/lock.js')).href;
    const script = [
      `import { withDirLock } from ${JSON.stringify(lock)};`,
      "import { appendFileSync } from 'node:fs';",
      'for (let i = 0; i < 12; i++)',
      `  await withDirLock(${JSON.stringify(d)}, async () => {`,
      `    appendFileSync(${JSON.stringify(log)}, 'in ' + process.pid + '\\n');`,
      '    await new Promise((r) => setTimeout(r, Math.random() * 3));',
      `    appendFileSync(${JSON.stringify(log)}, 'out ' + process.pid + '\\n');`,
      '  }, { pollMs: 1 });',
    ].join('\n');
    const runs = await Promise.all([0, 1, 2, 3].map(() => nodeChild(['--input-type=module', '-e', script])));
    for (const r of runs) assert.equal(r.code, 0, r.err);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4 * 12 * 2);
    for (let i = 0; i < lines.length; i += 2) {
      assert.ok(lines[i].startsWith('in '), `line ${i}: ${lines[i]} (another holder entered)`);
      assert.equal(lines[i + 1], lines[i].replace('in ', 'out '), `line ${i + 1}`);
    }
    assert.deepEqual(readdirSync(d).sort(), ['log'], 'no lock, break or private file left behind');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('vlm-base is reproducible: one seed gives the same model in two processes, another seed a different one', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-recipe-'));
  try {
    const run = (seed, out) => {
      const args = ['recipe', 'vlm-base', '--smoke', '--threads', '1', '--seed', String(seed), '--out', join(d, out)];
      const r = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(join(d, out, 'work', 'init', 'model.safetensors'));
    };
    const [a, b, c] = [run(3, 'a'), run(3, 'b'), run(4, 'c')];
    assert.ok(a.equals(b), 'the same seed draws the same initial weights');
    assert.ok(!a.equals(c), 'another seed draws others');
    const final = (out) => readFileSync(join(d, out, 'model', 'model.safetensors'));
    assert.ok(final('a').equals(final('b')), 'and trains them to the same model');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('two runs asking for one uncached vlm-base at once: one trains, the other waits and reuses it', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-recipe-'));
  try {
    const out = join(d, 'base');
    const start = () => nodeChild([join(root, 'bin/pacer.js'), 'recipe', 'vlm-base', '--smoke', '--out', out]);
    const runs = await Promise.all([start(), start()]);
    for (const r of runs) assert.equal(r.code, 0, r.err);
    assert.equal(runs.filter((r) => r.err.includes('training the language model')).length, 1);
    assert.equal(runs.filter((r) => r.err.includes('reusing')).length, 1);
    assert.ok(existsSync(join(out, 'model', 'model.safetensors')) && !existsSync(join(out, '.lock')));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
