// Stand-ins that let every example run anywhere in seconds: a tiny Llama with random weights in
// Hugging Face layout (config.json + model.safetensors) with pacer's byte-level tokenizer, and small
// arithmetic datasets in TRL's formats. Replace them with your model folder and your JSONL files.
// PACER_SMOKE=1 shrinks every example to a few steps (CI runs them that way).
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { modelFromConfig, savePretrained } from 'pacer/models';
import { bundledTokenizerDir } from 'pacer/tokenizers';

export const SMOKE = process.env.PACER_SMOKE === '1';

/** The folder an example writes to: its first argument, or a new temporary folder. */
export function workDir(name: string): string {
  const dir = process.argv[2] ? resolve(process.argv[2]) : mkdtempSync(join(tmpdir(), `pacer-${name}-`));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A 2-layer Llama (hidden 64) with random weights and the byte-level tokenizer, saved in `dir`. */
export function tinyModel(dir: string): string {
  if (existsSync(join(dir, 'config.json'))) return dir;
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 384,
    hidden_size: 64,
    intermediate_size: 192,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  };
  savePretrained({ model: modelFromConfig(config), config }, dir);
  cpSync(bundledTokenizerDir(), dir, { recursive: true });
  return dir;
}

/** Rows as JSON Lines (one object per line, TRL's dataset files). */
export function writeJsonl(file: string, rows: object[]): string {
  writeFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return file;
}

/** `n` addition problems a + b (1 ≤ a, b ≤ 49) from a seeded generator, with a difficulty (carries). */
export function sums(n: number, seed = 0): Array<{ prompt: string; answer: string; difficulty: number }> {
  let s = seed * 7919 + 1;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return 1 + Math.floor((s / 2147483648) * 49);
  };
  return Array.from({ length: n }, () => {
    const a = next();
    const b = next();
    return { prompt: `${a}+${b}=`, answer: String(a + b), difficulty: (a % 10) + (b % 10) >= 10 ? 2 : 1 };
  });
}
