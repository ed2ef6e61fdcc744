// The reward sandbox: rollouts evaluated per step in an isolate, and every escape or failure contained and
// reported (no Node globals, no modules, loops and memory bombs stopped, outputs bounded and checked),
// with the host untouched (no files written, the sandbox still usable afterwards).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RewardSandbox } from '../dist/reward-design/sandbox.js';

// a timeout with room for a loaded machine: only the endless loops below may reach it
const sb = new RewardSandbox({ timeoutMs: 1500, graceMs: 2000, memoryMb: 32 });
// the memory bomb gets all the time it could want: it must end at the heap limit, not at a timeout
const roomy = new RewardSandbox({ timeoutMs: 20_000, memoryMb: 32 });
after(() => {
  sb.close();
  roomy.close();
});
const fields = { x: [0, 0.5, 1, -2], v: [1, 2, 3, 4] };
const PWN = join(tmpdir(), `pacer-sandbox-pwned-${process.pid}`);

async function run(code, f = fields, box = sb) {
  const c = await box.compile(code);
  return c.ok ? box.evaluate(f) : c;
}

test('a reward is called per step with the state object; totals and components come back', async () => {
  const r = await run(`function compute_reward(s) {
    const pos = -s.x * s.x, vel = 0.1 * s.v;
    return { total: pos + vel, components: { pos, vel } };
  }`);
  assert.ok(r.ok, r.message);
  assert.deepEqual([...r.total], [0.1, -0.25 + 0.2, -1 + 0.30000000000000004, -4 + 0.4]);
  assert.deepEqual(Object.keys(r.components), ['pos', 'vel']);
  assert.deepEqual([...r.components.pos], [-0, -0.25, -1, -4]);
  const arrow = await run('const compute_reward = (s) => ({ total: s.v });');
  assert.deepEqual([...arrow.total], [1, 2, 3, 4], 'a const arrow function is found too; components optional');
  assert.deepEqual(arrow.components, {});
});

const escapes = {
  'this.constructor.constructor': [
    `function compute_reward(s) { const p = this.constructor.constructor('return process')(); p.exit(3); }`,
    'threw',
    /process is not defined/,
  ],
  'Function constructor at top level': [
    `(function(){}).constructor('return process')().mainModule.require('fs')` +
      `.writeFileSync(${JSON.stringify(PWN)}, 'x');`,
    'threw',
    /process is not defined/,
  ],
  process: ['function compute_reward(s) { process.exit(1); }', 'threw', /process is not defined/],
  require: [
    `function compute_reward(s) { require('fs').writeFileSync(${JSON.stringify(PWN)}, 'x'); return { total: 0 }; }`,
    'threw',
    /require is not defined/,
  ],
  'import()': [
    `import('node:fs').then((fs) => fs.writeFileSync(${JSON.stringify(PWN)}, 'x'));` +
      ' function compute_reward() { return { total: 0 }; }',
    'threw',
    /Not supported/,
  ],
  'timers and fetch': [
    `function compute_reward(s) { setTimeout(() => 0, 1); fetch('http://127.0.0.1/'); return { total: 0 }; }`,
    'threw',
    /setTimeout is not defined/,
  ],
  'infinite loop in the reward': ['function compute_reward(s) { for (;;) {} }', 'timeout', /timed out/],
  'infinite loop at load time': ['while (true) {} function compute_reward(s) {}', 'timeout', /timed out/],
  'memory bomb': [
    'function compute_reward(s) { const a = []; for (;;) a.push(new Array(1e6).fill(1.5)); }',
    'memory',
    /memory limit/,
    roomy,
  ],
  'huge buffer': [
    'function compute_reward(s) { return { total: new Float64Array(2e9).length }; }',
    'threw',
    /allocation failed|Invalid typed array length/,
  ],
  'huge output': [
    'function compute_reward(s) { const c = {}; for (let i = 0; i < 1e5; i++) c["k" + i] = i;' +
      ' return { total: 1, components: c }; }',
    'invalid_output',
    /at most 32 components, got 100000/,
    roomy, // building 100000 keys must not run into a short time limit on a loaded machine
  ],
  'huge error message': ['function compute_reward(s) { throw new Error("x".repeat(1e7)); }', 'threw', /^x+$/],
  'NaN total': [
    'function compute_reward(s) { return { total: s.x > 0.7 ? NaN : 0 }; }',
    'invalid_output',
    /total must be a finite number, got NaN/,
  ],
  'NaN component': [
    'function compute_reward(s) { return { total: 0, components: { a: 0 / 0 } }; }',
    'invalid_output',
    /component a must be a finite number, got NaN/,
  ],
  'wrong shape (array)': [
    'function compute_reward(s) { return [1, 2]; }',
    'invalid_output',
    /total must be a finite number/,
  ],
  'wrong shape (number)': [
    'function compute_reward(s) { return 1; }',
    'invalid_output',
    /must return \{total, components\}, got number/,
  ],
  'components that change': [
    'function compute_reward(s) { return { total: 0, components: s.x > 0 ? { a: 1 } : { b: 1 } }; }',
    'invalid_output',
    /components changed/,
  ],
  'syntax error': ['function compute_reward(s) { return { total: 1 ', 'syntax', /Unexpected end of input/],
  'no entry function': [
    'function reward(s) { return { total: 1 }; }',
    'missing',
    /must define a function compute_reward/,
  ],
};

for (const [name, [code, kind, message, box]] of Object.entries(escapes)) {
  test(`contained and reported: ${name}`, async () => {
    const r = await run(code, fields, box);
    assert.equal(r.ok, false, `${name} must fail`);
    assert.equal(r.kind, kind, `${name}: ${r.kind}: ${r.message.slice(0, 200)}`);
    assert.match(r.message, message);
    assert.ok(r.message.length <= 1000, 'messages are bounded');
    assert.equal(existsSync(PWN), false, 'nothing was written on the host');
    // the sandbox stays usable
    const ok = await run('function compute_reward(s) { return { total: s.x }; }');
    assert.ok(ok.ok, ok.message);
    assert.deepEqual([...ok.total], fields.x);
  });
}

test('a failing step is named', async () => {
  const r = await run('function compute_reward(s) { if (s.v === 3) throw new Error("boom"); return { total: 0 }; }');
  assert.deepEqual([r.ok, r.kind, r.step, r.message], [false, 'threw', 2, 'boom']);
});

test('the child runs with an empty environment and without Node in the isolate', async () => {
  process.env.PACER_SANDBOX_SECRET = 'do-not-leak';
  const r = await run(`function compute_reward(s) {
    const absent = (typeof process) + (typeof require) + (typeof globalThis.Buffer);
    return { total: absent === 'undefinedundefinedundefined' ? 1 : 0 };
  }`);
  delete process.env.PACER_SANDBOX_SECRET;
  assert.ok(r.ok && r.total.every((v) => v === 1));
  assert.ok(sb.layers.some((l) => /isolate/.test(l)) && sb.layers.some((l) => /child process/.test(l)));
});

test('bad arguments get clear errors', async () => {
  assert.throws(() => new RewardSandbox({ timeout: 5 }), /sandbox option 'timeout' is not known/);
  assert.throws(() => new RewardSandbox({ memoryMb: 4 }), /at least 8/);
  assert.throws(() => new RewardSandbox({ entry: 'a-b' }), /entry must be an identifier/);
  const fresh = new RewardSandbox();
  await assert.rejects(() => fresh.evaluate({ x: [1] }), /evaluate\(\) before compile\(\)/);
  fresh.close();
  await sb.compile('function compute_reward(s) { return { total: 0 }; }');
  await assert.rejects(() => sb.evaluate({ x: [1, 2], v: [1] }), /field 'v' has 1 values, 'x' has 2/);
  await assert.rejects(() => sb.evaluate({ 'a b': [1] }), /field name 'a b' must be an identifier/);
  rmSync(PWN, { force: true });
});

test('a child that dies mid-call is reported as a crash, and the next call starts a new one', async () => {
  const slow = new RewardSandbox({ timeoutMs: 5000 });
  try {
    assert.ok(
      (
        await slow.compile(
          'function compute_reward(s) { const t = Date.now(); while (Date.now() - t < 3000) {} return { total: 0 }; }',
        )
      ).ok,
    );
    const pid = slow.pid;
    const pending = slow.evaluate({ x: [1] });
    setTimeout(() => process.kill(pid, 'SIGKILL'), 200);
    const r = await pending;
    assert.deepEqual([r.ok, r.kind], [false, 'crash']);
    assert.match(r.message, /exited \(SIGKILL\)/);
    assert.ok((await slow.compile('function compute_reward(s) { return { total: 7 }; }')).ok);
    assert.notEqual(slow.pid, pid);
    assert.deepEqual([...(await slow.evaluate({ x: [1, 2] })).total], [7, 7]);
  } finally {
    slow.close();
  }
});
