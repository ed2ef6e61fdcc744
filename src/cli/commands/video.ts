// `pacer video make`: write a procedural video world to disk — videos (MP4, or .npz frame arrays with
// --frames-only) and JSONL rows in TRL's vision format. World knobs are options of their own,
// gathered from the worlds' declarations; a knob given to a world that does not have it is an error.
import { Progress } from '../../report/progress.js';
import { makeDataset, WORLDS } from '../../video/index.js';
import { parseKnobs } from '../../video/worlds/registry.js';
import { defineCommand, int, num, oneOf, type OptionSpec, output, str, UsageError } from '../command.js';

/** One option per knob name; the help names the worlds that take it and their defaults. */
function knobOptions(): Record<string, OptionSpec> {
  const by = new Map<string, Array<{ world: string; help: string; arg: string; dflt: string }>>();
  for (const w of Object.values(WORLDS))
    for (const [k, s] of Object.entries(w.knobs))
      by.set(k, [...(by.get(k) ?? []), { world: w.name, help: s.help, arg: s.arg, dflt: s.default }]);
  const out: Record<string, OptionSpec> = {};
  for (const [k, xs] of by) {
    const dflt = xs.length === 1 ? xs[0].dflt : xs.map((x) => `${x.world} ${x.dflt}`).join(', ');
    out[k] = {
      type: 'string',
      arg: xs[0].arg,
      help: `[${xs.map((x) => x.world).join(', ')}] ${xs[0].help}`,
      default: dflt,
    };
  }
  return out;
}

const KNOBS = knobOptions();

function size(v: unknown): { width?: number; height?: number } {
  if (v === undefined) return {};
  const m = /^(\d+)(?:x(\d+))?$/.exec(String(v));
  if (!m) throw new UsageError(`--size must be N or WxH (e.g. 56 or 112x56), got '${v}'`);
  return { width: Number(m[1]), height: Number(m[2] ?? m[1]) };
}

const WORLD_LIST = Object.values(WORLDS)
  .map((w) => `  ${w.name.padEnd(11)} ${w.summary}`)
  .join('\n');

export const videoMake = defineCommand({
  name: 'video make',
  summary: 'generate a procedural video dataset (videos + JSONL rows with exact annotations)',
  usage: 'pacer video make --world W --n N --seed S --out DIR [--frames-only] [--size 56] [world options]',
  description: `Worlds:
${WORLD_LIST}

Writes DIR/data.jsonl (TRL vision rows: "videos" paths relative to DIR, a conversational "prompt"
whose user turn is [{"type": "video"}, {"type": "text"}], and "completion"/"solution" or
"chosen"/"rejected"; every row has "id" and a "truth" object with the exact event log), the videos in
DIR/videos/ (MP4: H.264 yuv420p; with --frames-only .npz files holding "frames" uint8 [T, H, W, 3] and
"fps", lossless and much faster to write — numpy.load and pacer's decodeFrames read them), DIR/info.json
and the world's extra files (anomaly: taxonomy.json). Item i depends only on (world, seed, i).
Sizes default to 56x56 (a multiple of 28, so Qwen-VL processors do not resize).`,
  options: {
    world: { type: 'string', arg: 'W', help: `world (${Object.keys(WORLDS).join(', ')})`, default: 'grounding' },
    n: { type: 'string', arg: 'N', help: 'items (vinoground and anomaly items are pairs of videos)', default: '100' },
    seed: { type: 'string', arg: 'S', help: 'random seed', default: '0' },
    out: { type: 'string', arg: 'DIR', help: 'output directory (required)' },
    'frames-only': { type: 'boolean', help: 'write .npz frame arrays instead of MP4 (no ffmpeg)' },
    size: { type: 'string', arg: 'N|WxH', help: 'frame size in pixels', default: '56' },
    fps: { type: 'string', arg: 'F', help: "frames per second (default: the world's, 2; needle 1)" },
    crf: { type: 'string', arg: 'Q', help: 'x264 quality for the MP4s (0 = best, 51 = worst)', default: '23' },
    jobs: { type: 'string', arg: 'N', help: 'videos encoded at once', default: '2' },
    json: { type: 'boolean', help: 'print one JSON object' },
    ...KNOBS,
  },
  async run(v) {
    const world = oneOf(v.world, 'world', Object.keys(WORLDS), 'grounding');
    const out = str(v.out);
    if (!out) throw new UsageError('--out DIR is required');
    const knobs: Record<string, string | undefined> = {};
    for (const k of Object.keys(KNOBS)) if (v[k] !== undefined) knobs[k] = String(v[k]);
    try {
      parseKnobs(WORLDS[world], knobs);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const n = int(v.n, 'n', 100);
    const fps = num(v.fps, 'fps');
    if (fps !== undefined && !(fps > 0)) throw new UsageError(`--fps must be > 0, got '${v.fps}'`);
    const progress = new Progress(n, `video make ${world}`, !v.json);
    const t0 = Date.now();
    const r = await makeDataset({
      world,
      n,
      seed: int(v.seed, 'seed', 0, 0),
      out,
      framesOnly: !!v['frames-only'],
      ...size(v.size),
      fps,
      crf: int(v.crf, 'crf', 23, 0),
      jobs: int(v.jobs, 'jobs', 2),
      knobs,
      onItem: (done) => progress.update(done),
    });
    const seconds = (Date.now() - t0) / 1000;
    const result = { ...r, seconds, frames_per_s: Math.round(r.frames / Math.max(seconds, 1e-9)) };
    output(!!v.json, result, () =>
      console.log(
        `wrote ${r.rows} rows and ${r.videos} videos (${r.frames} frames) to ${r.out} in ${seconds.toFixed(1)} s`,
      ),
    );
    return 0;
  },
});
