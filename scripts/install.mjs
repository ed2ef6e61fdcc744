#!/usr/bin/env node
// pacer's install step (package.json "install", `npx pacer setup`, and step 3 of scripts/setup.sh):
// builds the libtorch N-API addon (native/) where the package lies, with node-gyp, against Debian's
// libtorch-dev (/usr/include/torch + /usr/lib) or LIBTORCH=/path/to/libtorch (a pytorch.org build).
// It checks what the build needs first and, when something is missing, says what and the exact
// commands to run, and fails (so `npm install` fails rather than leaving a package without its
// engine). The outcome is written to native/build/install-status.json, which the runtime reads to
// explain a missing engine. Skipped (status "skipped") with PACER_SKIP_NATIVE=1, and inside npm's
// preparation of a git dependency (the packed result is installed, and built, afterwards).
//   node scripts/install.mjs [--force] [--check] [--quiet]
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = join(nativeDir, 'build');
const addon = join(buildDir, 'Release', 'pacer_native.node');
const stampFile = join(buildDir, '.libtorch');
const statusFile = join(buildDir, 'install-status.json');
const logFile = join(nativeDir, 'build.log');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet') || !!process.env.PACER_QUIET;
const inNpmInstall = process.env.npm_lifecycle_event === 'install';
const say = (s) => quiet || process.stderr.write(`[pacer] ${s}\n`);
const want = process.env.LIBTORCH ? resolve(process.env.LIBTORCH) : 'debian';
const BUILD_TIMEOUT_MS = 30 * 60_000;

/** The command that builds the engine once what was missing is there. */
const inCheckout = existsSync(join(root, 'src', 'engine', 'native.ts'));
const retry = inCheckout
  ? 'then, in this clone of pacer: npm run setup'
  : inNpmInstall
    ? 'then install again (npm install), or install without the engine now (PACER_SKIP_NATIVE=1 npm install …)\n' +
      '  and build it later in your project with: npx pacer setup'
    : 'then build the engine: npx pacer setup';

function writeStatus(status, extra = {}) {
  mkdirSync(buildDir, { recursive: true });
  const body = { status, libtorch: want, node: process.version, when: new Date().toISOString(), ...extra };
  const tmp = `${statusFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(tmp, statusFile);
}

/** Stop: say what is wrong and what to run, record it for the runtime, exit 1. */
function fail(reason, fix) {
  writeStatus('failed', { reason, fix });
  process.stderr.write(
    `pacer: cannot build the native engine: ${reason}\n  ${fix.replace(/\n/g, '\n  ')}\n  ${retry}\n`,
  );
  process.exit(1);
}

function onPath(cmd) {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : null;
  for (const d of (process.env.PATH ?? '').split(delimiter)) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return null;
}

/** libtorch's headers and libraries, as native/torch-paths.cjs will give them to the build. */
function checkLibtorch() {
  if (process.env.LIBTORCH) {
    const h = join(want, 'include/torch/csrc/api/include/torch/torch.h');
    if (!existsSync(h))
      fail(
        `LIBTORCH=${process.env.LIBTORCH} does not hold a libtorch (${h} is missing)`,
        "unzip a pytorch.org libtorch (CPU or CUDA) there, or unset LIBTORCH to use Debian's libtorch-dev:\n" +
          '  sudo apt-get install libtorch-dev libopenblas0-pthread',
      );
    if (!existsSync(join(want, 'lib', 'libtorch.so')))
      fail(
        `LIBTORCH=${process.env.LIBTORCH} has headers but no lib/libtorch.so`,
        'point LIBTORCH at a complete libtorch',
      );
    return;
  }
  const h = '/usr/include/torch/csrc/api/include/torch/torch.h';
  const libDirs = [
    '/usr/lib',
    ...safeList('/usr/lib')
      .filter((d) => d.includes('-linux-'))
      .map((d) => `/usr/lib/${d}`),
  ];
  const lib = libDirs.some((d) => existsSync(join(d, 'libtorch.so')));
  if (!existsSync(h) || !lib)
    fail(
      `libtorch not found (${!existsSync(h) ? `${h} is missing` : 'no libtorch.so under /usr/lib'})`,
      "install Debian's libtorch (Debian 12+, Ubuntu 23.04+):\n" +
        '  sudo apt-get install libtorch-dev libopenblas0-pthread\n' +
        'or use a pytorch.org libtorch (e.g. CUDA): set LIBTORCH=/path/to/libtorch (LIBTORCH_CXX11_ABI=0 for a\n' +
        'pre-cxx11-ABI build)',
    );
}

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function checkToolchain() {
  const missing = [];
  const cxx = process.env.CXX || 'g++';
  if (!onPath(cxx)) missing.push(process.env.CXX ? `CXX=${cxx}` : 'g++');
  if (!onPath('make')) missing.push('make');
  if (!process.env.PYTHON && !onPath('python3')) missing.push('python3');
  if (missing.length)
    fail(
      `the build needs ${missing.join(', ')} (node-gyp compiles the addon with a C++17 compiler, make and python3)`,
      missing[0].startsWith('CXX=')
        ? 'point CXX at a C++17 compiler, or unset it to use g++'
        : `sudo apt-get install ${missing.join(' ')}`,
    );
}

/** node-gyp: pacer's own dependency, else the one npm runs install scripts with. */
function nodeGyp() {
  try {
    return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npmGyp = process.env.npm_config_node_gyp;
    if (npmGyp && existsSync(npmGyp)) return npmGyp;
    return fail('node-gyp is not installed next to pacer', 'npm install node-gyp');
  }
}

function upToDate() {
  if (!existsSync(addon)) return false;
  let stamp = '';
  try {
    stamp = readFileSync(stampFile, 'utf8').trim();
  } catch {
    return false;
  }
  if (stamp !== buildKey()) return false;
  const built = statSync(addon).mtimeMs;
  const inputs = [join(nativeDir, 'binding.gyp'), join(nativeDir, 'torch-paths.cjs')];
  for (const f of safeList(join(nativeDir, 'src'))) inputs.push(join(nativeDir, 'src', f));
  return inputs.every((f) => !existsSync(f) || statSync(f).mtimeMs <= built);
}

/** What the build depends on beyond its sources: the libtorch and the optional process-group and optimizer
 * features torch-paths.cjs finds (installing libgloo-dev later, say, must trigger a rebuild). */
function buildKey() {
  const flags = ['dist', 'features'].map((what) => {
    const r = spawnSync(process.execPath, ['torch-paths.cjs', what], { cwd: nativeDir, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  });
  return [want, ...flags].filter(Boolean).join(' ');
}

/** Node's C headers on this machine (Debian's nodejs ships them), so node-gyp needs no download. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** Load the fresh addon in a child process: libtorch's shared libraries must resolve at run time. */
function checkLoads() {
  const code = `const a = require(${JSON.stringify(addon)}); console.log(a.buildInfo().torchVersion);`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0)
    fail(
      `the addon built but does not load: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`,
      want === 'debian'
        ? 'reinstall libtorch: sudo apt-get install --reinstall libtorch-dev'
        : `check that ${join(want, 'lib')} holds libtorch's shared libraries (and LIBTORCH_CXX11_ABI)`,
    );
  return r.stdout.trim();
}

function build() {
  const jobs = String(Math.max(1, Math.min(4, availableParallelism())));
  const gypJs = nodeGyp();
  say(`building the native engine against libtorch (${want}); this takes a few minutes (log: ${logFile})`);
  const fd = openSync(logFile, 'w');
  const gyp = [gypJs, 'rebuild', '--release', '-j', jobs, ...nodedirArgs()];
  const r = spawnSync(process.execPath, gyp, { cwd: nativeDir, stdio: ['ignore', fd, fd], timeout: BUILD_TIMEOUT_MS });
  closeSync(fd);
  if (r.status !== 0) {
    const log = readFileSync(logFile, 'utf8').trim().split('\n');
    const why = r.error?.code === 'ETIMEDOUT' ? 'timed out' : `exited with ${r.status ?? r.signal}`;
    process.stderr.write(`${log.slice(-30).join('\n')}\n`);
    fail(
      `node-gyp ${why} (the last lines of ${logFile} are above)`,
      'fix what the log names (a missing header or library: see "libtorch" in pacer\'s README)',
    );
  }
  writeFileSync(stampFile, `${buildKey()}\n`);
  const torch = checkLoads();
  writeStatus('ok', { torch });
  say(`native engine ready (libtorch ${torch}): ${addon}`);
}

function main() {
  if (args.has('--check')) {
    const ok = upToDate();
    let status = null;
    try {
      status = JSON.parse(readFileSync(statusFile, 'utf8'));
    } catch {}
    console.log(JSON.stringify({ built: ok, addon, libtorch: want, last_install: status }));
    process.exit(ok ? 0 : 1);
  }
  if (process.env.PACER_SKIP_NATIVE === '1') {
    writeStatus('skipped', { reason: 'PACER_SKIP_NATIVE=1 was set', fix: 'npx pacer setup' });
    say('PACER_SKIP_NATIVE=1: the native engine is not built; build it later with: npx pacer setup');
    return;
  }
  if (process.env._PACOTE_NO_PREPARE_ && inNpmInstall) {
    say('preparing a git dependency: the engine is built when the packed package is installed');
    return;
  }
  if (!args.has('--force') && upToDate()) {
    say(`native engine up to date (${addon})`);
    return;
  }
  checkLibtorch();
  checkToolchain();
  build();
}

main();
