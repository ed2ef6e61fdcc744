// `pacer data filter`: the filter-or-relabel-by-model stage (src/data/model-filter.ts) on a JSONL
// dataset with a local causal LM. Each row's prompt (a string or messages, rendered as training
// renders it) is answered G times; an answer is compared by the accuracy reward's normalisation
// (the last \boxed{}, <answer>…</answer> or number, else the whole text; numbers, case, spaces) and
// two answers agree when they normalise alike. A row is flagged when at least min_agree answers
// agree on a value other than its reference column's; then it is dropped, relabelled (the column
// set to the consensus answer) or kept with `model_filter` {consensus, agreement, flagged}. With
// --truth COLUMN (true where the label is known bad), the report gives the flags' precision and
// recall. Outputs are written to a temp file, then renamed.
import { writeSync } from 'node:fs';
import { atomicWrite, setThreads } from '../engine/index.js';
import { fromPretrained } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { Tokenizer } from '../tokenizers/index.js';
import { readJsonl } from '../data/jsonl.js';
import { renderPrompt } from '../data/tokenize.js';
import { flagQuality, modelFilter, type FilterAction } from '../data/model-filter.js';
import { extractAnswer, normalizeAnswer } from '../rewards/accuracy.js';
import { DataError } from '../util/errors.js';

export interface DataFilterOptions {
  model: string;
  data: string;
  out: string;
  report: string;
  column: string;
  truth: string | null;
  samples: number;
  minAgree: number;
  action: FilterAction;
  temperature: number;
  maxNewTokens: number;
  seed: number;
  threads: number;
}

interface Answer {
  text: string;
  norm: string;
}

/** An answer's comparable form (null: nothing to compare). */
export function answerKey(text: string): string | null {
  const n = normalizeAnswer(extractAnswer(text) ?? text);
  return n === null || n === '' ? null : n;
}

export async function dataFilter(o: DataFilterOptions) {
  setThreads(o.threads);
  const rows = readJsonl(o.data);
  for (const r of rows)
    if (typeof r.value.prompt !== 'string' && !Array.isArray(r.value.prompt))
      throw new DataError(`pacer: ${o.data}:${r.line}: 'prompt' must be a string or a list of messages`, {
        file: o.data,
        line: r.line,
        field: 'prompt',
      });
  const tok = Tokenizer.fromPretrained(o.model);
  const pm = fromPretrained(o.model);
  const cache = new Map<number, Array<Answer | null>>();
  const sample = (index: number) => {
    const ids = renderPrompt(tok, rows[index].value.prompt as string);
    const res = generate(
      pm.model,
      Array.from({ length: o.samples }, () => ids),
      {
        maxNewTokens: o.maxNewTokens,
        temperature: o.temperature > 0 ? o.temperature : undefined,
        seed: o.seed * 100_003 + index,
      },
      tok,
    );
    return res.map((r) => {
      const norm = answerKey(r.text ?? '');
      return norm === null ? null : { text: (extractAnswer(r.text ?? '') ?? r.text ?? '').trim(), norm };
    });
  };
  const result = await modelFilter(rows, {
    samples: o.samples,
    minAgree: o.minAgree,
    action: o.action,
    predict: (_row, g, index) => {
      if (!cache.has(index)) cache.set(index, sample(index));
      return cache.get(index)![g];
    },
    agree: (a: Answer, b: Answer) => a.norm === b.norm,
    conflicts: (row, c) => answerKey(String(row.value[o.column] ?? '')) !== c.norm,
    relabel: (row, c) => ({ ...row, value: { ...row.value, [o.column]: c.text } }),
  });
  pm.model.dispose?.();
  return writeOutputs(o, rows, result);
}

function writeOutputs(
  o: DataFilterOptions,
  rows: ReturnType<typeof readJsonl>,
  result: Awaited<ReturnType<typeof modelFilter<ReturnType<typeof readJsonl>[number], Answer>>>,
) {
  const verdict = new Map(result.verdicts.map((v) => [rows[v.index].line, v]));
  const lines = result.items.map((r) => {
    const v = verdict.get(r.line)!;
    const extra =
      o.action === 'flag'
        ? { model_filter: { consensus: v.consensus?.text ?? null, agreement: v.agreement, flagged: v.flagged } }
        : {};
    return JSON.stringify({ ...r.value, ...extra });
  });
  atomicWrite(o.out, (fd) => writeSync(fd, lines.length ? lines.join('\n') + '\n' : ''));
  const truth = o.truth ? rows.flatMap((r, i) => (r.value[o.truth!] === true ? [i] : [])) : null;
  const report = {
    data: o.data,
    model: o.model,
    samples: o.samples,
    min_agree: o.minAgree,
    action: o.action,
    rows: rows.length,
    kept: result.items.length,
    flagged_lines: result.flagged.map((i) => rows[i].line),
    quality: truth ? flagQuality(result.flagged, truth) : null,
    verdicts: result.verdicts.map((v) => ({
      line: rows[v.index].line,
      consensus: v.consensus?.text ?? null,
      agreement: v.agreement,
      flagged: v.flagged,
    })),
  };
  atomicWrite(o.report, (fd) => writeSync(fd, JSON.stringify(report, null, 2) + '\n'));
  return report;
}
