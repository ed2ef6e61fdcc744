// The reward-function contract, in the spirit of TRL's: a function gets the prompts, the
// completions, their token ids and every other dataset column (one value per sample), and returns
// one number per sample — or null where the reward does not apply. It may be sync or async.
export type Message = { role: string; content: string };
export type PromptLike = string | Message[];

export interface RewardInput {
  prompts: PromptLike[];
  completions: string[];
  completionIds?: number[][];
  /** Other dataset columns, each with one value per sample (e.g. "answer", "solution", "box"). */
  columns: Record<string, unknown[]>;
}

export type RewardOutput = Array<number | null>;
export type RewardFunction = (input: RewardInput) => RewardOutput | Promise<RewardOutput>;

export interface NamedReward {
  name: string;
  fn: RewardFunction;
  weight?: number;
  /** The library spec it was built from ("overlong:max_length=512:cache=128"): lets a worker rebuild it. */
  spec?: string;
}

/** A completion's text whether it is a string or a list of messages (the last one's content). */
export function completionText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c) && c.length && typeof c[c.length - 1]?.content === 'string') return c[c.length - 1].content;
  return String(c ?? '');
}

/** The column a reward needs; a clear error when the dataset lacks it. */
export function column(input: RewardInput, name: string, reward: string): unknown[] {
  const c = input.columns[name];
  if (!c)
    throw new Error(
      `pacer: reward '${reward}' needs a '${name}' column in the dataset (columns present: ` +
        `${Object.keys(input.columns).join(', ') || 'none'})`,
    );
  if (c.length !== input.completions.length)
    throw new Error(
      `pacer: reward '${reward}': column '${name}' has ${c.length} values for ${input.completions.length} completions`,
    );
  return c;
}
