// TEMPLE's self-generated preference pairs (Li et al., "TEMPLE: Temporal Preference Learning of Video
// LLMs via Difficulty Scheduling and Pre-SFT Alignment", AAAI 2026; lscpku/TEMPLE generate_dpo_data.py and
// convert_to_swift.py), in the `input=video` form: for each video the model narrates the clean video once
// and each perturbed video (drop / shuffle / reverse of its clips at magnitude m, src/video/perturb.ts),
// sampling with temperature 0.7 and repetition penalty 1.05 as the authors' generator does. chosen = the
// clean narration, rejected = a perturbed one; pairs pass convert_to_swift.py's filters (templeFilter).
// Written: OUT/pairs-r<m>.jsonl (one file per magnitude, TRL's conversational vision preference rows:
// prompt with a {"type": "video"} part, chosen, rejected, videos → the clean video, and the row's
// `perturbation` and `perturbed_video`), OUT/videos/*.npz (clean copies and the perturbed frame files) and
// OUT/pairs.json (counts: generated, kept, and dropped per filter, per magnitude and type).
// Deviation from the paper: TEMPLE's default narrates from the clips' caption texts (`input=caption`) and
// trains on a different instruction; here the model narrates the frames it is shown and the pair's prompt
// is the narration prompt (a tiny word-level model knows no other instruction).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { noGrad, scope } from '../engine/index.js';
import { fromPretrained } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { Qwen2VLForConditionalGeneration } from '../models/qwen2_vl/model.js';
import { loadProcessorConfigs } from '../models/qwen2_vl/processor.js';
import { Tokenizer } from '../tokenizers/index.js';
import { readJsonl } from '../data/jsonl.js';
import { rowVisionItems, visionPrompt } from '../data/media.js';
import { encodeFramesNpz, type FramesArray, readFramesNpz } from '../video/npz.js';
import { type PairDrop, type PerturbationType, perturbClips, templeFilter } from '../video/perturb.js';
import { DataError } from '../util/errors.js';
import { atomicWrite } from '../util/atomic.js';

export interface TemplePairsOptions {
  /** A Qwen2-VL / Qwen2.5-VL model folder (HF layout, with processor configs). */
  model: string;
  /** JSONL rows with one video each (a .npz frame file, in `videos` or a typed content part). */
  data: string;
  out: string;
  types?: PerturbationType[];
  magnitudes?: number[];
  /** Frames per clip (the unit the perturbations move): 2 = one Qwen temporal patch. */
  clipFrames?: number;
  /** The narration instruction (and the pairs' prompt). */
  prompt?: string;
  temperature?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
  seed?: number;
  videoFps?: number;
  log?: (s: string) => void;
}

type Counts = Record<'generated' | 'kept' | PairDrop, number>;
export interface TemplePairsResult {
  /** The pairs file of each magnitude. */
  files: Record<number, string>;
  counts: Record<number, Record<string, Counts>>;
}

type Row = Record<string, unknown>;
const userVideo = (text: string) => [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text }] }];
const assistant = (text: string) => [{ role: 'assistant', content: [{ type: 'text', text }] }];

/** Defaults as TEMPLE's generator (temperature 0.7, repetition penalty 1.05) and curriculum (16, 8, 4, 2). */
export function templeDefaults(o: TemplePairsOptions) {
  return {
    types: o.types ?? (['drop', 'shuffle', 'reverse'] as PerturbationType[]),
    magnitudes: o.magnitudes ?? [16, 8, 4, 2],
    clipFrames: o.clipFrames ?? 2,
    prompt: o.prompt ?? 'Describe the video.',
    temperature: o.temperature ?? 0.7,
    repetitionPenalty: o.repetitionPenalty ?? 1.05,
    maxNewTokens: o.maxNewTokens ?? 64,
    seed: o.seed ?? 0,
    videoFps: o.videoFps ?? 2,
  };
}

/** A video's frames cut into clips of k frames (the count must divide evenly). */
function clipsOf(f: FramesArray, k: number, where: string): Uint8Array[] {
  if (f.frames % k !== 0 || f.frames < k)
    throw new DataError(`pacer: ${where}: the video has ${f.frames} frames, not a multiple of --clip-frames ${k}`, {
      field: 'videos',
    });
  const size = f.height * f.width * 3 * k;
  return Array.from({ length: f.frames / k }, (_, i) => f.data.subarray(i * size, (i + 1) * size));
}

function joinClips(f: FramesArray, clips: Uint8Array[], k: number): FramesArray {
  const data = new Uint8Array(clips.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of clips) {
    data.set(c, at);
    at += c.length;
  }
  return { ...f, frames: clips.length * k, data };
}

const writeNpz = (file: string, f: FramesArray) => atomicWrite(file, (fd) => writeFileSync(fd, encodeFramesNpz(f)));

/** The row's one video as a frames array (only .npz frame files are read). */
function rowFrames(rec: Row, baseDir: string, where: string): FramesArray {
  const vids = rowVisionItems(rec, where).filter((v) => v.kind === 'video');
  if (vids.length !== 1)
    throw new DataError(`pacer: ${where}: a TEMPLE row needs exactly one video, it has ${vids.length}`, {
      field: 'videos',
    });
  const src = vids[0].source;
  if (!src.endsWith('.npz'))
    throw new DataError(`pacer: ${where}: the video must be a .npz frame file (pacer video make --frames-only)`, {
      field: 'videos',
    });
  return readFramesNpz(isAbsolute(src) ? src : resolve(baseDir, src));
}

/** A stable, file-safe id for a row. */
function rowId(rec: Row, line: number): string {
  const id = typeof rec.id === 'string' && rec.id ? rec.id : `row-${line}`;
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Per-variant generation seed (clean = variant 0), independent of batch composition. */
const seedOf = (seed: number, line: number, v: number) => (((seed * 1000003) ^ (line * 7919)) + v * 104729) >>> 0;

type Defaults = ReturnType<typeof templeDefaults>;
interface Ctx {
  d: Defaults;
  tok: Tokenizer;
  model: Qwen2VLForConditionalGeneration;
  mo: Parameters<typeof visionPrompt>[2];
  out: string;
}

/** A narration may not emit vision tokens (a pad with no pixels behind it would break the next step). */
function visionBan(model: Qwen2VLForConditionalGeneration): Record<number, number> {
  const { imageTokenId, videoTokenId, visionStartTokenId } = model.vl;
  return Object.fromEntries([imageTokenId, videoTokenId, visionStartTokenId].map((t) => [t, -1e9]));
}

/** Write a row's clean and perturbed frame files; narrate each (one sampled batch). */
async function narrateRow(c: Ctx, rec: Row, line: number, where: string, baseDir: string) {
  const { d } = c;
  const variants = d.magnitudes.flatMap((m) => d.types.map((type) => ({ type, m })));
  const frames = rowFrames(rec, baseDir, where);
  const clips = clipsOf(frames, d.clipFrames, where);
  const id = rowId(rec, line);
  const files = [`videos/${id}.npz`];
  writeNpz(join(c.out, files[0]), frames);
  for (const [v, { type, m }] of variants.entries()) {
    const perturbed = perturbClips(clips, { type, magnitude: m, seed: seedOf(d.seed, line, v + 1) });
    files.push(`videos/${id}-${type}-r${m}.npz`);
    writeNpz(join(c.out, files[v + 1]), joinClips(frames, perturbed, d.clipFrames));
  }
  const prompts: Array<Awaited<ReturnType<typeof visionPrompt>>> = [];
  for (const f of files)
    prompts.push(await visionPrompt(c.tok, { prompt: userVideo(d.prompt), videos: [f] }, c.mo, where));
  const gens = noGrad(() =>
    scope(() =>
      generate(
        c.model,
        prompts.map((p) => c.tok.encode(p.text)),
        {
          maxNewTokens: d.maxNewTokens,
          doSample: true,
          temperature: d.temperature,
          repetitionPenalty: d.repetitionPenalty,
          rowSeeds: files.map((_, v) => seedOf(d.seed, line, v)),
          logitBias: visionBan(c.model),
          media: prompts.map((p) => p.media),
        },
        c.tok,
      ),
    ),
  );
  const texts = gens.map((g) => (g.text ?? '').trim());
  return { id, files, variants, chosen: texts[0], rejected: texts.slice(1) };
}

/** Generate the pairs (see the header); the files are written at the end, each atomically. */
export async function makeTemplePairs(o: TemplePairsOptions): Promise<TemplePairsResult> {
  const d = templeDefaults(o);
  const log = o.log ?? (() => {});
  const tok = Tokenizer.fromPretrained(o.model);
  const pm = fromPretrained(o.model);
  if (!(pm.model instanceof Qwen2VLForConditionalGeneration)) {
    pm.model.dispose();
    throw new Error(`pacer: ${o.model} is not a vision-language model (Qwen2-VL / Qwen2.5-VL)`);
  }
  const merge = pm.model.vl.vision.merge;
  const mo = { baseDir: o.out, videoFps: d.videoFps, processors: loadProcessorConfigs(o.model), merge };
  const ctx: Ctx = { d, tok, model: pm.model, mo, out: o.out };
  mkdirSync(join(o.out, 'videos'), { recursive: true });
  const rows: Record<number, Row[]> = Object.fromEntries(d.magnitudes.map((m) => [m, []]));
  const counts: TemplePairsResult['counts'] = {};
  for (const m of d.magnitudes)
    counts[m] = Object.fromEntries(
      d.types.map((t) => [t, { generated: 0, kept: 0, not_shorter: 0, contained: 0, length_ratio: 0 }]),
    );
  const recs = readJsonl(o.data);
  try {
    for (const [i, r] of recs.entries()) {
      const g = await narrateRow(ctx, r.value, r.line, `${o.data}:${r.line}`, dirname(o.data));
      for (const [v, { type, m }] of g.variants.entries()) {
        const c = counts[m][type];
        c.generated++;
        const drop = templeFilter(type, g.chosen, g.rejected[v]);
        if (drop) c[drop]++;
        else {
          c.kept++;
          rows[m].push({
            id: `${g.id}-${type}-r${m}`,
            prompt: userVideo(d.prompt),
            chosen: assistant(g.chosen),
            rejected: assistant(g.rejected[v]),
            videos: [g.files[0]],
            perturbation: { type, magnitude: m },
            perturbed_video: g.files[v + 1],
          });
        }
      }
      log(`pacer: temple pairs: ${i + 1}/${recs.length} videos`);
    }
  } finally {
    pm.model.dispose();
  }
  return writePairs(o.out, d.magnitudes, rows, counts, { ...d, model: o.model, data: o.data });
}

function writePairs(
  out: string,
  magnitudes: number[],
  rows: Record<number, Row[]>,
  counts: TemplePairsResult['counts'],
  config: Record<string, unknown>,
): TemplePairsResult {
  const files: Record<number, string> = {};
  for (const m of magnitudes) {
    files[m] = join(out, `pairs-r${m}.jsonl`);
    const text = rows[m].map((x) => `${JSON.stringify(x)}\n`).join('');
    atomicWrite(files[m], (fd) => writeFileSync(fd, text));
  }
  const info = { config, counts, files: Object.fromEntries(magnitudes.map((m) => [m, basename(files[m])])) };
  atomicWrite(join(out, 'pairs.json'), (fd) => writeFileSync(fd, `${JSON.stringify(info, null, 2)}\n`));
  return { files, counts };
}
