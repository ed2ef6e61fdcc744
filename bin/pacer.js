#!/usr/bin/env node
// pacer command-line entry point: runs the compiled CLI (npm run setup builds it).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'index.js');
if (!existsSync(cli)) {
  console.error(`pacer is not built yet (${cli} is missing). Run 'npm run setup' in ${root} first.`);
  process.exit(1);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
