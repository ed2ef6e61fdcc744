// Context-aware anomaly world in CueBench's design (Yu et al., arXiv 2511.00613): absolute anomalies
// (anomalous anywhere: crash, fire, fall) and conditional ones (anomalous only in context: crossing
// on red, climbing without a helmet, swimming at night), each item drawn twice from the same random
// draws — the anomaly and its normal twin. The hierarchy root → normal | anomaly → absolute |
// conditional → class is written to taxonomy.json; rows carry the class's `label` path. Per video one
// row per task (`task` column):
//   recognition   4-way: the class, its twin and two others ("What happens in the video?")
//   detection     yes/no ("Is anything anomalous happening?")
//   grounding     anomalies only: `segment` [t0, t1] s
//   anticipation  the video cut at the anomaly's onset (the twin's at the same time; its own video
//                 key "<key>-cut"), 4-way as recognition ("What is about to happen?"); the cue is
//                 visible before the onset in every scene (anomaly-scenes.ts)
//   cue           4-way over context cues: the class's own cue, its twin's and two others ("Which
//                 detail decides …?"; CueBench's fifth task is unnamed in the summaries we have, this is
//                 research/video-methods.md's guess)
// Multiple-choice rows give each option's class (`option_classes`, for the hierarchical_label reward;
// `option_labels` their paths) and `twin_answer`, the letter of the twin's option: picking it is a
// context error (anomaly ↔ its normal twin). Each row's `twin_id` names the other video of its item.
// Item i shows the (i mod 6)-th anomaly/normal pair, so classes are balanced.
import { assistant, itemSeed, LETTERS, multipleChoice, Rand, userVideo } from './common.js';
import { listKnob, type World, type WorldOptions } from './world.js';
import {
  cars,
  climbing,
  crossing,
  house,
  ledge,
  swimming,
  type SceneParams,
  type SceneVariant,
} from './anomaly-scenes.js';
import type { Video } from './scene.js';

interface Pair {
  anomaly: string;
  normal: string;
  type: 'absolute' | 'conditional';
  scene: string;
  build(p: SceneParams, anomaly: boolean): SceneVariant;
}

export const PAIRS: Pair[] = [
  { anomaly: 'crash', normal: 'pass_by', type: 'absolute', scene: 'road', build: cars },
  { anomaly: 'fire', normal: 'house_lights', type: 'absolute', scene: 'house', build: house },
  { anomaly: 'fall', normal: 'stop_at_edge', type: 'absolute', scene: 'ledge', build: ledge },
  { anomaly: 'cross_on_red', normal: 'cross_on_green', type: 'conditional', scene: 'crossing', build: crossing },
  { anomaly: 'climb_without_helmet', normal: 'climb_with_helmet', type: 'conditional', scene: 'wall', build: climbing },
  { anomaly: 'swim_at_night', normal: 'swim_by_day', type: 'conditional', scene: 'pool', build: swimming },
];

export const DESCRIPTIONS: Record<string, string> = {
  crash: 'two cars crash into each other',
  pass_by: 'two cars drive past each other',
  fire: 'a house catches fire',
  house_lights: 'the lights of a house come on',
  fall: 'a person falls off a ledge',
  stop_at_edge: 'a person stops at the edge of a ledge',
  cross_on_red: 'a pedestrian crosses the road while the light is red',
  cross_on_green: 'a pedestrian crosses the road while the light is green',
  climb_without_helmet: 'a person climbs a wall without a helmet',
  climb_with_helmet: 'a person climbs a wall wearing a helmet',
  swim_at_night: 'a person swims in a pool at night',
  swim_by_day: 'a person swims in a pool during the day',
};

/** The context cue that tells each class from its twin (the cue task's options). */
export const CUES: Record<string, string> = {
  crash: 'the two cars drive in the same lane',
  pass_by: 'the two cars drive in separate lanes',
  fire: 'smoke rises from the roof',
  house_lights: 'lamps light up the windows',
  fall: 'the ledge has no barrier',
  stop_at_edge: 'a barrier guards the ledge',
  cross_on_red: 'the traffic light is red',
  cross_on_green: 'the traffic light is green',
  climb_without_helmet: 'the climber has no helmet',
  climb_with_helmet: 'the climber wears a helmet',
  swim_at_night: 'it is night',
  swim_by_day: 'it is day',
};

export const TASKS = ['recognition', 'detection', 'grounding', 'anticipation', 'cue'] as const;

/** The label path of a class: ['anomaly', type, class] or ['normal', class]. */
export function labelOf(cls: string): string[] {
  const a = PAIRS.find((p) => p.anomaly === cls);
  if (a) return ['anomaly', a.type, cls];
  if (PAIRS.some((p) => p.normal === cls)) return ['normal', cls];
  throw new Error(`pacer: unknown anomaly-world class '${cls}'`);
}

/** The taxonomy tree written to taxonomy.json. */
export function taxonomy() {
  const leaf = (name: string, p: Pair, twin: string) => ({
    name,
    scene: p.scene,
    twin,
    description: DESCRIPTIONS[name],
  });
  const of = (t: Pair['type']) => PAIRS.filter((p) => p.type === t).map((p) => leaf(p.anomaly, p, p.normal));
  return {
    name: 'root',
    children: [
      { name: 'normal', children: PAIRS.map((p) => leaf(p.normal, p, p.anomaly)) },
      {
        name: 'anomaly',
        children: [
          { name: 'absolute', children: of('absolute') },
          { name: 'conditional', children: of('conditional') },
        ],
      },
    ],
  };
}

/** A 4-way question over classes (the class, its twin, two others) phrased by `text(class)`. */
function classChoice(r: Rand, cls: string, twin: string, question: string, text: Record<string, string>) {
  const all = PAIRS.flatMap((p) => [p.anomaly, p.normal]).filter((c) => c !== cls && c !== twin);
  const classes = r.shuffle([cls, twin, ...r.shuffle(all).slice(0, 2)]);
  const q = multipleChoice(
    question,
    classes.map((c) => text[c]),
    classes.indexOf(cls),
  );
  return {
    text: q.text,
    reply: q.answer,
    options: q.options,
    answer: q.answer,
    option_classes: classes,
    option_labels: classes.map(labelOf),
    twin_answer: LETTERS[classes.indexOf(twin)],
  };
}

function taskRow(r: Rand, task: string, cls: string, twin: string, v: SceneVariant, duration: number) {
  if (task === 'recognition') return classChoice(r, cls, twin, 'What happens in the video?', DESCRIPTIONS);
  if (task === 'anticipation') return classChoice(r, cls, twin, 'What is about to happen?', DESCRIPTIONS);
  if (task === 'cue')
    return classChoice(r, cls, twin, 'Which detail decides whether what happens is normal or anomalous?', CUES);
  if (task === 'detection') {
    const yes = v.anomaly !== null;
    const text = 'Is anything anomalous happening in this video? Answer yes or no.';
    return { text, reply: yes ? 'yes' : 'no', options: ['yes', 'no'], answer: yes ? 'A' : 'B' };
  }
  const [s, e] = v.anomaly!;
  const text =
    'When does the anomaly happen? Answer with the start and end time in seconds as <answer>[start, end]</answer>.';
  return { text, reply: `<answer>[${s}, ${e}]</answer>`, solution: `[${s}, ${e}]`, segment: [s, e], duration };
}

function generate(i: number, seed: number, o: WorldOptions) {
  const tasks = o.knobs.tasks as string[];
  const r = new Rand(itemSeed('anomaly', seed, i));
  const pair = PAIRS[i % PAIRS.length];
  const t0 = r.int(1, 3);
  const len = r.int(3, 5);
  const D = t0 + 2 * len + 2;
  const params: SceneParams = { width: o.width, height: o.height, t0, len, duration: D, u: r.next() };
  const base = `anomaly-${String(i).padStart(6, '0')}`;
  const variants = [true, false].map((isAnomaly) => ({
    key: `${base}-${isAnomaly ? 'anomaly' : 'normal'}`,
    cls: isAnomaly ? pair.anomaly : pair.normal,
    twin: isAnomaly ? pair.normal : pair.anomaly,
    v: pair.build(params, isAnomaly),
  }));
  const rows = variants.flatMap((x, j) =>
    tasks
      .filter((t) => t !== 'grounding' || x.v.anomaly)
      .map((task) => {
        const { text, reply, ...rest } = taskRow(r, task, x.cls, x.twin, x.v, D);
        return {
          id: `${x.key}-${task}`,
          videos: [task === 'anticipation' ? `${x.key}-cut` : x.key],
          task,
          prompt: userVideo(text),
          completion: assistant(reply),
          solution: reply,
          ...rest,
          class: x.cls,
          label: labelOf(x.cls),
          scene: pair.scene,
          twin_id: variants[1 - j].key,
          truth: { events: [x.v.event], anomaly: x.v.anomaly },
        };
      }),
  );
  const video = (x: (typeof variants)[number], seconds: number): Video => ({
    fps: o.fps,
    width: o.width,
    height: o.height,
    clips: [x.v.clip(Math.round(seconds * o.fps))],
  });
  // anticipation: both twins cut where the anomaly starts (its first frame is not shown)
  const onset = variants[0].v.anomaly![0];
  const cuts = tasks.includes('anticipation')
    ? variants.map((x) => ({ key: `${x.key}-cut`, video: video(x, onset) }))
    : [];
  return { videos: [...variants.map((x) => ({ key: x.key, video: video(x, D) })), ...cuts], rows };
}

export const anomaly: World = {
  name: 'anomaly',
  summary: 'CueBench-style absolute and conditional anomalies, each with its normal twin; taxonomy.json',
  fps: 2,
  knobs: {
    tasks: listKnob('tasks', TASKS, TASKS.join(','), 'tasks asked about each video (grounding on anomalies only)'),
  },
  generate,
  files: () => ({ 'taxonomy.json': `${JSON.stringify(taxonomy(), null, 2)}\n` }),
};
