// `pacer recipe vlm-base`: a tiny (~1M-parameter) Qwen2.5-VL-architecture model that pacer makes
// itself, the base the video reproductions start from. Steps:
//   data       the temporal world (order, direction, speed and attribute questions: multiple choice,
//              yes/no, caption matching) and the grounding world ("When does …?" → <answer>[s, e]</answer>)
//              on a 2×2 grid (17-px things: through the random tower 8-px things' timing is invisible to the
//              language model, whose time readout itself works — see the README) as 56×56 frame files;
//              from each video's exact event log also a caption row ("Describe the video." → TEMPLE's
//              narration "First, …. Then, …. Finally, ….") and an objects row ("Which things are in the
//              video?" → "The red circle and the blue bar."), and a grounding row for every
//              other event of a grounding video that its question names alone; held-out rows from another seed
//   tokenizer  word-level (src/tokenizers/word-level.ts) over the training texts, with Qwen's special-token
//              strings (<|im_start|>, <|vision_start|>, <|video_pad|>, …) and Qwen2-VL's chat template
//   model      a Qwen2.5-VL config (window attention, M-RoPE) initialised as transformers' from_config; the
//              processors pinned to 56×56 frames (min_pixels = max_pixels = 3136: 4 tokens per 2 frames)
//   train      SFT (completion-only loss) of the language model from scratch, AdamW β2 0.95, cosine schedule;
//              the vision tower and merger stay at their random initialisation (random but informative
//              features, like a random-feature encoder). Why: trained end to end, the language model fits
//              the text prior first and the tower/merger then learn to output one constant (held-out
//              embeddings of two videos differed by 0.1% instead of 23% at init) — the model ignored the
//              video at every rate tried (1e-4–3e-3); unfreezing them after a frozen stage (2e-4) shrank the
//              video's effect again (objects NLL own/other video 0.46/0.61 frozen → 0.48/0.54 after).
//   evaluate   greedy answers to the held-out rows: exact-match accuracy of QA, objects and captions, the
//              grounding answers' mIoU and R@0.5 (temporal IoU with the true segment), and video reliance:
//              the mean per-token NLL of the held-out answers with their own video and with another held-out
//              video of the same length (equal when the model ignores the video)
// The result is cached under PACER_CACHE (default ~/.cache/pacer)/recipes/vlm-base/<key>, where key hashes
// the recipe's configuration and seed; recipe.json records the configuration, seed, sizes and metrics.
// The default configuration's seed-0 model is committed under assets/vlm-base (bf16) and used directly.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, noGrad, scope } from '../engine/index.js';
import { fromPretrained, modelFromConfig, savePretrained } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { Tokenizer } from '../tokenizers/index.js';
import { wordsOf, writeWordTokenizer } from '../tokenizers/word-level.js';
import { loadProcessorConfigs, processorConfigJson } from '../models/qwen2_vl/processor.js';
import { type VisionPrompt, visionPrompt } from '../data/media.js';
import { scoreCompletions } from '../models/scoring.js';
import type { CausalLM } from '../models/types.js';
import { makeDataset } from '../video/worlds/make.js';
import { getWorld, parseKnobs } from '../video/worlds/registry.js';
import { caption, narrate, type VideoEvent, whenQuestion } from '../video/worlds/grammar.js';
import { parseSegment, temporalIoU } from '../eval/grounding.js';
import { train } from '../trainers/train.js';
import { atomicWrite } from '../util/atomic.js';
import { withDirLock } from '../util/lock.js';
import type { Recipe, RecipeOptions, RecipeResult } from './recipe.js';

/** Qwen2-VL's special-token strings, in Qwen's id order. */
export const QWEN_SPECIALS = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|vision_start|>',
  '<|vision_end|>',
  '<|vision_pad|>',
  '<|image_pad|>',
  '<|video_pad|>',
] as const;

/** Qwen2-VL's chat template (typed image/video parts become <|vision_start|><|…_pad|><|vision_end|>). */
export const QWEN2_VL_CHAT_TEMPLATE = [
  '{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}',
  '{% for message in messages %}',
  "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
  "{% endif %}<|im_start|>{{ message['role'] }}\n",
  "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}",
  "{% for content in message['content'] %}",
  "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}",
  '{% set image_count.value = image_count.value + 1 %}',
  '{% if add_vision_id %}Picture {{ image_count.value }}: ',
  '{% endif %}<|vision_start|><|image_pad|><|vision_end|>',
  "{% elif content['type'] == 'video' or 'video' in content %}",
  '{% set video_count.value = video_count.value + 1 %}',
  '{% if add_vision_id %}Video {{ video_count.value }}: ',
  '{% endif %}<|vision_start|><|video_pad|><|vision_end|>',
  "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}",
  '{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}',
].join('');

/** The recipe's configuration (hashed with the seed into the cache key). */
export function vlmBaseSpec(smoke: boolean) {
  return {
    worlds: {
      temporal: { duration: '8-10' },
      grounding: { duration: '8-12', events: '1-2', 'event-length': '2-4', distractors: '0', clutter: '0', grid: '2' },
    } as Record<string, Record<string, string>>,
    /** Worlds whose rows' words the tokenizer knows (trained on or not: later recipes ask about them). */
    vocabulary_worlds: ['grounding', 'temporal', 'vinoground', 'shots', 'anomaly', 'needle'],
    size: 56,
    train_per_world: smoke ? 3 : 600,
    eval_per_world: smoke ? 2 : 25,
    text: { hidden_size: 128, intermediate_size: 352, num_hidden_layers: 4, num_attention_heads: 4, kv_heads: 2 },
    vision: { depth: 4, hidden_size: 64, intermediate_size: 128, num_heads: 4 },
    steps: smoke ? 2 : 3000,
    learning_rate: 5e-4,
    adam_beta2: 0.95,
    batch_size: smoke ? 2 : 8,
    warmup_steps: smoke ? 0 : 40,
    video_fps: 2,
    max_new_tokens: smoke ? 6 : 40,
  };
}
export type VlmBaseSpec = ReturnType<typeof vlmBaseSpec>;

type Row = Record<string, any>;
const GROUNDING_FORMAT = 'Answer with the start and end time in seconds as <answer>[start, end]</answer>.';
const jsonl = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const user = (text: string) => [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text }] }];
const reply = (text: string) => [{ role: 'assistant', content: [{ type: 'text', text }] }];

/** More grounding rows from one video: each other event whose question names it alone. */
function moreQueries(r: Row, videos: string[], events: VideoEvent[]): Row[] {
  const count = new Map<string, number>();
  for (const e of events) count.set(whenQuestion(e), (count.get(whenQuestion(e)) ?? 0) + 1);
  return events
    .filter((e) => count.get(whenQuestion(e)) === 1 && whenQuestion(e) !== r.query)
    .map((e) => {
      const ask = `${whenQuestion(e)} ${GROUNDING_FORMAT}`;
      const seg = [e.t0, e.t1];
      const completion = reply(`<answer>[${seg.join(', ')}]</answer>`);
      return {
        prompt: user(ask),
        completion,
        videos,
        task: 'grounding',
        solution: `[${seg.join(', ')}]`,
        segment: seg,
      };
    });
}

/** A world row (videos under folder `sub`) as a training row (task: qa / grounding) plus its caption row. */
function rowsOf(world: string, sub: string, r: Row): Row[] {
  const videos = (r.videos as string[]).map((v) => `${sub}/${v}`);
  const events = [...((r.truth?.events as VideoEvent[]) ?? [])].sort((a, b) => a.t0 - b.t0);
  const task = world === 'grounding' ? 'grounding' : 'qa';
  const out: Row[] = [{ prompt: r.prompt, completion: r.completion, videos, task, solution: r.solution }];
  if (r.segment) out[0].segment = r.segment;
  if (world === 'grounding') out.push(...moreQueries(r, videos, events));
  if (events.length) {
    const text = narrate(events.map((e) => caption(e)));
    out.push({ prompt: user('Describe the video.'), completion: reply(text), videos, task: 'caption', solution: text });
    const things = `The ${[...new Set(events.map((e) => e.subject))].join(' and the ')}.`;
    const ask = user('Which things are in the video?');
    out.push({ prompt: ask, completion: reply(things), videos, task: 'objects', solution: things });
  }
  return out;
}

/** Training and held-out rows under dir/data (videos as .npz frame files). */
async function makeData(spec: VlmBaseSpec, seed: number, dir: string): Promise<{ train: Row[]; held: Row[] }> {
  const out = { train: [] as Row[], held: [] as Row[] };
  for (const [world, knobs] of Object.entries(spec.worlds))
    for (const split of ['train', 'held'] as const) {
      const n = split === 'train' ? spec.train_per_world : spec.eval_per_world;
      const name = split === 'train' ? world : `${world}-held`;
      const sub = join(dir, 'data', name);
      await makeDataset({
        world,
        n,
        seed: split === 'train' ? seed : seed + 7919,
        out: sub,
        framesOnly: true,
        knobs,
        width: spec.size,
      });
      const rows = readFileSync(join(sub, 'data.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      out[split].push(...rows.flatMap((r) => rowsOf(world, name, r)));
    }
  writeFileSync(join(dir, 'data', 'train.jsonl'), jsonl(out.train));
  writeFileSync(join(dir, 'data', 'held.jsonl'), jsonl(out.held));
  return out;
}

const TEXT_FIELDS = ['solution', 'answer', 'caption', 'class', 'label', 'twin_answer', 'query'];
const messageTexts = (ms: unknown): string[] =>
  Array.isArray(ms)
    ? ms.flatMap((m: Row) => (typeof m.content === 'string' ? [m.content] : m.content.map((c: Row) => c.text ?? '')))
    : typeof ms === 'string'
      ? [ms]
      : [];

/** Texts of the rows of every world (300 items each at its default knobs; scenes only, nothing rendered):
 * the recipes built on this base ask about all of them (anomaly classes, shot narrations, …). */
export function worldTexts(spec: VlmBaseSpec, items = 300): string[] {
  const o = { width: spec.size, height: spec.size, fps: spec.video_fps };
  const out: string[] = [];
  for (const w of spec.vocabulary_worlds.map(getWorld))
    for (let i = 0; i < items; i++)
      for (const r of w.generate(i, 0, { ...o, knobs: parseKnobs(w) }).rows) {
        for (const k of ['prompt', 'completion', 'chosen', 'rejected']) out.push(...messageTexts(r[k]));
        for (const k of TEXT_FIELDS) if (typeof r[k] === 'string') out.push(r[k] as string);
      }
  return out;
}

/** Texts whose words the tokenizer must know: the training rows, every world's rows and the numbers 0–99. */
function corpus(spec: VlmBaseSpec, rows: Row[]): string[] {
  const texts = rows.flatMap((r) => [...r.prompt, ...r.completion].flatMap((m: Row) => messageTexts([m])));
  return [
    QWEN2_VL_CHAT_TEMPLATE.replace(/{[%{#][\s\S]*?[%}#]}/g, ' '),
    'user assistant',
    ...texts,
    ...worldTexts(spec),
    ...Array.from({ length: 100 }, (_, i) => `${i}`),
  ];
}

/** config.json of the tiny Qwen2.5-VL (hub flat form). */
function modelConfig(spec: VlmBaseSpec, vocab: number): Record<string, unknown> {
  const t = spec.text;
  const half = t.hidden_size / t.num_attention_heads / 2;
  const s = Math.floor(half / 4);
  return {
    architectures: ['Qwen2_5_VLForConditionalGeneration'],
    model_type: 'qwen2_5_vl',
    vocab_size: vocab,
    hidden_size: t.hidden_size,
    intermediate_size: t.intermediate_size,
    num_hidden_layers: t.num_hidden_layers,
    num_attention_heads: t.num_attention_heads,
    num_key_value_heads: t.kv_heads,
    hidden_act: 'silu',
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    use_sliding_window: false,
    initializer_range: 0.02,
    bos_token_id: 0,
    eos_token_id: 2,
    pad_token_id: 0,
    vision_start_token_id: 3,
    vision_end_token_id: 4,
    vision_token_id: 5,
    image_token_id: 6,
    video_token_id: 7,
    rope_scaling: { type: 'mrope', mrope_section: [half - 2 * s, s, s] },
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    vision_config: {
      ...spec.vision,
      hidden_act: 'silu',
      in_chans: 3,
      out_hidden_size: t.hidden_size,
      patch_size: 14,
      spatial_merge_size: 2,
      spatial_patch_size: 14,
      temporal_patch_size: 2,
      window_size: 112,
      fullatt_block_indexes: [spec.vision.depth - 1],
      tokens_per_second: 2,
      model_type: 'qwen2_5_vl',
    },
  };
}

/**
 * A Qwen2-VL model folder's text and pixel files: a word-level tokenizer over `words` with Qwen's special
 * tokens and chat template, and the image and video processor configs pinned to [min, max] pixels. Returns
 * the tokenizer's vocabulary size.
 */
export function writeQwenVLFiles(dir: string, words: string[], pixels: [number, number]): number {
  const vocab = writeWordTokenizer(dir, {
    specials: QWEN_SPECIALS,
    words,
    eos: '<|im_end|>',
    pad: '<|endoftext|>',
    chatTemplate: QWEN2_VL_CHAT_TEMPLATE,
  });
  for (const [kind, file] of [
    ['image', 'preprocessor_config.json'],
    ['video', 'video_preprocessor_config.json'],
  ] as const)
    writeFileSync(join(dir, file), JSON.stringify(processorConfigJson(kind, ...pixels), null, 2));
  return vocab;
}

/** The initial model folder: tokenizer, chat template, processors, config and from_config weights (drawn from seed). */
function initModel(spec: VlmBaseSpec, rows: Row[], dir: string, seed: number): number {
  const words = wordsOf(corpus(spec, rows), QWEN_SPECIALS);
  const vocab = writeQwenVLFiles(dir, words, [spec.size ** 2, spec.size ** 2]);
  const config = modelConfig(spec, Math.ceil(vocab / 8) * 8);
  manualSeed(seed); // the engine's generator starts from a different state in every process
  const model = modelFromConfig(config);
  const params = [...model.parameters()].reduce((a, p) => a + p.numel, 0);
  savePretrained({ model, config }, dir);
  model.dispose();
  return params;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/** Exact-match accuracy per task, grounding mIoU and R@0.5 of greedy answers to the held-out rows. */
function answerMetrics(held: Row[], answers: string[]): Record<string, number> {
  const hits: Record<string, number[]> = { qa: [], caption: [], objects: [], grounding: [] };
  const ious: number[] = [];
  held.forEach((r, i) => {
    const text = answers[i].trim();
    hits[r.task].push(text === r.completion[0].content[0].text ? 1 : 0);
    if (r.task !== 'grounding') return;
    const seg = parseSegment(text);
    ious.push(seg ? temporalIoU(seg, r.segment) : 0);
  });
  return {
    qa_accuracy: mean(hits.qa),
    caption_accuracy: mean(hits.caption),
    objects_accuracy: mean(hits.objects),
    grounding_accuracy: mean(hits.grounding),
    grounding_miou: mean(ious),
    'grounding_r@0.5': mean(ious.map((x) => (x >= 0.5 ? 1 : 0))),
  };
}

/**
 * Video reliance: the mean per-token NLL of each held-out answer given its own video and given the next
 * held-out video with the same grid (so the prompt keeps its length); equal when the video is ignored.
 */
export function videoReliance(model: CausalLM, tok: Tokenizer, held: Row[], vps: VisionPrompt[]) {
  const key = (i: number) => JSON.stringify(vps[i].grids);
  const own: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < held.length; i++) {
    const j = [...held.keys()].map((k) => (i + 1 + k) % held.length).find((k) => k !== i && key(k) === key(i));
    if (j === undefined) continue;
    const prompt = tok.encode(vps[i].text);
    const completion = tok.encode(`${held[i].completion[0].content[0].text}${tok.eosToken ?? ''}`);
    const [a, b] = scoreCompletions(
      model,
      [vps[i].media, vps[j].media].map((media) => ({ prompt, completion, media })),
      { batchSize: 2, padTokenId: tok.padTokenId ?? 0 },
    );
    own.push(-a.logprob / a.tokens);
    other.push(-b.logprob / b.tokens);
  }
  return { nll_own_video: mean(own), nll_other_video: mean(other), reliance_rows: own.length };
}

/** Greedy answers, the metrics of answerMetrics and videoReliance. */
export async function evaluateVlmBase(
  dir: string,
  held: Row[],
  spec: VlmBaseSpec,
  base: string,
): Promise<Record<string, number>> {
  const tok = Tokenizer.fromPretrained(dir);
  const pm = fromPretrained(dir);
  const merge = ((pm.config.vision_config ?? {}) as Row).spatial_merge_size ?? 2;
  const o = { baseDir: base, videoFps: spec.video_fps, processors: loadProcessorConfigs(dir), merge };
  try {
    const vps: VisionPrompt[] = [];
    for (const [i, r] of held.entries()) vps.push(await visionPrompt(tok, r, o, `held-out row ${i + 1}`));
    const answers = vps.map((vp) => {
      const gen = { maxNewTokens: spec.max_new_tokens, media: [vp.media] };
      return noGrad(() => scope(() => generate(pm.model, [tok.encode(vp.text)], gen, tok)[0].text ?? ''));
    });
    const reliance = noGrad(() => scope(() => videoReliance(pm.model, tok, held, vps)));
    return { ...answerMetrics(held, answers), ...reliance, held_out_rows: held.length };
  } finally {
    pm.model.dispose();
  }
}

/** The cache folder of a configuration and seed. */
export function vlmBaseDir(spec: VlmBaseSpec, seed: number): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ recipe: 'vlm-base', spec, seed }))
    .digest('hex')
    .slice(0, 12);
  const root = process.env.PACER_CACHE ?? join(homedir(), '.cache', 'pacer');
  return join(root, 'recipes', 'vlm-base', key);
}

/** SFT of the language model from `from` into `to`; the vision tower and merger stay at their initialisation. */
async function trainBase(o: RecipeOptions, spec: VlmBaseSpec, data: string, from: string, to: string) {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  return train(
    {
      trainer: 'sft',
      model_name_or_path: from,
      train_dataset: data,
      output_dir: to,
      overwrite_output_dir: true,
      max_steps: spec.steps,
      per_device_train_batch_size: spec.batch_size,
      learning_rate: spec.learning_rate,
      adam_beta2: spec.adam_beta2,
      warmup_steps: spec.warmup_steps,
      lr_scheduler_type: 'cosine',
      freeze_vision_tower: true,
      freeze_merger: true,
      logging_steps: Math.max(1, Math.floor(spec.steps / 20)),
      save_steps: spec.steps + 1,
      seed: o.seed,
      threads: o.threads ?? null,
      video_fps: spec.video_fps,
      max_length: 2048,
      max_prompt_length: 1536,
    },
    { progress: o.progress ?? true, log },
  );
}

/** A finished run's record in dir, when it holds this configuration and seed. */
function reusable(dir: string, spec: VlmBaseSpec, seed: number): Record<string, any> | null {
  const file = join(dir, 'recipe.json');
  if (!existsSync(file) || !existsSync(join(dir, 'model', 'config.json'))) return null;
  const rec = JSON.parse(readFileSync(file, 'utf8'));
  return JSON.stringify(rec.spec) === JSON.stringify(spec) && rec.seed === seed ? rec : null;
}

/** The committed default model (assets/vlm-base in a checkout; absent from the npm package). */
export const COMMITTED_VLM_BASE = fileURLToPath(new URL('../../assets/vlm-base', import.meta.url));

async function run(o: RecipeOptions): Promise<RecipeResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  if (o.seeds.length > 1)
    throw new RangeError(
      `pacer: vlm-base trains one model per run; give one --seed (got --seeds ${o.seeds.join(',')})`,
    );
  const spec = vlmBaseSpec(o.smoke);
  const dir = o.out ?? vlmBaseDir(spec, o.seed);
  const cached = (force: boolean): RecipeResult | null => {
    for (const d of force ? [] : o.out ? [dir] : [COMMITTED_VLM_BASE, dir]) {
      const rec = reusable(d, spec, o.seed);
      if (rec) {
        log(`pacer: vlm-base: reusing ${d}`);
        return { dir: d, cached: true, metrics: rec.metrics };
      }
    }
    return null;
  };
  const hit = cached(!!o.force);
  if (hit) return hit;
  // two studies asking for the same uncached base: one trains, the other waits and reuses its result
  const onWait = (pid: string) => log(`pacer: vlm-base: process ${pid} is training ${dir}; waiting for it`);
  return withDirLock(dir, async () => (o.force ? null : cached(false)) ?? trainAndRecord(o, spec, dir, log), {
    onWait,
  });
}

async function trainAndRecord(o: RecipeOptions, spec: VlmBaseSpec, dir: string, log: (s: string) => void) {
  const work = join(dir, 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'data'), { recursive: true });
  log('pacer: vlm-base: making the worlds');
  const { train: rows, held } = await makeData(spec, o.seed, work);
  const params = initModel(spec, rows, join(work, 'init'), o.seed);
  log(`pacer: vlm-base: ${params} parameters, ${rows.length} training rows`);
  const t0 = Date.now();
  const data = join(work, 'data', 'train.jsonl');
  log('pacer: vlm-base: training the language model (vision tower and merger fixed at their initialisation)');
  const res = await trainBase(o, spec, data, join(work, 'init'), join(dir, 'model'));
  const trainSeconds = (Date.now() - t0) / 1000;
  log('pacer: vlm-base: evaluating on held-out rows');
  const metrics = {
    ...(await evaluateVlmBase(join(dir, 'model'), held, spec, join(work, 'data'))),
    final_loss: res.finalMetrics.loss,
  };
  const record = {
    recipe: 'vlm-base',
    seed: o.seed,
    spec,
    params,
    train_rows: rows.length,
    train_seconds: trainSeconds,
  };
  const text = `${JSON.stringify({ ...record, metrics }, null, 2)}\n`;
  atomicWrite(join(dir, 'recipe.json'), (fd) => writeFileSync(fd, text));
  return { dir, cached: false, metrics } satisfies RecipeResult;
}

export const vlmBase: Recipe = {
  name: 'vlm-base',
  summary: 'pretrain a ~1M-parameter Qwen2.5-VL-architecture model on the video worlds (HF layout)',
  description: `Makes the temporal and grounding worlds (56×56 frame files) with a caption row and an objects row
per video, a word-level tokenizer carrying Qwen's special-token strings, and a Qwen2.5-VL model from scratch,
trains its language model with SFT (the vision tower and merger stay at their initialisation: trained, they
collapse to a constant and the model ignores the video) and
reports held-out QA, objects and caption accuracy, grounding mIoU / R@0.5, and the answers' NLL with their own
video and with another video (how much the model relies on the video). Writes DIR/model
(the model in Hugging Face layout, with tokenizer, chat template and processor configs), DIR/recipe.json
(configuration, seed, sizes, metrics) and DIR/work (data, initial model). DIR defaults to a cache folder
keyed by the configuration and seed, which later runs reuse; the default configuration's seed-0 model is
committed in a checkout under assets/vlm-base and reused from there.`,
  run,
};
