// Maintainers: turn a finished `pacer recipe vlm-base --seed 0` folder into the committed default base,
// assets/vlm-base: the model in bfloat16 (with its tokenizer, chat template and processor configs) and
// recipe.json with the held-out metrics measured again on the bfloat16 weights.
//   node scripts/commit-vlm-base.mjs RUN_DIR [assets/vlm-base]
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromPretrained, savePretrained } from '../dist/models/pretrained.js';
import { evaluateVlmBase, vlmBaseSpec } from '../dist/recipes/vlm-base.js';

const [run, out = 'assets/vlm-base'] = process.argv.slice(2);
if (!run || !existsSync(join(run, 'recipe.json'))) {
  console.error('usage: node scripts/commit-vlm-base.mjs RUN_DIR [OUT] (RUN_DIR: a finished pacer recipe vlm-base)');
  process.exit(2);
}
const rec = JSON.parse(readFileSync(join(run, 'recipe.json'), 'utf8'));
if (JSON.stringify(rec.spec) !== JSON.stringify(vlmBaseSpec(false)))
  throw new Error(`${run} was made with another configuration than the default one`);
const tmp = `${out}.tmp`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(join(tmp, 'model'), { recursive: true });
for (const f of readdirSync(join(run, 'model')))
  if (!['model.safetensors', 'config.json', 'metrics.jsonl', 'train_results.json'].includes(f))
    cpSync(join(run, 'model', f), join(tmp, 'model', f));
const pm = fromPretrained(join(run, 'model'), { dtype: 'bfloat16' });
savePretrained(pm, join(tmp, 'model'));
pm.model.dispose();
const held = readFileSync(join(run, 'work', 'data', 'held.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const metrics = await evaluateVlmBase(join(tmp, 'model'), held, rec.spec, join(run, 'work', 'data'));
const record = { ...rec, dtype: 'bfloat16', metrics, metrics_float32: rec.metrics };
writeFileSync(join(tmp, 'recipe.json'), `${JSON.stringify(record, null, 2)}\n`);
rmSync(out, { recursive: true, force: true });
cpSync(tmp, out, { recursive: true });
rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify(metrics, null, 2));
