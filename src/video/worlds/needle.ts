// Needle-in-a-long-video world for TSPO (Tang et al., arXiv 2508.04369): a short clip in which one
// distinctive thing acts (the needle) is hidden among distractor clips of other things acting, and
// inserted r times at random clip slots, as TSPO's "specific" samples interleave chunks of the true
// video with irrelevant clips. The question is a 4-way multiple choice about what the needle thing
// does; `needle_mask` marks each frame of the needle's copies (1) against distractor frames (0), for
// TSPO's temporal reward |selected ∩ needle| / k. A fraction of "general" items has no distractors.
// truth.events holds every event at video times; truth.needle_clip_event the needle's, at clip times.
import { BACKGROUNDS, type Clip, COLOR_NAMES, type ColorName, type ShapeName, type Video } from './scene.js';
import { predicate, type VideoEvent } from './grammar.js';
import { assistant, DIRECTIONS, Grid, itemSeed, multipleChoice, Rand, userVideo } from './common.js';
import { intKnob, numKnob, rangeKnob, type World, type WorldOptions } from './world.js';
import { perform, Stage } from './stage.js';

const VERBS = ['move', 'turn', 'grow', 'shrink', 'spin', 'flash', 'bounce'];

interface Knobs {
  'distractor-clips': number;
  'clip-frames': number;
  repeats: [number, number];
  general: number;
}

/** One clip: a stage whose things act once each, with a reserved name kept off the distractors. */
function clip(r: Rand, o: WorldOptions, frames: number, reserved: VideoEvent | null, needleVerb?: string) {
  const st = new Stage(r, new Grid(o.width, o.height, 3));
  if (reserved) {
    const [c, s] = reserved.subject.split(' ') as [ColorName, ShapeName];
    st.names.take(s, c);
    if (reserved.verb === 'turn') st.names.take(s, reserved.attributes.to as ColorName);
  }
  const end = (frames - 1) / o.fps;
  const len = Math.min(end, Math.max(1, Math.round(end / 3)));
  const n = needleVerb ? 1 : r.int(1, 2);
  const events: VideoEvent[] = [];
  for (let j = 0; j < n; j++) {
    const { actor, plan } = st.spawn({ verb: needleVerb ?? r.pick(VERBS) });
    const t0 = r.int(0, Math.floor(end - len));
    events.push(perform(actor, plan, t0, t0 + len));
  }
  const c: Clip = { frames, background: r.pick(BACKGROUNDS), backdrop: [], things: st.things() };
  return { clip: c, events };
}

/** The needle clip: one thing acting once; no distractor uses its names. */
function needleClip(r: Rand, o: WorldOptions, frames: number) {
  const made = clip(r, o, frames, null, r.pick(VERBS));
  return { ...made, event: made.events[0] };
}

function question(r: Rand, e: VideoEvent) {
  const circle = e.subject.endsWith('circle'); // a spinning circle looks still: not an option for one
  const others = r.shuffle(VERBS.filter((v) => v !== e.verb && !(circle && v === 'spin'))).slice(0, 3);
  const colors = COLOR_NAMES.filter((c) => c !== e.subject.split(' ')[0]);
  const attrs = (v: string): VideoEvent['attributes'] =>
    v === 'move' ? { direction: r.pick(DIRECTIONS) } : v === 'turn' ? { to: r.pick(colors) } : {};
  const alt = (v: string): VideoEvent => ({ ...e, verb: v, attributes: attrs(v) });
  const opts = [e, ...others.map(alt)].map((x) => `It ${predicate(x)}.`);
  const order = r.shuffle(opts.map((_, j) => j));
  return multipleChoice(
    `What does the ${e.subject} do?`,
    order.map((j) => opts[j]),
    order.indexOf(0),
  );
}

function generate(i: number, seed: number, o: WorldOptions) {
  const k = o.knobs as unknown as Knobs;
  const r = new Rand(itemSeed('needle', seed, i));
  const F = k['clip-frames'];
  const needle = needleClip(r, o, F);
  const general = r.chance(k.general);
  const reps = general ? 1 : r.int(...k.repeats);
  const nd = general ? 0 : k['distractor-clips'];
  const slots = new Set(r.shuffle(Array.from({ length: nd + reps }, (_, j) => j)).slice(0, reps));
  const clips: Clip[] = [];
  const mask: number[] = [];
  const segments: number[][] = [];
  const events: VideoEvent[] = [];
  for (let s = 0; s < nd + reps; s++) {
    const t = (s * F) / o.fps;
    const c = slots.has(s) ? needle : clip(r, o, F, needle.event);
    if (slots.has(s)) segments.push([t, t + F / o.fps]);
    clips.push(c.clip);
    for (let f = 0; f < F; f++) mask.push(slots.has(s) ? 1 : 0);
    for (const e of c.events) events.push({ ...e, t0: t + e.t0, t1: t + e.t1 });
  }
  const q = question(r, needle.event);
  const id = `needle-${String(i).padStart(6, '0')}`;
  const video: Video = { fps: o.fps, width: o.width, height: o.height, clips };
  const row = {
    id,
    videos: [id],
    prompt: userVideo(q.text),
    completion: assistant(q.answer),
    solution: q.answer,
    options: q.options,
    answer: q.answer,
    duration: mask.length / o.fps,
    needle_mask: mask,
    needle_segments: segments,
    general,
    truth: { events, needle_clip_event: needle.event },
  };
  return { videos: [{ key: id, video }], rows: [row] };
}

export const needle: World = {
  name: 'needle',
  summary: 'TSPO-style needle: a short clip hidden among distractor clips, 4-way question, frame mask',
  fps: 1,
  knobs: {
    'distractor-clips': intKnob('distractor-clips', 0, '12', 'distractor clips per video'),
    'clip-frames': intKnob('clip-frames', 4, '16', 'frames per clip (needle and distractors)'),
    repeats: rangeKnob('repeats', 1, '1-4', 'times the needle clip is inserted'),
    general: numKnob('general', 0, 1, '0', 'fraction of items with the needle clip alone (no distractors)'),
  },
  generate,
};
