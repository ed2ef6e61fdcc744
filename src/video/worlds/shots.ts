// Shot world for TEMPLE (Li et al., arXiv 2503.16929): a video of n shots, each a clip with its own
// background (dark and light in turn, so a shot detector sees every cut: ffmpeg's scene score is
// mostly brightness) and one thing doing one act, and a caption per shot. Rows are TEMPLE's DPO pairs in
// `input=caption` mode with template narration: chosen narrates the shot captions in order ("First,
// …. Then, …. Finally, …."), rejected narrates them perturbed at magnitude m (TEMPLE's
// generate_dpo_data.py): drop keeps max(1, ⌊n/m⌋) random shots in order; shuffle permutes contiguous
// chunks of max(1, ⌊n/m⌋) shots; reverse reverses the chunk order. Pairs pass convert_to_swift.py's
// filters: drop needs a shorter rejected text; shuffle/reverse need a different text within 1.5× length.
import { caption, narrate } from './grammar.js';
import { assistant, Grid, itemSeed, Rand, userVideo } from './common.js';
import { choiceKnob, intKnob, type World, type WorldOptions } from './world.js';
import { perform, Stage } from './stage.js';
import { BACKGROUNDS, type Clip, LIGHT_BACKGROUNDS, type Video } from './scene.js';
import type { RGB } from '../raster.js';
import { perturbIndices, type PerturbationType, templeFilter } from '../perturb.js';

/** Acts whose end state differs from their start (so a 2-frame shot shows them). */
const VISIBLE = ['move', 'turn', 'grow', 'shrink', 'appear', 'vanish'];
const ALL = [...VISIBLE, 'spin', 'flash', 'bounce'];
export const PERTURBATIONS = ['drop', 'shuffle', 'reverse'] as const;
const INSTRUCTIONS = [
  'Describe the events in the video in chronological order.',
  'Narrate what happens in the video, in the order it happens.',
  'What happens in this video? Describe each event in order.',
  'Give a chronological account of the events in the video.',
  'Describe the video step by step, from beginning to end.',
  'List the events of the video in the order they occur.',
];

/** TEMPLE's perturbation of n items at magnitude m (src/video/perturb.ts), drawn from the item's stream. */
export function perturb<T>(r: Rand, xs: readonly T[], kind: string, m: number): T[] {
  return perturbIndices(xs.length, kind as PerturbationType, m, (ys) => r.shuffle(ys)).map((i) => xs[i]);
}

/** convert_to_swift.py's filters on a (chosen, rejected) narration pair. */
export function keepPair(kind: string, chosen: string, rejected: string): boolean {
  return templeFilter(kind as PerturbationType, chosen, rejected) === null;
}

function shot(r: Rand, o: WorldOptions, frames: number, bg: RGB) {
  const st = new Stage(r, new Grid(o.width, o.height, 3));
  const { actor, plan } = st.spawn({ verb: r.pick(frames < 4 ? VISIBLE : ALL) });
  const e = perform(actor, plan, 0, (frames - 1) / o.fps);
  if (r.chance(0.5)) st.addClutter(1);
  const clip: Clip = { frames, background: bg, backdrop: [], things: st.things() };
  return { clip, event: e };
}

function generate(i: number, seed: number, o: WorldOptions) {
  const k = o.knobs as { shots: number; 'shot-frames': number; perturb: string; magnitude: string };
  const r = new Rand(itemSeed('shots', seed, i));
  const clips: Clip[] = [];
  const shots: Array<{ t0: number; t1: number; caption: string }> = [];
  const events = [];
  const light = r.chance(0.5);
  for (let s = 0; s < k.shots; s++) {
    const bg = r.pick((s % 2 === 0) === light ? LIGHT_BACKGROUNDS : BACKGROUNDS);
    const { clip, event } = shot(r, o, k['shot-frames'], bg);
    const t0 = (s * k['shot-frames']) / o.fps;
    clips.push(clip);
    events.push({ ...event, t0: t0 + event.t0, t1: t0 + event.t1 });
    shots.push({ t0, t1: t0 + k['shot-frames'] / o.fps, caption: caption(event) });
  }
  const captions = shots.map((s) => s.caption);
  const chosen = narrate(captions);
  const kind = k.perturb === 'mixed' ? r.pick(PERTURBATIONS) : k.perturb;
  const m = k.magnitude === 'mixed' ? r.pick([2, 4, 8, 16]) : Number(k.magnitude);
  let rejected = chosen;
  for (let tries = 0; tries < 20 && !keepPair(kind, chosen, rejected); tries++)
    rejected = narrate(perturb(r, captions, kind, m));
  const id = `shots-${String(i).padStart(6, '0')}`;
  const video: Video = { fps: o.fps, width: o.width, height: o.height, clips };
  const row = {
    id,
    videos: [id],
    prompt: userVideo(r.pick(INSTRUCTIONS)),
    chosen: assistant(chosen),
    rejected: assistant(rejected),
    perturbation: { type: kind, magnitude: m, kept: keepPair(kind, chosen, rejected) },
    shots,
    duration: (k.shots * k['shot-frames']) / o.fps,
    truth: { events },
  };
  return { videos: [{ key: id, video }], rows: [row] };
}

export const shots: World = {
  name: 'shots',
  summary: 'TEMPLE-style videos of n shots with a caption each; DPO pairs (clean vs perturbed narration)',
  fps: 2,
  knobs: {
    shots: intKnob('shots', 1, '16', 'shots per video'),
    'shot-frames': intKnob('shot-frames', 2, '2', 'frames per shot'),
    perturb: choiceKnob('perturb', ['mixed', ...PERTURBATIONS], 'mixed', 'how the rejected narration is perturbed'),
    magnitude: choiceKnob('magnitude', ['mixed', '2', '4', '8', '16'], 'mixed', "TEMPLE's perturbation magnitude m"),
  },
  generate,
};
