// `pacer serve model` (OpenAI-compatible) and `pacer serve rewards` (OpenRLHF's /get_reward).
import { existsSync, realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setThreads } from '../../engine/index.js';
import { fromPretrained } from '../../models/pretrained.js';
import { Qwen2VLForConditionalGeneration } from '../../models/qwen2_vl/model.js';
import { loadProcessorConfigs } from '../../models/qwen2_vl/processor.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { rewardsFromSpec } from '../../rewards/index.js';
import { createModelServer } from '../../server/openai.js';
import { createRewardServer } from '../../server/rewards.js';
import { UsageError, defineCommand, dtypeOpt, int, num, oneOf, str, threadsOpt } from '../command.js';
import { listenUntilSignal } from '../listen.js';
import { FRAME_AGENT_OPTIONS, frameAgentOption, loadFrameAgent } from '../models.js';

export const serveModel = defineCommand({
  name: 'serve model',
  summary: 'serve a local HF model as OpenAI-compatible /v1/completions and /v1/chat/completions',
  usage:
    'pacer serve model --model DIR [--port 8000] [--host 127.0.0.1] [--token T] [--reload-root DIR] ' +
    '[--frame-agent DIR] [options]',
  description: `POST /v1/completions ({"prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p", "n",
"stop", "seed", "logprobs": k, "echo", "logit_bias", "stream"}) and POST /v1/chat/completions
({"messages", …, "logprobs": true, "top_logprobs": k}) answer in OpenAI's format with per-token
log-probs, as JSON or, with "stream": true, as Server-Sent Events (stream_options.include_usage
adds a usage chunk). temperature 0 is greedy; a request without "seed" gets a random one.
Prompt + max_tokens must fit the model's context (400 otherwise, as vLLM); tools,
response_format and other unimplemented parameters are refused by name. GET /v1/models lists
the model. One request generates at a time; --max-queue more wait (then 503 + Retry-After).

With --token (or PACER_TOKEN) every request needs "Authorization: Bearer T". POST
/update_weights_from_disk {"model_path": DIR} (SGLang's API) loads new weights of the same
architecture, all or nothing; it needs the token, or --reload-root DIR on a server without one,
and with --reload-root only folders inside DIR load.

Vision-language models (Qwen2-VL, Qwen2.5-VL) take images and videos in chat messages as vLLM does:
{"type": "image_url", "image_url": {"url": U}} and {"type": "video_url", "video_url": {"url": U}}
with U a base64 data: URL, or a local file (file:///path or /path) under --allowed-local-media-path
DIR (without it, local files are refused). Videos are sampled at --video-fps; the n completions of a
request share one encoding of the media. With --frame-agent DIR a trained TSPO agent (trainer: tspo's
output_dir) picks each video's frames (--frame-k of them, --frame-mode topk | bin-max) from the text of the
request's user turns instead, as pacer generate --frame-agent does; the frames keep their timestamps.`,
  options: {
    model: { type: 'string', arg: 'DIR', help: 'a local Hugging Face folder' },
    port: { type: 'string', arg: 'P', help: 'port (0 picks a free one)', default: '8000' },
    host: { type: 'string', arg: 'H', help: 'address to bind', default: '127.0.0.1' },
    token: { type: 'string', arg: 'T', help: 'bearer token required on every request (or PACER_TOKEN)' },
    'reload-root': { type: 'string', arg: 'DIR', help: 'weight reloads load only folders under DIR' },
    'served-model-name': {
      type: 'string',
      arg: 'N,…',
      help: 'names the model answers to (the first is reported)',
      default: "the folder's name",
    },
    'max-num-seqs': { type: 'string', arg: 'N', help: 'prompts × n one request may ask for', default: '256' },
    'max-batch-tokens': {
      type: 'string',
      arg: 'N',
      help: 'Σ n × (prompt + max_tokens) one request may ask for',
      default: '262144',
    },
    'max-queue': { type: 'string', arg: 'N', help: 'requests waiting behind the running one', default: '32' },
    'allowed-local-media-path': {
      type: 'string',
      arg: 'DIR',
      help: 'vision models: image_url/video_url parts may name local files under DIR',
    },
    'video-fps': {
      type: 'string',
      arg: 'F',
      help: 'vision models: frames per second sampled from videos',
      default: '2',
    },
    ...FRAME_AGENT_OPTIONS,
    dtype: { type: 'string', arg: 'D', help: 'float32, bfloat16 or float16', default: 'float32' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
  },
  async run(v) {
    const dir = str(v.model);
    if (!dir) throw new UsageError('serve model needs --model DIR');
    const mediaRoot = str(v['allowed-local-media-path']);
    if (mediaRoot && !existsSync(mediaRoot))
      throw new UsageError(`--allowed-local-media-path ${mediaRoot} does not exist`);
    const videoFps = num(v['video-fps'], 'video-fps') ?? 2;
    if (!(videoFps > 0)) throw new UsageError(`--video-fps must be > 0, got ${v['video-fps']}`);
    const frameAgent = frameAgentOption(v);
    const reloadRoot = str(v['reload-root']);
    if (reloadRoot && !existsSync(reloadRoot)) throw new UsageError(`--reload-root ${reloadRoot} does not exist`);
    setThreads(threadsOpt(v.threads));
    const tokenizer = Tokenizer.fromPretrained(dir);
    const { model } = fromPretrained(dir, { dtype: dtypeOpt(v.dtype) });
    const vision = model instanceof Qwen2VLForConditionalGeneration;
    if (frameAgent && !vision) throw new UsageError(`--frame-agent needs a vision-language model; ${dir} has none`);
    // request videos are temporary files: the agent keeps no features between requests
    const frameSelector = loadFrameAgent({ frameAgent }, { memo: false }) ?? undefined;
    const names = (str(v['served-model-name']) ?? dir.replace(/\/$/, '').split('/').pop() ?? 'pacer')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (!names.length) throw new UsageError('--served-model-name needs at least one name');
    const server = createModelServer({
      model,
      tokenizer,
      modelName: names[0],
      aliases: names.slice(1),
      token: str(v.token) ?? process.env.PACER_TOKEN,
      reloadRoot,
      maxNumSeqs: int(v['max-num-seqs'], 'max-num-seqs', 256),
      maxBatchTokens: int(v['max-batch-tokens'], 'max-batch-tokens', 2 ** 18),
      maxQueue: int(v['max-queue'], 'max-queue', 32, 0),
      media: vision
        ? {
            processors: loadProcessorConfigs(dir),
            merge: model.vl.vision.merge,
            allowedLocalMediaPath: mediaRoot ? realpathSync(mediaRoot) : undefined,
            videoFps,
            frameSelector,
          }
        : undefined,
      log: (s) => console.error(s),
    });
    const host = str(v.host) ?? '127.0.0.1';
    await listenUntilSignal(server, int(v.port, 'port', 8000, 0), host, (port) => ({
      serving: dir,
      url: `http://${host}`,
      port,
      host,
    }));
    return 0;
  },
});

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const serveRewards = defineCommand({
  name: 'serve rewards',
  summary: "a reward server speaking OpenRLHF's /get_reward protocol (bearer token)",
  usage:
    'pacer serve rewards --reward NAME[,NAME…] (--token T | --no-token) [--port 8000] [--host 127.0.0.1] [options]',
  description: `POST /get_reward {"query": [prompt+response…], "prompts": [...], "labels": [...]} with
"Authorization: Bearer T" answers {"rewards": [...], "scores": [...], "extra_logs": {...}}.
Labels reach the rewards as the 'answer' column, other list keys (OpenRLHF's "metas") as columns.
Rewards: accuracy, exact_match, multiple_choice, think_answer, reasoning_pattern,
length:budget=N, overlong:max_length=N:cache=M, iou, temporal_iou, gaussian_point,
partial_match, hierarchical, and those --reward-module files add to REWARDS. They run in
--workers threads, where --timeout-ms stops them. The token may also come from PACER_TOKEN.

OpenRLHF's remote-RM client sends no token: on a loopback --host, --no-token serves without one
(then only this machine, and no web page, is answered).`,
  options: {
    reward: { type: 'string', arg: 'SPEC', help: 'rewards by name, with options (accuracy,overlong:max_length=64)' },
    weights: { type: 'string', arg: 'W,…', help: 'one weight per reward' },
    port: { type: 'string', arg: 'P', help: 'port (0 picks a free one)', default: '8000' },
    host: { type: 'string', arg: 'H', help: 'address to bind', default: '127.0.0.1' },
    token: { type: 'string', arg: 'T', help: 'bearer token (or PACER_TOKEN)' },
    'no-token': { type: 'boolean', help: 'serve without a token (loopback hosts only)' },
    concurrency: { type: 'string', arg: 'N', help: 'requests scored at once (others get 503)', default: '4' },
    'timeout-ms': { type: 'string', arg: 'MS', help: 'per-reward timeout', default: '10000' },
    'on-error': { type: 'string', arg: 'E', help: 'a failing reward gives null (skip) or 0 (zero)', default: 'skip' },
    aggregation: { type: 'string', arg: 'A', help: 'weighted_sum, normalized or log_tamed', default: 'weighted_sum' },
    workers: {
      type: 'string',
      arg: 'N',
      help: 'reward worker threads (0: score in the server thread)',
      default: 'min(4, cores)',
    },
    'reward-module': {
      type: 'string',
      arg: 'FILE',
      help: 'an ES module that adds rewards to REWARDS (repeatable)',
      multiple: true,
    },
  },
  async run(v) {
    const spec = str(v.reward);
    if (!spec) throw new UsageError('serve rewards needs --reward NAME[,NAME…]');
    const host = str(v.host) ?? '127.0.0.1';
    const token = str(v.token) ?? process.env.PACER_TOKEN;
    const noToken = v['no-token'] === true;
    if (noToken && token) throw new UsageError('--no-token and --token (or PACER_TOKEN) contradict each other');
    if (noToken && !LOOPBACK.test(host))
      throw new UsageError(`--no-token is allowed only on a loopback --host (127.0.0.1, ::1), not ${host}`);
    if (!token && !noToken)
      throw new UsageError(
        'serve rewards needs --token T (or PACER_TOKEN): requests carry "Authorization: Bearer T" ' +
          '(or --no-token on 127.0.0.1)',
      );
    const onError = oneOf(v['on-error'], 'on-error', ['skip', 'zero'] as const, 'skip');
    const aggregation = oneOf(
      v.aggregation,
      'aggregation',
      ['weighted_sum', 'normalized', 'log_tamed'] as const,
      'weighted_sum',
    );
    const modules = ((v['reward-module'] as string[] | undefined) ?? []).map((m) => resolve(m));
    for (const m of modules) {
      if (!existsSync(m)) throw new UsageError(`--reward-module ${m} does not exist`);
      await import(pathToFileURL(m).href);
    }
    let rewards: ReturnType<typeof rewardsFromSpec>;
    try {
      rewards = rewardsFromSpec(spec, str(v.weights)?.split(',').map(Number));
    } catch (e) {
      throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
    }
    if (noToken)
      console.error(
        `pacer: WARNING: the reward server on ${host} accepts requests WITHOUT A TOKEN (--no-token): ` +
          'any program on this machine can use it',
      );
    const server = createRewardServer({
      rewards,
      token,
      noToken,
      workers: int(v.workers, 'workers', Math.min(4, availableParallelism()), 0),
      rewardModules: modules,
      maxConcurrency: int(v.concurrency, 'concurrency', 4),
      timeoutMs: int(v['timeout-ms'], 'timeout-ms', 10000),
      onError,
      aggregation,
      log: (s) => console.error(s),
    });
    await listenUntilSignal(server, int(v.port, 'port', 8000, 0), host, (port) => ({
      listening: `http://${host}:${port}/get_reward`,
      rewards: rewards.map((r) => r.name),
    }));
    return 0;
  },
});
