import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope } from '../engine/index.js';
import { fromPretrained, type PretrainedModel } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { loadProcessorConfigs } from '../models/qwen2_vl/processor.js';
import { readVLConfig } from '../models/qwen2_vl/config.js';
import { Tokenizer } from '../tokenizers/index.js';
import { expandRowPads, prepareRowVision, rowPixels, rowVisionItems, type RowVision } from '../data/media.js';
import { makeDataset } from '../video/worlds/make.js';
import { blankVision } from '../trainers/video-mask.js';
import { htmlTable, type Plot, renderReport } from '../report/html.js';
import type { RecipeOptions } from './recipe.js';
import type { MetricStats, StudySummary } from './study.js';
import { vlmBase } from './vlm-base.js';

/**
 * The GRPO settings the video studies share — `npm start`'s video stage, the only ones measured to move the
 * tiny base: DAPO's token-level loss, no KL, a constant rate, 8 answers × 4 prompts per step (2 × 1 smoke).
 */
export function videoGrpoSpec(smoke: boolean) {
  return {
    num_generations: smoke ? 2 : 8,
    prompts_per_step: smoke ? 1 : 4,
    lr_scheduler_type: 'constant' as const,
    loss_type: 'dapo' as const,
    beta: 0,
    temperature: 1,
  };
}

/** A study's GRPO settings as trainer keys, for `steps` steps with no checkpoint before the end. */
export function grpoKeys(
  g: ReturnType<typeof videoGrpoSpec> & { learning_rate: number },
  steps: number,
  maxNew: number,
) {
  return {
    num_generations: g.num_generations,
    per_device_train_batch_size: g.num_generations * g.prompts_per_step,
    max_completion_length: maxNew,
    temperature: g.temperature,
    beta: g.beta,
    learning_rate: g.learning_rate,
    lr_scheduler_type: g.lr_scheduler_type,
    loss_type: g.loss_type,
    max_steps: steps,
    save_steps: steps + 1,
  };
}

export type Row = Record<string, any>;

export const readRows = (file: string): Row[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

export function writeRows(file: string, rows: readonly Row[]): void {
  writeFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** n items of a world (frame files of size × size) under root/name; rows' videos relative to root. */
export async function worldRows(
  o: { world: string; n: number; seed: number; knobs: Record<string, string>; size: number },
  root: string,
  name: string,
): Promise<Row[]> {
  const out = join(root, name);
  await makeDataset({ world: o.world, n: o.n, seed: o.seed, out, framesOnly: true, knobs: o.knobs, width: o.size });
  return readRows(join(out, 'data.jsonl')).map((r) => ({ ...r, videos: r.videos.map((v: string) => `${name}/${v}`) }));
}

/** A study seed's start: its vlm-base (reused or trained), a fresh DIR/seed-S folder and its data folder. */
export async function seedStart(o: RecipeOptions, seed: number, dir: string) {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const b = await vlmBase.run({ seed, seeds: [seed], smoke: o.smoke, threads: o.threads, log, progress: false });
  const sd = join(dir, `seed-${seed}`);
  rmSync(sd, { recursive: true, force: true });
  const data = join(sd, 'data');
  mkdirSync(data, { recursive: true });
  return { log, base: join(b.dir, 'model'), sd, data };
}

export interface Prepared {
  ids: number[];
  vision: RowVision;
}

/** A video-language model that answers rows (prompt + videos) of a data folder. */
export class VideoAnswerer {
  private constructor(
    private readonly pm: PretrainedModel,
    private readonly tok: Tokenizer,
    private readonly dir: string,
    private readonly baseDir: string,
    private readonly fps: number,
  ) {}

  static load(dir: string, baseDir: string, fps: number): VideoAnswerer {
    return new VideoAnswerer(fromPretrained(dir), Tokenizer.fromPretrained(dir), dir, baseDir, fps);
  }

  async prepare(row: Row, where: string): Promise<Prepared> {
    const vl = readVLConfig(JSON.parse(readFileSync(join(this.dir, 'config.json'), 'utf8')), this.dir);
    const o = {
      baseDir: this.baseDir,
      videoFps: this.fps,
      processors: loadProcessorConfigs(this.dir),
      padIds: [vl.imageTokenId, vl.videoTokenId],
    };
    const vision = await prepareRowVision(rowVisionItems(row, where), o, where);
    const text = this.tok.applyChatTemplate(row.prompt, { addGenerationPrompt: true });
    return { ids: this.tok.encode(expandRowPads(vision, text, where)), vision };
  }

  /** `samples` answers (sampled at `temperature`, per-answer seeds; temperature 0: one greedy), frames blanked. */
  answer(
    p: Prepared,
    o: { samples: number; temperature: number; seed: number; maxNewTokens: number; blank?: number[][] },
  ): string[] {
    const rv = o.blank ? blankVision(p.vision, o.blank) : p.vision;
    const n = o.temperature > 0 ? o.samples : 1;
    const res = noGrad(() =>
      scope(() => {
        const media = rowPixels(rv);
        return generate(
          this.pm.model,
          Array.from({ length: n }, () => p.ids),
          {
            maxNewTokens: o.maxNewTokens,
            doSample: o.temperature > 0,
            temperature: o.temperature > 0 ? o.temperature : undefined,
            rowSeeds: o.temperature > 0 ? Array.from({ length: n }, (_, g) => o.seed * 1009 + g) : undefined,
            media: Array.from({ length: n }, () => media),
            logitBias: Object.fromEntries(rv.padIds.map((id) => [id, -1e9])),
          },
          this.tok,
        );
      }),
    );
    return res.map((r) => (r.text ?? '').trim());
  }

  dispose(): void {
    this.pm.model.dispose();
  }
}

/** The last logged value of a metric in a training history (NaN when never logged). */
export function lastValue(history: ReadonlyArray<Record<string, number>>, key: string): number {
  for (let i = history.length - 1; i >= 0; i--) if (key in history[i]) return history[i][key];
  return Number.NaN;
}

/** The mean of a metric over the logged steps 1 … ceil(fraction · steps) (NaN when none logged it). */
export function earlyMean(
  history: ReadonlyArray<Record<string, number>>,
  key: string,
  steps: number,
  fraction: number,
): number {
  const until = Math.ceil(fraction * steps);
  const xs = history.filter((h) => key in h && h.step <= until).map((h) => h[key]);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

/** The arms × metrics table of a study summary (mean ± std over seeds) and the HTML report around it. */
export function studyReport(o: {
  title: string;
  intro: string;
  summary: StudySummary;
  metrics: string[];
  plots: Plot[];
  config: Record<string, unknown>;
  sections?: Array<{ title: string; html: string }>;
}): string {
  const fmt = (s: MetricStats | undefined) =>
    !s || !Number.isFinite(s.mean) ? null : `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}`;
  const rows = Object.entries(o.summary.arms).map(([arm, m]) => [arm, ...o.metrics.map((k) => fmt(m[k]))]);
  const table = htmlTable(['arm', ...o.metrics], rows);
  return renderReport({
    title: o.title,
    intro: `${o.intro} Seeds: ${o.summary.seeds.join(', ')} (mean ± sample std).`,
    summary: { recipe: o.summary.recipe, seeds: o.summary.seeds.join(',') },
    config: o.config,
    plots: o.plots,
    sections: [{ title: 'Arms', html: table }, ...(o.sections ?? [])],
  });
}
