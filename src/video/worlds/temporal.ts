// Temporal-understanding world in TempCompass's design (Liu et al., 2024): four temporal dimensions —
// order (which of two events comes first), direction (which way a thing moves), speed (which of two
// things moving the same distance is faster), attribute_change (what a thing turns into) — each
// asked in three formats: multi-choice (lettered options), yes_no (a claim that is true or false,
// about half each), caption_matching (pick the caption that fits). Rows carry `dimension`, `format`,
// `options` and `answer` (the correct letter; for yes_no the options are ["yes", "no"]).
import { basePhrase, capitalize, caption, predicate, type VideoEvent } from './grammar.js';
import {
  assistant,
  captionMatching,
  DIRECTIONS,
  Grid,
  itemSeed,
  multipleChoice,
  OPPOSITE,
  Rand,
  userVideo,
} from './common.js';
import { choiceKnob, rangeKnob, schedule, type World, type WorldOptions } from './world.js';
import { perform, Stage } from './stage.js';
import { COLOR_NAMES, type Video } from './scene.js';

export const DIMENSIONS = ['order', 'direction', 'speed', 'attribute_change'] as const;
export const FORMATS = ['multi-choice', 'yes_no', 'caption_matching'] as const;

/** One temporal fact, put three ways: options[0], claims[0] and captions[0] are the true ones. */
interface Probe {
  question: string;
  options: string[];
  claims: [string, string];
  captions: [string, string];
}

const sentence = (s: string) => `${capitalize(s)}.`;

function direction(st: Stage, end: number): Probe {
  const { actor, plan } = st.spawn({ verb: 'move', cells: 2 });
  perform(actor, plan, ...schedule(st.r, [st.r.int(3, 5)], end)[0]);
  const d = plan.dir!;
  const other = st.r.pick(DIRECTIONS.filter((x) => x !== d));
  return {
    question: `In which direction does the ${actor.name} move?`,
    options: [d, ...DIRECTIONS.filter((x) => x !== d)],
    claims: [`Does the ${actor.name} move ${d}?`, `Does the ${actor.name} move ${other}?`],
    captions: [sentence(`the ${actor.name} moves ${d}`), sentence(`the ${actor.name} moves ${OPPOSITE[d]}`)],
  };
}

function order(st: Stage, end: number): Probe {
  const verbs = ['move', 'turn', 'grow', 'shrink', 'spin', 'flash', 'bounce'];
  const a = st.spawn({ verb: st.r.pick(verbs) });
  const b = st.spawn({ verb: st.r.pick(verbs) });
  const [sa, sb] = schedule(st.r, [st.r.int(2, 3), st.r.int(2, 3)], end);
  const ea = perform(a.actor, a.plan, ...sa);
  const eb = perform(b.actor, b.plan, ...sb);
  const then = (x: VideoEvent, y: VideoEvent) => `${caption(x)}, and then ${caption(y)}`;
  return {
    question: 'In which order do these things happen?',
    options: [sentence(then(ea, eb)), sentence(then(eb, ea)), 'Both happen at the same time.'],
    claims: [`Does ${basePhrase(ea)} before ${caption(eb)}?`, `Does ${basePhrase(eb)} before ${caption(ea)}?`],
    captions: [sentence(then(ea, eb)), sentence(then(eb, ea))],
  };
}

function speed(st: Stage, end: number): Probe {
  const first = st.spawn({ verb: 'move', cells: 2 });
  const second = st.spawn({ verb: 'move', cells: 2, dir: first.plan.dir });
  const fastFirst = st.r.chance(0.5);
  const [fast, slow] = fastFirst ? [first, second] : [second, first];
  perform(fast.actor, fast.plan, ...schedule(st.r, [st.r.int(1, 2)], end)[0]);
  perform(slow.actor, slow.plan, ...schedule(st.r, [st.r.int(4, 6)], end)[0]);
  const [f, s] = [fast.actor.name, slow.actor.name];
  return {
    question: 'Which of them moves faster?',
    options: [`the ${f}`, `the ${s}`, 'they move at the same speed'],
    claims: [`Does the ${f} move faster than the ${s}?`, `Does the ${s} move faster than the ${f}?`],
    captions: [sentence(`the ${f} moves faster than the ${s}`), sentence(`the ${s} moves faster than the ${f}`)],
  };
}

function attributeChange(st: Stage, end: number): Probe {
  const { actor, plan } = st.spawn({ verb: st.r.pick(['turn', 'grow', 'shrink']) });
  const name = actor.name;
  const e = perform(actor, plan, ...schedule(st.r, [st.r.int(2, 4)], end)[0]);
  const alts: VideoEvent[] = [
    ...COLOR_NAMES.filter((c) => c !== e.attributes.from && c !== e.attributes.to && c !== actor.color).map((c) => ({
      ...e,
      verb: 'turn',
      attributes: { to: c },
    })),
    ...['grow', 'shrink'].filter((v) => v !== e.verb).map((v) => ({ ...e, verb: v, attributes: {} })),
  ];
  const wrong = st.r.shuffle(alts).slice(0, 3);
  return {
    question: `What happens to the ${name}?`,
    options: [e, ...wrong].map((x) => sentence(`it ${predicate(x)}`)),
    claims: [`Does ${basePhrase(e)}?`, `Does ${basePhrase(wrong[0])}?`],
    captions: [sentence(caption(e)), sentence(caption(wrong[0]))],
  };
}

const BUILD = { order, direction, speed, attribute_change: attributeChange };

/** The prompt, options and answer for one format. */
function ask(r: Rand, p: Probe, format: string) {
  if (format === 'yes_no') {
    const yes = r.chance(0.5);
    const text = `${p.claims[yes ? 0 : 1]} Answer yes or no.`;
    return { text, options: ['yes', 'no'], answer: yes ? 'A' : 'B', reply: yes ? 'yes' : 'no' };
  }
  const opts = format === 'multi-choice' ? p.options : [...p.captions];
  const order = r.shuffle(opts.map((_, i) => i));
  const shuffled = order.map((i) => opts[i]);
  if (format === 'caption_matching')
    return captionMatching('Which caption matches the video better?', shuffled, order.indexOf(0));
  const m = multipleChoice(p.question, shuffled, order.indexOf(0));
  return { ...m, reply: m.answer };
}

function generate(i: number, seed: number, o: WorldOptions) {
  const k = o.knobs as { dimension: string; format: string; duration: [number, number] };
  const r = new Rand(itemSeed('temporal', seed, i));
  const dimension = k.dimension === 'all' ? r.pick(DIMENSIONS) : k.dimension;
  const format = k.format === 'all' ? r.pick(FORMATS) : k.format;
  const st = new Stage(r, new Grid(o.width, o.height, 4));
  const D = r.int(...k.duration);
  const probe = BUILD[dimension as keyof typeof BUILD](st, D - 1);
  const q = ask(r, probe, format);
  const id = `temporal-${String(i).padStart(6, '0')}`;
  const clip = { frames: Math.round(D * o.fps), background: [24, 24, 24] as const, backdrop: [], things: st.things() };
  const video: Video = { fps: o.fps, width: o.width, height: o.height, clips: [clip] };
  const row = {
    id,
    videos: [id],
    prompt: userVideo(q.text),
    completion: assistant(q.reply),
    solution: q.reply,
    options: q.options,
    answer: q.answer,
    dimension,
    format,
    duration: D,
    truth: { events: st.events() },
  };
  return { videos: [{ key: id, video }], rows: [row] };
}

export const temporal: World = {
  name: 'temporal',
  summary: 'TempCompass-style order / direction / speed / attribute change, in 3 question formats',
  fps: 2,
  knobs: {
    dimension: choiceKnob('dimension', ['all', ...DIMENSIONS], 'all', 'temporal dimension asked about'),
    format: choiceKnob('format', ['all', ...FORMATS], 'all', 'question format'),
    duration: rangeKnob('duration', 8, '8-12', 'video length in seconds'),
  },
  generate,
};
