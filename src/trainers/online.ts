// The online RL loop for grpo | rloo | reg_grpo | raft | online_dpo. Each step: the curriculum
// sampler picks prompts; the policy samples num_generations completions per prompt (KV cache); the
// rewards score them (timeouts and failures handled, never fatal); advantages are formed per group
// (dynamic sampling can drop zero-variance groups); π_old (and π_ref when beta > 0) log-probs come
// from no-grad forwards of the same sequences; the objective (src/objectives/) is minimised for
// num_iterations passes; the sampler gets per-prompt feedback. Checkpoints, exact resume,
// metrics.jsonl with TRL's names (reward, reward_std, kl, clip_ratio/…, completions/mean_length,
// frac_reward_zero_std, entropy, rewards/<name>/mean, curriculum/…) and the report as offline.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AdamW,
  LRScheduler,
  clipGradNorm,
  decayGroups,
  manualSeed,
  noGrad,
  scope,
  setThreads,
  tensor,
  atomicWrite,
  type Tensor,
} from '../engine/index.js';
import { fromPretrained, savePretrained } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { labelLogps } from '../models/scoring.js';
import type { CausalLM } from '../models/types.js';
import { Tokenizer } from '../tokenizers/index.js';
import { loadDataset, type Example } from '../data/datasets.js';
import { collate, completionSeq } from '../data/tokenize.js';
import { rewardsFromSpec, runRewards } from '../rewards/index.js';
import {
  groupAdvantages,
  rlooAdvantages,
  grpoLoss,
  regGrpoLoss,
  dpoLoss,
  type GRPOLossType,
} from '../objectives/index.js';
import { makeSampler, type CurriculumItem } from '../curriculum/online.js';
import { DifficultyAugmenter, type Perturb, type PromptValue } from '../curriculum/augment.js';
import { Progress } from '../report/progress.js';
import { OpenAICompatClient } from '../clients/openai.js';
import { postJsonWithRetry } from '../clients/http.js';
import { renderReport, plotsFromMetrics } from '../report/html.js';
import { latestCheckpoint, readCheckpoint, restoreMetrics, writeCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { TrainResult } from './trainer.js';

interface Rollout {
  prompt: number[];
  completion: number[];
  text: string;
  truncated: boolean;
  serverLogprobs?: number[];
}

function renderPrompt(tok: Tokenizer, prompt: Example['prompt']): number[] {
  return Array.isArray(prompt)
    ? tok.encode(tok.applyChatTemplate(prompt, { addGenerationPrompt: true }))
    : tok.encode(prompt as string, { addSpecialTokens: true });
}

export interface OnlineOptions {
  progress?: boolean;
  log?: (s: string) => void;
  /** Called every eval_steps (and at the end) with the policy; its numbers are logged as eval_<name>. */
  evaluate?: (model: CausalLM, step: number) => Record<string, number>;
  /** The perturbation for easy items under augmentation: difficulty_aware (default: character masking). */
  perturb?: Perturb;
}

export async function trainOnline(cfg: TrainConfig, opts: OnlineOptions = {}): Promise<TrainResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  setThreads(cfg.threads ?? availableParallelism());
  manualSeed(cfg.seed);
  const tok = Tokenizer.fromPretrained(cfg.model_name_or_path);
  const examples = await loadDataset(cfg.train_dataset);
  if (examples[0].format !== 'prompt_only' && examples[0].format !== 'prompt_completion')
    throw new Error(
      `pacer: ${examples[0].where}: online trainers need prompt-only data ({"prompt", …columns}), this dataset is ${examples[0].format}`,
    );
  const prompts = examples.map((e) => renderPrompt(tok, e.prompt));
  prompts.forEach((p, i) => {
    if (cfg.max_prompt_length && p.length > cfg.max_prompt_length)
      throw new Error(
        `pacer: ${examples[i].where}: the prompt is ${p.length} tokens, over max_prompt_length ${cfg.max_prompt_length}`,
      );
  });
  const rewards = rewardsFromSpec(
    Array.isArray(cfg.reward_funcs) ? cfg.reward_funcs.join(',') : String(cfg.reward_funcs),
    cfg.reward_weights ?? undefined,
  );
  const items: CurriculumItem[] = examples.map((e, i) => ({
    index: i,
    difficulty:
      typeof e.extra[cfg.difficulty_column] === 'number' ? (e.extra[cfg.difficulty_column] as number) : undefined,
    category: cfg.category_column
      ? (e.extra[cfg.category_column] as string)
      : (e.extra[cfg.difficulty_column] as number | undefined),
  }));
  const sampler = makeSampler(cfg.curriculum_sampler, items, cfg.seed, cfg.curriculum_options ?? {});
  const augment =
    cfg.augmentation === 'difficulty_aware'
      ? new DifficultyAugmenter(cfg.augmentation_options ?? {}, cfg.seed, opts.perturb)
      : null;
  mkdirSync(cfg.output_dir, { recursive: true });

  const loaded = fromPretrained(cfg.model_name_or_path, { dtype: cfg.dtype });
  const model = loaded.model;
  const ref: CausalLM | null =
    cfg.beta > 0 || cfg.trainer === 'online_dpo'
      ? fromPretrained(cfg.ref_model_name_or_path ?? cfg.model_name_or_path, { dtype: cfg.dtype }).model
      : null;
  const opt = new AdamW(decayGroups(model, cfg.weight_decay), {
    lr: cfg.learning_rate,
    betas: [cfg.adam_beta1, cfg.adam_beta2],
    eps: cfg.adam_epsilon,
  });
  const totalSteps =
    cfg.max_steps > 0
      ? cfg.max_steps
      : Math.ceil((cfg.num_train_epochs * examples.length * cfg.num_generations) / cfg.per_device_train_batch_size);
  const sched = new LRScheduler(
    opt,
    cfg.lr_scheduler_type,
    cfg.warmup_steps || Math.ceil(cfg.warmup_ratio * totalSteps),
    totalSteps,
  );
  const params = opt.groups.flatMap((g) => g.params);
  const pad = tok.padTokenId ?? tok.eosTokenId ?? 0;
  const G = cfg.num_generations;
  const P = cfg.per_device_train_batch_size / G;
  const metricsFile = join(cfg.output_dir, 'metrics.jsonl');
  const history: Array<Record<string, number>> = [];
  let step = 0;
  const resumeFrom =
    cfg.resume_from_checkpoint === true
      ? latestCheckpoint(cfg.output_dir)
      : typeof cfg.resume_from_checkpoint === 'string'
        ? cfg.resume_from_checkpoint
        : null;
  if (resumeFrom) {
    const st = readCheckpoint(resumeFrom, model, opt, sched);
    sampler.load(st.sampler);
    if (augment && st.augment) augment.load(st.augment);
    step = st.global_step;
    history.push(...restoreMetrics(metricsFile, step));
    log(`pacer: resumed from ${resumeFrom} at step ${step}`);
  } else writeFileSync(metricsFile, '');

  /** The prompt each chosen item is rolled out with (augmented when the hook is on). */
  const promptsFor = (idx: number[]) =>
    idx.map((i) => {
      if (!augment) return { value: examples[i].prompt!, ids: prompts[i] };
      const value = augment.apply(i, examples[i].prompt as PromptValue) as Example['prompt'];
      return { value: value!, ids: value === examples[i].prompt ? prompts[i] : renderPrompt(tok, value) };
    });
  // Remote rollouts: an OpenAI-compatible server samples the completions (vLLM, SGLang, pacer
  // serve model). With rollout_sync_weights the policy is written to disk and the server told to
  // reload it (SGLang's POST /update_weights_from_disk) before each step's rollouts, so they stay
  // on-policy. π_old log-probs are always recomputed locally; the server's own log-probs are
  // compared with them and logged as rollout/logprob_abs_diff (a weight-sync or tokenizer mismatch
  // shows up there).
  const remote = cfg.rollout_server_url
    ? new OpenAICompatClient(cfg.rollout_server_url, {
        apiKey: process.env[cfg.rollout_server_token_env],
        model: cfg.rollout_server_model,
        timeoutMs: cfg.rollout_server_timeout * 1000,
        retries: 3,
      })
    : null;
  let syncedAt = -1;
  const syncDir = join(cfg.output_dir, '.rollout-weights');
  const syncWeights = async () => {
    if (!remote || !cfg.rollout_sync_weights || syncedAt === step) return;
    savePretrained(loaded, syncDir);
    const j = await postJsonWithRetry(
      `${cfg.rollout_server_url!.replace(/\/$/, '')}/update_weights_from_disk`,
      { model_path: resolve(syncDir) },
      { token: process.env[cfg.rollout_server_token_env], timeoutMs: cfg.rollout_server_timeout * 1000, retries: 3 },
      'rollout server',
    );
    if (j && j.success === false)
      throw new Error(
        `pacer: rollout server ${cfg.rollout_server_url} could not load the weights: ${j.message ?? 'no message'}`,
      );
    syncedAt = step;
  };
  const remoteRollout = async (
    chosen: Array<{ value: Example['prompt']; ids: number[] }>,
    seed: number,
  ): Promise<Rollout[]> => {
    const texts = chosen.map((c) => {
      if (typeof c.value !== 'string')
        throw new Error(
          'pacer: remote rollouts take text prompts (conversational prompts: render them with the chat template first)',
        );
      return c.value;
    });
    const res = await remote!.complete(texts, {
      maxTokens: cfg.max_completion_length,
      temperature: cfg.temperature,
      topP: cfg.top_p < 1 ? cfg.top_p : undefined,
      n: G,
      seed,
      tokenIds: true,
    });
    const eos = tok.eosTokenId;
    return res.flatMap((group, i) =>
      group.map((c) => {
        // token ids as the server sampled them (vLLM's return_tokens_as_token_ids), else re-tokenized text
        const ids = c.tokenIds ?? [...tok.encode(c.text), ...(c.finishReason === 'stop' && eos !== null ? [eos] : [])];
        return {
          prompt: chosen[i].ids,
          completion: ids,
          text: c.text,
          truncated: c.finishReason === 'length',
          serverLogprobs: c.logprobs,
        };
      }),
    );
  };
  const rollout = (chosen: Array<{ ids: number[] }>, seed: number): Rollout[] => {
    const batch = chosen.flatMap((c) => Array.from({ length: G }, () => c.ids));
    const res = generate(
      model,
      batch,
      {
        maxNewTokens: cfg.max_completion_length,
        temperature: cfg.temperature,
        topP: cfg.top_p < 1 ? cfg.top_p : undefined,
        topK: cfg.top_k ?? undefined,
        doSample: true,
        seed,
      },
      tok,
    );
    return res.map((r, k) => ({
      prompt: batch[k],
      completion: r.tokens,
      text: r.text ?? '',
      truncated: r.finishReason === 'length',
    }));
  };
  /** The step's prompt+completion batch (right-padded, labels on completion tokens only). */
  type Batch = ReturnType<typeof collate>;
  const rolloutBatch = (rs: Rollout[]): Batch =>
    collate(
      rs.map((r) => completionSeq(r.prompt, r.completion.length ? r.completion : [pad])),
      pad,
    );
  /** Per-token log-probs of completions [N, T] (temperature-scaled, as TRL) and the loss mask. */
  const tokenLogps = (m: CausalLM, b: Batch) => {
    let logits = m.forward(b.ids, { attentionMask: b.attentionMask });
    if (cfg.temperature !== 1) logits = logits.div(cfg.temperature);
    const lp = labelLogps(logits, b.labels);
    return {
      perToken: lp.perToken,
      mask: lp.mask.float(),
      logits,
      labels: b.labels,
      ids: b.ids,
      attentionMask: b.attentionMask,
    };
  };

  const bar = new Progress(totalSteps, cfg.trainer, opts.progress ?? true);
  model.train();
  while (step < totalSteps) {
    // ---- rollouts and rewards (dynamic sampling refills zero-variance groups, a few tries)
    const idx: number[] = [];
    const rs: Rollout[] = [];
    const rew: number[] = [];
    const timing = { generation: 0, scoring: 0, training: 0 };
    let t0 = performance.now();
    const rewardMetrics: Record<string, number> = {};
    for (let attempt = 0; attempt < (cfg.dynamic_sampling ? 4 : 1) && idx.length < P; attempt++) {
      const want = P - idx.length;
      const cand = sampler.next(want);
      const chosen = promptsFor(cand);
      const rseed = cfg.seed * 100003 + step * 31 + attempt;
      if (remote) await syncWeights();
      const got = remote ? await remoteRollout(chosen, rseed) : noGrad(() => scope(() => rollout(chosen, rseed)));
      timing.generation += performance.now() - t0;
      t0 = performance.now();
      const rep = await runRewards(
        rewards,
        {
          prompts: got.map((_, k) => chosen[Math.floor(k / G)].value),
          completions: got.map((r) => r.text),
          completionIds: got.map((r) => r.completion),
          columns: Object.fromEntries(
            Object.keys(examples[0].extra).map((col) => [
              col,
              got.map((_, k) => examples[cand[Math.floor(k / G)]].extra[col]),
            ]),
          ),
        },
        { timeoutMs: cfg.reward_timeout * 1000, onError: cfg.reward_on_error, log },
      );
      Object.assign(rewardMetrics, rep.metrics);
      timing.scoring += performance.now() - t0;
      t0 = performance.now();
      const r = rep.rewards.map((x) => x ?? 0);
      augment?.update(
        cand.map((i, g) => ({
          index: i,
          completions: got.slice(g * G, (g + 1) * G).map((x) => x.text),
          rewards: r.slice(g * G, (g + 1) * G),
        })),
      );
      for (let g = 0; g < cand.length; g++) {
        const grp = r.slice(g * G, (g + 1) * G);
        const zeroStd = grp.every((x) => x === grp[0]);
        if (cfg.dynamic_sampling && zeroStd && attempt < 3) continue;
        idx.push(cand[g]);
        rs.push(...got.slice(g * G, (g + 1) * G));
        rew.push(...grp);
      }
    }
    if (idx.length === 0) {
      step++;
      continue;
    }
    const nGroups = idx.length;
    const adv = cfg.trainer === 'rloo' ? rlooAdvantages(rew, G) : groupAdvantages(rew, G, cfg.scale_rewards);
    const groupStats = Array.from({ length: nGroups }, (_, g) => {
      const grp = rew.slice(g * G, (g + 1) * G);
      const m = grp.reduce((a, b) => a + b, 0) / G;
      return {
        m,
        v: grp.reduce((a, b) => a + (b - m) ** 2, 0) / G,
        absAdv: adv.slice(g * G, (g + 1) * G).reduce((a, b) => a + Math.abs(b), 0) / G,
        pass: grp.filter((x) => x >= cfg.pass_threshold).length / G,
      };
    });

    // ---- π_old and π_ref, then num_iterations optimisation passes
    const metrics: Record<string, number> = {};
    scope(() => {
      // π_old needs its own forward only when the batch is reused (num_iterations > 1); with one
      // pass π_old = π_θ, so the current log-probs, detached, stand in for it (as TRL does).
      const needOld =
        cfg.num_iterations > 1 && (cfg.trainer === 'grpo' || cfg.trainer === 'rloo' || cfg.trainer === 'reg_grpo');
      const batch = rolloutBatch(rs);
      const oldLp = needOld ? noGrad(() => tokenLogps(model, batch).perToken) : null;
      const refLp = ref && cfg.trainer !== 'raft' ? noGrad(() => tokenLogps(ref, batch).perToken) : null;
      let mask = batch.labels.ne(-100).float();
      if (cfg.mask_truncated_completions) mask = mask.mul(tensor(rs.map((r) => (r.truncated ? 0 : 1))).unsqueeze(1));
      for (let it = 0; it < cfg.num_iterations; it++) {
        opt.zeroGrad();
        const out = scope(() => {
          const cur = tokenLogps(model, batch);
          const oldPerToken = oldLp ?? cur.perToken.detach();
          if (it === 0 && rs[0]?.serverLogprobs) {
            // the rollout server's log-probs against the policy's own, token by token
            const lp = cur.perToken.detach().toArray() as number[];
            const T = cur.perToken.shape[1];
            let sum = 0,
              n = 0;
            rs.forEach((r, k) => {
              const off = r.prompt.length - 1;
              r.serverLogprobs!.forEach((v, j) => {
                if (off + j < T && Number.isFinite(v)) {
                  sum += Math.abs(v - lp[k * T + off + j]);
                  n++;
                }
              });
            });
            metrics['rollout/logprob_abs_diff'] = n ? sum / n : 0;
          }
          // mean per-token entropy of the policy over the completions (all trainers)
          metrics.entropy = noGrad(() => {
            const p = cur.logits.to('float32').logSoftmax(-1);
            return p.exp().mul(p).sum(-1).neg().mul(mask).sum().item() / Math.max(1, mask.sum().item());
          });
          if (cfg.trainer === 'grpo' || cfg.trainer === 'rloo') {
            const o = grpoLoss(
              { logps: cur.perToken, oldLogps: oldPerToken, refLogps: refLp, advantages: tensor(adv), mask },
              {
                lossType: (cfg.trainer === 'rloo' ? 'grpo' : cfg.loss_type) as GRPOLossType,
                epsilon: cfg.epsilon,
                epsilonHigh: cfg.epsilon_high ?? undefined,
                beta: cfg.beta,
                importanceSampling: cfg.importance_sampling_level,
                maxCompletionLength: cfg.max_completion_length,
              },
            );
            o.loss.backward();
            return o.metrics;
          }
          if (cfg.trainer === 'reg_grpo') {
            const kl = refLp
              ? refLp
                  .sub(cur.perToken)
                  .exp()
                  .sub(refLp.sub(cur.perToken))
                  .sub(1)
                  .mul(mask)
                  .sum(1)
                  .div(mask.sum(1).clamp(1, null))
              : null;
            const o = regGrpoLoss(
              {
                seqLogps: cur.perToken.mul(mask).sum(1),
                oldSeqLogps: oldPerToken.mul(mask).sum(1),
                rewards: rew,
                groupSize: G,
                klPerSeq: kl,
              },
              { beta: cfg.beta },
            );
            o.loss.backward();
            return o.metrics;
          }
          if (cfg.trainer === 'raft') {
            // keep the top-k completions of each group by reward (ties: earlier first), SFT on them
            const keepRows: number[] = [];
            for (let g = 0; g < nGroups; g++) {
              const order = Array.from({ length: G }, (_, j) => g * G + j).sort((a, b) => rew[b] - rew[a] || a - b);
              keepRows.push(...order.slice(0, cfg.raft_top_k));
            }
            // SFT (mean NLL over the kept completions' tokens) on the rows of the forward already made
            const rows = tensor(keepRows, { dtype: 'int64' });
            const keptMask = mask.indexSelect(0, rows);
            const lp =
              cfg.temperature !== 1 ? labelLogps(cur.logits.mul(cfg.temperature), cur.labels).perToken : cur.perToken; // raw distribution
            const nll = lp.indexSelect(0, rows).mul(keptMask).sum().neg().div(keptMask.sum().clamp(1, null));
            const o = { loss: nll, metrics: { loss: nll.item(), num_tokens: keptMask.sum().item() } };
            o.loss.backward();
            return o.metrics;
          }
          // online_dpo: in each group, the best completion (by reward) chosen, the worst rejected
          const pairs: Array<[number, number]> = [];
          for (let g = 0; g < nGroups; g++) {
            const rows = Array.from({ length: G }, (_, j) => g * G + j);
            const best = rows.reduce((a, b) => (rew[b] > rew[a] ? b : a)),
              worst = rows.reduce((a, b) => (rew[b] < rew[a] ? b : a));
            if (rew[best] > rew[worst]) pairs.push([best, worst]);
          }
          if (!pairs.length) return { loss: 0 };
          const seqSum = (t: Tensor, rows: number[]) =>
            t
              .mul(mask)
              .sum(1)
              .indexSelect(0, tensor(rows, { dtype: 'int64' }));
          const o = dpoLoss(
            {
              policyChosen: seqSum(
                cur.perToken,
                pairs.map((p) => p[0]),
              ),
              policyRejected: seqSum(
                cur.perToken,
                pairs.map((p) => p[1]),
              ),
              refChosen: seqSum(
                refLp!,
                pairs.map((p) => p[0]),
              ),
              refRejected: seqSum(
                refLp!,
                pairs.map((p) => p[1]),
              ),
            },
            { beta: cfg.beta, lossType: ['sigmoid'] },
          );
          o.loss.backward();
          return o.metrics;
        });
        const gn = cfg.max_grad_norm > 0 ? clipGradNorm(params, cfg.max_grad_norm) : NaN;
        if (!Number.isFinite(out.loss) || (cfg.max_grad_norm > 0 && !Number.isFinite(gn)))
          throw new Error(
            `pacer: non-finite loss or gradient (${out.loss}, ${gn}) at step ${step + 1}; lower learning_rate`,
          );
        Object.assign(metrics, out);
        if (Number.isFinite(gn)) metrics.grad_norm = gn;
        opt.step();
      }
    });
    timing.training += performance.now() - t0;
    const lr = opt.lr;
    sched.step();
    step++;
    sampler.update(
      idx.map((i, g) => ({
        index: i,
        rewardMean: groupStats[g].m,
        rewardVar: groupStats[g].v,
        meanAbsAdvantage: groupStats[g].absAdv,
        passRate: groupStats[g].pass,
      })),
    );
    const meanR = rew.reduce((a, b) => a + b, 0) / rew.length;
    const rec: Record<string, number> = {
      step,
      learning_rate: lr,
      ...metrics,
      reward: meanR,
      reward_std: Math.sqrt(rew.reduce((a, b) => a + (b - meanR) ** 2, 0) / Math.max(1, rew.length - 1)),
      frac_reward_zero_std: groupStats.filter((g) => g.v === 0).length / nGroups,
      'completions/mean_length': rs.reduce((a, r) => a + r.completion.length, 0) / rs.length,
      'completions/clipped_ratio': rs.filter((r) => r.truncated).length / rs.length,
      ...rewardMetrics,
      ...sampler.metrics(),
      ...(augment ? augment.metrics() : {}),
      'timing/generation_s': timing.generation / 1000,
      'timing/scoring_s': timing.scoring / 1000,
      'timing/training_s': timing.training / 1000,
    };
    const evalNow = opts.evaluate && ((cfg.eval_steps && step % cfg.eval_steps === 0) || step === totalSteps);
    if (evalNow) {
      model.eval();
      for (const [k, v] of Object.entries(opts.evaluate!(model, step))) rec[`eval_${k}`] = v;
      model.train();
    }
    if (step % cfg.logging_steps === 0 || step === totalSteps || evalNow) {
      history.push(rec);
      appendFileSync(metricsFile, JSON.stringify(rec) + '\n');
    }
    if (step % cfg.save_steps === 0 && step < totalSteps)
      writeCheckpoint(
        cfg.output_dir,
        step,
        model,
        opt,
        sched,
        { sampler: sampler.state(), trainer: cfg.trainer, ...(augment ? { augment: augment.state() } : {}) },
        cfg.save_total_limit,
      );
    bar.update(step, `reward ${meanR.toFixed(3)}`);
  }
  savePretrained(loaded, cfg.output_dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    if (existsSync(join(cfg.model_name_or_path, f)))
      copyFileSync(join(cfg.model_name_or_path, f), join(cfg.output_dir, f));
  const last = history[history.length - 1] ?? {};
  const summary = { trainer: cfg.trainer, global_step: step, final_reward: last.reward };
  atomicWrite(join(cfg.output_dir, 'train_results.json'), (fd) =>
    writeSync(fd, JSON.stringify(summary, null, 2) + '\n'),
  );
  if (cfg.report) {
    const plots = plotsFromMetrics(history, [
      { title: 'Reward', keys: ['reward', 'reward_std'] },
      { title: 'Loss', keys: ['loss'] },
      { title: 'KL', keys: ['kl'] },
      { title: 'Clipping', keys: ['clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean'] },
      { title: 'Completion length', keys: ['completions/mean_length'] },
      { title: 'Groups with zero reward std', keys: ['frac_reward_zero_std'] },
    ]);
    atomicWrite(join(cfg.output_dir, 'report.html'), (fd) =>
      writeSync(
        fd,
        renderReport({
          title: `pacer ${cfg.trainer} — ${cfg.output_dir}`,
          summary,
          config: Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('_'))),
          plots,
        }),
      ),
    );
  }
  ref?.dispose();
  opt.dispose();
  return { globalStep: step, history, outputDir: cfg.output_dir, finalMetrics: last, evalMetrics: null };
}
