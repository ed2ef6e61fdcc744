#!/usr/bin/env node
// pacer's size check, after tinygrad's sz.py: lines of code in src/ per folder (blank and comment-only
// lines not counted), the largest functions, and a failure (exit 1) on any function longer than
// MAX_FUNCTION_LINES or any src/ line longer than MAX_LINE_CHARS. `npm test` runs it.
//   node scripts/sz.mjs [--top N] [--json]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const MAX_FUNCTION_LINES = 120;
const MAX_LINE_CHARS = 120;
const root = join(fileURLToPath(import.meta.url), '../..');
const src = join(root, 'src');
const args = process.argv.slice(2);
const top = Number(args[args.indexOf('--top') + 1]) || 10;

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Lines that hold code (not blank, not only a comment). */
function codeLines(text) {
  let inBlock = false;
  let n = 0;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (inBlock) {
      if (l.includes('*/')) inBlock = false;
      continue;
    }
    if (l === '' || l.startsWith('//')) continue;
    if (l.startsWith('/*')) {
      if (!l.includes('*/')) inBlock = true;
      continue;
    }
    n++;
  }
  return n;
}

/** Every function-like node with its name and line span. */
function functions(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out = [];
  const nameOf = (node) => {
    if (node.name && ts.isIdentifier(node.name)) return node.name.text;
    if (ts.isConstructorDeclaration(node)) return 'constructor';
    const p = node.parent;
    if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name)
      return p.name.getText(sf);
    return '(anonymous)';
  };
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      out.push({ name: nameOf(node), file: relative(root, file), line: start, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const perFolder = new Map();
const fns = [];
const longLines = [];
for (const f of files(src)) {
  const text = readFileSync(f, 'utf8');
  const folder = relative(src, f).split('/').length > 1 ? relative(src, f).split('/')[0] : '.';
  const c = perFolder.get(folder) ?? { files: 0, lines: 0 };
  perFolder.set(folder, { files: c.files + 1, lines: c.lines + codeLines(text) });
  fns.push(...functions(f, text));
  text.split('\n').forEach((l, i) => {
    if (l.length > MAX_LINE_CHARS) longLines.push(`${relative(root, f)}:${i + 1} (${l.length} chars)`);
  });
}
fns.sort((a, b) => b.lines - a.lines);
const tooLong = fns.filter((f) => f.lines > MAX_FUNCTION_LINES);
const total = [...perFolder.values()].reduce((a, c) => a + c.lines, 0);

if (args.includes('--json')) {
  console.log(
    JSON.stringify({ total, folders: Object.fromEntries(perFolder), largest: fns.slice(0, top), tooLong, longLines }),
  );
} else {
  console.log('src/ lines of code per folder:');
  for (const [k, v] of [...perFolder].sort((a, b) => b[1].lines - a[1].lines))
    console.log(`  ${k.padEnd(14)} ${String(v.lines).padStart(6)}  (${v.files} files)`);
  console.log(`  ${'total'.padEnd(14)} ${String(total).padStart(6)}`);
  console.log(`largest functions (limit ${MAX_FUNCTION_LINES} lines):`);
  for (const f of fns.slice(0, top)) console.log(`  ${String(f.lines).padStart(4)}  ${f.name}  ${f.file}:${f.line}`);
}
if (tooLong.length || longLines.length) {
  for (const f of tooLong)
    console.error(`sz: ${f.file}:${f.line}: ${f.name} is ${f.lines} lines (limit ${MAX_FUNCTION_LINES})`);
  for (const l of longLines) console.error(`sz: ${l}: longer than ${MAX_LINE_CHARS} characters`);
  process.exit(1);
}
