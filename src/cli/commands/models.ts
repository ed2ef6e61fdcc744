// `pacer logprobs` and `pacer generate`: scoring and sampling with a local HF model folder.
import { cmdGenerate, cmdLogprobs } from '../models.js';
import { UsageError, defineCommand, dtypeOpt, int, num, str, threadsOpt } from '../command.js';

export const logprobs = defineCommand({
  name: 'logprobs',
  summary: 'score completions with a local HF model: JSONL {prompt, completion} in, {logprob, tokens} out',
  usage: 'pacer logprobs --model DIR --data FILE.jsonl [--batch-size 8] [--dtype float32] [--threads N]',
  description: `Writes one line per input, in order: {"logprob": <sum>, "tokens": <completion token count>}.
Prompt and completion are tokenized separately (the prompt with the tokenizer's own special
tokens, e.g. BOS) and concatenated; conversational lines (prompt and completion as lists of
{"role", "content"} messages) go through the chat template.`,
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
  },
  run(v) {
    const model = str(v.model);
    const data = str(v.data);
    if (!model || !data) throw new UsageError('logprobs needs --model DIR and --data FILE.jsonl');
    cmdLogprobs({
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
  usage: 'pacer generate --model DIR --prompt TEXT [--prompt TEXT ...] [options]',
  options: {
    model: { type: 'string', arg: 'DIR', help: 'a local Hugging Face folder' },
    prompt: { type: 'string', arg: 'TEXT', help: 'a prompt (repeatable)', multiple: true },
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
  run(v) {
    const model = str(v.model);
    const prompts = (v.prompt as string[] | undefined) ?? [];
    if (!model || !prompts.length) throw new UsageError('generate needs --model DIR and at least one --prompt TEXT');
    cmdGenerate({
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
