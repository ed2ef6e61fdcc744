// `pacer demo text`: trains a tiny character-level GPT on the bundled text with
// AdamW, shows a progress bar, saves the model as HF-style safetensors + config.json, and samples.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdamW,
  Generator,
  LRScheduler,
  clipGradNorm,
  decayGroups,
  manualSeed,
  noGrad,
  scope,
  setThreads,
  tensor,
  F,
  saveSafetensors,
  randint,
  atomicWrite,
  type Tensor,
} from '../engine/index.js';
import { writeSync } from 'node:fs';
import { GPT } from '../models/gpt.js';
import { Progress } from '../report/progress.js';

export interface TextDemoOptions {
  steps: number;
  threads: number;
  seed: number;
  out: string;
}

export async function runTextDemo(
  o: TextDemoOptions,
): Promise<{ firstLoss: number; finalLoss: number; sample: string }> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const here = dirname(fileURLToPath(import.meta.url));
  const text = readFileSync(join(here, '../../data/tiny-text.txt'), 'utf8');
  const chars = [...new Set(text)].sort();
  const stoi = new Map(chars.map((c, i) => [c, i]));
  const ids = tensor(Int32Array.from(text, (c) => stoi.get(c)!)).to('int64');
  const T = 64;
  const B = 16;
  const model = new GPT({ vocab_size: chars.length, n_positions: T, n_embd: 96, n_layer: 3, n_head: 4 });
  const opt = new AdamW(decayGroups(model, 0.1), { lr: 3e-3, betas: [0.9, 0.95] });
  const sched = new LRScheduler(opt, 'cosine', Math.min(20, o.steps >> 3), o.steps);
  const gen = new Generator(o.seed);
  console.log(
    `pacer demo: a ${model.numParameters().toLocaleString()}-parameter GPT learns ${text.length.toLocaleString()} ` +
      `characters of text (${o.steps} steps, ${o.threads} thread${o.threads > 1 ? 's' : ''})`,
  );
  const bar = new Progress(o.steps, 'training');
  let firstLoss = NaN;
  let ema = NaN;
  const offsets = tensor([...Array(T + 1).keys()], { dtype: 'int64' });
  for (let step = 0; step < o.steps; step++) {
    const loss = scope(() => {
      const starts = randint(0, ids.numel - T - 1, [B, 1], { generator: gen });
      const batch = ids.indexSelect(0, starts.add(offsets).flatten()).view(B, T + 1);
      const x = batch.narrow(1, 0, T);
      const y = batch.narrow(1, 1, T);
      opt.zeroGrad();
      const l = model.loss(x, y);
      l.backward();
      clipGradNorm(model.parameters(), 1.0);
      opt.step();
      sched.step();
      return l.item();
    });
    if (!Number.isFinite(loss)) throw new Error(`pacer demo: the loss became ${loss} at step ${step}`);
    if (step === 0) firstLoss = loss;
    ema = Number.isNaN(ema) ? loss : 0.9 * ema + 0.1 * loss;
    bar.update(step + 1, `loss ${ema.toFixed(3)}`);
  }
  mkdirSync(o.out, { recursive: true });
  saveSafetensors(join(o.out, 'model.safetensors'), model.stateDict(), { format: 'pt' });
  atomicWrite(join(o.out, 'config.json'), (fd) =>
    writeSync(
      fd,
      JSON.stringify(
        { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], ...model.config, vocab: chars.join('') },
        null,
        2,
      ) + '\n',
    ),
  );
  // Sample: temperature 0.8 from a prompt, re-running the whole context window each token.
  const prompt = 'The ';
  const out: number[] = [...prompt].map((c) => stoi.get(c)!);
  model.eval();
  noGrad(() => {
    for (let i = 0; i < 240; i++) {
      scope(() => {
        const ctx = tensor([out.slice(-T)], { dtype: 'int64' });
        const logits: Tensor = model.forward({ ids: ctx }).select(1, -1).div(0.8);
        out.push(F.multinomial(logits.softmax(-1), 1, false, gen).item());
      });
    }
  });
  const sample = out.map((i) => chars[i]).join('');
  console.log(
    `\nloss ${firstLoss.toFixed(3)} -> ${ema.toFixed(3)} (smoothed); model saved to ` +
      `${o.out}/model.safetensors\n\nsample:\n${sample}\n`,
  );
  writeFileSync(join(o.out, 'sample.txt'), sample + '\n');
  model.dispose();
  opt.dispose();
  return { firstLoss, finalLoss: ema, sample };
}
