// Removes compiled files in dist/ whose TypeScript source is gone (a renamed or deleted module), so a
// stale dist/ never ships in the package nor shadows a moved module. Run before tsc by build/prepare/setup.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
if (existsSync(dist)) {
  let n = 0;
  for (const f of walk(dist)) {
    const m = /^(.*)\.(js|d\.ts|js\.map|d\.ts\.map)$/.exec(relative(dist, f));
    if (m && !existsSync(join(root, 'src', `${m[1]}.ts`))) {
      rmSync(f);
      n++;
    }
  }
  if (n) console.log(`[prune-dist] removed ${n} stale file(s) from dist/`);
}
