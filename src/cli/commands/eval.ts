// `pacer eval grounding | mcq | vinoground`: score a model's answers against ground truth with the
// benchmarks' own metric definitions (src/eval/), print them, and write one result per item.
import { writeFileAtomic } from '../../util/atomic.js';
import {
  GROUNDING_FORMATS,
  answersById,
  checkVinoPredictions,
  choiceSummary,
  groundingSummary,
  readChoiceTruth,
  readGroundingTruth,
  readPredictions,
  readRows,
  scoreChoices,
  scoreGrounding,
  scoreVinoground,
  vinoPairs,
  vinoPredictionRow,
  vinogroundRow,
  vinogroundSummary,
  type Accuracy,
} from '../../eval/index.js';
import { UsageError, defineCommand, oneOf, output, str, type OptionSpec } from '../command.js';

const common: Record<string, OptionSpec> = {
  pred: { type: 'string', arg: 'P', help: 'the predictions' },
  gt: { type: 'string', arg: 'G', help: 'the ground truth' },
  json: { type: 'boolean', help: 'print the metrics as one JSON object' },
  out: { type: 'string', arg: 'FILE', help: 'write one JSON line per item (through a temp file and a rename)' },
};

function files(v: Record<string, unknown>, name: string): { pred: string; gt: string; out?: string } {
  const pred = str(v.pred);
  const gt = str(v.gt);
  if (!pred || !gt) throw new UsageError(`eval ${name} needs --pred P.jsonl and --gt G`);
  return { pred, gt, out: str(v.out) };
}

function writeItems(out: string | undefined, items: readonly unknown[]): void {
  if (out) writeFileAtomic(out, items.map((it) => `${JSON.stringify(it)}\n`).join(''));
}

const f2 = (x: number) => x.toFixed(2);

export const evalGrounding = defineCommand({
  name: 'eval grounding',
  summary: 'temporal grounding: R@1 at IoU 0.3/0.5/0.7 and mIoU (Charades-STA, ActivityNet Captions)',
  usage: 'pacer eval grounding --pred P.jsonl --gt G [--format auto] [--json] [--out per_item.jsonl]',
  description: `Ground truth G: pacer rows {"id", "segment": [start, end]} in seconds, a Charades-STA file
("VIDEO START END##SENTENCE" lines) or ActivityNet Captions JSON; those two get ids VIDEO_K, K counting
each video's queries from 0 in file order. Predictions P: {"id", "answer"} with the model's free text;
the first two numbers of its <answer>…</answer> block (or of the whole text) are start and end.
tIoU swaps a reversed segment; R@1,IoU=m is the percentage of queries with tIoU >= m, mIoU the mean
tIoU in percent. An answer without two numbers, or a query with no prediction, scores tIoU 0 and is
counted in "unparsed". --json prints {"R@0.3", "R@0.5", "R@0.7", "mIoU", "n", "unparsed"}; --out
writes {"id", "segment", "answer", "prediction", "iou", "missing"} per query.`,
  options: {
    ...common,
    format: { type: 'string', arg: 'F', help: `ground-truth format: ${GROUNDING_FORMATS.join(', ')}`, default: 'auto' },
  },
  run(v) {
    const { pred, gt, out } = files(v, 'grounding');
    const truth = readGroundingTruth(gt, oneOf(v.format, 'format', GROUNDING_FORMATS, 'auto'));
    const items = scoreGrounding(
      truth.map((t) => t.row),
      answersById(truth, readPredictions(pred), gt),
    );
    const s = groundingSummary(items);
    writeItems(out, items);
    output(!!v.json, s, () => {
      console.log(`grounding: ${s.n} queries, ${s.unparsed} unparsed or missing (scored tIoU 0)`);
      for (const m of ['0.3', '0.5', '0.7'] as const) console.log(`  R@1 IoU=${m}  ${f2(s[`R@${m}`])}`);
      console.log(`  mIoU         ${f2(s.mIoU)}`);
    });
    return 0;
  },
});

function accLine(name: string, a: Accuracy, indent = '  '): string {
  return `${`${indent}${name}`.padEnd(20)} ${f2(a.accuracy).padStart(6)}  (n ${a.n}, unparsed ${a.unparsed})`;
}

export const evalMcq = defineCommand({
  name: 'eval mcq',
  summary: 'multiple choice: accuracy per TempCompass format and dimension, unparsed answers, MLVU macro average',
  usage: 'pacer eval mcq --pred P.jsonl --gt G [--json] [--out per_item.jsonl]',
  description: `Ground truth G: pacer rows {"id", "options": [...], "answer": "B", "dimension"?, "format"?}
(format: multi-choice, yes_no, caption_matching or captioning, as TempCompass names its tasks) or a
TempCompass question file (questions/multi-choice.json, yes_no.json, caption_matching.json; ids
FORMAT/VIDEO/DIMENSION/K). Predictions P: {"id", "answer"} with the model's free text, or a TempCompass
prediction file. Answers are matched by TempCompass's rules on the <answer>…</answer> block (or the whole
text): multi-choice "B", "B.", "B)" or "(B)" at the start; yes_no a leading yes/no; caption_matching the
option line, sentence or label; captioning the LLM judge's "B. …" answer. An answer that matches no
option, or a missing prediction, is wrong and counted in "unparsed". Accuracies are percentages; the
macro average is the mean of the per-dimension accuracies (MLVU's M-Avg), null without dimensions.
--out writes {"id", "format", "dimension", "target", "answer", "prediction", "correct", "missing"}.`,
  options: common,
  run(v) {
    const { pred, gt, out } = files(v, 'mcq');
    const truth = readChoiceTruth(gt);
    const items = scoreChoices(
      truth.map((t) => t.row),
      answersById(truth, readPredictions(pred), gt),
    );
    const s = choiceSummary(items);
    writeItems(out, items);
    output(!!v.json, s, () => {
      console.log(`multiple choice: ${s.n} questions, ${s.correct} correct, ${s.unparsed} unparsed or missing (wrong)`);
      console.log(accLine('accuracy', s));
      if (s.macro_average !== null) console.log(`${'  macro average'.padEnd(20)} ${f2(s.macro_average).padStart(6)}`);
      for (const [f, a] of Object.entries(s.per_format)) {
        console.log(accLine(f, a));
        for (const [d, b] of Object.entries(a.per_dimension)) console.log(accLine(d, b, '    '));
      }
    });
    return 0;
  },
});

export const evalVinoground = defineCommand({
  name: 'eval vinoground',
  summary: 'Vinoground text, video and group scores over counterfactual video-caption pairs',
  usage: 'pacer eval vinoground --pred P.jsonl --gt G.jsonl [--json] [--out per_pair.jsonl]',
  description: `Ground truth G: two rows per pair, {"id", "pair_id", "variant": "pos"|"neg", "caption",
"videos": [path]}. Predictions P, per pair either four question rows or one score row:
  {"pair_id", "task": "text", "variant": "pos", "answer": "A"}   shown the pos video and both captions
  {"pair_id", "task": "video", "variant": "neg", "answer": "B"}  shown the neg caption and both videos
    Option A is the pos member, B the neg one, unless "order": ["neg", "pos"] says otherwise. As
    Vinoground scores it, the first character of the answer (of its <answer> block when present,
    case-insensitive) is the choice; anything else is unparsed, and a missing question is too (wrong).
  {"pair_id", "scores": {"pos_pos": s, "pos_neg": s, "neg_pos": s, "neg_neg": s}}  similarity of
    (video, caption), for CLIP-style models; a choice is right only when strictly greater (ties wrong).
Text score: the right caption for both videos of a pair; video score: the right video for both
captions; group: all four. Each is a percentage of pairs. --out writes per pair {"pair_id", "choices",
"text", "video", "group"}.`,
  options: common,
  run(v) {
    const { pred, gt, out } = files(v, 'vinoground');
    const pairs = vinoPairs(readRows(gt, vinogroundRow));
    const preds = readRows(pred, vinoPredictionRow);
    checkVinoPredictions(preds, new Set(pairs));
    const items = scoreVinoground(
      pairs,
      preds.map((p) => p.row),
    );
    const s = vinogroundSummary(items);
    writeItems(out, items);
    output(!!v.json, s, () => {
      console.log(`Vinoground: ${s.n} pairs, ${s.unparsed} questions unparsed or missing (wrong)`);
      for (const k of ['text', 'video', 'group'] as const) console.log(`  ${k.padEnd(6)} ${f2(s[k])}`);
    });
    return 0;
  },
});
