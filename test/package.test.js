// The package as a user gets it: `npm pack`, a fresh project that installs the tarball WITH its install
// step — the native engine builds there against this machine's libtorch (no PACER_NATIVE), under
// --strict-allow-scripts with the documented allowScripts entry — and, from that project: `npx pacer
// --help`, every subpath imported by name, a TypeScript user type-checked against the shipped .d.ts,
// the README's code examples, and the shipped examples/ compiled with tsc and run at smoke size
// (training through the API with a custom reward included). A second project installs with
// --ignore-scripts to check what a user sees when the install step did not run. One native build per
// run (a minute or more on 2 cores); the temporary folders are removed at the end.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const SUBPATHS = Object.keys(pkg.exports)
  .filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? 'pacer' : `pacer/${k.slice(2)}`));
const env = { ...process.env };
delete env.PACER_NATIVE; // the installed package finds its own engine
const TSC = join(root, 'node_modules/typescript/bin/tsc');
const INSTALL_TIMEOUT_MS = 25 * 60_000; // a native build on a loaded 2-core machine

/** One exported name per subpath that a user would reach for. */
const EXPECT = {
  pacer: [
    'tensor',
    'train',
    'fromPretrained',
    'Tokenizer',
    'REWARDS',
    'registerReward',
    'registerSampler',
    'createRewardServer',
    'ConfigError',
    'EngineError',
  ],
  'pacer/engine': ['tensor', 'AdamW', 'scope', 'loadSafetensors'],
  'pacer/models': ['fromPretrained', 'generate', 'registerModel', 'LoraAdapters'],
  'pacer/tokenizers': ['Tokenizer'],
  'pacer/data': ['loadDataset', 'collate'],
  'pacer/objectives': ['dpoLoss', 'grpoLoss', 'raftLoss'],
  'pacer/rewards': ['REWARDS', 'runRewards', 'defineReward', 'registerReward', 'opt'],
  'pacer/curriculum': ['makeSampler', 'SAMPLERS', 'registerSampler', 'BaseSampler', 'opt'],
  'pacer/trainers': ['train', 'resolveConfig', 'TRAINER_SPECS', 'trainPPO'],
  'pacer/server': ['createModelServer', 'createRewardServer'],
  'pacer/eval': ['temporalIoU'],
  'pacer/clients': ['OpenAICompatClient', 'StudioClient'],
  'pacer/video': ['decodeFrames', 'encodeVideo', 'probeVideo'],
  'pacer/envs': ['makeEnv'],
  'pacer/preferences': ['fitBradleyTerry', 'bootstrapRatings', 'krippendorffAlpha', 'choosePair'],
  'pacer/studio': ['createStudioServer', 'Project', 'exportRows', 'addGroups'],
};

const tmp = mkdtempSync(join(tmpdir(), 'pacer-pack-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let tarball = null;
const projects = {};

function packed() {
  if (tarball) return tarball;
  // `npm pack` runs `prepare` (tsc), so dist/ matches src/
  execFileSync('npm', ['pack', '--pack-destination', tmp, '--silent'], { cwd: root, stdio: 'pipe', timeout: 600_000 });
  tarball = join(
    tmp,
    readdirSync(tmp).find((f) => f.endsWith('.tgz')),
  );
  return tarball;
}

/** A fresh ESM project with the tarball installed: with its install step, or with --ignore-scripts. */
function project(kind) {
  if (projects[kind]) return projects[kind];
  const tgz = packed();
  const dir = join(tmp, kind);
  mkdirSync(dir);
  // the entry `npm install-scripts approve pacer` writes for a tarball (a registry install: "pacer": true)
  const manifest = { name: 'app', private: true, type: 'module', allowScripts: { [`file:${tgz}`]: true } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  const scripts = kind === 'built' ? ['--strict-allow-scripts'] : ['--ignore-scripts'];
  const args = ['install', tgz, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...scripts];
  const r = spawnSync('npm', args, { cwd: dir, env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
  assert.equal(r.status, 0, `npm install (${kind}) failed:\n${r.stdout}\n${r.stderr}`);
  projects[kind] = dir;
  return dir;
}

const run = (dir, cmd, args, extra = {}) =>
  spawnSync(cmd, args, { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8', timeout: 600_000 });

test('the package is small: dist without source maps, no tests, fixtures or runs', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  const [info] = JSON.parse(r.stdout);
  const files = info.files.map((f) => f.path);
  for (const f of files)
    assert.ok(
      /^(dist\/.*\.(js|d\.ts)|bin\/|native\/(src\/|binding\.gyp|torch-paths\.cjs)|scripts\/install\.mjs|src\/studio\/public\/[^/]+\.(js|css)|examples\/|bench\/[^/]+\.py|data\/|README\.md|package\.json)/.test(
        f,
      ),
      `unexpected file in the package: ${f}`,
    );
  for (const f of files.filter((x) => x.startsWith('dist/') && x.endsWith('.js')))
    assert.ok(existsSync(join(root, 'src', f.slice(5).replace(/\.js$/, '.ts'))), `${f} has no source (stale build?)`);
  assert.ok(files.includes('scripts/install.mjs') && files.includes('native/binding.gyp'));
  // a watched budget: 503 kB packed with issue 19, 655 kB after data parallelism, ICPL, TSPO, video training
  // and the Cue-R1 / VideoTG-R1 pieces landed, 723 kB after video in every online trainer, the frame agent in
  // the trainers and serve model, and the video DPO/GRPO benchmarks with their PyTorch peers (bench/*.py);
  // raise it only on purpose, with the reason here
  assert.ok(info.size < 740_000, `packed ${info.size} bytes`);
});

test('installing the tarball builds the engine; npx pacer runs there', () => {
  const dir = project('built');
  const built = join(dir, 'node_modules/pacer/native/build');
  assert.ok(existsSync(join(built, 'Release/pacer_native.node')), 'the addon was built in the install step');
  assert.equal(JSON.parse(readFileSync(join(built, 'install-status.json'), 'utf8')).status, 'ok');
  const help = run(dir, 'npx', ['pacer', '--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^ {2}train +train from a YAML config/m);
  assert.match(help.stdout, /^ {2}setup +build the native libtorch engine/m);
  const check = run(dir, 'npx', ['pacer', 'setup', '--check']);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.equal(JSON.parse(check.stdout).built, true);
});

test('every subpath imports by name and the engine computes', () => {
  const dir = project('built');
  assert.deepEqual(Object.keys(EXPECT).sort(), [...SUBPATHS].sort(), 'every export is checked');
  const lines = SUBPATHS.map(
    (s, i) =>
      `import * as m${i} from '${s}';\nfor (const k of ${JSON.stringify(EXPECT[s])}) ` +
      `if (!(k in m${i})) throw new Error('${s} lacks ' + k);`,
  );
  lines.push(
    "import { tensor, Tokenizer } from 'pacer';",
    'const t = tensor([1, 2, 3]).add(1);',
    "if (t.toArray().join() !== '2,3,4') throw new Error('engine');",
    "const tok = Tokenizer.fromPretrained('node_modules/pacer/data/tokenizers/bytes');",
    "if (tok.decode(tok.encode('hi pacer')) !== 'hi pacer') throw new Error('tokenizer');",
    "console.log('ok');",
  );
  writeFileSync(join(dir, 'check.mjs'), lines.join('\n'));
  const r = run(dir, process.execPath, ['check.mjs']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
  // pacer/<anything else> is not part of the public API
  writeFileSync(join(dir, 'deep.mjs'), "import 'pacer/dist/trainers/loop.js';");
  const deep = run(dir, process.execPath, ['deep.mjs']);
  assert.notEqual(deep.status, 0);
  assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

/** tsc over a project folder; @types/node from pacer's own node_modules (a Node project has it). */
function tsc(dir, config) {
  const typeRoots = [join(root, 'node_modules/@types')];
  const cfg = { ...config, compilerOptions: { ...config.compilerOptions, typeRoots, types: ['node'] } };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(cfg));
  return spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
}

test('the shipped .d.ts type-check a TypeScript user of every subpath', () => {
  const dir = project('built');
  const src = [
    "import { train, resolveConfig, registerReward, registerSampler, opt, type TrainConfig } from 'pacer';",
    "import { ConfigError, DataError, type ConfigInput, type RewardFunction } from 'pacer';",
    "import type { GRPOConfig, DPOConfig } from 'pacer/trainers';",
    "import { REWARDS, defineReward } from 'pacer/rewards';",
    "import { BaseSampler } from 'pacer/curriculum';",
    "import type { CausalLM, ModelInputs } from 'pacer/models';",
    ...SUBPATHS.map((s, i) => `import * as n${i} from '${s}';`),
    "const cfg: TrainConfig = resolveConfig({ trainer: 'sft', model_name_or_path: 'm', train_dataset: 'd', output_dir: 'o' });",
    'const lr: number = cfg.learning_rate;',
    'const g = null as unknown as GRPOConfig; const k: number = g.num_generations; const d = null as unknown as DPOConfig;',
    'const s: string[] = d.loss_type;',
    'REWARDS.mine = defineReward({}, () => (input) => input.completions.map((c) => c.length));',
    'const len: RewardFunction = (i) => i.completions.map((c) => c.length);',
    "registerReward('len', { scale: opt.num(1, 'scale', { min: 0 }) }, (o) => (i) => len(i) as number[]).length;",
    'class First extends BaseSampler { readonly name = "first"; next(n: number) { return Array(n).fill(0); } }',
    "registerSampler('first', { options: { x: opt.int(1, 'x') }, make: (items, seed, o) => new First(items, seed + o.x) });",
    "const input: ConfigInput = { trainer: 'grpo', model_name_or_path: 'm', train_dataset: 'd', output_dir: 'o',",
    "  reward_funcs: ['len'], curriculum_sampler: 'first', num_generations: 4 };",
    '// @ts-expect-error a key grpo does not have',
    "const typo: ConfigInput = { trainer: 'sft', model_name_or_path: 'm', train_dataset: 'd', output_dir: 'o', beta: 1 };",
    'const caught = (e: unknown) => (e instanceof ConfigError ? e.key : e instanceof DataError ? e.line : null);',
    'const f = (m: CausalLM, b: ModelInputs) => m.forward(b);',
    "const later = () => train('run.yaml', { overrides: { max_steps: 1 } }).then((r) => r.globalStep);",
    `export { train, lr, k, s, f, input, typo, caught, later, ${SUBPATHS.map((_, i) => `n${i}`).join(', ')} };`,
  ].join('\n');
  writeFileSync(join(dir, 'use.ts'), src);
  const options = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true };
  const r = tsc(dir, { compilerOptions: { ...options, skipLibCheck: false }, files: ['use.ts'] });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("the README's code examples run against the installed package", () => {
  const dir = project('built');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```(ts|js)\n([\s\S]*?)```/g)]
    .map((m) => m[2])
    .filter((b) => /from 'pacer/.test(b));
  assert.ok(blocks.length >= 2, 'the README shows how to use pacer from code');
  blocks.forEach((code, i) => {
    const js = ts.transpileModule(code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const file = join(dir, `readme-${i}.mjs`);
    writeFileSync(file, js.outputText);
    const r = run(dir, process.execPath, [file]);
    assert.equal(r.status, 0, `README example ${i + 1}:\n${code}\n${r.stderr}`);
  });
});

/** The last line an example printed, as JSON. */
function lastJson(r, name) {
  assert.equal(r.status, 0, `${name}:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

test('the shipped examples compile with tsc and run at smoke size (training through the API)', () => {
  const dir = project('built');
  const ex = join(dir, 'examples');
  execFileSync('cp', ['-r', join(dir, 'node_modules/pacer/examples'), ex]);
  const c = tsc(ex, JSON.parse(readFileSync(join(ex, 'tsconfig.json'), 'utf8')));
  assert.equal(c.status, 0, c.stdout + c.stderr);
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'));
  const names = readdirSync(ex).filter((f) => f.endsWith('.ts') && f !== 'tiny.ts');
  for (const n of names)
    assert.ok(
      docs.some((d) => readFileSync(join(root, 'docs', d), 'utf8').includes(`examples/${n}`)),
      `a guide shows ${n}`,
    );
  const out = {};
  for (const n of names) {
    const name = n.replace(/\.ts$/, '');
    const r = run(dir, process.execPath, [join(ex, 'build', `${name}.js`), join(dir, 'runs', name)], {
      PACER_SMOKE: '1',
    });
    out[name] = lastJson(r, name);
  }
  // a few steps of GRPO with the custom reward, through train(): a PEFT adapter and a merged model
  assert.equal(out['grpo-custom-reward'].steps, 2);
  assert.ok(existsSync(out['grpo-custom-reward'].adapter));
  assert.ok(out['grpo-custom-reward'].closeness >= 0, 'the custom reward was logged');
  assert.ok(existsSync(out['sft-dpo'].adapter) && existsSync(join(out['sft-dpo'].merged, 'config.json')));
  assert.ok(out.curriculum.seen > 0, 'the custom sampler saw feedback');
  // by hand: "42" is right (accuracy 1) and ≤ 12 chars (short 1 × weight 0.5); the other neither
  assert.deepEqual(out['serve-rewards'].rewards, [1.5, 0]);
  assert.ok(out['rollouts-vllm'].logprob_abs_diff < 1e-4, 'the server sampled with the synced weights');
  assert.equal(out.video.n, 2);
  assert.equal(out.video.unparsed, 0);
  assert.equal(out['ppo-cartpole'].greedy_returns.length, 5);
});

test('without its install step the engine is missing and the error says what to run', () => {
  const dir = project('unbuilt');
  assert.equal(existsSync(join(dir, 'node_modules/pacer/native/build/Release/pacer_native.node')), false);
  writeFileSync(join(dir, 'use.mjs'), "import { tensor } from 'pacer';\ntensor([1]);\n");
  const r = run(dir, process.execPath, ['use.mjs']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /EngineError: pacer: the native engine is not built/);
  assert.match(r.stderr, /"allowScripts": \{"pacer": true\}/);
  assert.match(r.stderr, /npx pacer setup/);
  const help = run(dir, 'npx', ['pacer', '--help']);
  assert.equal(help.status, 0, 'the CLI starts without the engine');
  const check = run(dir, 'npx', ['pacer', 'setup', '--check']);
  assert.equal(check.status, 1);
  assert.equal(JSON.parse(check.stdout).built, false);
  // the install step, run by hand: a missing libtorch fails with what to run, recorded for the runtime
  const script = join(dir, 'node_modules/pacer/scripts/install.mjs');
  const bad = run(dir, process.execPath, [script], {
    LIBTORCH: join(dir, 'no-libtorch'),
    npm_lifecycle_event: 'install',
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot build the native engine: LIBTORCH=.*no-libtorch does not hold a libtorch/);
  assert.match(bad.stderr, /PACER_SKIP_NATIVE=1 npm install/);
  const failed = run(dir, process.execPath, ['use.mjs']);
  assert.match(
    failed.stderr,
    /install step could not build it: LIBTORCH=.*no-libtorch does not hold a libtorch.*npx pacer setup/s,
  );
  const noCxx = run(dir, process.execPath, [script], { CXX: join(dir, 'no-compiler') });
  assert.equal(noCxx.status, 1);
  assert.match(noCxx.stderr, /the build needs CXX=.*no-compiler.*\n.*point CXX at a C\+\+17 compiler/);
  const skip = run(dir, process.execPath, [script], { PACER_SKIP_NATIVE: '1' });
  assert.equal(skip.status, 0, skip.stderr);
  assert.match(
    run(dir, process.execPath, ['use.mjs']).stderr,
    /skipped \(PACER_SKIP_NATIVE=1 was set\).*npx pacer setup/,
  );
});
