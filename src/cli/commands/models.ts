// `pacer logprobs` and `pacer generate`: scoring and sampling with a local HF model folder.
import { FRAME_AGENT_OPTIONS, cmdGenerate, cmdLogprobs, frameAgentOption, type VideoDefaults } from '../models.js';
import { UsageError, defineCommand, dtypeOpt, int, num, str, threadsOpt, type OptionSpec } from '../command.js';

const VIDEO_OPTIONS: Record<string, OptionSpec> = {
  'video-fps': {
    type: 'string',
    arg: 'F',
    help: 'frames per second sampled from videos (and the rate of frame folders) unless a part gives fps',
    default: '2.0',
  },
  'video-max-frames': { type: 'string', arg: 'N', help: 'at most N frames per video', default: '768' },
  ...FRAME_AGENT_OPTIONS,
};

function videoDefaults(v: Record<string, unknown>): VideoDefaults {
  const videoFps = num(v['video-fps'], 'video-fps') ?? 2;
  if (!(videoFps > 0)) throw new UsageError(`--video-fps must be > 0, got ${v['video-fps']}`);
  return {
    videoFps,
    videoMaxFrames: int(v['video-max-frames'], 'video-max-frames', 768, 2),
    frameAgent: frameAgentOption(v),
  };
}

const MEDIA_HELP = `Rows may carry images and videos (vision-language models such as Qwen2.5-VL), in TRL's
shapes: standard — a "prompt" string holding <|vision_start|><|video_pad|><|vision_end|> (or
<|image_pad|>) once per item, plus "videos" / "images" lists of paths in order; conversational —
messages with typed content parts {"type": "video", "path": …, "fps": …}, {"type": "image", "path": …},
{"type": "text", "text": …}. A path is a video file, a folder of frame images (every frame, in name
order, at the part's fps or --video-fps) or an image; relative paths resolve against the data file's
folder. With --frame-agent DIR a trained TSPO agent chooses each video's frames (--frame-k of them) from
the row's question text instead, and the frames keep their timestamps in Qwen2.5-VL's M-RoPE time
positions; --json then reports them per row ("frames": [{"source", "indices", "timestamps"}]).`;

export const logprobs = defineCommand({
  name: 'logprobs',
  summary: 'score completions with a local HF model: JSONL {prompt, completion} in, {logprob, tokens} out',
  usage: 'pacer logprobs --model DIR --data FILE.jsonl [--batch-size 8] [--dtype float32] [--threads N]',
  description: `Writes one line per input, in order: {"logprob": <sum>, "tokens": <completion token count>}.
Prompt and completion are tokenized separately (the prompt with the tokenizer's own special
tokens, e.g. BOS) and concatenated; conversational lines (prompt and completion as lists of
{"role", "content"} messages) go through the chat template.

${MEDIA_HELP}`,
  options: {
    model: {
      type: 'string',
      arg: 'DIR',
      help: 'a local Hugging Face folder (config.json, model.safetensors, tokenizer.json)',
    },
    data: { type: 'string', arg: 'FILE', help: 'JSON lines {"prompt": …, "completion": …}' },
    'batch-size': {
      type: 'string',
      arg: 'N',
      help: 'lines per forward pass (results do not depend on it)',
      default: '8',
    },
    dtype: { type: 'string', arg: 'D', help: 'float32, bfloat16 or float16', default: 'float32' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    ...VIDEO_OPTIONS,
  },
  async run(v) {
    const model = str(v.model);
    const data = str(v.data);
    if (!model || !data) throw new UsageError('logprobs needs --model DIR and --data FILE.jsonl');
    await cmdLogprobs({
      ...videoDefaults(v),
      model,
      data,
      batchSize: int(v['batch-size'], 'batch-size', 8),
      dtype: dtypeOpt(v.dtype),
      threads: threadsOpt(v.threads),
    });
    return 0;
  },
});

export const generateCmd = defineCommand({
  name: 'generate',
  summary: 'sample from a local HF model (KV cache; greedy, temperature, top-k/p, min-p)',
  usage: 'pacer generate --model DIR (--prompt TEXT [--prompt TEXT ...] | --data FILE.jsonl) [options]',
  description: `Prompts come from --prompt (repeatable) and from the "prompt" field of each line of --data.

${MEDIA_HELP}`,
  options: {
    model: { type: 'string', arg: 'DIR', help: 'a local Hugging Face folder' },
    prompt: { type: 'string', arg: 'TEXT', help: 'a prompt (repeatable)', multiple: true },
    data: { type: 'string', arg: 'FILE', help: 'JSON lines with a "prompt" (and images/videos)' },
    ...VIDEO_OPTIONS,
    chat: { type: 'boolean', help: 'wrap each prompt as a user message with the chat template' },
    'max-new-tokens': { type: 'string', arg: 'N', help: 'tokens to generate', default: '64' },
    temperature: { type: 'string', arg: 'T', help: 'sampling temperature (omit for greedy)' },
    'top-k': { type: 'string', arg: 'K', help: 'keep the K most likely tokens' },
    'top-p': { type: 'string', arg: 'P', help: 'nucleus sampling' },
    'min-p': { type: 'string', arg: 'P', help: 'drop tokens below P times the most likely' },
    seed: { type: 'string', arg: 'N', help: 'random seed', default: '0' },
    stop: { type: 'string', arg: 'STR', help: 'stop string (repeatable)', multiple: true },
    dtype: { type: 'string', arg: 'D', help: 'float32, bfloat16 or float16', default: 'float32' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    json: { type: 'boolean', help: 'one JSON line per prompt (with tokens and per-token log-probs)' },
  },
  async run(v) {
    const model = str(v.model);
    const prompts = (v.prompt as string[] | undefined) ?? [];
    const data = str(v.data);
    if (!model || (!prompts.length && !data))
      throw new UsageError('generate needs --model DIR and at least one --prompt TEXT or --data FILE.jsonl');
    await cmdGenerate({
      ...videoDefaults(v),
      data,
      model,
      prompts,
      chat: !!v.chat,
      maxNewTokens: int(v['max-new-tokens'], 'max-new-tokens', 64, 0),
      temperature: num(v.temperature, 'temperature'),
      topK: v['top-k'] === undefined ? undefined : int(v['top-k'], 'top-k', 0, 0),
      topP: num(v['top-p'], 'top-p'),
      minP: num(v['min-p'], 'min-p'),
      seed: int(v.seed, 'seed', 0, 0),
      stop: (v.stop as string[] | undefined) ?? [],
      dtype: dtypeOpt(v.dtype),
      threads: threadsOpt(v.threads),
      json: !!v.json,
    });
    return 0;
  },
});
