// `pacer recipe NAME`: run a shipped end-to-end recipe (src/recipes/): it makes its data, trains,
// evaluates, and writes its results to a folder cached by its configuration and seed.
import { getRecipe, recipeNames } from '../../recipes/index.js';
import { defineCommand, int, output, str, threadsOpt, UsageError } from '../command.js';

function seedList(v: unknown): number[] {
  const seeds = String(v)
    .split(',')
    .map((t) => int(t.trim(), 'seeds', 0, 0));
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds repeats a seed: ${v}`);
  return seeds;
}

export const recipe = defineCommand({
  name: 'recipe',
  summary: 'run an end-to-end recipe (vlm-base, temple, videotg, cue, tspo)',
  usage: 'pacer recipe NAME [--smoke] [--out DIR] [--seed S | --seeds LIST] [--threads N] [--force] [--json]',
  description: `Recipes:
  vlm-base  pretrain a ~1M-parameter Qwen2.5-VL-architecture model on the procedural video worlds (captions,
            temporal questions, grounding answers) with a word-level tokenizer; reports held-out QA and
            caption accuracy and grounding mIoU / R@0.5; saves it in Hugging Face layout
  temple    TEMPLE's study on the shots world from vlm-base: self-generated temporal DPO pairs, curriculum
            DPO r16 → r2 then SFT against SFT only, post-SFT DPO, mixed-magnitude and reversed curricula;
            temporal-order accuracy, attribute QA, Vinoground scores; summary.json over --seeds
  videotg   the VideoTG-R1 study on the grounding world: GRPO, SFT, and GRPO on a filtered ~10% subset
            stratified by difficulty with the masking curriculum (and without the mask or the filter);
            held-out mIoU and R@{0.3,0.5,0.7}, generated and trained tokens, the filter's precision/recall
  cue       the Cue-R1 study on the anomaly world: SFT, then GRPO with flat 0/1 or hierarchical rewards
            routed by task; per-task scores, their average and context errors (anomaly vs normal twin)
  tspo      the TSPO study on the needle world (3 seeds with --seeds 0,1,2): uniform-k, random-k, feature
            top-k, TSPO top-k and bin-max, and transfer between answerers; summary.json and report.html

Results go to DIR (default: PACER_CACHE or ~/.cache/pacer, recipes/NAME/<key of configuration and seed>);
a folder that already holds the same configuration's result is reused unless --force. --smoke runs the
whole recipe on tiny data for a few steps (a check that it works, not a model). Study recipes (temple, videotg,
cue, tspo) run every arm once per --seeds seed and write summary.json (mean and std per arm and metric) and
report.html.`,
  positionals: true,
  options: {
    smoke: { type: 'boolean', help: 'tiny data and 2 steps: check the pipeline end to end' },
    out: { type: 'string', arg: 'DIR', help: 'output folder (default: the cache folder)' },
    seed: { type: 'string', arg: 'S', help: 'random seed (data, initialisation, order)', default: '0' },
    seeds: { type: 'string', arg: 'LIST', help: "a study's seeds, comma-separated (e.g. 0,1,2); overrides --seed" },
    threads: { type: 'string', arg: 'N', help: 'CPU threads (default: all cores)' },
    force: { type: 'boolean', help: 'run even when DIR holds this configuration already' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
  async run(v, positionals) {
    const name = positionals[0];
    if (!name) throw new UsageError(`name a recipe (${recipeNames().join(', ')})`);
    if (positionals.length > 1) throw new UsageError(`one recipe at a time, got ${positionals.join(' ')}`);
    if (!recipeNames().includes(name))
      throw new UsageError(`unknown recipe '${name}' (recipes: ${recipeNames().join(', ')})`);
    const seeds = v.seeds === undefined ? [int(v.seed, 'seed', 0, 0)] : seedList(v.seeds);
    const r = await getRecipe(name).run({
      out: str(v.out),
      seed: seeds[0],
      seeds,
      smoke: !!v.smoke,
      threads: v.threads === undefined ? undefined : threadsOpt(v.threads),
      force: !!v.force,
      progress: !v.json,
    });
    output(!!v.json, { recipe: name, ...r }, () => {
      console.log(`${name}: ${r.cached ? 'reused' : 'wrote'} ${r.dir}`);
      for (const [k, x] of Object.entries(r.metrics)) console.log(`  ${k}: ${Number.isInteger(x) ? x : x.toFixed(4)}`);
    });
    return 0;
  },
});
