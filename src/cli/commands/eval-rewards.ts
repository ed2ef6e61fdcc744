// `pacer eval rewards`: a reward model (trainer: reward output) on preference pairs — RewardBench-style
// accuracy overall, per category/subset and per section, the calibration of σ(r_chosen − r_rejected),
// and agreement with the votes of a studio project.
import { type Example, loadDataset } from '../../data/datasets.js';
import { type ScoredPair, pairAccuracy, rewardAccuracy, rewardCalibration } from '../../eval/reward-model.js';
import { rewardModelReward } from '../../rewards/model.js';
import type { PromptLike } from '../../rewards/types.js';
import { exportRows } from '../../studio/export.js';
import { Project } from '../../studio/project.js';
import { agreement } from '../../studio/stats.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UsageError, defineCommand, int, output, str } from '../command.js';

type Pair = { prompt: unknown; chosen: unknown; rejected: unknown; category: string | null };

async function score(model: string, batch: number, pairs: Pair[]): Promise<ScoredPair[]> {
  const fn = rewardModelReward(model, batch);
  const run = async (key: 'chosen' | 'rejected') =>
    (await fn({
      prompts: pairs.map((p) => p.prompt as PromptLike),
      completions: pairs.map((p) => p[key] as string),
      columns: {},
    })) as number[];
  const [c, r] = [await run('chosen'), await run('rejected')];
  return pairs.map((p, i) => ({ rChosen: c[i], rRejected: r[i], category: p.category }));
}

function pairsOf(examples: Example[], file: string): Pair[] {
  if (examples[0].format !== 'preference')
    throw new UsageError(
      `${file} holds ${examples[0].format} rows; eval rewards needs preference pairs {"prompt", "chosen", "rejected"}`,
    );
  return examples.map((e) => {
    const c = e.extra.category ?? e.extra.subset;
    return { prompt: e.prompt, chosen: e.chosen, rejected: e.rejected, category: typeof c === 'string' ? c : null };
  });
}

/** The model against a studio project's decisive votes (each vote, and each pair's majority). */
async function studioAgreement(model: string, batch: number, dir: string) {
  let p: Project;
  try {
    p = Project.openDir(dir);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
  }
  try {
    if (p.candidates().some((c) => c.kind !== 'text'))
      throw new UsageError(`${dir} holds videos; reward models here score text`);
    const rows = (o: Parameters<typeof exportRows>[1]) =>
      exportRows(p, { format: 'pairs', ...o }).map((r) => ({
        prompt: r.prompt,
        chosen: r.chosen,
        rejected: r.rejected,
        category: null,
      }));
    const votes = await score(model, batch, rows({}));
    const majority = await score(model, batch, rows({ aggregate: 'majority' }));
    const a = agreement(p);
    return {
      votes: pairAccuracy(votes),
      majority: pairAccuracy(majority),
      human_raw_agreement: a.raw,
      human_alpha: a.alpha,
    };
  } finally {
    p.close();
  }
}

function itemRow(s: ScoredPair) {
  const p = 1 / (1 + Math.exp(s.rRejected - s.rChosen));
  return { category: s.category, r_chosen: s.rChosen, r_rejected: s.rRejected, p, correct: s.rChosen > s.rRejected };
}

const pc = (x: number | null) => (x === null || Number.isNaN(x) ? '—' : x.toFixed(2));

export const evalRewards = defineCommand({
  name: 'eval rewards',
  summary:
    'a reward model on preference pairs: accuracy per category (RewardBench sections), calibration, ' +
    'agreement with studio votes',
  usage:
    'pacer eval rewards --model DIR --data PAIRS.jsonl [--studio PROJECT_DIR] [--batch-size 16] [--json] [--out FILE]',
  description: `DIR is a reward model from 'pacer train' (trainer: reward). PAIRS: TRL preference rows {"prompt",
"chosen", "rejected"} (.jsonl or .parquet, or a studio: dataset), optionally with "category" or "subset". Accuracy is
the percentage of pairs with r(chosen) > r(rejected) (a tie is a miss, as RewardBench), overall and per
category; RewardBench subsets (alpacaeval-easy, mt-bench-hard, xstest-should-refuse, hep-python, …) also
give its sections (Chat, Chat Hard, Safety, Reasoning) weighted as rewardbench/utils.py does, and their
mean. ECE: 10 equal-width bins of max(p, 1 − p), p = σ(r_chosen − r_rejected). --studio: the accuracy on
a studio project's decisive votes (each vote, and each pair's majority), beside the people's own raw
agreement and Krippendorff's α. --out writes {"category", "r_chosen", "r_rejected", "p", "correct"} per pair.`,
  options: {
    model: { type: 'string', arg: 'DIR', help: 'a reward model folder (score.safetensors + the LM)' },
    data: { type: 'string', arg: 'FILE', help: 'preference pairs' },
    studio: { type: 'string', arg: 'DIR', help: 'a studio project folder (DATA/projects/NAME)' },
    'batch-size': { type: 'string', arg: 'N', help: 'sequences per forward pass', default: '16' },
    json: { type: 'boolean', help: 'print the metrics as one JSON object' },
    out: { type: 'string', arg: 'FILE', help: 'one JSON line per pair' },
  },
  async run(v) {
    const model = str(v.model),
      data = str(v.data);
    if (!model || !data) throw new UsageError('eval rewards needs --model DIR and --data PAIRS.jsonl');
    const batch = int(v['batch-size'], 'batch-size', 16);
    const scored = await score(model, batch, pairsOf(await loadDataset(data), data));
    const acc = rewardAccuracy(scored);
    const cal = rewardCalibration(scored);
    const studio = str(v.studio) ? await studioAgreement(model, batch, str(v.studio)!) : null;
    const out = str(v.out);
    if (out) writeFileAtomic(out, scored.map((x) => `${JSON.stringify(itemRow(x))}\n`).join(''));
    const result = { ...acc, ece: cal.ece, calibration: cal.bins, ...(studio ? { studio } : {}) };
    output(!!v.json, result, () => {
      console.log(`reward model on ${acc.n} pairs: accuracy ${pc(acc.accuracy)}%, ECE ${cal.ece.toFixed(4)}`);
      for (const [k, a] of Object.entries(acc.per_category))
        console.log(`  ${k.padEnd(24)} ${pc(a.accuracy).padStart(6)}  (n ${a.n})`);
      if (acc.sections)
        for (const [k, s] of Object.entries(acc.sections)) console.log(`  section ${k.padEnd(16)} ${pc(s)}`);
      if (acc.score !== null) console.log(`  RewardBench score ${pc(acc.score)}`);
      if (studio) {
        const raw = studio.human_raw_agreement;
        console.log(
          `  studio votes: ${pc(studio.votes.accuracy)}% of ${studio.votes.n}; ` +
            `majority ${pc(studio.majority.accuracy)}% of ${studio.majority.n}; ` +
            `people among themselves ${pc(raw === null ? null : 100 * raw)}%`,
        );
      }
    });
    return 0;
  },
});
