// `pacer serve model` (OpenAI-compatible) and `pacer serve rewards` (OpenRLHF's /get_reward).
import type { Server } from 'node:http';
import { setThreads } from '../../engine/index.js';
import { fromPretrained } from '../../models/pretrained.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { rewardsFromSpec } from '../../rewards/index.js';
import { createModelServer } from '../../server/openai.js';
import { createRewardServer } from '../../server/rewards.js';
import { UsageError, defineCommand, dtypeOpt, int, oneOf, str, threadsOpt } from '../command.js';

/** Listen, print one JSON line describing the server, and serve until SIGINT/SIGTERM. */
async function listenUntilSignal(server: Server, port: number, host: string, info: (port: number) => object) {
  await new Promise<void>((r) => server.listen(port, host, r));
  const addr = server.address();
  console.log(JSON.stringify(info(typeof addr === 'object' && addr ? addr.port : port)));
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  server.close();
}

export const serveModel = defineCommand({
  name: 'serve model',
  summary: 'serve a local HF model as OpenAI-compatible /v1/completions and /v1/chat/completions',
  usage: 'pacer serve model --model DIR [--port 8000] [--host 127.0.0.1] [--token T] [--dtype float32] [--threads N]',
  description: `POST /v1/completions ({"prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p", "n",
"stop", "seed", "logprobs": 1}) and POST /v1/chat/completions ({"messages", …, "logprobs": true})
answer in OpenAI's format with per-token log-probs; GET /v1/models lists the model. temperature 0
is greedy. With --token (or PACER_TOKEN) every request needs "Authorization: Bearer T".`,
  options: {
    model: { type: 'string', arg: 'DIR', help: 'a local Hugging Face folder' },
    port: { type: 'string', arg: 'P', help: 'port (0 picks a free one)', default: '8000' },
    host: { type: 'string', arg: 'H', help: 'address to bind', default: '127.0.0.1' },
    token: { type: 'string', arg: 'T', help: 'bearer token required on every request (or PACER_TOKEN)' },
    dtype: { type: 'string', arg: 'D', help: 'float32, bfloat16 or float16', default: 'float32' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
  },
  async run(v) {
    const dir = str(v.model);
    if (!dir) throw new UsageError('serve model needs --model DIR');
    setThreads(threadsOpt(v.threads));
    const tokenizer = Tokenizer.fromPretrained(dir);
    const { model } = fromPretrained(dir, { dtype: dtypeOpt(v.dtype) });
    const modelName = dir.replace(/\/$/, '').split('/').pop() ?? 'pacer';
    const server = createModelServer({ model, tokenizer, modelName, token: str(v.token) ?? process.env.PACER_TOKEN });
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

export const serveRewards = defineCommand({
  name: 'serve rewards',
  summary: "a reward server speaking OpenRLHF's /get_reward protocol (bearer token)",
  usage: 'pacer serve rewards --reward NAME[,NAME…] --token T [--port 8000] [--host 127.0.0.1] [options]',
  description: `POST /get_reward {"query": [prompt+response…], "prompts": [...], "labels": [...]} with
"Authorization: Bearer T" answers {"rewards": [...], "scores": [...], "extra_logs": {...}}.
Labels reach the rewards as the 'answer' column. Rewards: accuracy, exact_match, multiple_choice,
think_answer, reasoning_pattern, length:budget=N, overlong:max_length=N:cache=M, iou, temporal_iou,
gaussian_point, partial_match, hierarchical. The token may also come from PACER_TOKEN.`,
  options: {
    reward: { type: 'string', arg: 'SPEC', help: 'rewards by name, with options (accuracy,overlong:max_length=64)' },
    weights: { type: 'string', arg: 'W,…', help: 'one weight per reward' },
    port: { type: 'string', arg: 'P', help: 'port (0 picks a free one)', default: '8000' },
    host: { type: 'string', arg: 'H', help: 'address to bind', default: '127.0.0.1' },
    token: { type: 'string', arg: 'T', help: 'bearer token (or PACER_TOKEN)' },
    concurrency: { type: 'string', arg: 'N', help: 'requests scored at once (others get 503)', default: '4' },
    'timeout-ms': { type: 'string', arg: 'MS', help: 'per-reward timeout', default: '10000' },
    'on-error': { type: 'string', arg: 'E', help: 'a failing reward gives null (skip) or 0 (zero)', default: 'skip' },
    aggregation: { type: 'string', arg: 'A', help: 'weighted_sum, normalized or log_tamed', default: 'weighted_sum' },
  },
  async run(v) {
    const spec = str(v.reward);
    if (!spec) throw new UsageError('serve rewards needs --reward NAME[,NAME…]');
    const token = str(v.token) ?? process.env.PACER_TOKEN;
    if (!token)
      throw new UsageError('serve rewards needs --token T (or PACER_TOKEN): requests carry "Authorization: Bearer T"');
    const onError = oneOf(v['on-error'], 'on-error', ['skip', 'zero'] as const, 'skip');
    const aggregation = oneOf(
      v.aggregation,
      'aggregation',
      ['weighted_sum', 'normalized', 'log_tamed'] as const,
      'weighted_sum',
    );
    let rewards: ReturnType<typeof rewardsFromSpec>;
    try {
      rewards = rewardsFromSpec(spec, str(v.weights)?.split(',').map(Number));
    } catch (e) {
      throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
    }
    const server = createRewardServer({
      rewards,
      token,
      maxConcurrency: int(v.concurrency, 'concurrency', 4),
      timeoutMs: int(v['timeout-ms'], 'timeout-ms', 10000),
      onError,
      aggregation,
      log: (s) => console.error(s),
    });
    const host = str(v.host) ?? '127.0.0.1';
    await listenUntilSignal(server, int(v.port, 'port', 8000, 0), host, (port) => ({
      listening: `http://${host}:${port}/get_reward`,
      rewards: rewards.map((r) => r.name),
    }));
    return 0;
  },
});
