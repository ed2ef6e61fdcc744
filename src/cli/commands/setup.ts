// `pacer setup`: build the native libtorch engine where pacer is installed — what the package's install
// step does (scripts/install.mjs), for when that step did not run (npm ≥ 11's allowScripts, or
// --ignore-scripts), failed, or libtorch changed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand } from '../command.js';

const script = join(dirname(fileURLToPath(import.meta.url)), '../../../scripts/install.mjs');

export const setup = defineCommand({
  name: 'setup',
  summary: 'build the native libtorch engine of an installed pacer (what its install step does)',
  usage: 'pacer setup [--force] [--check]',
  description: `Builds native/build/Release/pacer_native.node inside the installed package with node-gyp,
against Debian's libtorch-dev (/usr/include/torch, /usr/lib) or LIBTORCH=/path/to/libtorch (a
pytorch.org build; LIBTORCH_CXX11_ABI=0 for a pre-cxx11-ABI one). Needs g++, make and python3. When
something is missing it says what and the command that installs it. Does nothing when the engine is
up to date. In a clone of pacer's repository, 'npm run setup' does this and more.`,
  options: {
    force: { type: 'boolean', help: 'rebuild even when the engine is up to date' },
    check: { type: 'boolean', help: 'only report (JSON) whether the engine is built and current; exit 1 if not' },
  },
  run(v) {
    const args = [script, ...(v.force ? ['--force'] : []), ...(v.check ? ['--check'] : [])];
    const r = spawnSync(process.execPath, args, { stdio: 'inherit', timeout: 40 * 60_000 });
    if (r.error) throw r.error;
    return r.status ?? 1;
  },
});
