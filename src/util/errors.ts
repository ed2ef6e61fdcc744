// pacer's error classes. Each carries, besides its message (which already names the file, line and
// key), the structured fields a program needs to react without parsing text: `file`, `line`,
// `field`/`key`. Messages start with "pacer: ".

export interface ErrorWhere {
  /** The file at fault (a dataset, a config, a checkpoint). */
  file?: string;
  /** 1-based line (JSONL) or row (Parquet). */
  line?: number;
  /** A dataset column or record field. */
  field?: string;
  /** A config key (dotted for nested options, e.g. curriculum_options.tau). */
  key?: string;
}

export class PacerError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  readonly key?: string;
  constructor(message: string, where: ErrorWhere = {}) {
    super(message);
    this.name = new.target.name;
    Object.assign(this, where);
  }
}

/** A config that cannot be used: unknown key, wrong type, out of range, contradictory keys. */
export class ConfigError extends PacerError {}
/** A dataset that cannot be read or does not fit the trainer. */
export class DataError extends PacerError {}
/** Training cannot go on (non-finite loss, no trainable parameters, …). */
export class TrainingError extends PacerError {}
/** A checkpoint that cannot be read or resumed. */
export class CheckpointError extends PacerError {}
/** The native libtorch engine is missing or does not load (`file`: the addon looked for). */
export class EngineError extends PacerError {}
/** A collective of the data-parallel process group failed: a peer died, or stalled past the timeout. */
export class DistributedError extends PacerError {}
