// `pacer temple pairs`: TEMPLE's self-generated temporal preference pairs (src/tasks/temple.ts): the model
// narrates each clean video and its drop / shuffle / reverse perturbations; one DPO file per magnitude.
import { existsSync } from 'node:fs';
import { makeTemplePairs } from '../../tasks/temple.js';
import { PERTURBATION_TYPES, type PerturbationType } from '../../video/perturb.js';
import { setThreads } from '../../engine/index.js';
import { defineCommand, int, intList, num, output, str, threadsOpt, UsageError } from '../command.js';

function typeList(v: unknown): PerturbationType[] {
  const xs = String(v ?? PERTURBATION_TYPES.join(','))
    .split(',')
    .map((t) => t.trim());
  for (const x of xs)
    if (!PERTURBATION_TYPES.includes(x as PerturbationType))
      throw new UsageError(`--types must list ${PERTURBATION_TYPES.join(', ')}, got '${x}'`);
  return [...new Set(xs)] as PerturbationType[];
}

export const templePairs = defineCommand({
  name: 'temple pairs',
  summary: "TEMPLE's temporal DPO pairs: the model narrates clean vs perturbed videos (one file per magnitude)",
  usage:
    'pacer temple pairs --model DIR --data FILE --out DIR [--types drop,shuffle,reverse] [--magnitudes 16,8,4,2] ' +
    '[--clip-frames 2] [--prompt TEXT] [--temperature 0.7] [--repetition-penalty 1.05] [--max-new-tokens 64] ' +
    '[--seed S] [--threads N] [--json]',
  description: `FILE holds JSONL rows with one video each (a .npz frame file as \`pacer video make --frames-only\`
writes, in the 'videos' column or a typed content part; paths relative to FILE). The video is cut into
clips of --clip-frames frames; for each type and magnitude m the clips are perturbed as TEMPLE does (drop
keeps max(1, n//m) clips; shuffle permutes chunks of max(1, n//m) clips; reverse reverses the chunks).
The model (a Qwen2-VL / Qwen2.5-VL folder) narrates the clean video once and every perturbed one,
sampling with TEMPLE's temperature 0.7 and repetition penalty 1.05. chosen = the clean narration,
rejected = the perturbed one; TEMPLE's filters drop a pair when a drop narration is not shorter, when
chosen is a substring of rejected, or when a shuffle/reverse pair's lengths differ by more than 1.5×.
Writes DIR/pairs-r<m>.jsonl (TRL vision preference rows: prompt with a video part, chosen, rejected,
videos; \`pacer train\` with trainer: dpo reads them), DIR/videos/*.npz (clean copies and the perturbed
frame files) and DIR/pairs.json (the counts per magnitude and type, and why pairs were dropped).`,
  options: {
    model: { type: 'string', arg: 'DIR', help: 'the vision-language model (required)' },
    data: { type: 'string', arg: 'FILE', help: 'JSONL rows with one video each (required)' },
    out: { type: 'string', arg: 'DIR', help: 'output folder (required)' },
    types: { type: 'string', arg: 'LIST', help: 'perturbations', default: 'drop,shuffle,reverse' },
    magnitudes: { type: 'string', arg: 'LIST', help: 'magnitudes m (one file each)', default: '16,8,4,2' },
    'clip-frames': { type: 'string', arg: 'N', help: 'frames per clip (2 = one temporal patch)', default: '2' },
    prompt: { type: 'string', arg: 'TEXT', help: 'the narration instruction', default: 'Describe the video.' },
    temperature: { type: 'string', arg: 'T', help: 'sampling temperature', default: '0.7' },
    'repetition-penalty': { type: 'string', arg: 'P', help: "HF's repetition penalty", default: '1.05' },
    'max-new-tokens': { type: 'string', arg: 'N', help: 'narration length limit', default: '64' },
    seed: { type: 'string', arg: 'S', help: 'seed of the perturbations and the sampling', default: '0' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads (default: all cores)' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
  async run(v) {
    const model = str(v.model);
    const data = str(v.data);
    const out = str(v.out);
    if (!model || !data || !out) throw new UsageError('--model DIR, --data FILE and --out DIR are required');
    if (!existsSync(data)) throw new UsageError(`--data ${data}: no such file`);
    if (!existsSync(model)) throw new UsageError(`--model ${model}: no such folder`);
    const temperature = num(v.temperature, 'temperature') ?? 0.7;
    if (!(temperature > 0)) throw new UsageError(`--temperature must be > 0, got ${temperature}`);
    const repetitionPenalty = num(v['repetition-penalty'], 'repetition-penalty') ?? 1.05;
    if (!(repetitionPenalty > 0)) throw new UsageError(`--repetition-penalty must be > 0, got ${repetitionPenalty}`);
    setThreads(threadsOpt(v.threads));
    const r = await makeTemplePairs({
      model,
      data,
      out,
      types: typeList(v.types),
      magnitudes: [...new Set(intList(v.magnitudes, 'magnitudes', '16,8,4,2'))],
      clipFrames: int(v['clip-frames'], 'clip-frames', 2),
      prompt: str(v.prompt),
      temperature,
      repetitionPenalty,
      maxNewTokens: int(v['max-new-tokens'], 'max-new-tokens', 64),
      seed: int(v.seed, 'seed', 0, 0),
      log: v.json ? undefined : (s) => process.stderr.write(`${s}\n`),
    });
    output(!!v.json, r, () => {
      for (const [m, byType] of Object.entries(r.counts)) {
        const parts = Object.entries(byType).map(([t, c]) => `${t} ${c.kept}/${c.generated}`);
        console.log(`r${m}: ${parts.join(', ')} kept -> ${r.files[Number(m)]}`);
      }
    });
    return 0;
  },
});
