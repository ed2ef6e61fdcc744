// The random vision-language model and videos of the video training benchmarks (`bench dpo --video`,
// `bench grpo --video`), as `pacer train` reads them: an HF-layout Qwen2.5-VL folder with bench vlm's
// sizes (vlmConfig), a word-level tokenizer (Qwen's special tokens first, so the config's token ids are
// theirs; the words of the benchmark's texts, then numbers, filling the whole vocabulary so that every
// sampled id decodes), Qwen2-VL's chat template, and processors that resize 128×128 frames to 112×112
// as bench vlm does; and videos of random 128×128 frames as .npz frame arrays at 2 fps (every frame is
// sampled, second_per_grid_t = 1).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../../data/random.js';
import { modelFromConfig, savePretrained } from '../../models/pretrained.js';
import { wordsOf } from '../../tokenizers/word-level.js';
import { encodeFramesNpz } from '../../video/npz.js';
import { QWEN2_VL_CHAT_TEMPLATE, QWEN_SPECIALS, writeQwenVLFiles } from '../../recipes/vlm-base.js';
import { vlmConfig } from './vlm.js';

/** Frame side of the benchmark videos and the processors' pixel range (128² → 112²: 4 windows per frame). */
export const VIDEO_SIDE = 128;
export const VIDEO_PIXELS: [number, number] = [3136, 112 * 112];
export const VIDEO_FPS = 2;

/** The ids of Qwen's special tokens in the word-level tokenizer (QWEN_SPECIALS' order). */
const IDS = {
  bos_token_id: 0,
  pad_token_id: 0,
  eos_token_id: 2,
  vision_start_token_id: 3,
  vision_end_token_id: 4,
  vision_token_id: 5,
  image_token_id: 6,
  video_token_id: 7,
};

/**
 * Write the model folder; `texts` are the words the tokenizer must know. Returns the config, the
 * parameter count and the vocabulary (id → token string, for a peer's decoder).
 */
export function writeBenchVlm(dir: string, texts: string[]) {
  const config: Record<string, any> = { ...vlmConfig(), ...IDS };
  const chat = QWEN2_VL_CHAT_TEMPLATE.replace(/{[%{#][\s\S]*?[%}#]}/g, ' ');
  const words = wordsOf([chat, 'user assistant', ...texts], QWEN_SPECIALS);
  const room = config.vocab_size - QWEN_SPECIALS.length - 1; // less the specials and [UNK]
  if (words.length > room) throw new Error(`pacer: the benchmark texts have ${words.length} words, over ${room}`);
  const known = new Set(words);
  for (let i = 0; words.length < room; i++) if (!known.has(String(i))) words.push(String(i));
  const vocab = writeQwenVLFiles(dir, words, VIDEO_PIXELS);
  if (vocab !== config.vocab_size) throw new Error(`pacer: tokenizer vocabulary ${vocab} != ${config.vocab_size}`);
  const model = modelFromConfig(config);
  const params = model.numParameters();
  savePretrained({ model, config }, dir);
  model.dispose();
  return { config, params, vocab: [...QWEN_SPECIALS, '[UNK]', ...words] };
}

/** n videos of `frames` random VIDEO_SIDE² frames as dir/v<i>.npz (2 fps); returns their paths. */
export function writeRandomVideos(dir: string, n: number, frames: number, seed: number): string[] {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const size = frames * VIDEO_SIDE * VIDEO_SIDE * 3;
  return Array.from({ length: n }, (_, i) => {
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = Math.floor(r() * 256);
    const file = join(dir, `v${i}.npz`);
    writeFileSync(file, encodeFramesNpz({ frames, height: VIDEO_SIDE, width: VIDEO_SIDE, fps: VIDEO_FPS, data }));
    return file;
  });
}

/** A conversational user turn with a video part, and an assistant turn (TRL's vision rows). */
export const userVideo = (text: string) => [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text }] }];
export const assistantText = (text: string) => [{ role: 'assistant', content: [{ type: 'text', text }] }];
