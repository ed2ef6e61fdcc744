// IFT's step against SFT's on the same model and batch (issue 12's "IFT costs ≤ 1.5× an SFT step"):
// each step is zeroGrad → the method's loss (IFT: a no-grad pass for the guesses, then the pass on
// mixed embeddings) → backward → AdamW. Alternating rounds, medians.
import { AdamW, manualSeed, scope, setThreads } from '../../engine/index.js';
import { fromPretrained } from '../../models/pretrained.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { loadDataset } from '../../data/datasets.js';
import { makeMethod } from '../../trainers/methods.js';
import { resolveConfig, type OfflineConfig } from '../../trainers/config.js';
import { median, round } from './peer.js';

export interface IftBenchOptions {
  modelDir: string;
  /** prompt-completion JSONL */
  data: string;
  batch: number;
  steps: number;
  threads: number;
  seed: number;
}

/** Median seconds per step for SFT and IFT, and their ratio. */
export async function benchIftStep(o: IftBenchOptions): Promise<Record<string, number>> {
  setThreads(o.threads);
  const tok = Tokenizer.fromPretrained(o.modelDir);
  const examples = await loadDataset(o.data);
  const times: Record<string, number[]> = { sft: [], ift: [] };
  const runs = (['sft', 'ift'] as const).map((trainer) => {
    const raw = {
      trainer,
      model_name_or_path: o.modelDir,
      train_dataset: o.data,
      output_dir: '/tmp/unused',
      seed: o.seed,
    };
    const method = makeMethod(resolveConfig(raw, 'bench') as OfflineConfig);
    const items = method.prepare(examples, tok, { maxLength: 1024, maxPromptLength: 512 }).slice(0, o.batch);
    manualSeed(o.seed);
    const { model } = fromPretrained(o.modelDir);
    const opt = new AdamW(model.parameters(), { lr: 1e-5 });
    return { trainer, method, items, model, opt };
  });
  const pad = tok.padTokenId ?? tok.eosTokenId ?? 0;
  for (let s = 0; s < o.steps + 1; s++)
    for (const r of runs) {
      const t0 = performance.now();
      scope(() => {
        r.opt.zeroGrad();
        r.method.loss(r.model, r.items, pad, { step: s, warmupSteps: 0, train: true }).loss.backward();
        r.opt.step();
      });
      if (s > 0) times[r.trainer].push((performance.now() - t0) / 1000); // the first step warms up
    }
  for (const r of runs) {
    r.model.dispose();
    r.opt.dispose();
  }
  const [sft, ift] = [median(times.sft), median(times.ift)];
  return { sft_step_s: round(sft, 4), ift_step_s: round(ift, 4), ift_over_sft: round(ift / sft, 3) };
}
