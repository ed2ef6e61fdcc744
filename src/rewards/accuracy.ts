// Verifiable answer rewards: accuracy with answer normalisation (numbers, thousands separators,
// fractions a/b and \frac{a}{b}, percentages, \boxed{...}, <answer>...</answer>), exact match, and
// multiple-choice letters, and yes/no answers (detection: TempCompass's yes_no rule, the lower-cased
// answer text — <answer>…</answer> when present — starts with "yes" or "no"; the reference is
// "yes"/"no" or a boolean). 1 for a match, 0 otherwise, null when the sample has no reference.
// Extraction and normalisation take time linear in the text (no backtracking-prone patterns), and
// answers over MAX_ANSWER_CHARS never match; numbers too long for a double compare digit by digit,
// so two different 400-digit numbers are not both "Infinity".
import { answerText } from '../eval/answer.js';
import { column, completionText, type RewardFunction } from './types.js';

/** The final answer in a completion: the last \boxed{...}, else <answer>...</answer>, else the last number. */
export function extractAnswer(text: string): string | null {
  const boxed = lastBoxed(text);
  if (boxed !== null) return boxed;
  // the first <answer> and the first </answer> after it, found by two linear scans (a lazy
  // /<answer>([\s\S]*?)<\/answer>/ rescans the rest of the text from every unclosed <answer>)
  const open = text.search(/<answer>/i);
  if (open >= 0) {
    const close = /<\/answer>/gi;
    close.lastIndex = open + 8;
    const m = close.exec(text);
    if (m) return text.slice(open + 8, m.index).trim();
  }
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

/** Answers longer than this never match (normalising them would cost time and mean nothing). */
export const MAX_ANSWER_CHARS = 1000;

interface Decimal {
  neg: boolean;
  int: string;
  frac: string;
}

/** "[(]-1,234.5[)]" → its parts, or null; one left-to-right scan (no backtracking). */
function parseDecimal(s: string): Decimal | null {
  let i = 0;
  if (s[i] === '(') i++;
  const neg = s[i] === '-';
  if (neg) i++;
  let int = '',
    frac = '';
  for (; i < s.length && ((s[i] >= '0' && s[i] <= '9') || s[i] === ','); i++) if (s[i] !== ',') int += s[i];
  if (s[i] === '.') {
    for (i++; i < s.length && s[i] >= '0' && s[i] <= '9'; i++) frac += s[i];
    if (!frac) return null;
  }
  if (s[i] === ')') i++; // parentheses are optional on either side, as \frac{a}{b} → (a)/(b) leaves them
  if (i !== s.length || (!int && !frac)) return null;
  return { neg, int, frac };
}

/** A reduced decimal: a rounded value when it fits a double exactly enough, else its exact digits. */
function canonicalDecimal(d: Decimal, scale = 1): string {
  const int = d.int.replace(/^0+/, ''),
    frac = d.frac.replace(/0+$/, '');
  if (int.length + frac.length <= 15)
    return canonicalNumber(((d.neg ? -1 : 1) * Number(`${int || '0'}.${frac || '0'}`)) / scale) ?? '';
  if (scale !== 1) return `${d.neg ? '-' : ''}${int || '0'}${frac ? `.${frac}` : ''}%`;
  return `${d.neg && (int || frac) ? '-' : ''}${int || '0'}${frac ? `.${frac}` : ''}`;
}

function canonicalNumber(x: number): string | null {
  const r = Math.round(x * 1e9) / 1e9;
  return Number.isFinite(r) ? String(r) : null;
}

/**
 * A canonical string for an answer: numbers as reduced values, text lower-cased without spaces;
 * null for answers over MAX_ANSWER_CHARS. Linear in the answer's length.
 */
export function normalizeAnswer(a: string): string | null {
  if (a.length > MAX_ANSWER_CHARS) return null;
  let s = a.trim();
  let b = 0,
    e = s.length;
  while (b < e && s[b] === '$') b++;
  while (e > b && s[e - 1] === '$') e--;
  s = s
    .slice(b, e)
    .replace(/\\[,!;:]/g, '')
    .replace(/\\(?:text|mathrm)\{([^}]*)\}/g, '$1')
    .replace(/\\left|\\right/g, '');
  s = s.replace(/\\d?frac\{([^}]*)\}\{([^}]*)\}/g, '($1)/($2)');
  s = s.replace(/\s+/g, '').replace(/\.$/, '');
  if (s.endsWith('%')) {
    const d = parseDecimal(s.slice(0, -1));
    if (d && !s.startsWith('(')) return canonicalDecimal(d, 100);
  }
  const slash = s.lastIndexOf('/');
  if (slash > 0) {
    const [p, q] = [parseDecimal(s.slice(0, slash)), parseDecimal(s.slice(slash + 1))];
    const pv = p && Number(`${p.neg ? '-' : ''}${p.int || '0'}.${p.frac || '0'}`);
    const qv = q && Number(`${q.neg ? '-' : ''}${q.int || '0'}.${q.frac || '0'}`);
    if (pv !== null && qv !== null && Number.isFinite(pv) && Number.isFinite(qv) && qv !== 0) {
      const c = canonicalNumber(pv / qv);
      if (c !== null) return c;
    }
  }
  const d = parseDecimal(s);
  if (d) return canonicalDecimal(d);
  return s.toLowerCase();
}

export function answersMatch(pred: string | null, ref: unknown): boolean {
  if (pred === null || ref === null || ref === undefined) return false;
  const r = typeof ref === 'number' ? String(ref) : (extractAnswer(String(ref)) ?? String(ref));
  const [p, q] = [normalizeAnswer(pred), normalizeAnswer(r)];
  return p !== null && p === q;
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
    /answer\s*(?:(?:is|:)\s*)?\(?([A-Z])\)?(?![a-z])/i.exec(text) ??
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

/** "yes" or "no" as TempCompass reads a yes/no answer (the text starts with it), else null. */
export function yesNo(text: string): 'yes' | 'no' | null {
  const s = answerText(text).toLowerCase();
  return s.startsWith('yes') ? 'yes' : s.startsWith('no') ? 'no' : null;
}

/** yes_no: 0/1 detection — the answer's yes/no equals the reference ("yes"/"no" or a boolean). */
export function yesNoReward(o: { column?: string } = {}): RewardFunction {
  return (input) => {
    const name = o.column ?? 'solution';
    const ref = column(input, name, 'yes_no');
    return input.completions.map((c, i) => {
      const r = ref[i];
      if (r == null) return null;
      const want = typeof r === 'boolean' ? (r ? 'yes' : 'no') : String(r).trim().toLowerCase();
      if (want !== 'yes' && want !== 'no')
        throw new Error(
          `pacer: reward 'yes_no': sample ${i}'s '${name}' must be yes, no or a boolean, got ${JSON.stringify(r)}`,
        );
      return yesNo(completionText(c)) === want ? 1 : 0;
    });
  };
}
