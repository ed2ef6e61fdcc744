// LoRA (Hu et al. 2021, arXiv 2106.09685): a frozen Linear W plus a trainable low-rank update,
//   y = W x + (alpha / r) * B A dropout(x),   A [r, in] ~ kaiming-uniform(a=sqrt 5), B [out, r] = 0,
// so training starts from the base model. Adapters attach to Linear layers whose names end in one
// of target_modules; only adapter weights train. Merge folds (alpha/r) B A into W (and unmerge
// takes it out); disable() turns adapters off, which gives back the reference model. Saved and
// loaded in PEFT's layout: adapter_config.json + adapter_model.safetensors with keys
// "base_model.model.<module>.lora_A.weight".
import { existsSync, mkdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Tensor,
  Module,
  Linear,
  F,
  noGrad,
  scope,
  saveSafetensors,
  loadSafetensors,
  atomicWrite,
  type Generator,
} from '../engine/index.js';

export interface LoraConfig {
  r: number;
  lora_alpha: number;
  lora_dropout?: number;
  /** Module-name suffixes ("q_proj") or a regular expression source matched against the full name. */
  target_modules: string[] | string;
  /** GPT-2 Conv1D layers: PEFT records fan_in_fan_out: true for them. */
  fan_in_fan_out?: boolean;
}

class LoraPair extends Module {
  readonly lora_A: Linear;
  readonly lora_B: Linear;
  constructor(inF: number, outF: number, r: number, gen?: Generator) {
    super();
    this.lora_A = this.child('lora_A', new Linear(inF, r, { bias: false, generator: gen }));
    this.lora_B = this.child('lora_B', new Linear(r, outF, { bias: false }));
    noGrad(() => {
      // PEFT: kaiming_uniform_(A, a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)) (what Linear does); B = 0
      this.lora_B.weight.zero_();
    });
  }
}

/**
 * A PEFT key in transformers >= 4.52's layout for vision-language models (model.language_model.*,
 * model.visual.*), which adapters trained there carry; pacer keeps and writes the hub layout.
 */
function layout452(key: string): string {
  return key
    .replace(/^base_model\.model\.model\.(?!language_model\.|visual\.)/, 'base_model.model.model.language_model.')
    .replace(/^base_model\.model\.visual\./, 'base_model.model.model.visual.');
}

export class LoraAdapters {
  readonly targets = new Map<string, { linear: Linear; pair: LoraPair }>();
  private merged = false;
  private enabled = true;
  readonly scaling: number;
  constructor(
    readonly model: Module,
    readonly config: LoraConfig,
    opts: { generator?: Generator; baseModelNameOrPath?: string } = {},
  ) {
    if (!Number.isInteger(config.r) || config.r <= 0)
      throw new RangeError(`pacer: LoRA r must be a positive integer, got ${config.r}`);
    this.scaling = config.lora_alpha / config.r;
    const match =
      typeof config.target_modules === 'string'
        ? (
            (re: RegExp) => (n: string) =>
              re.test(n)
          )(new RegExp(`^(?:${config.target_modules})$`))
        : (n: string) => (config.target_modules as string[]).some((t) => n === t || n.endsWith(`.${t}`));
    for (const [name, m] of model.namedModules()) {
      if (!(m instanceof Linear) || !match(name)) continue;
      const pair = m.addModule('lora', new LoraPair(m.inFeatures, m.outFeatures, config.r, opts.generator));
      const p = config.lora_dropout ?? 0;
      m.adapter = (x: Tensor) => {
        if (!this.enabled || this.merged) return null;
        const xd = p > 0 && pair.training ? F.dropout(x, p, true, opts.generator) : x;
        return pair.lora_B.forward(pair.lora_A.forward(xd)).mul(this.scaling);
      };
      this.targets.set(name, { linear: m, pair });
    }
    if (this.targets.size === 0) {
      const names = [...model.namedModules()].map(([n]) => n).filter((n) => n);
      throw new Error(
        `pacer: LoRA target_modules ${JSON.stringify(config.target_modules)} matched no Linear layer; ` +
          `module names look like '${names.slice(-3).join("', '")}'`,
      );
    }
    // Only adapters train.
    for (const [name, p] of model.namedParameters()) p.requiresGrad_(name.includes('.lora.'));
    this.baseModelNameOrPath = opts.baseModelNameOrPath ?? null;
  }
  baseModelNameOrPath: string | null;

  parameters(): Tensor[] {
    return [...this.targets.values()].flatMap(({ pair }) => pair.parameters());
  }
  disable(): void {
    this.enabled = false;
  }
  enable(): void {
    this.enabled = true;
  }
  /** Run fn with adapters off (the base model, i.e. the reference policy). */
  withDisabled<T>(fn: () => T): T {
    const was = this.enabled;
    this.enabled = false;
    try {
      return fn();
    } finally {
      this.enabled = was;
    }
  }
  private delta(pair: LoraPair): Tensor {
    return pair.lora_B.weight.matmul(pair.lora_A.weight).mul(this.scaling);
  }
  /** W += (alpha/r) B A for every target (outputs unchanged, adapters bypassed). */
  merge(): void {
    if (this.merged) return;
    noGrad(() =>
      scope(() => {
        for (const { linear, pair } of this.targets.values())
          linear.weight.add_(this.delta(pair).to(linear.weight.dtype));
      }),
    );
    this.merged = true;
  }
  unmerge(): void {
    if (!this.merged) return;
    noGrad(() =>
      scope(() => {
        for (const { linear, pair } of this.targets.values())
          linear.weight.sub_(this.delta(pair).to(linear.weight.dtype));
      }),
    );
    this.merged = false;
  }
  get isMerged(): boolean {
    return this.merged;
  }

  /** PEFT key for a target's A or B weight. */
  private key(name: string, which: 'A' | 'B'): string {
    return `base_model.model.${name}.lora_${which}.weight`;
  }

  /** Write adapter_config.json and adapter_model.safetensors (PEFT layout). */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const tensors = new Map<string, Tensor>();
    for (const [name, { pair }] of this.targets) {
      tensors.set(this.key(name, 'A'), pair.lora_A.weight);
      tensors.set(this.key(name, 'B'), pair.lora_B.weight);
    }
    saveSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
    const names = [...new Set([...this.targets.keys()].map((n) => n.split('.').pop()!))].sort();
    const cfg = {
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: this.config.r,
      lora_alpha: this.config.lora_alpha,
      lora_dropout: this.config.lora_dropout ?? 0,
      target_modules: typeof this.config.target_modules === 'string' ? this.config.target_modules : names,
      bias: 'none',
      fan_in_fan_out: !!this.config.fan_in_fan_out,
      modules_to_save: null,
      use_rslora: false,
      init_lora_weights: true,
      inference_mode: true,
      base_model_name_or_path: this.baseModelNameOrPath,
    };
    atomicWrite(join(dir, 'adapter_config.json'), (fd) => writeSync(fd, JSON.stringify(cfg, null, 2) + '\n'));
  }

  /** Attach adapters read from a PEFT folder to a model. */
  static load(model: Module, dir: string): LoraAdapters {
    const cf = join(dir, 'adapter_config.json');
    if (!existsSync(cf)) throw new Error(`pacer: ${cf} not found (a PEFT adapter folder needs adapter_config.json)`);
    const cfg = JSON.parse(readFileSync(cf, 'utf8'));
    if (cfg.peft_type !== 'LORA')
      throw new Error(`pacer: ${cf}: peft_type '${cfg.peft_type}' is not supported (only LORA)`);
    if (cfg.use_rslora) throw new Error(`pacer: ${cf}: use_rslora is not supported`);
    const ad = new LoraAdapters(
      model,
      {
        r: cfg.r,
        lora_alpha: cfg.lora_alpha,
        lora_dropout: cfg.lora_dropout,
        target_modules: cfg.target_modules,
        fan_in_fan_out: cfg.fan_in_fan_out,
      },
      { baseModelNameOrPath: cfg.base_model_name_or_path },
    );
    const wf = join(dir, 'adapter_model.safetensors');
    if (!existsSync(wf)) throw new Error(`pacer: ${wf} not found`);
    scope(() => {
      const w = loadSafetensors(wf);
      for (const [name, { pair }] of ad.targets) {
        for (const which of ['A', 'B'] as const) {
          const k = ad.key(name, which);
          const t = [k, layout452(k)]
            .map((x) => w.get(x) ?? w.get(x.replace('.weight', '.default.weight')))
            .find((x) => x);
          const dst = which === 'A' ? pair.lora_A.weight : pair.lora_B.weight;
          if (!t) throw new Error(`pacer: ${wf}: no tensor '${k}' for target module '${name}'`);
          if (t.shape.join(',') !== dst.shape.join(','))
            throw new Error(`pacer: ${wf}: '${k}' has shape [${t.shape}], expected [${dst.shape}]`);
          noGrad(() => dst.copy_(t));
        }
      }
    });
    return ad;
  }
}
