// A curriculum for GRPO: a sampler of your own, registered by name with typed options, chooses which
// prompts each step practises from the pass rates the trainer feeds back; the built-in ones (uniform,
// staged, sec, dump, adarft, balanced, vcrl) are named the same way. Guide: docs/curriculum.md.
//   node curriculum.js [WORKDIR]      (PACER_SMOKE=1: a few steps)
import { join } from 'node:path';
import { BaseSampler, type CurriculumItem, type ItemFeedback, opt, registerSampler } from 'pacer/curriculum';
import { train } from 'pacer/trainers';
import { SMOKE, sums, tinyModel, workDir, writeJsonl } from './tiny.ts';

/**
 * "Frontier" sampling: items are drawn with weight p·(1 − p) + floor, p being the item's last pass rate
 * (0.5 before it is seen), so the prompts the policy sometimes solves are practised most.
 */
class FrontierSampler extends BaseSampler {
  readonly name = 'frontier';
  private pass = new Map<number, number>();
  private readonly floor: number;
  constructor(items: CurriculumItem[], seed: number, floor: number) {
    super(items, seed);
    this.floor = floor;
  }
  private weights(): number[] {
    return this.items.map((it) => {
      const p = this.pass.get(it.index) ?? 0.5;
      return p * (1 - p) + this.floor;
    });
  }
  next(n: number): number[] {
    const w = this.weights(); // this.rand is seeded and checkpointed with the run
    return Array.from({ length: n }, () => this.items[this.rand.weighted(w)].index);
  }
  override update(feedback: ItemFeedback[]): void {
    super.update(feedback);
    for (const f of feedback) this.pass.set(f.index, f.passRate);
  }
  override metrics(): Record<string, number> {
    return { 'curriculum/seen': this.pass.size };
  }
  // what a checkpoint keeps, so a resumed run draws exactly what the uninterrupted one would
  protected override extra(): unknown {
    return [...this.pass];
  }
  protected override loadExtra(state: unknown): void {
    this.pass = new Map(state as Array<[number, number]>);
  }
}

registerSampler('frontier', {
  options: { floor: opt.num(0.05, 'weight every item keeps', { min: 0 }) },
  make: (items, seed, o) => new FrontierSampler(items, seed, o.floor),
});

const dir = workDir('curriculum');
const run = await train(
  {
    trainer: 'grpo',
    model_name_or_path: tinyModel(join(dir, 'base')),
    train_dataset: writeJsonl(join(dir, 'prompts.jsonl'), sums(64)), // with a 'difficulty' column
    output_dir: join(dir, 'grpo'),
    overwrite_output_dir: true,
    reward_funcs: ['accuracy'],
    num_generations: 4,
    per_device_train_batch_size: 16,
    max_completion_length: 4,
    curriculum_sampler: 'frontier', // or sec, with category_column / difficulty_column naming the arms
    curriculum_options: { floor: 0.1 }, // checked against the sampler's options when the config loads
    max_steps: SMOKE ? 2 : 100,
    learning_rate: 2e-3,
    logging_steps: 1,
    report: !SMOKE,
  },
  { progress: !SMOKE },
);
console.log(
  JSON.stringify({ steps: run.globalStep, seen: run.finalMetrics['curriculum/seen'], reward: run.finalMetrics.reward }),
);
