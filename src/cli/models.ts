// `pacer logprobs` and `pacer generate`: scoring and sampling with a local HF model folder. Rows with
// images or videos (TRL's standard and conversational vision shapes, src/data/media.ts) go through the
// model's processor; paths resolve against the data file's folder.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fromPretrained, type PretrainedModel } from '../models/pretrained.js';
import { scoreCompletions, type ScoreItem } from '../models/scoring.js';
import { generate, type PromptMedia } from '../models/generate.js';
import { Qwen2VLForConditionalGeneration } from '../models/qwen2_vl/model.js';
import { loadProcessorConfigs, expandVisionPads } from '../models/qwen2_vl/processor.js';
import { Tokenizer } from '../tokenizers/index.js';
import { readJsonl, isMessages, DataError } from '../data/jsonl.js';
import {
  type ChosenFrames,
  type FrameSelector,
  isVisionMessages,
  rowHasMedia,
  visionPrompt,
  type MediaOptions,
} from '../data/media.js';
import { SELECT_MODES, type SelectMode } from '../video/sampler-agent.js';
import { FrameAgent } from '../video/select.js';
import { setThreads, type DType } from '../engine/index.js';
import { UsageError, int, oneOf, str, type OptionSpec } from './command.js';

export interface VideoDefaults {
  videoFps?: number;
  videoMaxFrames?: number;
  /** A TSPO agent folder that chooses each video's frames (k and mode default to the agent's). */
  frameAgent?: { dir: string; k?: number; mode?: SelectMode };
}

/** --frame-agent DIR [--frame-k K] [--frame-mode M]: generate, logprobs and serve model take them. */
export const FRAME_AGENT_OPTIONS: Record<string, OptionSpec> = {
  'frame-agent': {
    type: 'string',
    arg: 'DIR',
    help: "a trained TSPO agent (trainer: tspo's output_dir) chooses each video's frames for the row's question",
  },
  'frame-k': { type: 'string', arg: 'K', help: "frames the agent chooses (default: the agent's num_frames)" },
  'frame-mode': {
    type: 'string',
    arg: 'M',
    help: `the agent's selection: ${SELECT_MODES.join(' | ')} (default: the agent's)`,
  },
};

/** The --frame-agent options' values (undefined without --frame-agent); usage errors name the option. */
export function frameAgentOption(v: Record<string, unknown>): VideoDefaults['frameAgent'] {
  const agent = str(v['frame-agent']);
  if (!agent && (v['frame-k'] !== undefined || v['frame-mode'] !== undefined))
    throw new UsageError('--frame-k and --frame-mode need --frame-agent DIR');
  if (!agent) return undefined;
  if (!existsSync(join(agent, 'config.json')))
    throw new UsageError(`--frame-agent ${agent}: not an agent folder (no config.json)`);
  return {
    dir: agent,
    k: v['frame-k'] === undefined ? undefined : int(v['frame-k'], 'frame-k', 16, 1),
    mode: v['frame-mode'] === undefined ? undefined : oneOf(v['frame-mode'], 'frame-mode', SELECT_MODES, 'topk'),
  };
}

/** The agent of --frame-agent, loaded once per command (null without one); a load error names the option. */
export function loadFrameAgent(v: VideoDefaults, o: { memo?: boolean } = {}): FrameAgent | null {
  if (!v.frameAgent) return null;
  try {
    return FrameAgent.load(v.frameAgent.dir, { k: v.frameAgent.k, mode: v.frameAgent.mode, ...o });
  } catch (e) {
    throw new UsageError(`--frame-agent ${v.frameAgent.dir}: ${(e as Error).message.replace(/^pacer: /, '')}`);
  }
}

/** Media options for rows of a data file, or an error naming the row when the model has no vision tower. */
function mediaOptions(
  pm: PretrainedModel,
  data: string,
  v: VideoDefaults & { frameSelector?: FrameSelector | null },
  where: string,
): MediaOptions & { merge: number } {
  if (!(pm.model instanceof Qwen2VLForConditionalGeneration))
    throw new DataError(
      `pacer: ${where}: the row has images or videos but ${pm.dir} is a text-only model (${pm.modelType}); ` +
        `use a vision-language model (Qwen2-VL / Qwen2.5-VL)`,
    );
  return {
    baseDir: dirname(data),
    videoFps: v.videoFps,
    videoMaxFrames: v.videoMaxFrames,
    frameSelector: v.frameSelector ?? undefined,
    processors: loadProcessorConfigs(pm.dir),
    merge: pm.model.vl.vision.merge,
  };
}

/** A scored row with media: the prompt through the processor, the completion after it. */
async function visionPair(
  tok: Tokenizer,
  rec: Record<string, unknown>,
  o: MediaOptions & { merge: number },
  where: string,
): Promise<ScoreItem> {
  const vp = await visionPrompt(tok, rec, o, where);
  const { completion } = rec;
  if (typeof rec.prompt === 'string' && typeof completion === 'string')
    return {
      prompt: tok.encode(vp.text, { addSpecialTokens: true }),
      completion: tok.encode(completion),
      media: vp.media,
    };
  if (isVisionMessages(rec.prompt) && isVisionMessages(completion)) {
    const full = expandVisionPads(tok.applyChatTemplate([...rec.prompt, ...completion]), vp.grids, o.merge, where);
    if (!full.startsWith(vp.text))
      throw new DataError(
        `pacer: ${where}: the chat template does not render the prompt as a prefix of prompt + completion`,
      );
    return { prompt: tok.encode(vp.text), completion: tok.encode(full.slice(vp.text.length)), media: vp.media };
  }
  throw new DataError(
    `pacer: ${where}: 'prompt' and 'completion' must both be strings or both be lists of {role, content} messages`,
  );
}

/** Tokenize a prompt/completion line (standard or conversational) the way TRL does. */
export function tokenizePair(tok: Tokenizer, rec: Record<string, unknown>, where: string): ScoreItem {
  const { prompt, completion } = rec;
  if (prompt === undefined) throw new DataError(`pacer: ${where}: missing field 'prompt'`);
  if (completion === undefined) throw new DataError(`pacer: ${where}: missing field 'completion'`);
  if (typeof prompt === 'string' && typeof completion === 'string')
    return { prompt: tok.encode(prompt, { addSpecialTokens: true }), completion: tok.encode(completion) };
  if (isMessages(prompt) && isMessages(completion)) {
    const p = tok.applyChatTemplate(prompt, { addGenerationPrompt: true });
    const full = tok.applyChatTemplate([...prompt, ...completion]);
    if (!full.startsWith(p))
      throw new DataError(
        `pacer: ${where}: the chat template does not render the prompt as a prefix of prompt + completion`,
      );
    return { prompt: tok.encode(p), completion: tok.encode(full.slice(p.length)) };
  }
  throw new DataError(
    `pacer: ${where}: 'prompt' and 'completion' must both be strings or both be lists of {role, content} messages`,
  );
}

export async function cmdLogprobs(
  o: {
    model: string;
    data: string;
    batchSize: number;
    dtype: DType;
    threads: number;
  } & VideoDefaults,
): Promise<void> {
  setThreads(o.threads);
  const recs = readJsonl(o.data);
  const tok = Tokenizer.fromPretrained(o.model);
  const pm = fromPretrained(o.model, { dtype: o.dtype });
  const items: ScoreItem[] = [];
  const frameSelector = loadFrameAgent(o);
  try {
    for (const r of recs) {
      const where = `${o.data}:${r.line}`;
      items.push(
        rowHasMedia(r.value)
          ? await visionPair(tok, r.value, mediaOptions(pm, o.data, { ...o, frameSelector }, where), where)
          : tokenizePair(tok, r.value, where),
      );
    }
  } finally {
    frameSelector?.dispose();
  }
  items.forEach((it, i) => {
    if (it.prompt.length === 0)
      throw new DataError(`pacer: ${o.data}:${recs[i].line}: the prompt tokenizes to nothing`);
  });
  const pad = tok.padTokenId ?? tok.eosTokenId ?? 0;
  const res = scoreCompletions(pm.model, items, { batchSize: o.batchSize, padTokenId: pad });
  for (const r of res) process.stdout.write(JSON.stringify({ logprob: r.logprob, tokens: r.tokens }) + '\n');
}

/** Prompts (token ids, media, the text shown) from --prompt texts or the rows of --data. */
async function generationPrompts(
  tok: Tokenizer,
  pm: PretrainedModel,
  o: { prompts: string[]; data?: string; chat: boolean } & VideoDefaults,
): Promise<{ ids: number[][]; media: Array<PromptMedia | null>; shown: string[]; chosen: ChosenFrames[][] }> {
  const encode = (text: string) =>
    o.chat
      ? tok.encode(tok.applyChatTemplate([{ role: 'user', content: text }], { addGenerationPrompt: true }))
      : tok.encode(text, { addSpecialTokens: true });
  const out = {
    ids: o.prompts.map(encode),
    media: o.prompts.map(() => null) as Array<PromptMedia | null>,
    shown: [...o.prompts],
    chosen: o.prompts.map(() => []) as ChosenFrames[][],
  };
  const frameSelector = loadFrameAgent(o);
  try {
    for (const r of o.data ? readJsonl(o.data) : []) await addDataPrompt(tok, pm, o, r, frameSelector, encode, out);
  } finally {
    frameSelector?.dispose();
  }
  return out;
}

/** One --data row's prompt ids, media, shown text and chosen frames, appended to `out`. */
async function addDataPrompt(
  tok: Tokenizer,
  pm: PretrainedModel,
  o: { data?: string } & VideoDefaults,
  r: { line: number; value: Record<string, any> },
  frameSelector: FrameSelector | null,
  encode: (text: string) => number[],
  out: { ids: number[][]; media: Array<PromptMedia | null>; shown: string[]; chosen: ChosenFrames[][] },
): Promise<void> {
  const where = `${o.data}:${r.line}`;
  const rec = r.value;
  if (rowHasMedia(rec)) {
    const vp = await visionPrompt(tok, rec, mediaOptions(pm, o.data!, { ...o, frameSelector }, where), where);
    out.ids.push(
      typeof rec.prompt === 'string' ? tok.encode(vp.text, { addSpecialTokens: true }) : tok.encode(vp.text),
    );
    out.media.push(vp.media);
    out.chosen.push(vp.chosen);
  } else {
    if (typeof rec.prompt === 'string') out.ids.push(encode(rec.prompt));
    else if (isMessages(rec.prompt))
      out.ids.push(tok.encode(tok.applyChatTemplate(rec.prompt, { addGenerationPrompt: true })));
    else
      throw new DataError(`pacer: ${where}: 'prompt' must be a string or a list of {role, content} messages`, {
        field: 'prompt',
      });
    out.media.push(null);
    out.chosen.push([]);
  }
  if (rec.prompt !== undefined)
    out.shown.push(typeof rec.prompt === 'string' ? rec.prompt : JSON.stringify(rec.prompt));
  else throw new DataError(`pacer: ${where}: missing field 'prompt'`, { field: 'prompt' });
}

export async function cmdGenerate(o: {
  model: string;
  prompts: string[];
  data?: string;
  videoFps?: number;
  videoMaxFrames?: number;
  frameAgent?: VideoDefaults['frameAgent'];
  chat: boolean;
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed: number;
  stop: string[];
  dtype: DType;
  threads: number;
  json: boolean;
}): Promise<void> {
  setThreads(o.threads);
  const tok = Tokenizer.fromPretrained(o.model);
  const pm = fromPretrained(o.model, { dtype: o.dtype });
  const { ids, media, shown, chosen } = await generationPrompts(tok, pm, o);
  const res = generate(
    pm.model,
    ids,
    {
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature,
      topK: o.topK,
      topP: o.topP,
      minP: o.minP,
      seed: o.seed,
      stopStrings: o.stop.length ? o.stop : undefined,
      media: media.some((m) => m) ? media : undefined,
    },
    tok,
  );
  res.forEach((r, i) => {
    if (o.json)
      process.stdout.write(
        JSON.stringify({
          prompt: shown[i],
          text: r.text,
          tokens: r.tokens,
          logprobs: r.logprobs,
          finish_reason: r.finishReason,
          ...(chosen[i].length ? { frames: chosen[i] } : {}),
        }) + '\n',
      );
    else process.stdout.write(`${shown[i]}${r.text}\n`);
  });
}
