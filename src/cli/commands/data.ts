import { UsageError, defineCommand, int, num, oneOf, str, threadsOpt } from '../command.js';
import { dataFilter } from '../data-filter.js';

export const dataFilterCmd = defineCommand({
  name: 'data filter',
  summary: 'drop, relabel or flag rows whose label a model contradicts consistently (G samples each)',
  usage:
    'pacer data filter --model DIR --data FILE.jsonl --out FILE.jsonl [--column answer] [--samples 8] ' +
    '[--min-agree 6] [--action drop|relabel|flag] [--truth COLUMN] [--report FILE.json]',
  description: `Each row's "prompt" is answered --samples times by the model; answers agree when the accuracy
reward normalises them alike (the last \\boxed{}, <answer>…</answer> or number, else the text). A row is
flagged when at least --min-agree answers agree on a value other than its --column's: dropped,
relabelled (the column set to the consensus) or kept with model_filter {consensus, agreement,
flagged}. The report (default OUT.report.json) lists every verdict, and with --truth COLUMN (true
where the label is known bad) the flags' precision and recall. VideoTG-R1's boundary reflection is
this stage with a grounding rule (pacer/curriculum boundaryReflection).`,
  options: {
    model: { type: 'string', arg: 'DIR', help: 'a local Hugging Face causal LM folder' },
    data: { type: 'string', arg: 'FILE', help: 'JSON lines with "prompt" and the label column' },
    out: { type: 'string', arg: 'FILE', help: 'the filtered JSON lines' },
    report: { type: 'string', arg: 'FILE', help: 'the report (default OUT.report.json)' },
    column: { type: 'string', arg: 'NAME', help: 'the label column', default: 'answer' },
    truth: { type: 'string', arg: 'NAME', help: 'a column that is true where the label is known bad' },
    samples: { type: 'string', arg: 'G', help: 'answers per row', default: '8' },
    'min-agree': { type: 'string', arg: 'K', help: 'agreeing answers needed to flag', default: '6' },
    action: { type: 'string', arg: 'A', help: 'drop, relabel or flag', default: 'drop' },
    temperature: { type: 'string', arg: 'T', help: 'sampling temperature (0: greedy)', default: '1' },
    'max-new-tokens': { type: 'string', arg: 'N', help: 'tokens per answer', default: '32' },
    seed: { type: 'string', arg: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
  },
  async run(v) {
    const [model, data, out] = [str(v.model), str(v.data), str(v.out)];
    if (!model || !data || !out) throw new UsageError('data filter needs --model DIR, --data FILE and --out FILE');
    const samples = int(v.samples, 'samples', 8, 1);
    const minAgree = int(v['min-agree'], 'min-agree', 6, 1);
    if (minAgree > samples) throw new UsageError(`--min-agree (${minAgree}) cannot exceed --samples (${samples})`);
    const temperature = num(v.temperature, 'temperature') ?? 1;
    if (!(temperature >= 0)) throw new UsageError(`--temperature must be >= 0, got ${v.temperature}`);
    const r = await dataFilter({
      model,
      data,
      out,
      report: str(v.report) ?? `${out}.report.json`,
      column: str(v.column) ?? 'answer',
      truth: str(v.truth) ?? null,
      samples,
      minAgree,
      action: oneOf(v.action, 'action', ['drop', 'relabel', 'flag'] as const, 'drop'),
      temperature,
      maxNewTokens: int(v['max-new-tokens'], 'max-new-tokens', 32, 1),
      seed: int(v.seed, 'seed', 0, 0),
      threads: threadsOpt(v.threads),
    });
    const q = r.quality ? `; precision ${r.quality.precision ?? '-'}, recall ${r.quality.recall ?? '-'}` : '';
    console.log(`${r.flagged_lines.length} of ${r.rows} rows flagged, ${r.kept} written to ${out}${q}`);
    return 0;
  },
});
