// A scalar head on a causal LM, for reward and value models (HF's *ForSequenceClassification with
// num_labels = 1: a bias-free Linear named "score" on the final hidden state). The value of a
// sequence is read at its last non-padding token.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromPretrained } from './pretrained.js';
import { type Tensor, Module, Linear, arange, scope, noGrad, loadSafetensors } from '../engine/index.js';
import { batchShape, type CausalLM, type ModelInputs } from './types.js';

export class ScalarHeadModel extends Module {
  readonly score: Linear;
  constructor(readonly base: CausalLM) {
    super();
    this.child('base', base as unknown as Module);
    this.score = this.child('score', new Linear(base.hiddenSize, 1, { bias: false }));
    noGrad(() => this.score.weight.normal_(0, 1 / Math.sqrt(base.hiddenSize + 1)));
  }
  /** Scores at every position [B, T]. */
  scoresAll(x: ModelInputs): Tensor {
    return this.score.forward(this.base.hidden(x)).squeeze(-1);
  }
  /** One score per sequence [B], read at the last token whose attention mask is 1. */
  forward(x: ModelInputs): Tensor {
    const all = this.scoresAll(x);
    const [B, T] = batchShape(x);
    const attentionMask = x.attentionMask;
    const last = scope(() =>
      attentionMask
        ? arange(T).view(1, T).mul(attentionMask.ne(0).long()).argmax(1)
        : arange(B)
            .mul(0)
            .add(T - 1),
    );
    return all.gather(1, last.view(B, 1)).squeeze(1);
  }
}

/**
 * Load a reward model written by `pacer train` with trainer: reward (the LM in HF layout plus
 * score.safetensors holding the head).
 */
export function loadScalarHeadModel(dir: string): ScalarHeadModel {
  const head = join(dir, 'score.safetensors');
  if (!existsSync(head))
    throw new Error(`pacer: ${head} not found (a reward model folder from 'pacer train' with trainer: reward has it)`);
  const m = new ScalarHeadModel(fromPretrained(dir).model);
  scope(() => {
    const w = loadSafetensors(head).get('score.weight');
    if (!w || w.shape.join(',') !== m.score.weight.shape.join(','))
      throw new Error(`pacer: ${head}: expected 'score.weight' of shape [${m.score.weight.shape}]`);
    noGrad(() => m.score.weight.copy_(w));
  });
  m.eval();
  return m;
}
