// The package as a user gets it: `npm pack`, install the tarball into a fresh project, import every
// subpath by name (and type-check a TypeScript file against the shipped .d.ts), and run the README's
// code examples there. (Until the install step builds the engine, PACER_NATIVE points at this
// checkout's addon.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const SUBPATHS = Object.keys(pkg.exports)
  .filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? 'pacer' : `pacer/${k.slice(2)}`));
const env = { ...process.env, PACER_NATIVE: join(root, 'native/build/Release/pacer_native.node') };

/** One exported name per subpath that a user would reach for. */
const EXPECT = {
  pacer: ['tensor', 'train', 'fromPretrained', 'Tokenizer', 'REWARDS', 'ConfigError'],
  'pacer/engine': ['tensor', 'AdamW', 'scope', 'loadSafetensors'],
  'pacer/models': ['fromPretrained', 'generate', 'registerModel', 'LoraAdapters'],
  'pacer/tokenizers': ['Tokenizer'],
  'pacer/data': ['loadDataset', 'collate'],
  'pacer/objectives': ['dpoLoss', 'grpoLoss', 'raftLoss'],
  'pacer/rewards': ['REWARDS', 'runRewards', 'defineReward'],
  'pacer/curriculum': ['makeSampler', 'SAMPLERS'],
  'pacer/trainers': ['train', 'resolveConfig', 'TRAINER_SPECS'],
  'pacer/server': ['createModelServer', 'createRewardServer'],
  'pacer/eval': ['temporalIoU'],
  'pacer/clients': ['OpenAICompatClient', 'StudioClient'],
  'pacer/video': ['decodeFrames', 'encodeVideo', 'probeVideo'],
  'pacer/envs': ['makeEnv'],
  'pacer/preferences': ['fitBradleyTerry', 'bootstrapRatings', 'krippendorffAlpha', 'choosePair'],
  'pacer/studio': ['createStudioServer', 'Project', 'exportRows', 'addGroups'],
};

let project = null;
after(() => project && rmSync(dirname(project), { recursive: true, force: true }));
/** A fresh project with the packed tarball installed (made once). */
function installed() {
  if (project) return project;
  const tmp = mkdtempSync(join(tmpdir(), 'pacer-pack-'));
  execFileSync('npm', ['pack', '--pack-destination', tmp, '--silent'], { cwd: root, stdio: 'pipe' });
  const tarball = join(
    tmp,
    readdirSync(tmp).find((f) => f.endsWith('.tgz')),
  );
  project = join(tmp, 'app');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const args = [
    'install',
    tarball,
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    '--ignore-scripts',
    '--loglevel=error',
  ];
  execFileSync('npm', args, { cwd: project, stdio: 'pipe', timeout: 300_000 });
  return project;
}

test('the packed package installs and every subpath imports by name', () => {
  const dir = installed();
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
  const r = spawnSync(process.execPath, ['check.mjs'], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
  // pacer/<anything else> is not part of the public API
  writeFileSync(join(dir, 'deep.mjs'), "import 'pacer/dist/trainers/loop.js';");
  const deep = spawnSync(process.execPath, ['deep.mjs'], { cwd: dir, env, encoding: 'utf8' });
  assert.notEqual(deep.status, 0);
  assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

test('the shipped .d.ts type-check a TypeScript user of every subpath', () => {
  const dir = installed();
  const src = [
    "import { train, resolveConfig, type TrainConfig } from 'pacer';",
    "import type { GRPOConfig, DPOConfig } from 'pacer/trainers';",
    "import { REWARDS, defineReward } from 'pacer/rewards';",
    "import type { CausalLM, ModelInputs } from 'pacer/models';",
    ...SUBPATHS.map((s, i) => `import * as n${i} from '${s}';`),
    "const cfg: TrainConfig = resolveConfig({ trainer: 'sft', model_name_or_path: 'm', train_dataset: 'd', output_dir: 'o' });",
    'const lr: number = cfg.learning_rate;',
    'const g = null as unknown as GRPOConfig; const k: number = g.num_generations; const d = null as unknown as DPOConfig;',
    'const s: string[] = d.loss_type;',
    'REWARDS.mine = defineReward({}, () => (input) => input.completions.map((c) => c.length));',
    'const f = (m: CausalLM, b: ModelInputs) => m.forward(b);',
    `export { train, lr, k, s, f, ${SUBPATHS.map((_, i) => `n${i}`).join(', ')} };`,
  ].join('\n');
  writeFileSync(join(dir, 'use.ts'), src);
  const tsconfig = {
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      // a Node project has @types/node (here: pacer's own)
      typeRoots: [join(root, 'node_modules/@types')],
      types: ['node'],
    },
    files: ['use.ts'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("the README's code examples run against the installed package", () => {
  const dir = installed();
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
    const r = spawnSync(process.execPath, [file], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `README example ${i + 1}:\n${code}\n${r.stderr}`);
  });
});
