// The API reference: `npm run docs` (TypeDoc over the shipped .d.ts) writes one module page per package
// entry, with the documented calls a user starts from. Written to a temp folder here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('npm run docs writes a module page for every package entry', () => {
  const out = mkdtempSync(join(tmpdir(), 'pacer-docs-'));
  try {
    const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--out', out, '--logLevel', 'Error'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const key of Object.keys(pkg.exports).filter((k) => k !== './package.json')) {
      const name = key === '.' ? 'pacer' : `pacer_${key.slice(2)}`;
      assert.ok(existsSync(join(out, 'modules', `${name}.html`)), `a page for ${key}`);
    }
    // the calls the guides start from are documented with their doc comments
    const train = readFileSync(join(out, 'functions', 'pacer_trainers.train.html'), 'utf8');
    assert.match(train, /pacer train CONFIG\.yaml/);
    assert.ok(existsSync(join(out, 'functions', 'pacer_curriculum.registerSampler.html')));
    assert.ok(existsSync(join(out, 'functions', 'pacer_rewards.registerReward.html')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
