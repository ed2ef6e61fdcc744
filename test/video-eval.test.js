// The procedural worlds and the benchmark metrics agree: each world's own reference answers, scored by
// `pacer eval`, are 100% right with nothing unparsed (multi-choice, yes/no and TempCompass-style
// caption matching; grounding segments at R@1 IoU 0.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) => spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8' });

function world(name, n) {
  const out = mkdtempSync(join(tmpdir(), `pacer-${name}-`));
  const r = pacer('video', 'make', '--world', name, '--n', String(n), '--seed', '3', '--out', out, '--frames-only');
  assert.equal(r.status, 0, r.stderr);
  const rows = readFileSync(join(out, 'data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { out, rows };
}

test("a temporal world's reference answers score 100% in every TempCompass format", () => {
  const { out, rows } = world('temporal', 36);
  assert.deepEqual([...new Set(rows.map((r) => r.format))].sort(), ['caption_matching', 'multi-choice', 'yes_no']);
  writeFileSync(join(out, 'pred.jsonl'), rows.map((r) => JSON.stringify({ id: r.id, answer: r.solution })).join('\n'));
  const r = pacer('eval', 'mcq', '--pred', join(out, 'pred.jsonl'), '--gt', join(out, 'data.jsonl'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.accuracy, 100);
  assert.equal(j.unparsed, 0);
  for (const f of Object.values(j.per_format)) assert.equal(f.accuracy, 100);
});

test("a grounding world's labelled segments score R@0.7 = 100 and mIoU = 100", () => {
  const { out, rows } = world('grounding', 8);
  const pred = rows.map((r) => ({ id: r.id, answer: `<answer>${r.segment[0]} to ${r.segment[1]}</answer>` }));
  writeFileSync(join(out, 'pred.jsonl'), pred.map((p) => JSON.stringify(p)).join('\n'));
  const r = pacer('eval', 'grounding', '--pred', join(out, 'pred.jsonl'), '--gt', join(out, 'data.jsonl'), '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { 'R@0.3': 100, 'R@0.5': 100, 'R@0.7': 100, mIoU: 100, n: 8, unparsed: 0 });
});
