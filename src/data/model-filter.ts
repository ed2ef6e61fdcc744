// Filter or relabel by model: a data stage that asks a model G times about each item and acts where
// its answers agree with each other but not with the item's label. VideoTG-R1's Boundary Reflection
// Agent (Dong et al., arXiv 2510.23397) is one use: with the labelled span blanked, a model that
// still finds the queried event elsewhere, consistently, flags a partially annotated item (see
// boundaryReflection in src/curriculum/videotg.ts). The rule, every part an option:
//   answers      a_1 … a_G = predict(item, g) for g = 0 … G−1 (null: no usable answer)
//   support(a_i) |{j : a_j ≠ null and agree(a_i, a_j)}| (a_i itself included)
//   consensus    the answer with the largest support (the first on ties); agreement = its support
//   flagged      agreement ≥ min_agree and conflicts(item, consensus)
//   action       drop: flagged items leave the set; relabel: relabel(item, consensus) replaces them;
//                flag: every item stays (the report lists the flags)
// flagQuality scores the flags against known truth (a world's exact annotations): precision =
// |flagged ∩ truth| / |flagged|, recall = |flagged ∩ truth| / |truth| (null on an empty denominator).

export type FilterAction = 'drop' | 'relabel' | 'flag';

export interface ModelFilterOptions<T, A> {
  /** G: answers asked per item. */
  samples: number;
  /** The g-th sampled answer for an item (null when the model gave none usable). */
  predict: (item: T, g: number, index: number) => Promise<A | null> | A | null;
  /** Whether two answers agree (symmetric; e.g. tIoU > 0.5). */
  agree: (a: A, b: A) => boolean;
  /** Least support the consensus needs (k of G). */
  minAgree: number;
  /** Whether the consensus contradicts the item's label (e.g. it lies outside the labelled span). */
  conflicts: (item: T, consensus: A) => boolean;
  action: FilterAction;
  /** The item with its label replaced by the consensus (action relabel). */
  relabel?: (item: T, consensus: A) => T;
}

export interface FilterVerdict<A> {
  index: number;
  consensus: A | null;
  agreement: number;
  flagged: boolean;
}

export interface ModelFilterResult<T, A> {
  /** The items after the action (drop: without the flagged; relabel: flagged ones relabelled). */
  items: T[];
  verdicts: Array<FilterVerdict<A>>;
  flagged: number[];
}

/** The consensus of a set of answers: the answer with the largest support (first on ties). */
export function consensusOf<A>(answers: Array<A | null>, agree: (a: A, b: A) => boolean) {
  const given = answers.filter((a): a is A => a !== null);
  let best: A | null = null;
  let support = 0;
  for (const a of given) {
    const s = given.filter((b) => agree(a, b)).length;
    if (s > support) [best, support] = [a, s];
  }
  return { consensus: best, agreement: support };
}

function checkOptions<T, A>(o: ModelFilterOptions<T, A>): void {
  if (!Number.isInteger(o.samples) || o.samples < 1)
    throw new Error(`pacer: model filter: samples must be an integer >= 1, got ${o.samples}`);
  if (!Number.isInteger(o.minAgree) || o.minAgree < 1 || o.minAgree > o.samples)
    throw new Error(
      `pacer: model filter: min_agree must be an integer in [1, samples=${o.samples}], got ${o.minAgree}`,
    );
  if (!['drop', 'relabel', 'flag'].includes(o.action))
    throw new Error(`pacer: model filter: action must be drop, relabel or flag, got '${o.action}'`);
  if (o.action === 'relabel' && !o.relabel)
    throw new Error('pacer: model filter: action relabel needs a relabel function');
}

/** Run the stage over a dataset (items in order; G answers each). */
export async function modelFilter<T, A>(
  data: readonly T[],
  o: ModelFilterOptions<T, A>,
): Promise<ModelFilterResult<T, A>> {
  checkOptions(o);
  const verdicts: Array<FilterVerdict<A>> = [];
  const items: T[] = [];
  for (const [index, item] of data.entries()) {
    const answers: Array<A | null> = [];
    for (let g = 0; g < o.samples; g++) answers.push(await o.predict(item, g, index));
    const { consensus, agreement } = consensusOf(answers, o.agree);
    const flagged = consensus !== null && agreement >= o.minAgree && o.conflicts(item, consensus);
    verdicts.push({ index, consensus, agreement, flagged });
    if (!flagged || o.action === 'flag') items.push(item);
    else if (o.action === 'relabel') items.push(o.relabel!(item, consensus as A));
  }
  return { items, verdicts, flagged: verdicts.filter((v) => v.flagged).map((v) => v.index) };
}

/** Precision and recall of flagged indices against the truly bad ones. */
export function flagQuality(flagged: readonly number[], truth: readonly number[]) {
  const bad = new Set(truth);
  const hits = new Set(flagged.filter((i) => bad.has(i))).size;
  const nFlagged = new Set(flagged).size;
  return {
    precision: nFlagged ? hits / nFlagged : null,
    recall: bad.size ? hits / bad.size : null,
    flagged: nFlagged,
    truth: bad.size,
    true_positives: hits,
  };
}
