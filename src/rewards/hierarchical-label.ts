// hierarchical_label: partial credit by the deepest level of a taxonomy on which the answer agrees
// with the reference — Cue-R1's "hierarchy-refined" reward (Yu et al., CueBench, arXiv 2511.00613).
// The paper publishes no formula; this is the design of research/video-methods.md §4, every number
// an option:
//   path(c)   the names from the root (excluded) down to node c: crash → [anomaly, absolute, crash]
//   d         the number of leading names path(pred) and path(ref) share
//   reward    `exact` when pred is the reference node; else credits[min(d, |credits|) − 1] for d ≥ 1;
//             0 for d = 0 or an answer naming no node.
// Defaults exact 1, credits 0.25;0.5: on the anomaly world's taxonomy (root → normal | anomaly →
// absolute | conditional → class) that is 1 for the exact class, 0.5 for the right anomaly type,
// 0.25 for only normal-vs-anomaly right, 0 otherwise; credits=0 makes it the flat 0/1 reward.
// Taxonomy file: JSON {"name", "children": [...]}, nested; node names unique; a node may carry
// "description" and "aliases" (strings an answer may use instead of its name). `pacer video make
// --world anomaly` writes one (taxonomy.json).
// The answer: when the row has an options column (a list of node names or descriptions, one per
// letter) and the answer text picks a letter (TempCompass's multi-choice rule, src/eval/choice.ts:
// "B", "B.", "B)", "(B)", inside <answer>…</answer> when present), the picked option; else the answer
// text itself (<answer>…</answer> when present), matched to a name, description or alias without
// regard to case, spaces, '_' or a final '.'. An answer naming an ancestor of the reference shares
// that ancestor's levels ("anomaly" for crash: 0.25).
import { readFileSync } from 'node:fs';
import { answerText } from '../eval/answer.js';
import { multiChoice } from '../eval/choice.js';
import { column, completionText, type RewardFunction } from './types.js';

interface TaxNode {
  name: string;
  children?: TaxNode[];
  description?: string;
  aliases?: string[];
}

export interface Taxonomy {
  file: string;
  /** Each node's path from the root (root excluded), by node name. */
  paths: Map<string, string[]>;
  /** Normalised names, descriptions and aliases → node name. */
  lookup: Map<string, string>;
}

const norm = (s: string) => s.toLowerCase().replace(/_/g, ' ').replace(/\s+/g, ' ').trim().replace(/\.$/, '');

function checkNode(n: unknown, where: string, file: string): TaxNode {
  const bad = (what: string) => new Error(`pacer: taxonomy ${file}: ${where}: ${what}`);
  if (!n || typeof n !== 'object' || Array.isArray(n)) throw bad('a node must be an object {"name", "children"}');
  const o = n as Record<string, unknown>;
  if (typeof o.name !== 'string' || !o.name.trim()) throw bad('"name" must be a non-empty string');
  if (o.children !== undefined && !Array.isArray(o.children)) throw bad('"children" must be a list of nodes');
  if (o.description !== undefined && typeof o.description !== 'string') throw bad('"description" must be a string');
  if (o.aliases !== undefined && !(Array.isArray(o.aliases) && o.aliases.every((a) => typeof a === 'string')))
    throw bad('"aliases" must be a list of strings');
  return o as unknown as TaxNode;
}

/** A taxonomy from its parsed JSON (`file` names it in errors). */
export function buildTaxonomy(json: unknown, file = '<taxonomy>'): Taxonomy {
  const t: Taxonomy = { file, paths: new Map(), lookup: new Map() };
  const walk = (raw: unknown, path: string[], where: string) => {
    const n = checkNode(raw, where, file);
    const here = where === 'root' ? [] : [...path, n.name];
    if (where !== 'root') {
      const seen = t.paths.get(n.name);
      if (seen)
        throw new Error(
          `pacer: taxonomy ${file}: the name '${n.name}' is used twice (${seen.join('/')} and ${here.join('/')}); ` +
            'node names must be unique',
        );
      t.paths.set(n.name, here);
      for (const s of [n.name, n.description ?? '', ...(n.aliases ?? [])])
        if (norm(s) && !t.lookup.has(norm(s))) t.lookup.set(norm(s), n.name);
    }
    (n.children ?? []).forEach((c, i) => walk(c, here, `${where}.children[${i}]`));
  };
  walk(json, [], 'root');
  if (t.paths.size === 0) throw new Error(`pacer: taxonomy ${file}: the root has no children`);
  return t;
}

/** Read a taxonomy file (errors name the file and the bad node). */
export function loadTaxonomy(file: string): Taxonomy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`pacer: cannot read taxonomy ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`pacer: taxonomy ${file} is not valid JSON (${(e as Error).message})`);
  }
  return buildTaxonomy(json, file);
}

/** What is wrong with a credits option ("0.25;0.5": numbers >= 0 separated by ';'), or null. */
export function creditsProblem(s: string): string | null {
  const xs = s.split(';').map((x) => x.trim());
  return xs.every((x) => x !== '' && Number.isFinite(Number(x)) && Number(x) >= 0)
    ? null
    : `must be numbers >= 0 separated by ';' (e.g. 0.25;0.5), got '${s}'`;
}

/** The credits option as numbers. */
export function parseCredits(s: string): number[] {
  const why = creditsProblem(s);
  if (why) throw new Error(`pacer: hierarchical_label credits ${why}`);
  return s.split(';').map(Number);
}

/** The credit of a predicted node against the reference node. */
export function hierarchicalCredit(t: Taxonomy, pred: string | null, ref: string, exact: number, credits: number[]) {
  const pr = t.paths.get(ref);
  if (!pr) throw new Error(`pacer: hierarchical_label: the reference '${ref}' is not a node of taxonomy ${t.file}`);
  if (pred === null) return 0;
  if (pred === ref) return exact;
  const pp = t.paths.get(pred)!;
  let d = 0;
  while (d < pp.length && d < pr.length && pp[d] === pr[d]) d++;
  return d === 0 ? 0 : credits[Math.min(d, credits.length) - 1];
}

/** The node a completion names: its chosen option (when the row has options), else its answer text. */
export function answeredNode(t: Taxonomy, text: string, options: unknown): string | null {
  const a = answerText(text);
  if (Array.isArray(options)) {
    const k = multiChoice(a, options.length);
    if (k >= 0) return t.lookup.get(norm(String(options[k]))) ?? null;
  }
  return t.lookup.get(norm(a)) ?? null;
}

export function hierarchicalLabelReward(o: {
  taxonomy: string | Taxonomy;
  column?: string;
  optionsColumn?: string;
  exact?: number;
  credits?: number[];
}): RewardFunction {
  const t = typeof o.taxonomy === 'string' ? loadTaxonomy(o.taxonomy) : o.taxonomy;
  const exact = o.exact ?? 1;
  const credits = o.credits ?? [0.25, 0.5];
  const refCol = o.column ?? 'class';
  const optCol = o.optionsColumn ?? 'option_classes';
  return (input) => {
    const ref = column(input, refCol, 'hierarchical_label');
    const opts = input.columns[optCol];
    return input.completions.map((c, i) => {
      const r = ref[i];
      if (r == null) return null;
      const name = Array.isArray(r) ? String(r[r.length - 1]) : String(r);
      return hierarchicalCredit(t, answeredNode(t, completionText(c), opts?.[i]), name, exact, credits);
    });
  };
}
