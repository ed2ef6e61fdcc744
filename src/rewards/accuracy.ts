// Verifiable answer rewards: accuracy with answer normalisation (numbers, thousands separators,
// fractions a/b and \frac{a}{b}, percentages, \boxed{...}, <answer>...</answer>), exact match, and
// multiple-choice letters. 1 for a match, 0 otherwise, null when the sample has no reference.
import { column, completionText, type RewardFunction } from './types.js';

/** The final answer in a completion: the last \boxed{...}, else <answer>...</answer>, else the last number. */
export function extractAnswer(text: string): string | null {
  const boxed = lastBoxed(text);
  if (boxed !== null) return boxed;
  const tag = /<answer>([\s\S]*?)<\/answer>/i.exec(text);
  if (tag) return tag[1].trim();
  const nums = text.match(/-?\d[\d,]*(?:\.\d+)?(?:\s*\/\s*\d+)?%?/g);
  return nums ? nums[nums.length - 1] : null;
}

function lastBoxed(text: string): string | null {
  const i = text.lastIndexOf('\\boxed{');
  if (i < 0) return null;
  let depth = 0;
  for (let j = i + 7; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}') {
      if (depth === 0) return text.slice(i + 7, j);
      depth--;
    }
  }
  return null;
}

/** A canonical string for an answer: numbers as reduced values, text lower-cased without spaces. */
export function normalizeAnswer(a: string): string {
  let s = a
    .trim()
    .replace(/^\$+|\$+$/g, '')
    .replace(/\\[,!;:]/g, '')
    .replace(/\\(?:text|mathrm)\{([^}]*)\}/g, '$1')
    .replace(/\\left|\\right/g, '');
  s = s.replace(/\\d?frac\{([^}]*)\}\{([^}]*)\}/g, '($1)/($2)');
  s = s.replace(/\s+/g, '').replace(/\.$/, '');
  const pct = /^(-?[\d,]*\.?\d+)%$/.exec(s);
  if (pct) s = String(Number(pct[1].replace(/,/g, '')) / 100);
  const num = (x: string) => (/^\(?-?[\d,]*\.?\d+\)?$/.test(x) ? Number(x.replace(/[(),]/g, '')) : NaN);
  const frac = /^(.+)\/(.+)$/.exec(s);
  if (frac) {
    const [p, q] = [num(frac[1]), num(frac[2])];
    if (Number.isFinite(p) && Number.isFinite(q) && q !== 0) return canonicalNumber(p / q);
  }
  const n = num(s);
  if (Number.isFinite(n)) return canonicalNumber(n);
  return s.toLowerCase();
}

function canonicalNumber(x: number): string {
  return String(Math.round(x * 1e9) / 1e9);
}

export function answersMatch(pred: string | null, ref: unknown): boolean {
  if (pred === null || ref === null || ref === undefined) return false;
  const r = typeof ref === 'number' ? String(ref) : (extractAnswer(String(ref)) ?? String(ref));
  return normalizeAnswer(pred) === normalizeAnswer(r);
}

/** accuracy: the extracted answer equals the reference ('answer' or 'solution' column). */
export function accuracyReward(o: { column?: string } = {}): RewardFunction {
  return (input) => {
    const name = o.column ?? ('answer' in input.columns ? 'answer' : 'solution');
    const ref = column(input, name, 'accuracy');
    return input.completions.map((c, i) =>
      ref[i] === null || ref[i] === undefined ? null : answersMatch(extractAnswer(completionText(c)), ref[i]) ? 1 : 0,
    );
  };
}

/** exact_match: the whole completion (trimmed) equals the reference string. */
export function exactMatchReward(o: { column?: string; caseSensitive?: boolean } = {}): RewardFunction {
  return (input) => {
    const ref = column(input, o.column ?? 'answer', 'exact_match');
    const norm = (s: string) => (o.caseSensitive ? s.trim() : s.trim().toLowerCase());
    return input.completions.map((c, i) =>
      ref[i] == null ? null : norm(completionText(c)) === norm(String(ref[i])) ? 1 : 0,
    );
  };
}

/** The chosen option letter: <answer>B</answer>, "answer is (B)", or a lone letter. */
export function extractChoice(text: string): string | null {
  const m =
    /<answer>\s*\(?([A-Z])\)?/i.exec(text) ??
    /answer\s*(?:is|:)?\s*\(?([A-Z])\)?(?![a-z])/i.exec(text) ??
    /^\s*\(?([A-Z])\)?[.)]?\s*$/i.exec(text);
  return m ? m[1].toUpperCase() : null;
}

/** multiple_choice: the chosen letter equals the reference letter. */
export function multipleChoiceReward(o: { column?: string } = {}): RewardFunction {
  return (input) => {
    const ref = column(input, o.column ?? 'answer', 'multiple_choice');
    return input.completions.map((c, i) =>
      ref[i] == null ? null : extractChoice(completionText(c)) === String(ref[i]).trim().toUpperCase() ? 1 : 0,
    );
  };
}
