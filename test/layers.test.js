// The import graph of src/ follows pacer's layers — arrows point down only:
//   engine, util → models, tokenizers → data, video, clients, report, envs → rewards, curriculum, preferences,
//   eval → objectives → trainers → tasks, reward-design, recipes → cli, server, studio
// (a module may import from its own layer or below), and no file imports itself through a cycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const LAYERS = [
  ['engine', 'util'],
  ['models', 'tokenizers'],
  ['data', 'video', 'clients', 'report', 'envs'],
  ['rewards', 'curriculum', 'eval', 'preferences'],
  ['objectives'],
  ['trainers'],
  ['tasks', 'reward-design', 'recipes'],
  ['cli', 'server', 'studio'],
];
const rank = (folder) => LAYERS.findIndex((l) => l.includes(folder));

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static, re-exports, dynamic), resolved to .ts paths under src/. */
function imports(file) {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

const folderOf = (f) => {
  const parts = relative(SRC, f).split('/');
  return parts.length > 1 ? parts[0] : null; // files at src/ (index.ts, the package entry) sit above all
};

test('every src/ folder has a layer, and imports point down or sideways', () => {
  const violations = [];
  for (const f of files(SRC)) {
    const from = folderOf(f);
    if (from === null) continue;
    assert.ok(rank(from) >= 0, `src/${from}/ has no layer in test/layers.test.js`);
    for (const dep of imports(f)) {
      assert.ok(existsSync(dep), `${relative(SRC, f)} imports a missing file ${relative(SRC, dep)}`);
      const to = folderOf(dep);
      if (to === null) violations.push(`${relative(SRC, f)} imports src/${relative(SRC, dep)} (the package entry)`);
      else if (rank(to) > rank(from))
        violations.push(`${relative(SRC, f)} (${from}) imports ${relative(SRC, dep)} (${to})`);
    }
  }
  assert.deepEqual(violations, [], `imports that point up:\n${violations.join('\n')}`);
});

test('no import cycles between files', () => {
  const graph = new Map(files(SRC).map((f) => [f, imports(f)]));
  const state = new Map(); // 1: on the stack, 2: done
  const stack = [];
  const cycles = [];
  const visit = (f) => {
    state.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 1)
        cycles.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(SRC, x)).join(' -> '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});
