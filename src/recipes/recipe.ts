// What a recipe is (src/recipes/index.ts keeps the registry): its options, its result, the record.
export interface RecipeOptions {
  /** The folder to write (default: the cache folder of the recipe's configuration and seed). */
  out?: string;
  /** The seed of a one-model recipe (the first of `seeds`). */
  seed: number;
  /** A study recipe's seeds (each arm runs once per seed); one-model recipes take one. */
  seeds: number[];
  /** A minutes-long version of the whole recipe with tiny data and few steps (CI). */
  smoke: boolean;
  threads?: number;
  /** Run again even when the folder already holds this configuration's result. */
  force?: boolean;
  progress?: boolean;
  log?: (s: string) => void;
}

export interface RecipeResult {
  dir: string;
  /** True when an earlier run's result was reused. */
  cached: boolean;
  metrics: Record<string, number>;
}

export interface Recipe {
  name: string;
  summary: string;
  /** What the recipe does and writes (printed by pacer recipe NAME --help). */
  description: string;
  run(o: RecipeOptions): Promise<RecipeResult>;
}
