// The `pacer` command line. Each subcommand parses its own options (node:util parseArgs, strict)
// and explains itself with --help.
import { parseArgs } from 'node:util';
import { benchEngine } from './bench-engine.js';
import { runDemo } from './demo.js';

const MAIN_HELP = `pacer — post-training from rewards and preferences (libtorch engine)

usage: pacer <command> [options]

commands:
  demo                 train a tiny GPT on the bundled text and sample from it (what 'npm start' runs)
  bench engine         time a GPT-2-style training step; --vs-pytorch compares with PyTorch eager
  help [command]       this text, or a command's options

Run 'pacer <command> --help' for a command's options.`;

const BENCH_ENGINE_HELP = `pacer bench engine — GPT-2-architecture training step (fp32, CPU, AdamW lr 1e-4 wd 0.1)

usage: pacer bench engine [options]

  --vocab N        vocabulary size                 (default 512)
  --d-model N      embedding width                 (default 256)
  --layers N       transformer blocks              (default 4)
  --heads N        attention heads                 (default 4)
  --seq N          sequence length                 (default 128)
  --batch N        sequences per step              (default 8)
  --steps N        timed steps after 2 warm-up     (default 10)
  --threads LIST   thread counts, e.g. 1,2         (default: 1,<cores>)
  --seed N         random seed                     (default 0)
  --rounds N       alternate pacer/PyTorch N times and take medians (default 1)
  --vs-pytorch     also run the same model in PyTorch eager (needs python3-torch) and report the ratio
  --json           one JSON line per thread count (otherwise a readable summary)

Reports tokens/s, step time (median), parameters, threads, the BLAS in use, and MFU against the
best sgemm measured in the same command.`;

const DEMO_HELP = `pacer demo — train a tiny character-level GPT on the bundled text, then sample

usage: pacer demo [--steps N] [--threads N] [--seed N] [--out DIR]

  --steps N     training steps            (default 300)
  --threads N   engine threads            (default: all cores)
  --seed N      random seed               (default 0)
  --out DIR     where to write the model and log (default runs/demo-gpt)`;

function int(v: string | undefined, name: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export class UsageError extends Error {}

async function cmdBenchEngine(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      vocab: { type: 'string' }, 'd-model': { type: 'string' }, layers: { type: 'string' }, heads: { type: 'string' },
      seq: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string' },
      seed: { type: 'string' }, rounds: { type: 'string' }, 'vs-pytorch': { type: 'boolean' }, json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(BENCH_ENGINE_HELP); return 0; }
  const cores = (await import('node:os')).availableParallelism();
  const threadList = (values.threads ?? (cores > 1 ? `1,${cores}` : '1')).split(',').map((t) => int(t.trim(), 'threads', 1));
  const base = {
    vocab: int(values.vocab, 'vocab', 512), dModel: int(values['d-model'], 'd-model', 256), layers: int(values.layers, 'layers', 4),
    heads: int(values.heads, 'heads', 4), seq: int(values.seq, 'seq', 128), batch: int(values.batch, 'batch', 8),
    steps: int(values.steps, 'steps', 10), seed: int(values.seed, 'seed', 0, 0), rounds: int(values.rounds, 'rounds', 1),
    vsPytorch: !!values['vs-pytorch'], progress: !values.json || process.stderr.isTTY === true,
  };
  if (base.dModel % base.heads !== 0) throw new UsageError(`--d-model (${base.dModel}) must be divisible by --heads (${base.heads})`);
  for (const threads of threadList) {
    const r = benchEngine({ ...base, threads });
    if (values.json) console.log(JSON.stringify(r));
    else {
      console.log(`threads ${r.threads} (BLAS ${r.blas_threads}): ${r.tokens_per_s} tokens/s, ${r.step_ms} ms/step, ${r.params} params, MFU ${(Number(r.mfu) * 100).toFixed(1)}% of ${r.sgemm_best_gflops} GFLOP/s sgemm`);
      if (r.pytorch) { const p = r.pytorch as any; console.log(`  PyTorch ${p.torch}: ${p.tokens_per_s} tokens/s, ${p.step_ms} ms/step -> pacer/PyTorch ${r.ratio_vs_pytorch}x`); }
      if (r.pytorch_error) console.log(`  PyTorch: ${r.pytorch_error}`);
      console.log(`  BLAS: ${r.blas}`);
    }
  }
  return 0;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { steps: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { console.log(DEMO_HELP); return 0; }
  const cores = (await import('node:os')).availableParallelism();
  await runDemo({
    steps: int(values.steps, 'steps', 300), threads: int(values.threads, 'threads', cores), seed: int(values.seed, 'seed', 0, 0),
    out: values.out ?? 'runs/demo-gpt',
  });
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      const sub = rest.join(' ');
      console.log(sub === 'bench engine' ? BENCH_ENGINE_HELP : sub === 'demo' ? DEMO_HELP : MAIN_HELP);
      return 0;
    }
    if (cmd === 'demo') return await cmdDemo(rest);
    if (cmd === 'bench') {
      const [what, ...opts] = rest;
      if (what === 'engine') return await cmdBenchEngine(opts);
      throw new UsageError(`unknown benchmark '${what ?? ''}' (available: engine)`);
    }
    throw new UsageError(`unknown command '${cmd}'`);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`pacer: ${err.message}\nRun 'pacer --help' (or 'pacer ${cmd} --help') for usage.`);
      return 2;
    }
    console.error(err.message.startsWith('pacer') ? err.message : `pacer: ${err.message}`);
    if (process.env.PACER_DEBUG) console.error(err.stack);
    return 1;
  }
}
