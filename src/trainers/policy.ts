// The model a trainer trains: loaded from model_name_or_path, with LoRA adapters when use_peft is
// on (target names and Conv1D orientation from the model registry), its reference (a separate model,
// the same model with the adapters off, or a frozen copy), and its final save: the HF folder, or the
// PEFT adapter plus the merged model in output_dir/merged.
import { join } from 'node:path';
import { fromPretrained, savePretrained, type PretrainedModel } from '../models/pretrained.js';
import { LoraAdapters } from '../models/lora.js';
import { modelEntry } from '../models/registry.js';
import type { CausalLM } from '../models/types.js';
import type { BaseConfig } from './config.js';
import { freezeVision, loraTargets } from './vision.js';

export class Policy {
  private constructor(
    readonly loaded: PretrainedModel,
    readonly lora: LoraAdapters | null,
  ) {}

  get model(): CausalLM {
    return this.loaded.model;
  }

  static load(cfg: BaseConfig): Policy {
    const loaded = fromPretrained(cfg.model_name_or_path, { dtype: cfg.dtype });
    freezeVision(loaded.model, cfg);
    if (!cfg.use_peft) return new Policy(loaded, null);
    const entry = modelEntry(loaded.config, join(cfg.model_name_or_path, 'config.json'));
    const lora = new LoraAdapters(
      loaded.model,
      {
        r: cfg.lora_r,
        lora_alpha: cfg.lora_alpha,
        lora_dropout: cfg.lora_dropout,
        target_modules: loraTargets(cfg, entry.loraTargets),
        fan_in_fan_out: !!entry.loraFanInFanOut,
      },
      { baseModelNameOrPath: cfg.model_name_or_path },
    );
    return new Policy(loaded, lora);
  }

  /**
   * The reference model: `refPath` when given (loaded frozen), else the policy with its adapters off
   * (LoRA), else — when `frozenCopy` — a frozen copy of the starting weights; null otherwise (the
   * caller computes reference values before training changes the policy).
   */
  reference(refPath: string | null, dtype: BaseConfig['dtype'], frozenCopy: boolean): Reference | null {
    if (refPath) return Reference.separate(fromPretrained(refPath, { dtype }).model);
    if (this.lora) return Reference.adaptersOff(this.model, this.lora);
    if (frozenCopy) return Reference.separate(fromPretrained(this.loaded.dir, { dtype }).model);
    return null;
  }

  /** The trained model in HF layout; with LoRA the PEFT adapter, and the merged model in dir/merged. */
  save(dir: string): void {
    if (!this.lora) {
      savePretrained(this.loaded, dir);
      return;
    }
    this.lora.save(dir);
    this.saveMerged(join(dir, 'merged'));
  }

  /** Full weights with the adapters folded in (what a rollout server or a next stage loads). */
  saveMerged(dir: string): void {
    if (!this.lora) {
      savePretrained(this.loaded, dir);
      return;
    }
    this.lora.merge();
    try {
      savePretrained(this.loaded, dir);
    } finally {
      this.lora.unmerge();
    }
  }

  /** The folder a following stage trains from. */
  static trainedFrom(cfg: BaseConfig): string {
    return cfg.use_peft ? join(cfg.output_dir, 'merged') : cfg.output_dir;
  }
}

/** The reference policy π_ref: run forwards with it through `run`. */
export class Reference {
  private constructor(
    readonly model: CausalLM,
    private readonly lora: LoraAdapters | null,
    private readonly owned: boolean,
  ) {}
  static separate(model: CausalLM): Reference {
    model.eval();
    return new Reference(model, null, true);
  }
  static adaptersOff(model: CausalLM, lora: LoraAdapters): Reference {
    return new Reference(model, lora, false);
  }
  run<T>(fn: (m: CausalLM) => T): T {
    return this.lora ? this.lora.withDisabled(() => fn(this.model)) : fn(this.model);
  }
  dispose(): void {
    if (this.owned) this.model.dispose();
  }
}
