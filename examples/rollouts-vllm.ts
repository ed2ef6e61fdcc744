// GRPO whose rollouts come from an OpenAI-compatible server (vLLM, SGLang, `pacer serve model`): before
// each step the trainer writes the policy to output_dir/.rollout-weights and asks the server to load it
// (POST /update_weights_from_disk, SGLang's API), so rollouts stay on-policy; rollout/logprob_abs_diff
// logs how far the server's log-probs are from the trainer's. Without ROLLOUT_URL this example starts
// `pacer serve model`'s server in-process, accepting reloads only from folders under WORKDIR (a reload
// root: no token needed for them). Guide: docs/rollouts-vllm.md.
//   node rollouts-vllm.js [WORKDIR]          (PACER_SMOKE=1: a few steps)
//   ROLLOUT_URL=http://127.0.0.1:8000 PACER_ROLLOUT_TOKEN=… node rollouts-vllm.js WORKDIR
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fromPretrained } from 'pacer/models';
import { createModelServer } from 'pacer/server';
import { Tokenizer } from 'pacer/tokenizers';
import { train } from 'pacer/trainers';
import { SMOKE, sums, tinyModel, workDir, writeJsonl } from './tiny.ts';

const dir = workDir('rollouts');
const base = tinyModel(join(dir, 'base'));

let server: Server | null = null;
let url = process.env.ROLLOUT_URL;
if (!url) {
  server = createModelServer({
    model: fromPretrained(base).model,
    tokenizer: Tokenizer.fromPretrained(base),
    modelName: 'policy',
    reloadRoot: dir, // the trainer writes its weights under WORKDIR/grpo/
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

try {
  const run = await train(
    {
      trainer: 'grpo',
      model_name_or_path: base, // the server must start from the same weights
      train_dataset: writeJsonl(join(dir, 'prompts.jsonl'), sums(64)),
      output_dir: join(dir, 'grpo'),
      overwrite_output_dir: true,
      reward_funcs: ['accuracy'],
      num_generations: 4,
      per_device_train_batch_size: 8,
      max_completion_length: 4,
      rollout_server_url: url,
      rollout_server_model: 'policy', // null: the server's own model name
      rollout_sync_weights: true, // false for a server without the reload endpoint (rollouts go stale)
      max_steps: SMOKE ? 2 : 50,
      learning_rate: 2e-3,
      logging_steps: 1,
      report: !SMOKE,
    },
    { progress: !SMOKE },
  );
  console.log(
    JSON.stringify({ steps: run.globalStep, logprob_abs_diff: run.finalMetrics['rollout/logprob_abs_diff'], url }),
  );
} finally {
  server?.close();
}
