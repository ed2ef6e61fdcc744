// `pacer video select`: the frames a trained TSPO agent picks for a question about a video.
import { existsSync } from 'node:fs';
import { SELECT_MODES } from '../../video/sampler-agent.js';
import { selectWithAgent } from '../../video/select.js';
import { defineCommand, int, oneOf, output, str, UsageError } from '../command.js';

export const videoSelect = defineCommand({
  name: 'video select',
  summary: 'choose the k frames of a video that a trained TSPO agent picks for a question',
  usage: 'pacer video select --agent DIR --video FILE --question "…" [--k 16] [--mode topk|bin-max] [--json]',
  description: `DIR is a TSPO agent (trainer: tspo writes it to its output_dir: config.json, model.safetensors,
and the frame encoder it was trained on). Every frame of FILE (a video ffmpeg reads, or an .npz frame
array) is encoded once, scored against the question, and k frames are chosen: topk (the k highest
scores) or bin-max (the best frame of each of k uniform bins, TSPO's choice for VideoMME). Prints the
frame indices and their timestamps (index / fps, seconds), ready for any video model's frame list.`,
  options: {
    agent: { type: 'string', arg: 'DIR', help: 'the trained agent folder (required)' },
    video: { type: 'string', arg: 'FILE', help: 'the video (required)' },
    question: { type: 'string', arg: 'TEXT', help: 'the question (required)' },
    k: { type: 'string', arg: 'K', help: 'frames to choose', default: '16' },
    mode: { type: 'string', arg: 'M', help: `selection (${SELECT_MODES.join(' | ')})`, default: 'topk' },
    'cache-dir': { type: 'string', arg: 'DIR', help: 'keep the frame features here for later calls' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
  async run(v) {
    const agent = str(v.agent);
    const video = str(v.video);
    const question = str(v.question);
    if (!agent || !video || !question)
      throw new UsageError('--agent DIR, --video FILE and --question TEXT are required');
    if (!existsSync(video)) throw new UsageError(`--video ${video}: no such file`);
    const k = int(v.k, 'k', 16);
    const mode = oneOf(v.mode, 'mode', SELECT_MODES, 'topk');
    const sel = await selectWithAgent(agent, video, question, { k, mode, cacheDir: str(v['cache-dir']) ?? null });
    output(!!v.json, sel, () => {
      process.stdout.write(`frames (${sel.indices.length} of ${sel.frames}, ${mode}): ${sel.indices.join(' ')}\n`);
      process.stdout.write(`timestamps (s): ${sel.timestamps.join(' ')}\n`);
    });
    return 0;
  },
});
