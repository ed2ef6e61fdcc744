// Runs against faults and misuse (issue 18, items 10–14): a fresh run refuses a used output_dir
// unless overwrite_output_dir; resuming a different run is an error naming the differences; a torn
// metrics line is dropped on resume; one huge dataset line is an error naming file and line, and long
// texts are cut before tokenizing; a diverging run warns; a failed checkpoint write leaves nothing
// behind and names the step; model and tokenizer errors name their files; no empty output_dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P, FIXTURES } from './helpers.js';
import { resolveConfig, train, writeCheckpoint } from '../dist/trainers/index.js';
import { tokenizeSFT } from '../dist/data/tokenize.js';
import { loadDataset } from '../dist/data/datasets.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const MODEL = join(FIXTURES, 'models', 'llama');
const quiet = { progress: false, log: () => {} };
const tmp = () => mkdtempSync(join(tmpdir(), 'pacer-runs-'));
function pairs(d) {
  const rows = [];
  for (let a = 1; a <= 6; a++)
    for (let b = 1; b <= 2; b++) rows.push({ prompt: `${a}+${b}=`, chosen: `${a + b}`, rejected: `${a + b + 1}` });
  writeFileSync(join(d, 'pref.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return join(d, 'pref.jsonl');
}
const dpo = (d, extra = {}) =>
  resolveConfig(
    {
      trainer: 'dpo',
      model_name_or_path: MODEL,
      train_dataset: pairs(d),
      output_dir: join(d, 'out'),
      per_device_train_batch_size: 4,
      max_steps: 4,
      save_steps: 2,
      logging_steps: 1,
      threads: 1,
      learning_rate: 1e-3,
      report: false,
      ...extra,
    },
    'cfg.yaml',
    d,
  );
const lines = (f) => readFileSync(f, 'utf8').trim().split('\n');

test('a fresh run refuses a used output_dir; resuming a different run names the differences', async () => {
  const d = tmp();
  await train(dpo(d), quiet); // run A: checkpoint-2, metrics of 4 steps
  // a different run started in the same folder
  await assert.rejects(
    train(dpo(d, { learning_rate: 5e-4 }), quiet),
    /output_dir .*out holds another run .*overwrite_output_dir: true/,
  );
  await assert.rejects(
    train(dpo(d, { learning_rate: 5e-4, resume_from_checkpoint: true }), quiet),
    /checkpoint-2 belongs to a different run: config\.learning_rate: 0\.001 -> 0\.0005/,
  );
  // the data changed under the same path: also a different run
  appendFileSync(join(d, 'pref.jsonl'), `${JSON.stringify({ prompt: '9+9=', chosen: '18', rejected: '19' })}\n`);
  const changed = dpo(d, { resume_from_checkpoint: true });
  writeFileSync(
    join(d, 'pref.jsonl'),
    readFileSync(join(d, 'pref.jsonl'), 'utf8') + '{"prompt": "1+0=", "chosen": "1", "rejected": "2"}\n',
  );
  await assert.rejects(train(changed, quiet), /belongs to a different run: data\.train/);
  // overwrite starts afresh: the old run's checkpoints and metrics are gone, not spliced
  const d2 = tmp();
  await train(dpo(d2), quiet);
  await train(dpo(d2, { learning_rate: 5e-4, max_steps: 1, overwrite_output_dir: true }), quiet);
  assert.deepEqual(
    lines(join(d2, 'out', 'metrics.jsonl')).map((l) => JSON.parse(l).step),
    [1],
  );
  assert.ok(!readdirSync(join(d2, 'out')).some((f) => f.startsWith('checkpoint-')));
  // the same run resumes (its keys that may change: threads, logging, saving, report)
  const d3 = tmp();
  await train(dpo(d3, { max_steps: 4 }), quiet);
  const full = lines(join(d3, 'out', 'metrics.jsonl'));
  const r = await train(dpo(d3, { resume_from_checkpoint: true, logging_steps: 1, report: true }), quiet);
  assert.equal(r.globalStep, 4);
  assert.deepEqual(lines(join(d3, 'out', 'metrics.jsonl')), full);
});

test('a torn last metrics line is dropped on resume; a broken line elsewhere is named', async () => {
  const d = tmp();
  const c = dpo(d);
  await train(c, quiet);
  const mf = join(c.output_dir, 'metrics.jsonl');
  const full = lines(mf);
  writeFileSync(mf, full.slice(0, 2).join('\n') + '\n{"step": 3, "loss": 0.6');
  await train({ ...c, resume_from_checkpoint: true }, quiet);
  assert.deepEqual(lines(mf), full);
  writeFileSync(mf, full[0] + '\n{"step": 2, "lo\n' + full.slice(2).join('\n') + '\n');
  await assert.rejects(train({ ...c, resume_from_checkpoint: true }, quiet), /metrics\.jsonl:2: not valid JSON/);
});

test('one huge dataset line is an error naming file and line; long texts are cut before tokenizing', async () => {
  const d = tmp();
  const f = join(d, 'big.jsonl');
  writeFileSync(f, `{"text": "short"}\n{"text": "${'x'.repeat(3 << 20)}"}\n{"text": "after"}\n`);
  await assert.rejects(
    loadDataset(f, { maxLineBytes: 1 << 20 }),
    /big\.jsonl:2: the line is over 1048576 bytes \(max_line_bytes\)/,
  );
  assert.equal((await loadDataset(f, { maxLineBytes: 4 << 20 })).length, 3);
  const c = resolveConfig(
    { trainer: 'sft', model_name_or_path: MODEL, train_dataset: f, output_dir: join(d, 'o'), max_line_bytes: 1000 },
    'cfg.yaml',
    d,
  );
  await assert.rejects(train(c, quiet), /big\.jsonl:2: the line is over 1000 bytes/);
  assert.ok(!existsSync(join(d, 'o')), 'no output_dir is made for a run that cannot start');
  // the tokenizer sees at most (max_length + 1) x 32 characters of a 3 MB document
  const tok = Tokenizer.fromPretrained(MODEL);
  const seen = [];
  const spy = Object.assign(Object.create(Object.getPrototypeOf(tok)), tok, {
    encode: (s, o) => {
      seen.push(s.length);
      return tok.encode(s, o);
    },
  });
  const ex = { where: 'x:1', format: 'language_modeling', text: 'ab '.repeat(1 << 20), extra: {} };
  const seq = tokenizeSFT(ex, spy, { maxLength: 64 });
  assert.equal(seq.ids.length, 64);
  assert.ok(
    seen.every((n) => n <= 65 * 32),
    `${seen}`,
  );
  assert.deepEqual(seq.ids, tok.encode(ex.text.slice(0, 4000), { addSpecialTokens: true }).slice(0, 64));
});

test('a diverging run warns in the log and the results; a non-finite loss stops it', async () => {
  const d = tmp();
  const logs = [];
  const c = dpo(d, { learning_rate: 1e3, max_grad_norm: 0, max_steps: 6, save_steps: 100 });
  await train(c, { progress: false, log: (s) => logs.push(s) });
  assert.ok(
    logs.some((l) => /warning: loss .* at step 2 is over 100x its first value/.test(l)),
    logs.join('\n'),
  );
  const res = JSON.parse(readFileSync(join(c.output_dir, 'train_results.json'), 'utf8'));
  assert.match(res.warnings[0], /the run is diverging; lower learning_rate/);
  // the gradient norm is watched too (measured: 0.53 at step 1, 124 at step 2 with lr 30)
  const logsG = [];
  await train(dpo(tmp(), { learning_rate: 30, max_grad_norm: 1e9, max_steps: 3, save_steps: 100 }), {
    progress: false,
    log: (s) => logsG.push(s),
  });
  assert.ok(
    logsG.some((l) => /warning: grad_norm .* at step 2 is over 100x its first value/.test(l)),
    logsG.join('\n'),
  );
  const quietRun = dpo(tmp(), { max_steps: 6, save_steps: 100 });
  const r = await train(quietRun, quiet);
  assert.equal(JSON.parse(readFileSync(join(r.outputDir, 'train_results.json'), 'utf8')).warnings, undefined);
  // weights of 1e30 overflow: the loss is NaN at step 2 and the run stops there, naming the examples
  const nan = dpo(tmp(), { learning_rate: 1e30, max_steps: 5, save_steps: 100 });
  await assert.rejects(train(nan, quiet), /the loss is NaN at step 2 \(examples .*pref\.jsonl:\d+/);
});

test('a failed checkpoint write removes its temp folder and names the step and folder', () => {
  const d = tmp();
  const m = new P.Linear(2, 2);
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const opt = {
    stateDict: () => {
      throw enospc;
    },
  };
  assert.throws(
    () => writeCheckpoint(d, 7, m, opt, { stateDict: () => ({}) }, {}, null),
    /could not write the checkpoint of step 7 in .*: ENOSPC: no space left on device/,
  );
  assert.deepEqual(readdirSync(d), [], 'no .checkpoint-7.tmp left behind');
});

test('model and tokenizer errors name their files', () => {
  const d = tmp();
  const bad = (name, config, re) => {
    const dir = join(d, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    assert.throws(() => P.models.modelFromConfig(config, join(dir, 'config.json')), re);
  };
  const llama = {
    architectures: ['LlamaForCausalLM'],
    vocab_size: 16,
    hidden_size: 16,
    intermediate_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 4,
  };
  bad(
    'neg',
    { ...llama, num_key_value_heads: -2 },
    /neg\/config\.json: 'num_key_value_heads' must be a positive integer, got -2/,
  );
  bad(
    'odd',
    { ...llama, head_dim: 3 },
    /odd\/config\.json: cannot build the LlamaForCausalLM .*head_dim must be an even integer/,
  );
  bad(
    'huge',
    { ...llama, vocab_size: 4e12 },
    /huge\/config\.json: cannot build the LlamaForCausalLM .*can't allocate memory/,
  );
  const tj = JSON.parse(readFileSync(join(MODEL, 'tokenizer.json'), 'utf8'));
  delete tj.decoder;
  mkdirSync(join(d, 'tok'));
  writeFileSync(join(d, 'tok', 'tokenizer.json'), JSON.stringify(tj));
  assert.throws(
    () => Tokenizer.fromPretrained(join(d, 'tok')),
    /tok\/tokenizer\.json: not a tokenizer pacer can load \(.*decoder/,
  );
});

test('pacer train: a model error leaves no output_dir; errors print one "pacer:" prefix', async () => {
  const { spawnSync } = await import('node:child_process');
  const { cpSync } = await import('node:fs');
  const d = tmp();
  const model = join(d, 'm');
  cpSync(MODEL, model, { recursive: true });
  const cfgFile = join(model, 'config.json');
  writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), num_key_value_heads: -2 }));
  const run = (yaml) => {
    writeFileSync(join(d, 'c.yaml'), yaml);
    return spawnSync(
      process.execPath,
      [join(FIXTURES, '../../bin/pacer.js'), 'train', join(d, 'c.yaml'), '--no-progress'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
  };
  const base = `trainer: dpo\nmodel_name_or_path: m\ntrain_dataset: ${pairs(d)}\noutput_dir: out\nthreads: 1\n`;
  const r = run(base);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /m\/config\.json: 'num_key_value_heads' must be a positive integer, got -2/);
  assert.doesNotMatch(r.stderr, /pacer: pacer:/);
  assert.ok(!existsSync(join(d, 'out')), 'no empty output_dir after a model error');
  const c = run(`${base}learning_rat: 0.1\n`);
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /^pacer: .*learning_rat/m);
  assert.doesNotMatch(c.stderr, /pacer: pacer:/);
});
