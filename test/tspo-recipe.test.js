// `pacer recipe tspo --smoke` through the CLI (src/recipes/tspo.ts): summary.json has every arm's accuracy and
// needle hit-rate over the seeds (mean, sample std, per-seed values, via src/recipes/study.ts), in range; both
// agents moved away from their initialisation (0 would mean nothing was trained); the uniform arm's hit-rate
// is recomputed here from the eval data's needle masks and round(i (T − 1)/(k − 1)), independently of the
// recipe; report.html holds the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARMS = [
  'uniform',
  'random',
  'feature',
  'tspo',
  'bin_max',
  'uniform_b',
  'feature_b',
  'tspo_a_on_b',
  'tspo_b_on_b',
];

/** Python's round (half to even) of i (T − 1)/(k − 1), as TSPO's uniform proposals. */
function uniform(T, k) {
  return Array.from({ length: k }, (_, i) => {
    const x = (i * (T - 1)) / (k - 1);
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 ? r - 1 : r;
  });
}

test('pacer recipe tspo --smoke: every arm over two seeds, trained agents, report', () => {
  const out = mkdtempSync(join(tmpdir(), 'pacer-tspo-recipe-'));
  try {
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin/pacer.js'), 'recipe', 'tspo', '--smoke', '--seeds', '0,1', '--threads', '1', '--out', out],
      { encoding: 'utf8', cwd: root, timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(s.recipe, 'tspo');
    assert.deepEqual(s.seeds, [0, 1]);
    assert.deepEqual(Object.keys(s.arms).sort(), [...ARMS].sort());
    for (const arm of ARMS)
      for (const m of ['accuracy', 'hit_rate']) {
        const x = s.arms[arm][m];
        assert.equal(x.values.length, 2, `${arm}.${m}`);
        for (const v of x.values) assert.ok(v >= 0 && v <= 1, `${arm}.${m} = ${v}`);
        assert.ok(Math.abs(x.mean - (x.values[0] + x.values[1]) / 2) < 1e-12);
        assert.ok(Math.abs(x.std - Math.abs(x.values[0] - x.values[1]) / Math.SQRT2) < 1e-12);
      }
    // the agents were trained: their weights moved from the seed's initialisation
    for (const p of s.per_seed) assert.ok(p.weight_change.a > 1e-3 && p.weight_change.b > 1e-3, JSON.stringify(p));
    // the uniform arm's hit-rate, from the eval data alone
    for (const [i, seed] of [0, 1].entries()) {
      const rows = readFileSync(join(out, `seed-${seed}`, 'eval', 'data.jsonl'), 'utf8')
        .trim()
        .split('\n');
      const hits = rows
        .map(JSON.parse)
        .filter((row) => row.needle_mask?.includes(0))
        .map(
          (row) => uniform(row.needle_mask.length, s.spec.k).filter((t) => row.needle_mask[t] === 1).length / s.spec.k,
        );
      const want = hits.reduce((a, b) => a + b, 0) / hits.length;
      assert.ok(Math.abs(s.arms.uniform.hit_rate.values[i] - want) < 1e-12, `seed ${seed}`);
    }
    // the A-trained agent picks the same frames whoever answers: equal hit-rates in tspo and tspo_a_on_b
    assert.ok(s.arms.tspo.hit_rate.values.every((v, i) => v === s.arms.tspo_a_on_b.hit_rate.values[i]));
    // the same configuration and seeds again: reused, not rerun (--force would rerun)
    const again = spawnSync(
      process.execPath,
      [join(root, 'bin/pacer.js'), 'recipe', 'tspo', '--smoke', '--seeds', '0,1', '--out', out, '--json'],
      { encoding: 'utf8', cwd: root, timeout: 60_000 },
    );
    assert.equal(again.status, 0, again.stderr);
    const j = JSON.parse(again.stdout);
    assert.equal(j.cached, true);
    assert.equal(j.metrics.tspo_hit_rate, s.arms.tspo.hit_rate.mean);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /TSPO top-k \(A\)/);
    assert.ok(existsSync(join(out, 'seed-1', 'agent-b', 'model.safetensors')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
