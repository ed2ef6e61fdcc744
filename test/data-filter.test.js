// pacer data filter: the filter-or-relabel-by-model stage from the command line. The truth comes from
// another command: the fixture model's greedy answers (`pacer generate --json`); rows labelled with
// them must stay, rows with another label must be flagged (greedy sampling: all G answers agree), so
// precision and recall against the known-bad rows are both 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(root, 'test', 'fixtures', 'models', 'llama');
const pacer = (...args) =>
  spawnSync(process.execPath, ['bin/pacer.js', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
const readLines = (f) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

test('data filter: drop, relabel and flag against a greedy model; precision and recall 1', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-filter-'));
  try {
    const prompts = ['1+2=', 'the river', 'hello', 'one and one', 'x y z', 'go on'];
    writeFileSync(join(d, 'p.jsonl'), prompts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');
    const g = pacer('generate', '--model', MODEL, '--data', join(d, 'p.jsonl'), '--max-new-tokens', '4', '--json');
    assert.equal(g.status, 0, g.stderr);
    const greedy = g.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).text);
    // odd rows carry a label the model never gives
    const rows = prompts.map((prompt, i) => ({ prompt, answer: i % 2 ? `wrong-${i}` : greedy[i], bad: i % 2 === 1 }));
    const data = join(d, 'd.jsonl');
    writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const run = (action) => {
      const out = join(d, `${action}.jsonl`);
      const common = ['--samples', '3', '--min-agree', '3', '--temperature', '0', '--max-new-tokens', '4'];
      const args = ['--data', data, '--out', out, '--truth', 'bad', '--action', action, ...common];
      const r = pacer('data', 'filter', '--model', MODEL, ...args);
      assert.equal(r.status, 0, r.stderr);
      return { out: readLines(out), report: JSON.parse(readFileSync(`${out}.report.json`, 'utf8')) };
    };
    const drop = run('drop');
    assert.deepEqual(drop.report.flagged_lines, [2, 4, 6]);
    assert.deepEqual(drop.report.quality, { precision: 1, recall: 1, flagged: 3, truth: 3, true_positives: 3 });
    assert.deepEqual(
      drop.out.map((r) => r.prompt),
      [prompts[0], prompts[2], prompts[4]],
    );
    assert.ok(drop.report.verdicts.every((v) => v.agreement === 3));
    const relabel = run('relabel');
    assert.equal(relabel.out.length, 6);
    // relabelled with the consensus as the accuracy reward reads it: here the last number, else the text
    const answerOf = (t) => t.match(/\d+/g)?.at(-1) ?? t.trim();
    for (const i of [1, 3, 5]) assert.equal(relabel.out[i].answer, answerOf(greedy[i]), `row ${i}`);
    assert.equal(relabel.out[0].answer, greedy[0]);
    const flag = run('flag');
    assert.deepEqual(
      flag.out.map((r) => r.model_filter.flagged),
      [false, true, false, true, false, true],
    );
    // bad input: a row without a prompt names its line; --min-agree above --samples is a usage error
    writeFileSync(join(d, 'bad.jsonl'), '{"prompt": "a", "answer": "1"}\n{"answer": "2"}\n');
    const bad = pacer('data', 'filter', '--model', MODEL, '--data', join(d, 'bad.jsonl'), '--out', join(d, 'o.jsonl'));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /bad\.jsonl:2: 'prompt' must be a string or a list of messages/);
    const usage = pacer(
      'data',
      'filter',
      '--model',
      MODEL,
      '--data',
      data,
      '--out',
      join(d, 'o.jsonl'),
      '--samples',
      '2',
    );
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--min-agree \(6\) cannot exceed --samples \(2\)/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
