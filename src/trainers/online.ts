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
import { join } from 'node:path';
import { AdamW, LRScheduler, clipGradNorm, decayGroups, manualSeed, noGrad, scope, setThreads, tensor, atomicWrite, type Tensor } from '../engine/index.js';
import { fromPretrained, savePretrained } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { labelLogps } from '../models/scoring.js';
import type { CausalLM } from '../models/types.js';
import { Tokenizer } from '../tokenizers/index.js';
import { loadDataset, type Example } from '../data/datasets.js';
import { collate, completionSeq } from '../data/tokenize.js';
import { rewardsFromSpec, runRewards } from '../rewards/index.js';
import { groupAdvantages, rlooAdvantages, grpoLoss, regGrpoLoss, dpoLoss, sftLoss, type GRPOLossType } from '../objectives/index.js';
import { makeSampler, type CurriculumItem } from '../curriculum/online.js';
import { Progress } from '../cli/progress.js';
import { renderReport, plotsFromMetrics } from '../report/html.js';
import { latestCheckpoint, readCheckpoint, restoreMetrics, writeCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { TrainResult } from './trainer.js';

interface Rollout { prompt: number[]; completion: number[]; text: string; truncated: boolean }

function renderPrompt(tok: Tokenizer, e: Example): number[] {
  return Array.isArray(e.prompt) ? tok.encode(tok.applyChatTemplate(e.prompt, { addGenerationPrompt: true })) : tok.encode(e.prompt as string, { addSpecialTokens: true });
}

export interface OnlineOptions {
  progress?: boolean;
  log?: (s: string) => void;
  /** Called every eval_steps (and at the end) with the policy; its numbers are logged as eval_<name>. */
  evaluate?: (model: CausalLM, step: number) => Record<string, number>;
}

export async function trainOnline(cfg: TrainConfig, opts: OnlineOptions = {}): Promise<TrainResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  setThreads(cfg.threads ?? availableParallelism());
  manualSeed(cfg.seed);
  const tok = Tokenizer.fromPretrained(cfg.model_name_or_path);
  const examples = await loadDataset(cfg.train_dataset);
  if (examples[0].format !== 'prompt_only' && examples[0].format !== 'prompt_completion')
    throw new Error(`pacer: ${examples[0].where}: online trainers need prompt-only data ({"prompt", …columns}), this dataset is ${examples[0].format}`);
  const prompts = examples.map((e) => renderPrompt(tok, e));
  prompts.forEach((p, i) => { if (cfg.max_prompt_length && p.length > cfg.max_prompt_length) throw new Error(`pacer: ${examples[i].where}: the prompt is ${p.length} tokens, over max_prompt_length ${cfg.max_prompt_length}`); });
  const rewards = rewardsFromSpec(Array.isArray(cfg.reward_funcs) ? cfg.reward_funcs.join(',') : String(cfg.reward_funcs), cfg.reward_weights ?? undefined);
  const items: CurriculumItem[] = examples.map((e, i) => ({
    index: i,
    difficulty: typeof e.extra[cfg.difficulty_column] === 'number' ? (e.extra[cfg.difficulty_column] as number) : undefined,
    category: cfg.category_column ? (e.extra[cfg.category_column] as string) : (e.extra[cfg.difficulty_column] as number | undefined),
  }));
  const sampler = makeSampler(cfg.curriculum_sampler, items, cfg.seed, cfg.curriculum_options ?? {});
  mkdirSync(cfg.output_dir, { recursive: true });

  const loaded = fromPretrained(cfg.model_name_or_path, { dtype: cfg.dtype });
  const model = loaded.model;
  const ref: CausalLM | null = cfg.beta > 0 || cfg.trainer === 'online_dpo' ? fromPretrained(cfg.ref_model_name_or_path ?? cfg.model_name_or_path, { dtype: cfg.dtype }).model : null;
  const opt = new AdamW(decayGroups(model, cfg.weight_decay), { lr: cfg.learning_rate, betas: [cfg.adam_beta1, cfg.adam_beta2], eps: cfg.adam_epsilon });
  const totalSteps = cfg.max_steps > 0 ? cfg.max_steps : Math.ceil((cfg.num_train_epochs * examples.length * cfg.num_generations) / cfg.per_device_train_batch_size);
  const sched = new LRScheduler(opt, cfg.lr_scheduler_type, cfg.warmup_steps || Math.ceil(cfg.warmup_ratio * totalSteps), totalSteps);
  const params = opt.groups.flatMap((g) => g.params);
  const pad = tok.padTokenId ?? tok.eosTokenId ?? 0;
  const G = cfg.num_generations;
  const P = cfg.per_device_train_batch_size / G;
  const metricsFile = join(cfg.output_dir, 'metrics.jsonl');
  const history: Array<Record<string, number>> = [];
  let step = 0;
  const resumeFrom = cfg.resume_from_checkpoint === true ? latestCheckpoint(cfg.output_dir) : typeof cfg.resume_from_checkpoint === 'string' ? cfg.resume_from_checkpoint : null;
  if (resumeFrom) {
    const st = readCheckpoint(resumeFrom, model, opt, sched);
    sampler.load(st.sampler);
    step = st.global_step;
    history.push(...restoreMetrics(metricsFile, step));
    log(`pacer: resumed from ${resumeFrom} at step ${step}`);
  } else writeFileSync(metricsFile, '');

  const rollout = (idx: number[], seed: number): Rollout[] => {
    const batch = idx.flatMap((i) => Array.from({ length: G }, () => prompts[i]));
    const res = generate(model, batch, {
      maxNewTokens: cfg.max_completion_length, temperature: cfg.temperature, topP: cfg.top_p < 1 ? cfg.top_p : undefined, topK: cfg.top_k ?? undefined, doSample: true, seed,
    }, tok);
    return res.map((r, k) => ({ prompt: batch[k], completion: r.tokens, text: r.text ?? '', truncated: r.finishReason === 'length' }));
  };
  /** Per-token log-probs of completions [N, T] (temperature-scaled, as TRL) and the loss mask. */
  const tokenLogps = (m: CausalLM, rs: Rollout[]) => {
    const b = collate(rs.map((r) => completionSeq(r.prompt, r.completion.length ? r.completion : [pad])), pad);
    let logits = m.forward(b.ids, { attentionMask: b.attentionMask });
    if (cfg.temperature !== 1) logits = logits.div(cfg.temperature);
    const lp = labelLogps(logits, b.labels);
    return { perToken: lp.perToken, mask: lp.mask.float(), logits, labels: b.labels, ids: b.ids, attentionMask: b.attentionMask };
  };

  const bar = new Progress(totalSteps, cfg.trainer, opts.progress ?? true);
  model.train();
  while (step < totalSteps) {
    // ---- rollouts and rewards (dynamic sampling refills zero-variance groups, a few tries)
    let idx: number[] = [];
    let rs: Rollout[] = [];
    let rew: number[] = [];
    const timing = { generation: 0, scoring: 0, training: 0 };
    let t0 = performance.now();
    const rewardMetrics: Record<string, number> = {};
    for (let attempt = 0; attempt < (cfg.dynamic_sampling ? 4 : 1) && idx.length < P; attempt++) {
      const want = P - idx.length;
      const cand = sampler.next(want);
      const got = noGrad(() => scope(() => rollout(cand, cfg.seed * 100003 + step * 31 + attempt)));
      timing.generation += performance.now() - t0;
      t0 = performance.now();
      const rep = await runRewards(rewards, {
        prompts: got.map((_, k) => examples[cand[Math.floor(k / G)]].prompt!), completions: got.map((r) => r.text), completionIds: got.map((r) => r.completion),
        columns: Object.fromEntries(Object.keys(examples[0].extra).map((col) => [col, got.map((_, k) => examples[cand[Math.floor(k / G)]].extra[col])])),
      }, { timeoutMs: cfg.reward_timeout * 1000, onError: cfg.reward_on_error, log });
      Object.assign(rewardMetrics, rep.metrics);
      timing.scoring += performance.now() - t0;
      t0 = performance.now();
      const r = rep.rewards.map((x) => x ?? 0);
      for (let g = 0; g < cand.length; g++) {
        const grp = r.slice(g * G, (g + 1) * G);
        const zeroStd = grp.every((x) => x === grp[0]);
        if (cfg.dynamic_sampling && zeroStd && attempt < 3) continue;
        idx.push(cand[g]);
        rs.push(...got.slice(g * G, (g + 1) * G));
        rew.push(...grp);
      }
    }
    if (idx.length === 0) { step++; continue; }
    const nGroups = idx.length;
    const adv = cfg.trainer === 'rloo' ? rlooAdvantages(rew, G) : groupAdvantages(rew, G, cfg.scale_rewards);
    const groupStats = Array.from({ length: nGroups }, (_, g) => {
      const grp = rew.slice(g * G, (g + 1) * G);
      const m = grp.reduce((a, b) => a + b, 0) / G;
      return { m, v: grp.reduce((a, b) => a + (b - m) ** 2, 0) / G, absAdv: adv.slice(g * G, (g + 1) * G).reduce((a, b) => a + Math.abs(b), 0) / G, pass: grp.filter((x) => x >= cfg.pass_threshold).length / G };
    });

    // ---- π_old and π_ref, then num_iterations optimisation passes
    const metrics: Record<string, number> = {};
    scope(() => {
      const old = noGrad(() => tokenLogps(model, rs));
      const refLp = ref && cfg.trainer !== 'raft' ? noGrad(() => tokenLogps(ref, rs).perToken) : null;
      let mask = old.mask;
      if (cfg.mask_truncated_completions) mask = mask.mul(tensor(rs.map((r) => (r.truncated ? 0 : 1))).unsqueeze(1));
      for (let it = 0; it < cfg.num_iterations; it++) {
        opt.zeroGrad();
        const out = scope(() => {
          const cur = tokenLogps(model, rs);
          if (cfg.trainer === 'grpo' || cfg.trainer === 'rloo') {
            const o = grpoLoss({ logps: cur.perToken, oldLogps: old.perToken, refLogps: refLp, advantages: tensor(adv), mask }, {
              lossType: (cfg.trainer === 'rloo' ? 'grpo' : cfg.loss_type) as GRPOLossType, epsilon: cfg.epsilon, epsilonHigh: cfg.epsilon_high ?? undefined, beta: cfg.beta,
              importanceSampling: cfg.importance_sampling_level, maxCompletionLength: cfg.max_completion_length,
            });
            metrics.entropy = noGrad(() => { const p = cur.logits.to('float32').logSoftmax(-1); return p.exp().mul(p).sum(-1).neg().mul(mask).sum().item() / Math.max(1, mask.sum().item()); });
            o.loss.backward();
            return o.metrics;
          }
          if (cfg.trainer === 'reg_grpo') {
            const kl = refLp ? refLp.sub(cur.perToken).exp().sub(refLp.sub(cur.perToken)).sub(1).mul(mask).sum(1).div(mask.sum(1).clamp(1, null)) : null;
            const o = regGrpoLoss({ seqLogps: cur.perToken.mul(mask).sum(1), oldSeqLogps: old.perToken.mul(mask).sum(1), rewards: rew, groupSize: G, klPerSeq: kl }, { beta: cfg.beta });
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
            const b = collate(keepRows.map((k) => completionSeq(rs[k].prompt, rs[k].completion.length ? rs[k].completion : [pad])), pad);
            const o = sftLoss(model.forward(b.ids, { attentionMask: b.attentionMask }), b.labels);
            o.loss.backward();
            return o.metrics;
          }
          // online_dpo: in each group, the best completion (by reward) chosen, the worst rejected
          const pairs: Array<[number, number]> = [];
          for (let g = 0; g < nGroups; g++) {
            const rows = Array.from({ length: G }, (_, j) => g * G + j);
            const best = rows.reduce((a, b) => (rew[b] > rew[a] ? b : a)), worst = rows.reduce((a, b) => (rew[b] < rew[a] ? b : a));
            if (rew[best] > rew[worst]) pairs.push([best, worst]);
          }
          if (!pairs.length) return { loss: 0 };
          const seqSum = (t: Tensor, rows: number[]) => t.mul(mask).sum(1).indexSelect(0, tensor(rows, { dtype: 'int64' }));
          const o = dpoLoss({
            policyChosen: seqSum(cur.perToken, pairs.map((p) => p[0])), policyRejected: seqSum(cur.perToken, pairs.map((p) => p[1])),
            refChosen: seqSum(refLp!, pairs.map((p) => p[0])), refRejected: seqSum(refLp!, pairs.map((p) => p[1])),
          }, { beta: cfg.beta, lossType: ['sigmoid'] });
          o.loss.backward();
          return o.metrics;
        });
        const gn = cfg.max_grad_norm > 0 ? clipGradNorm(params, cfg.max_grad_norm) : NaN;
        if (!Number.isFinite(out.loss) || (cfg.max_grad_norm > 0 && !Number.isFinite(gn))) throw new Error(`pacer: non-finite loss or gradient (${out.loss}, ${gn}) at step ${step + 1}; lower learning_rate`);
        Object.assign(metrics, out);
        if (Number.isFinite(gn)) metrics.grad_norm = gn;
        opt.step();
      }
    });
    timing.training += performance.now() - t0;
    const lr = opt.lr;
    sched.step();
    step++;
    sampler.update(idx.map((i, g) => ({ index: i, rewardMean: groupStats[g].m, rewardVar: groupStats[g].v, meanAbsAdvantage: groupStats[g].absAdv, passRate: groupStats[g].pass })));
    const meanR = rew.reduce((a, b) => a + b, 0) / rew.length;
    const rec: Record<string, number> = {
      step, learning_rate: lr, ...metrics, reward: meanR,
      reward_std: Math.sqrt(rew.reduce((a, b) => a + (b - meanR) ** 2, 0) / Math.max(1, rew.length - 1)),
      frac_reward_zero_std: groupStats.filter((g) => g.v === 0).length / nGroups,
      'completions/mean_length': rs.reduce((a, r) => a + r.completion.length, 0) / rs.length,
      'completions/clipped_ratio': rs.filter((r) => r.truncated).length / rs.length,
      ...rewardMetrics, ...sampler.metrics(),
      'timing/generation_s': timing.generation / 1000, 'timing/scoring_s': timing.scoring / 1000, 'timing/training_s': timing.training / 1000,
    };
    const evalNow = opts.evaluate && ((cfg.eval_steps && step % cfg.eval_steps === 0) || step === totalSteps);
    if (evalNow) {
      model.eval();
      for (const [k, v] of Object.entries(opts.evaluate!(model, step))) rec[`eval_${k}`] = v;
      model.train();
    }
    if (step % cfg.logging_steps === 0 || step === totalSteps || evalNow) { history.push(rec); appendFileSync(metricsFile, JSON.stringify(rec) + '\n'); }
    if (step % cfg.save_steps === 0 && step < totalSteps) writeCheckpoint(cfg.output_dir, step, model, opt, sched, { sampler: sampler.state(), trainer: cfg.trainer }, cfg.save_total_limit);
    bar.update(step, `reward ${meanR.toFixed(3)}`);
  }
  savePretrained(loaded, cfg.output_dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) if (existsSync(join(cfg.model_name_or_path, f))) copyFileSync(join(cfg.model_name_or_path, f), join(cfg.output_dir, f));
  const last = history[history.length - 1] ?? {};
  const summary = { trainer: cfg.trainer, global_step: step, final_reward: last.reward };
  atomicWrite(join(cfg.output_dir, 'train_results.json'), (fd) => writeSync(fd, JSON.stringify(summary, null, 2) + '\n'));
  if (cfg.report) {
    const plots = plotsFromMetrics(history, [
      { title: 'Reward', keys: ['reward', 'reward_std'] }, { title: 'Loss', keys: ['loss'] }, { title: 'KL', keys: ['kl'] },
      { title: 'Clipping', keys: ['clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean'] },
      { title: 'Completion length', keys: ['completions/mean_length'] }, { title: 'Groups with zero reward std', keys: ['frac_reward_zero_std'] },
    ]);
    atomicWrite(join(cfg.output_dir, 'report.html'), (fd) => writeSync(fd, renderReport({ title: `pacer ${cfg.trainer} — ${cfg.output_dir}`, summary, config: Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('_'))), plots })));
  }
  ref?.dispose();
  opt.dispose();
  return { globalStep: step, history, outputDir: cfg.output_dir, finalMetrics: last, evalMetrics: null };
}
