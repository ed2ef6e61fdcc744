// Online RL (grpo, rloo, reg_grpo, raft, online_dpo, ppo) as a family of the shared loop. Each step runs
// named phases, as TRL's GRPOTrainer names _generate, _calculate_rewards and _compute_loss:
//   sample      the curriculum sampler picks prompts (P per micro-batch × gradient_accumulation_steps;
//               DeepVideo-R1 augmentation may rewrite them; VideoTG-R1's masking curriculum blanks
//               frames of hard video rows, video-mask.ts)
//   generate    num_generations completions per prompt (local KV cache, or an OpenAI-compatible
//               rollout server kept on-policy by weight sync)
//   score       the rewards (timeouts and failures handled, never fatal); dynamic sampling refills
//               groups whose rewards are all equal
//   advantages  the method's (group, RLOO, …), over the whole step's batch
//   loss        π_old (when rollouts are reused) and π_ref log-probs, then num_iterations updates,
//               each accumulating the micro-batches' gradients (online-methods.ts); every forward runs
//               a group's prompt (its images/videos included) once and its G completions on the
//               prompt's keys and values (shared-prompt.ts)
//   feedback    per-prompt reward mean/variance, |advantage| and pass rate go to the sampler (also of the
//               groups dynamic sampling dropped, with zero advantage)
//   parallel    the sampler draws the global batch (world_size × P prompts per micro-batch) on every
//               rank alike; each rank generates and scores a contiguous share of the groups (every
//               completion has its own seed, so who generates it does not matter), the rollouts and
//               rewards are gathered, and advantages, feedback and curriculum are computed on the
//               whole batch everywhere; each rank then trains on its share of every micro-batch
// Metrics use TRL's names (reward, reward_std, kl, clip_ratio/…, completions/mean_length,
// frac_reward_zero_std (and frac_reward_zero_std/<difficulty> per value of difficulty_column), entropy,
// rewards/<name>/mean) plus tokens/trained (the prompt and completion tokens of the rollouts trained on
// so far) plus curriculum/…, augment/…, mask/{fraction,frames}, timing/{generation,scoring,training}_s
// and tokens/generated: every completion token sampled so far, groups that dynamic sampling dropped
// included — the rollout compute, which a curriculum that skips groups saves (counts resume exactly);
// dynamic_sampling/dropped_groups: the groups it dropped and refilled this step.
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Module, noGrad, scope, tensor, type Tensor } from '../engine/index.js';
import { generate, type PromptMedia } from '../models/generate.js';
import { labelLogps } from '../models/scoring.js';
import type { CausalLM } from '../models/types.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { loadDataset, type Example } from '../data/datasets.js';
import { located } from '../data/jsonl.js';
import { collate, completionSeq, renderPrompt } from '../data/tokenize.js';
import { rowPixels, type RowVision } from '../data/media.js';
import { DataError } from '../util/errors.js';
import { routeRewards, rewardsFromSpec, runRewards, taskProblem, type NamedReward } from '../rewards/index.js';
import { makeSampler, type CurriculumItem, type Sampler } from '../curriculum/online.js';
import { DifficultyAugmenter, type Perturb, type PromptValue } from '../curriculum/augment.js';
import { OpenAICompatClient } from '../clients/openai.js';
import { postJsonWithRetry } from '../clients/http.js';
import { makeOnlineMethod, withCritic, type OnlineMethod } from './online-methods.js';
import type { Policy, Reference } from './policy.js';
import type { LoopOptions, TrainerFamily, TrainerRun, Update } from './loop.js';
import { combine, type World } from './parallel.js';
import type { OnlineConfig } from './config.js';
import { forwardBatch, prepareVision } from './vision.js';
import { planLayout, sharedLogits, sharedPlan, type SharedPlan } from './shared-prompt.js';
import { maskPlan, maskSpans, maskVision, type MaskPlan } from './video-mask.js';
import { maskSchedule, type Span } from '../curriculum/videotg.js';

export interface OnlineOptions extends LoopOptions {
  /** Called every eval_steps (and at the end) with the policy; its numbers are logged as eval_<name>. */
  evaluate?: (model: CausalLM, step: number) => Record<string, number>;
  /** The perturbation for easy items under augmentation: difficulty_aware (default: character masking). */
  perturb?: Perturb;
}

interface Rollout {
  prompt: number[];
  completion: number[];
  text: string;
  truncated: boolean;
  serverLogprobs?: number[];
  /** The prompt's images/videos (shared by the group's rollouts). */
  vision?: RowVision;
}

/** A prompt as it is rolled out: its value (for rewards), ids, and vision. */
interface Chosen {
  value: Example['prompt'];
  ids: number[];
  vision?: RowVision;
}

/** Per-prompt media for generate(): one PromptMedia object per distinct vision (encoded once by generate). */
function promptMedia(vs: Array<RowVision | undefined>): Array<PromptMedia | null> | undefined {
  if (!vs.some((v) => v)) return undefined;
  const made = new Map<RowVision, PromptMedia>();
  return vs.map((v) => {
    if (!v) return null;
    if (!made.has(v)) made.set(v, rowPixels(v)!);
    return made.get(v)!;
  });
}

interface PromptSet {
  examples: Example[];
  /** Rendered prompt ids, one per example. */
  ids: number[][];
}

interface OnlineData {
  train: PromptSet;
  evalSet: PromptSet | null;
  pad: number;
}

/** A step's kept groups: item indices, their rollouts (G each) and rewards. */
interface Collected {
  idx: number[];
  rollouts: Rollout[];
  rewards: number[];
  rewardMetrics: Record<string, number>;
  /** Groups dynamic sampling dropped (all rewards equal): not trained on, but the sampler hears of them. */
  dropped: Array<{ index: number; rewards: number[] }>;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** Reward metrics that count (summed over ranks); the others are means. */
const COUNTS = new Set(['rewards/errors']);

/** The sampling seed of one completion: a hash of the step's seed and the completion's place in the batch. */
function rowSeed(seed: number, row: number): number {
  return createHash('sha256').update(`${seed}:${row}`).digest().readUIntBE(0, 6);
}

/** The rewards for every row (reward_funcs) and each task's own (reward_routes). */
function onlineRewards(cfg: OnlineConfig): NamedReward[] {
  const shared = cfg.reward_funcs.length
    ? rewardsFromSpec(cfg.reward_funcs.join(','), cfg.reward_weights ?? undefined)
    : [];
  if (!cfg.reward_routes) return shared;
  const routes = Object.fromEntries(
    Object.entries(cfg.reward_routes).map(([task, specs]) => {
      const named = rewardsFromSpec(Object.keys(specs).join(','), Object.values(specs));
      return [task, named];
    }),
  );
  return [...shared, ...routeRewards(routes, cfg.reward_task_column)];
}

/** Every row's task names a route (reward_routes), else an error at its line. */
function checkTasks(examples: Example[], cfg: OnlineConfig): void {
  if (!cfg.reward_routes) return;
  const col = cfg.reward_task_column;
  for (const e of examples) {
    const why = taskProblem(e.extra[col], Object.keys(cfg.reward_routes), col);
    if (why) throw new DataError(`pacer: ${e.where}: ${why}`, located(e.where, col));
  }
}

async function promptSet(file: string, tok: Tokenizer, cfg: OnlineConfig): Promise<PromptSet> {
  const maxPromptLength = cfg.max_prompt_length;
  const examples = await loadDataset(file, { maxLineBytes: cfg.max_line_bytes });
  await prepareVision(examples, cfg, file);
  const fmt = examples[0].format;
  if (fmt !== 'prompt_only' && fmt !== 'prompt_completion')
    throw new DataError(
      `pacer: ${examples[0].where}: online trainers need prompt-only data ({"prompt", …columns}), this dataset is ` +
        `${fmt}`,
      {
        file,
      },
    );
  checkTasks(examples, cfg);
  const ids = examples.map((e) =>
    renderPrompt(tok, e.prompt!, undefined, e.vision ? { rv: e.vision, where: e.where } : undefined),
  );
  ids.forEach((p, i) => {
    if (maxPromptLength && p.length > maxPromptLength)
      throw new DataError(
        `pacer: ${examples[i].where}: the prompt is ${p.length} tokens, over max_prompt_length ${maxPromptLength}`,
        located(examples[i].where, 'prompt'),
      );
  });
  return { examples, ids };
}

export function onlineFamily(cfg: OnlineConfig, opts: OnlineOptions = {}): TrainerFamily<OnlineData> {
  return {
    async prepare(tok) {
      const train = await promptSet(cfg.train_dataset, tok, cfg);
      const evalSet = cfg.eval_dataset ? await promptSet(cfg.eval_dataset, tok, cfg) : null;
      return { train, evalSet, pad: tok.padTokenId ?? tok.eosTokenId ?? 0 };
    },
    start: (data, policy, tok, world) => new OnlineRun(cfg, data, policy, tok, world, opts),
  };
}

class OnlineRun implements TrainerRun {
  readonly trainable: Module;
  readonly totalSteps: number;
  readonly canEvaluate: boolean;
  readonly plots = [
    { title: 'Reward', keys: ['reward', 'reward_std', 'eval_reward'] },
    { title: 'Loss', keys: ['loss'] },
    { title: 'KL', keys: ['kl'] },
    { title: 'Clipping', keys: ['clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean'] },
    { title: 'Completion length', keys: ['completions/mean_length'] },
    { title: 'Groups with zero reward std', keys: ['frac_reward_zero_std'] },
  ];
  private readonly G: number;
  /** Prompts per micro-batch. */
  private readonly P: number;
  private readonly method: OnlineMethod;
  private readonly rewards: NamedReward[];
  private readonly sampler: Sampler;
  private readonly augment: DifficultyAugmenter | null;
  private readonly ref: Reference | null;
  private readonly remote: OpenAICompatClient | null;
  private syncedAt = -1;
  /** Cumulative token counts: completions sampled, and prompt + completion tokens trained on. */
  private tokens = { generated: 0, trained: 0 };
  /** Each prompt's difficulty value (a number or a label such as hard), for per-difficulty metrics. */
  private readonly strata: Array<string | number | undefined>;
  /** The masking curriculum (mask_curriculum) and each row's span where it acts. */
  private readonly mask: { plan: MaskPlan; spans: Array<Span | null> } | null;
  /** Frames blanked in the current step's prompts. */
  private maskedFrames = 0;
  /** Rows with vision: the vision pad tokens are never sampled (a generated pad has no image or video to fill it). */
  private readonly padBias: Record<number, number> | undefined;

  constructor(
    private readonly cfg: OnlineConfig,
    private readonly data: OnlineData,
    private readonly policy: Policy,
    private readonly tok: Tokenizer,
    private readonly world: World,
    private readonly opts: OnlineOptions,
  ) {
    const ex = data.train.examples;
    this.G = cfg.num_generations;
    this.P = cfg.per_device_train_batch_size / this.G;
    this.method = makeOnlineMethod(cfg);
    this.trainable = this.method.critic ? withCritic(policy.model, this.method.critic) : policy.model;
    this.rewards = onlineRewards(cfg);
    const items: CurriculumItem[] = ex.map((e, i) => ({
      index: i,
      difficulty:
        typeof e.extra[cfg.difficulty_column] === 'number' ? (e.extra[cfg.difficulty_column] as number) : undefined,
      category: cfg.category_column
        ? (e.extra[cfg.category_column] as string)
        : (e.extra[cfg.difficulty_column] as number | undefined),
    }));
    this.sampler = makeSampler(cfg.curriculum_sampler, items, cfg.seed, cfg.curriculum_options ?? {});
    this.strata = ex.map((e) => {
      const v = e.extra[cfg.difficulty_column];
      return typeof v === 'number' || typeof v === 'string' ? v : undefined;
    });
    const pads = ex.find((e) => e.vision)?.vision?.padIds ?? [];
    this.padBias = pads.length ? Object.fromEntries(pads.map((id) => [id, -1e9])) : undefined;
    const plan = maskPlan(cfg);
    this.mask = plan ? { plan, spans: maskSpans(ex, plan) } : null;
    this.augment = cfg.augmentation
      ? new DifficultyAugmenter(cfg.augmentation_options ?? {}, cfg.seed, opts.perturb)
      : null;
    const refPath = 'ref_model_name_or_path' in cfg ? cfg.ref_model_name_or_path : null;
    this.ref = this.method.usesReference ? policy.reference(refPath, cfg.dtype, true) : null;
    this.remote = cfg.rollout_server_url
      ? new OpenAICompatClient(cfg.rollout_server_url, {
          apiKey: process.env[cfg.rollout_server_token_env],
          model: cfg.rollout_server_model ?? undefined,
          timeoutMs: cfg.rollout_server_timeout * 1000,
          retries: 3,
        })
      : null;
    const perStep = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps * world.size;
    this.totalSteps =
      cfg.max_steps > 0 ? cfg.max_steps : Math.ceil((cfg.num_train_epochs * ex.length * this.G) / perStep);
    this.canEvaluate = !!data.evalSet || !!opts.evaluate;
  }

  async step(step: number, update: Update): Promise<Record<string, number>> {
    const timing = { generation: 0, scoring: 0, training: 0 };
    this.maskedFrames = 0;
    const got = await this.collect(step, timing);
    const t0 = performance.now();
    const { idx, rollouts: rs, rewards: rew } = got;
    const adv = this.method.advantages(rew, this.G);
    const groups = idx.map((index, g) =>
      groupStats(
        index,
        rew.slice(g * this.G, (g + 1) * this.G),
        adv.slice(g * this.G, (g + 1) * this.G),
        this.cfg.pass_threshold,
      ),
    );
    const metrics = await this.optimize(rs, rew, adv, update);
    timing.training += performance.now() - t0;
    this.tokens.trained += sum(rs.map((r) => r.prompt.length + r.completion.length));
    if (this.cfg.log_completions && this.world.isMain) this.logCompletions(step + 1, idx, rs, rew, adv);
    // the curriculum hears of every group it drew, also those dynamic sampling dropped (zero advantage):
    // otherwise pass-rate and variance samplers never learn which items are all-fail or all-pass
    const zeros = new Array<number>(this.G).fill(0);
    const dropped = got.dropped.map((d) => groupStats(d.index, d.rewards, zeros, this.cfg.pass_threshold));
    this.sampler.update([...dropped, ...groups]);
    const meanR = sum(rew) / rew.length;
    return {
      ...metrics,
      reward: meanR,
      reward_std: Math.sqrt(sum(rew.map((r) => (r - meanR) ** 2)) / Math.max(1, rew.length - 1)),
      frac_reward_zero_std: groups.filter((g) => g.rewardVar === 0).length / groups.length,
      ...(this.cfg.dynamic_sampling ? { 'dynamic_sampling/dropped_groups': dropped.length } : {}),
      ...zeroStdByDifficulty(groups, this.strata),
      'completions/mean_length': sum(rs.map((r) => r.completion.length)) / rs.length,
      'completions/clipped_ratio': rs.filter((r) => r.truncated).length / rs.length,
      'tokens/trained': this.tokens.trained,
      'tokens/generated': this.tokens.generated,
      ...got.rewardMetrics,
      ...this.sampler.metrics(),
      ...(this.augment ? this.augment.metrics() : {}),
      ...this.maskMetrics(step),
      'timing/generation_s': timing.generation / 1000,
      'timing/scoring_s': timing.scoring / 1000,
      'timing/training_s': timing.training / 1000,
    };
  }

  // ---- sample → generate → score (dynamic sampling refills zero-variance groups, a few tries)
  private async collect(step: number, timing: { generation: number; scoring: number }): Promise<Collected> {
    const G = this.G;
    // every attempt keeps all its groups but those dynamic sampling refills, the last keeps all: the
    // step always has `want` groups, a multiple of world_size × P, so every rank's share is equal
    const want = this.P * this.world.size * this.cfg.gradient_accumulation_steps;
    const out: Collected = { idx: [], rollouts: [], rewards: [], rewardMetrics: {}, dropped: [] };
    for (let attempt = 0; attempt < (this.cfg.dynamic_sampling ? 4 : 1) && out.idx.length < want; attempt++) {
      let t0 = performance.now();
      const cand = this.sampler.next(want - out.idx.length);
      const chosen = this.promptsFor(cand, step);
      const [lo, hi] = this.world.range(cand.length);
      const seed = this.cfg.seed * 100003 + step * 31 + attempt;
      const mine = await this.generate(chosen.slice(lo, hi), seed, step, lo);
      timing.generation += performance.now() - t0;
      t0 = performance.now();
      const scored = await this.score(cand.slice(lo, hi), chosen.slice(lo, hi), mine);
      const { got, r, metrics } = this.gatherRollouts(chosen, mine, scored);
      this.tokens.generated += sum(got.map((x) => x.completion.length)); // every rank's completions
      Object.assign(out.rewardMetrics, metrics);
      timing.scoring += performance.now() - t0;
      this.augment?.update(
        cand.map((i, g) => ({
          index: i,
          completions: got.slice(g * G, (g + 1) * G).map((x) => x.text),
          rewards: r.slice(g * G, (g + 1) * G),
        })),
      );
      for (let g = 0; g < cand.length; g++) {
        const grp = r.slice(g * G, (g + 1) * G);
        if (this.cfg.dynamic_sampling && grp.every((x) => x === grp[0]) && attempt < 3) {
          out.dropped.push({ index: cand[g], rewards: grp });
          continue;
        }
        out.idx.push(cand[g]);
        out.rollouts.push(...got.slice(g * G, (g + 1) * G));
        out.rewards.push(...grp);
      }
    }
    return out;
  }

  /** Every rank's rollouts and rewards, in batch order (the prompts are known to all ranks). */
  private gatherRollouts(
    chosen: Chosen[],
    mine: Rollout[],
    scored: { rewards: number[]; metrics: Record<string, number> },
  ): { got: Rollout[]; r: number[]; metrics: Record<string, number> } {
    if (this.world.size === 1) return { got: mine, r: scored.rewards, metrics: scored.metrics };
    const parts = this.world.gather({
      rollouts: mine.map(({ prompt: _, vision: _v, ...rest }) => rest), // (each rank knows the prompts)
      rewards: scored.rewards,
      metrics: scored.metrics,
    });
    const got = parts
      .flatMap((p) => p.rollouts)
      .map((x, k) => ({
        ...x,
        prompt: chosen[Math.floor(k / this.G)].ids,
        vision: chosen[Math.floor(k / this.G)].vision,
      }));
    const metrics = combine(
      parts.map((p) => ({ weight: p.rewards.length / got.length, metrics: p.metrics })),
      COUNTS,
    );
    return { got, r: parts.flatMap((p) => p.rewards), metrics };
  }

  /** The prompt each chosen item is rolled out with (augmented when the hook is on; its video masked on hard rows). */
  private promptsFor(idx: number[], step: number): Chosen[] {
    const { examples, ids } = this.data.train;
    return idx.map((i) => {
      const { where } = examples[i];
      const vision = this.maskedVision(i, step);
      if (!this.augment) return { value: examples[i].prompt!, ids: ids[i], vision };
      const value = this.augment.apply(i, examples[i].prompt as PromptValue) as Example['prompt'];
      if (value === examples[i].prompt) return { value: value!, ids: ids[i], vision };
      return { value: value!, ids: renderPrompt(this.tok, value!, undefined, vision && { rv: vision, where }), vision };
    });
  }

  /** Row i's vision at this step: blanked by the masking curriculum where it acts (one copy per group). */
  private maskedVision(i: number, step: number): RowVision | undefined {
    const rv = this.data.train.examples[i].vision;
    const span = this.mask?.spans[i];
    if (!rv || !this.mask || !span) return rv;
    const { vision, blanked } = maskVision(rv, span, i, step, this.totalSteps, this.mask.plan);
    this.maskedFrames += sum(blanked.map((b) => b.length));
    return vision;
  }

  private maskMetrics(step: number): Record<string, number> {
    if (!this.mask) return {};
    const m = maskSchedule(step, this.totalSteps, this.mask.plan);
    return { 'mask/fraction': m, 'mask/frames': this.maskedFrames };
  }

  /** G completions of each chosen prompt; `first` is the first prompt's place in the step's batch. */
  private async generate(chosen: Chosen[], seed: number, step: number, first: number): Promise<Rollout[]> {
    if (this.remote) {
      await this.syncWeights(step);
      return this.remoteRollout(chosen, seed);
    }
    const batch = chosen.flatMap((c) => Array.from({ length: this.G }, () => c.ids));
    const rowSeeds = batch.map((_, k) => rowSeed(seed, first * this.G + k));
    const visions = chosen.flatMap((c) => Array.from({ length: this.G }, () => c.vision));
    const cfg = this.cfg;
    const res = noGrad(() =>
      scope(() =>
        generate(
          this.policy.model,
          batch,
          {
            maxNewTokens: cfg.max_completion_length,
            temperature: cfg.temperature,
            topP: cfg.top_p < 1 ? cfg.top_p : undefined,
            topK: cfg.top_k ?? undefined,
            doSample: true,
            rowSeeds,
            media: promptMedia(visions),
            logitBias: this.padBias,
          },
          this.tok,
        ),
      ),
    );
    return res.map((r, k) => ({
      prompt: batch[k],
      completion: r.tokens,
      text: r.text ?? '',
      truncated: r.finishReason === 'length',
      vision: visions[k],
    }));
  }

  // Remote rollouts: an OpenAI-compatible server samples the completions (vLLM, SGLang, pacer serve
  // model). With rollout_sync_weights the policy (adapters merged) is written to disk and the server
  // told to reload it (SGLang's POST /update_weights_from_disk) before each step's rollouts, so they
  // stay on-policy. π_old log-probs are always recomputed locally; the server's own log-probs are
  // compared with them and logged as rollout/logprob_abs_diff.
  private async syncWeights(step: number): Promise<void> {
    const cfg = this.cfg;
    if (!cfg.rollout_sync_weights || this.syncedAt === step) return;
    // rank 0 writes the weights and tells the server; every rank waits until the server has them
    if (this.world.isMain) await this.pushWeights();
    this.world.barrier();
    this.syncedAt = step;
  }

  private async pushWeights(): Promise<void> {
    const cfg = this.cfg;
    const dir = resolve(cfg.output_dir, '.rollout-weights');
    this.policy.saveMerged(dir);
    const url = `${cfg.rollout_server_url!.replace(/\/$/, '')}/update_weights_from_disk`;
    const o = {
      token: process.env[cfg.rollout_server_token_env],
      timeoutMs: cfg.rollout_server_timeout * 1000,
      retries: 3,
    };
    const j = await postJsonWithRetry(url, { model_path: dir }, o, 'rollout server');
    if (j && j.success === false)
      throw new Error(
        `pacer: rollout server ${cfg.rollout_server_url} could not load the weights: ${j.message ?? 'no message'}`,
      );
  }

  private async remoteRollout(chosen: Chosen[], seed: number): Promise<Rollout[]> {
    const texts = chosen.map((c) => {
      if (c.vision)
        throw new Error('pacer: remote rollouts take text prompts; rows with images or videos roll out locally');
      if (typeof c.value !== 'string')
        throw new Error(
          'pacer: remote rollouts take text prompts (conversational prompts: render them with the chat template first)',
        );
      return c.value;
    });
    const cfg = this.cfg;
    const res = await this.remote!.complete(texts, {
      maxTokens: cfg.max_completion_length,
      temperature: cfg.temperature,
      topP: cfg.top_p < 1 ? cfg.top_p : undefined,
      topK: cfg.top_k ?? undefined,
      n: this.G,
      seed,
      tokenIds: true,
    });
    const eos = this.tok.eosTokenId;
    return res.flatMap((group, i) =>
      group.map((c) => {
        // token ids as the server sampled them (vLLM's return_tokens_as_token_ids), else re-tokenized text
        const ids = c.tokenIds ?? [
          ...this.tok.encode(c.text),
          ...(c.finishReason === 'stop' && eos !== null ? [eos] : []),
        ];
        return {
          prompt: chosen[i].ids,
          completion: ids,
          text: c.text,
          truncated: c.finishReason === 'length',
          serverLogprobs: c.logprobs,
        };
      }),
    );
  }

  private async score(
    cand: number[],
    chosen: Array<{ value: Example['prompt'] }>,
    got: Rollout[],
  ): Promise<{ rewards: number[]; metrics: Record<string, number> }> {
    if (got.length === 0) return { rewards: [], metrics: {} };
    const G = this.G;
    const ex = this.data.train.examples;
    const columns = Object.fromEntries(
      Object.keys(ex[0].extra).map((col) => [col, got.map((_, k) => ex[cand[Math.floor(k / G)]].extra[col])]),
    );
    const rep = await runRewards(
      this.rewards,
      {
        prompts: got.map((_, k) => chosen[Math.floor(k / G)].value!),
        completions: got.map((r) => r.text),
        completionIds: got.map((r) => r.completion),
        columns,
      },
      { timeoutMs: this.cfg.reward_timeout * 1000, onError: this.cfg.reward_on_error, log: this.opts.log },
    );
    return { rewards: rep.rewards.map((x) => x ?? 0), metrics: rep.metrics };
  }

  // ---- loss: π_old / π_ref log-probs, then num_iterations updates over the micro-batches
  private async optimize(rs: Rollout[], rew: number[], adv: number[], update: Update): Promise<Record<string, number>> {
    const micros = this.myMicroBatches(rs.length).map(([a, b]) => ({
      rows: rs.slice(a, b),
      rewards: rew.slice(a, b),
      advantages: adv.slice(a, b),
    }));
    return scope(async () => {
      const prepared = micros.map((m) => ({ ...m, ...this.prepareMicro(m.rows), extra: undefined as Extra }));
      // dapo divides by the step's completion tokens; the ranks' gradients are averaged, so each rank
      // divides by the mean over ranks (as transformers does with average_tokens_across_devices)
      const tokens = this.world.sum([sum(prepared.map((p) => p.tokens))])[0] / this.world.size;
      const pre = this.method.beforeUpdates?.(
        prepared.map((p) => ({ ...p, truncated: p.rows.map((r) => r.truncated) })),
      );
      pre?.extra.forEach((e, i) => (prepared[i].extra = e));
      let metrics: Record<string, number> = {};
      for (let it = 0; it < this.method.passes; it++) {
        metrics = await update(() => {
          const ms = prepared.map((p) => ({
            weight: 1,
            metrics: scope(() => this.microLoss(p, tokens, prepared.length, it === 0)),
          }));
          return this.world.combineMetrics(ms);
        });
      }
      return { ...metrics, ...(pre?.metrics ?? {}) };
    });
  }

  /** [start, end) rows of this rank's share of each micro-batch (P × world_size whole groups each). */
  private myMicroBatches(rows: number): Array<[number, number]> {
    const per = this.P * this.G * this.world.size;
    return Array.from({ length: Math.ceil(rows / per) }, (_, j) => {
      const [lo, hi] = this.world.range(Math.min(per, rows - j * per) / this.G);
      return [j * per + lo * this.G, j * per + hi * this.G];
    });
  }

  /**
   * A micro-batch's collated rollouts, mask, and π_old / π_ref log-probs (no gradients); the plan of the
   * shared-prompt forward when rows share a prompt (a group's G rollouts: the prompt runs once).
   */
  private prepareMicro(rows: Rollout[]) {
    const pad = this.data.pad;
    const scored = rows.map((r) => ({ ...r, completion: r.completion.length ? r.completion : [pad] }));
    const batch = collate(
      scored.map((r) => completionSeq(r.prompt, r.completion, r.vision)),
      pad,
    );
    const plan = sharedPlan(scored, pad);
    let mask = batch.labels.ne(-100).float();
    if (this.cfg.mask_truncated_completions)
      mask = mask.mul(tensor(rows.map((r) => (r.truncated ? 0 : 1))).unsqueeze(1));
    const old = this.method.usesOld ? noGrad(() => this.tokenLogps(this.policy.model, batch, plan).perToken) : null;
    const ref = this.ref ? noGrad(() => this.ref!.run((m) => this.tokenLogps(m, batch, plan).perToken)) : null;
    return { batch, plan, mask, old, ref, tokens: mask.sum().item() };
  }

  /**
   * Per-token log-probs of the completions [N, T] at the sampling temperature (as TRL computes them), from
   * the shared-prompt forward when there is a plan; the logits and labels in the forward's own layout, and
   * `layout` to bring per-token values of that layout to the batch's.
   */
  private tokenLogps(m: CausalLM, b: ReturnType<typeof collate>, plan: SharedPlan | null) {
    let logits = plan ? sharedLogits(m, plan) : forwardBatch(m, b);
    if (this.cfg.temperature !== 1) logits = logits.div(this.cfg.temperature);
    const labels = plan ? plan.labels : b.labels;
    const layout = (t: Tensor) => (plan ? planLayout(plan, t) : t);
    return { perToken: layout(labelLogps(logits, labels).perToken), logits, labels, layout };
  }

  private microLoss(
    p: ReturnType<OnlineRun['prepareMicro']> & {
      rows: Rollout[];
      rewards: number[];
      advantages: number[];
      extra: Extra;
    },
    tokens: number,
    micro: number,
    checkServer: boolean,
  ): Record<string, number> {
    const cur = this.tokenLogps(this.policy.model, p.batch, p.plan);
    const metrics: Record<string, number> = {};
    if (checkServer && p.rows[0]?.serverLogprobs)
      metrics['rollout/logprob_abs_diff'] = serverLogprobDiff(p.rows, cur.perToken);
    metrics.entropy = entropy(cur.layout, cur.logits, p.mask);
    const T = this.cfg.temperature;
    const o = this.method.loss({
      logps: cur.perToken,
      rawLogps: () => (T !== 1 ? cur.layout(labelLogps(cur.logits.mul(T), cur.labels).perToken) : cur.perToken),
      oldLogps: p.old ?? cur.perToken.detach(),
      refLogps: p.ref,
      mask: p.mask,
      rewards: p.rewards,
      advantages: p.advantages,
      tokens,
      micro,
      batch: p.batch,
      extra: p.extra,
    });
    if (!o) return { ...metrics, loss: 0 };
    o.loss.backward();
    return { ...metrics, ...o.metrics };
  }

  async evaluate(step: number): Promise<Record<string, number> | null> {
    const out: Record<string, number> = {};
    if (this.data.evalSet) Object.assign(out, await this.evalRewards(this.data.evalSet));
    // the callback runs on rank 0 (it may write files); its numbers reach every rank
    if (this.opts.evaluate)
      Object.assign(
        out,
        this.world.decide(() => this.opts.evaluate!(this.policy.model, step)),
      );
    return out;
  }

  /** eval_dataset: one greedy completion per prompt, scored by the training rewards (batch k on rank k mod W). */
  private async evalRewards(set: PromptSet): Promise<Record<string, number>> {
    const bs = this.cfg.per_device_eval_batch_size;
    const idx: number[] = [];
    const all: Array<{ text: string; ids: number[] }> = [];
    for (let s = bs * this.world.rank; s < set.ids.length; s += bs * this.world.size) {
      const res = noGrad(() =>
        scope(() =>
          generate(
            this.policy.model,
            set.ids.slice(s, s + bs),
            {
              maxNewTokens: this.cfg.max_completion_length,
              media: promptMedia(set.examples.slice(s, s + bs).map((e) => e.vision)),
              logitBias: this.padBias,
            },
            this.tok,
          ),
        ),
      );
      res.forEach((_, k) => idx.push(s + k));
      all.push(...res.map((r) => ({ text: r.text ?? '', ids: r.tokens })));
    }
    const ex = idx.map((i) => set.examples[i]);
    const columns = Object.fromEntries(
      Object.keys(set.examples[0].extra).map((col) => [col, ex.map((e) => e.extra[col])]),
    );
    const rep = ex.length
      ? await runRewards(
          this.rewards,
          {
            prompts: ex.map((e) => e.prompt!),
            completions: all.map((a) => a.text),
            completionIds: all.map((a) => a.ids),
            columns,
          },
          { timeoutMs: this.cfg.reward_timeout * 1000, onError: this.cfg.reward_on_error, log: this.opts.log },
        )
      : { rewards: [], metrics: {} };
    const parts = this.world.gather({
      r: rep.rewards.map((x) => x ?? 0),
      lengths: all.map((a) => a.ids.length),
      metrics: rep.metrics,
    });
    const r = parts.flatMap((p) => p.r);
    const lengths = parts.flatMap((p) => p.lengths);
    const metrics = combine(
      parts.filter((p) => p.r.length).map((p) => ({ weight: p.r.length / r.length, metrics: p.metrics })),
      COUNTS,
    );
    return { reward: sum(r) / r.length, ...metrics, 'completions/mean_length': sum(lengths) / lengths.length };
  }

  /** TRL's log_completions as a file: one {"step", "prompt", "completion", "reward", "advantage"} line each. */
  private logCompletions(step: number, idx: number[], rs: Rollout[], rew: number[], adv: number[]): void {
    const ex = this.data.train.examples;
    const lines = rs.map((r, k) => {
      const row = {
        step,
        prompt: ex[idx[Math.floor(k / this.G)]].prompt,
        completion: r.text,
        reward: rew[k],
        advantage: adv[k],
      };
      return `${JSON.stringify({ ...row, truncated: r.truncated })}\n`;
    });
    appendFileSync(join(this.cfg.output_dir, 'completions.jsonl'), lines.join(''));
  }

  state(): Record<string, unknown> {
    const augment = this.augment ? { augment: this.augment.state() } : {};
    return { sampler: this.sampler.state(), tokens: { ...this.tokens }, ...augment };
  }

  load(s: Record<string, any>): void {
    this.sampler.load(s.sampler);
    if (s.tokens) this.tokens = { ...s.tokens };
    if (this.augment && s.augment) this.augment.load(s.augment);
  }

  sharedState(): unknown {
    return this.state();
  }

  summary(history: Array<Record<string, number>>): Record<string, unknown> {
    const last = [...history].reverse().find((h) => 'reward' in h);
    return { final_reward: last?.reward, trained_tokens: this.tokens.trained, generated_tokens: this.tokens.generated };
  }

  dispose(): void {
    this.ref?.dispose();
    this.method.critic?.dispose?.();
  }
}

type Extra = Record<string, Tensor> | undefined;

/**
 * frac_reward_zero_std per value of the difficulty column over this step's groups (VideoTG-R1 watches
 * it on hard items): frac_reward_zero_std/<value>; rows without a value are left out.
 */
export function zeroStdByDifficulty(
  groups: ReadonlyArray<{ index: number; rewardVar: number }>,
  strata: ReadonlyArray<string | number | undefined>,
): Record<string, number> {
  const by = new Map<string, number[]>();
  for (const g of groups) {
    const k = strata[g.index];
    if (k === undefined) continue;
    by.set(String(k), [...(by.get(String(k)) ?? []), g.rewardVar === 0 ? 1 : 0]);
  }
  return Object.fromEntries([...by].map(([k, v]) => [`frac_reward_zero_std/${k}`, sum(v) / v.length]));
}

function groupStats(index: number, grp: number[], adv: number[], passThreshold: number) {
  const G = grp.length;
  const m = sum(grp) / G;
  return {
    index,
    rewardMean: m,
    rewardVar: sum(grp.map((b) => (b - m) ** 2)) / G,
    meanAbsAdvantage: sum(adv.map(Math.abs)) / G,
    passRate: grp.filter((x) => x >= passThreshold).length / G,
  };
}

/** Mean per-token entropy of the policy over the completion tokens (logits' per-token values `layout`ed to mask's). */
function entropy(layout: (t: Tensor) => Tensor, logits: Tensor, mask: Tensor): number {
  return noGrad(() => {
    const p = logits.to('float32').logSoftmax(-1);
    return layout(p.exp().mul(p).sum(-1).neg()).mul(mask).sum().item() / Math.max(1, mask.sum().item());
  });
}

/** Mean |server log-prob − policy log-prob| over the rollouts' completion tokens. */
function serverLogprobDiff(rows: Rollout[], perToken: Tensor): number {
  const lp = perToken.detach().toArray() as number[];
  const T = perToken.shape[1];
  let total = 0;
  let n = 0;
  rows.forEach((r, k) => {
    const off = r.prompt.length - 1;
    r.serverLogprobs!.forEach((v, j) => {
      if (off + j < T && Number.isFinite(v)) {
        total += Math.abs(v - lp[k * T + off + j]);
        n++;
      }
    });
  });
  return n ? total / n : 0;
}
