// Vision-language training (TRL's vision datasets on Qwen2-VL / Qwen2.5-VL): rows with an `images` or
// `videos` column and conversational prompts with typed content parts (src/data/media.ts) are decoded
// and resized once when the data is prepared (video_fps, video_max_frames, video_max_pixels act here),
// kept as uint8 frames, and turned into pixel rows per batch. Every forward of a collated batch goes
// through forwardBatch: each distinct row vision (a DPO pair's two rows, a GRPO group's G rollouts
// share one) is encoded by the vision tower once and its embeddings repeated, gradients flowing back
// through the repeats (the trainers' shared-prompt forward, shared-prompt.ts, goes further: the whole
// prompt runs once). freeze_vision_tower / freeze_merger fix those weights in full fine-tuning;
// lora_vision_tower puts LoRA on the vision blocks too (PEFT target names, QWEN2_VL_LORA_WITH_VISION).
// frame_agent: a trained TSPO agent (src/video/select.ts) picks each video file's frames for the row's
// question (exampleQuestion, as pacer generate --frame-agent reads it) instead of video_fps sampling.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import type { CausalLM, ModelInputs } from '../models/types.js';
import { Qwen2VLForConditionalGeneration } from '../models/qwen2_vl/model.js';
import { readVLConfig } from '../models/qwen2_vl/config.js';
import { QWEN2_VL_LORA, QWEN2_VL_LORA_WITH_VISION } from '../models/qwen2_vl/index.js';
import { loadProcessorConfigs } from '../models/qwen2_vl/processor.js';
import { attachVision, type MediaOptions, rowQuestion, visionInputs } from '../data/media.js';
import { FrameAgent } from '../video/select.js';
import type { SelectMode } from '../video/sampler-agent.js';
import type { Example } from '../data/datasets.js';
import type { CollatedBatch } from '../data/tokenize.js';
import { ConfigError, DataError } from '../util/errors.js';
import type { BaseConfig } from './config.js';

/** The vision keys of the trainers that take images and videos. */
export interface VisionKeys {
  video_fps: number;
  video_max_frames: number;
  video_max_pixels: number | null;
  freeze_vision_tower?: boolean;
  freeze_merger?: boolean;
  lora_vision_tower?: boolean;
  frame_agent: string | null;
  frame_agent_k?: number | null;
  frame_agent_mode?: SelectMode | null;
}

const hasVisionKeys = (cfg: BaseConfig): cfg is BaseConfig & VisionKeys => 'video_fps' in cfg;

function modelConfig(dir: string): Record<string, any> | null {
  const f = join(dir, 'config.json');
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8'));
  } catch {
    return null;
  }
}

/** Is the model folder a vision-language model pacer trains (a Qwen2-VL / Qwen2.5-VL config)? */
export function isVisionModel(dir: string): boolean {
  const c = modelConfig(dir);
  return !!c && (c.model_type === 'qwen2_vl' || c.model_type === 'qwen2_5_vl');
}

interface VideoKeys {
  fps: number;
  maxFrames: number;
  maxPixels: number | null;
}

/** Media options of a trainer for a data file: the model's processors with the config's video keys. */
function mediaOptions(cfg: BaseConfig, video: VideoKeys, file: string): MediaOptions {
  const processors = loadProcessorConfigs(cfg.model_name_or_path);
  const vl = readVLConfig(modelConfig(cfg.model_name_or_path)!, join(cfg.model_name_or_path, 'config.json'));
  if (video.maxPixels !== null) {
    if (video.maxPixels < processors.video.minPixels)
      throw new ConfigError(
        `pacer: ${cfg._source}: video_max_pixels (${video.maxPixels}) is below the video processor's ` +
          `min_pixels (${processors.video.minPixels})`,
        { file: cfg._source, key: 'video_max_pixels' },
      );
    processors.video = { ...processors.video, maxPixels: video.maxPixels };
  }
  return {
    baseDir: dirname(file),
    videoFps: video.fps,
    videoMaxFrames: video.maxFrames,
    processors,
    padIds: [vl.imageTokenId, vl.videoTokenId],
  };
}

/**
 * Decode the vision of a dataset's rows (sets Example.vision), or refuse rows with images/videos where
 * the trainer or the model cannot take them. The video keys are read whatever the data (like
 * difficulty_column, they act on the rows that have what they name).
 */
export async function prepareVision(examples: Example[], cfg: BaseConfig, file: string): Promise<void> {
  const video = hasVisionKeys(cfg)
    ? { fps: cfg.video_fps, maxFrames: cfg.video_max_frames, maxPixels: cfg.video_max_pixels }
    : null;
  // the agent is loaded (a bad folder is an error) whatever the data, like the video keys are read
  const agent = hasVisionKeys(cfg) ? loadAgent(cfg) : null;
  try {
    const first = examples.find((e) => e.visionItems?.length);
    if (!first) return;
    if (!video)
      throw new DataError(
        `pacer: ${first.where}: the row has images or videos, which the ${cfg.trainer} trainer does not take ` +
          `(sft, dpo, kto, grpo, rloo, reg_grpo, raft and online_dpo do)`,
        { file },
      );
    if (!isVisionModel(cfg.model_name_or_path))
      throw new DataError(
        `pacer: ${first.where}: the row has images or videos but ${cfg.model_name_or_path} is not a ` +
          `vision-language model (Qwen2-VL / Qwen2.5-VL)`,
        { file },
      );
    const o = { ...mediaOptions(cfg, video, file), frameSelector: agent ?? undefined };
    await attachVision(examples, o, agent ? exampleQuestion : undefined);
  } finally {
    agent?.dispose();
  }
}

/** The TSPO agent of frame_agent (k and mode from frame_agent_k / frame_agent_mode), or null. */
function loadAgent(cfg: BaseConfig & VisionKeys): FrameAgent | null {
  const [dir, k, mode] = [cfg.frame_agent, cfg.frame_agent_k, cfg.frame_agent_mode];
  if (!dir) return null;
  try {
    return FrameAgent.load(dir, { k: k ?? undefined, mode: mode ?? undefined });
  } catch (e) {
    throw new ConfigError(`pacer: ${cfg._source}: frame_agent: ${(e as Error).message.replace(/^pacer: /, '')}`, {
      file: cfg._source,
      key: 'frame_agent',
    });
  }
}

/**
 * The question a frame agent reads for a row, as pacer generate --frame-agent reads it (rowQuestion): the
 * prompt (a string without its special tokens, or its user turns' text parts), else the user turns of a
 * conversation (SFT messages, implicit-prompt preferences), else the text.
 */
export function exampleQuestion(e: Example): string {
  if (e.prompt !== undefined && (typeof e.prompt === 'string' || e.prompt.length))
    return rowQuestion({ prompt: e.prompt });
  const conv = e.text ?? e.chosen ?? e.completion;
  if (Array.isArray(conv)) return rowQuestion({ messages: conv });
  return typeof conv === 'string' ? rowQuestion({ prompt: conv }) : '';
}

/**
 * The model's forward on a collated batch: with vision rows, the tower encodes each distinct row
 * vision once (visionInputs) and the embeddings go in at the pads.
 */
export function forwardBatch(model: CausalLM, b: CollatedBatch, extra: ModelInputs = {}): Tensor {
  return model.forward({ ...batchInputs(model, b), ...extra });
}

/** The model inputs of a collated batch: its tensors, and each distinct row vision encoded once. */
export function batchInputs(model: CausalLM, b: CollatedBatch): ModelInputs {
  const { vision, labels: _l, counts: _c, ...inputs } = b;
  if (!vision) return inputs;
  if (!(model instanceof Qwen2VLForConditionalGeneration))
    throw new TypeError('pacer: a batch with images or videos needs a vision-language model (Qwen2-VL / Qwen2.5-VL)');
  return { ...inputs, ...visionInputs(vision, (px, grid) => model.encodeVision(px, grid)) };
}

/**
 * The LoRA targets a trainer's config asks for: lora_target_modules, else the vision blocks too
 * (lora_vision_tower), else the architecture's default.
 */
export function loraTargets(cfg: BaseConfig, dflt: string | string[]): string | string[] {
  const withVision = hasVisionKeys(cfg) && cfg.use_peft ? cfg.lora_vision_tower : false;
  if (cfg.lora_target_modules && withVision)
    throw new ConfigError(`pacer: ${cfg._source}: give lora_target_modules or lora_vision_tower, not both`, {
      file: cfg._source,
      key: 'lora_vision_tower',
    });
  if (cfg.lora_target_modules) return cfg.lora_target_modules;
  if (withVision) return dflt === QWEN2_VL_LORA ? QWEN2_VL_LORA_WITH_VISION : needVision(cfg, 'lora_vision_tower');
  return dflt;
}

function needVision(cfg: BaseConfig, key: string): never {
  throw new ConfigError(
    `pacer: ${cfg._source}: ${key} needs a vision-language model; ${cfg.model_name_or_path} has no vision tower`,
    { file: cfg._source, key },
  );
}

/** Full fine-tuning: freeze_vision_tower fixes visual.* but the merger; freeze_merger fixes visual.merger.*. */
export function freezeVision(model: CausalLM, cfg: BaseConfig): void {
  if (!hasVisionKeys(cfg) || cfg.use_peft) return;
  const [tower, merger] = [cfg.freeze_vision_tower, cfg.freeze_merger];
  if (!tower && !merger) return;
  if (!(model instanceof Qwen2VLForConditionalGeneration))
    needVision(cfg, tower ? 'freeze_vision_tower' : 'freeze_merger');
  for (const [name, p] of model.namedParameters()) {
    if (!name.startsWith('visual.')) continue;
    const isMerger = name.startsWith('visual.merger.');
    if ((isMerger && merger) || (!isMerger && tower)) p.requiresGrad_(false);
  }
}
