// Temporal grounding world (Charades-STA style, for VideoTG-R1): each video shows several things
// acting at different times; the query "When does the red circle turn blue?" is answered by the
// event's [start, end] in seconds. Knobs set the difficulty: event length, distractors doing the
// same verb (with the same attribute where the names allow), static clutter, and a fraction of
// partially labelled items — the queried event happens twice (for colour, size and position changes
// with a reverting event in between), one occurrence is labelled in `segment`, and `truth` keeps both
// (VideoTG-R1's Boundary Reflection Agent is meant to find such items). Times are whole seconds.
import type { ColorName } from './scene.js';
import { whenQuestion, type VideoEvent } from './grammar.js';
import { assistant, Grid, itemSeed, OPPOSITE, Rand, userVideo } from './common.js';
import { type Actor, intKnob, numKnob, rangeKnob, schedule, type World, type WorldOptions } from './world.js';
import { perform, type Plan, Stage } from './stage.js';

const VERBS = ['move', 'turn', 'grow', 'shrink', 'spin', 'flash', 'bounce', 'appear', 'vanish'];
/** Verbs that can happen twice to one thing (move, turn, grow and shrink revert in between). */
const REPEATABLE = ['move', 'turn', 'grow', 'shrink', 'spin', 'flash', 'bounce'];
const REVERT: Record<string, string> = { grow: 'shrink', shrink: 'grow' };

interface Knobs {
  events: [number, number];
  'event-length': [number, number];
  duration: [number, number];
  distractors: number;
  clutter: number;
  partial: number;
  grid: number;
}

/** The undoing act between two occurrences, or null when none is needed. */
function revert(a: Actor, p: Plan, t0: number, t1: number, from: ColorName): VideoEvent | null {
  if (p.verb === 'move') return a.move(OPPOSITE[p.dir!], t0, t1);
  if (p.verb === 'turn') return a.turn(from, t0, t1);
  if (REVERT[p.verb]) return a.simple(REVERT[p.verb], t0, t1);
  return null;
}

function lengths(r: Rand, k: Knobs, n: number): number[] {
  return Array.from({ length: n }, () => r.int(...k['event-length']));
}

/** The queried thing: one occurrence, or two with a revert between (partial labels). */
function actQuery(st: Stage, k: Knobs, end: number, partial: boolean) {
  const verb = st.r.pick(partial ? REPEATABLE : VERBS);
  const { actor, plan } = st.spawn({ verb });
  const from = actor.color;
  if (!partial) {
    const [[t0, t1]] = schedule(st.r, lengths(st.r, k, 1), end);
    return { plan, occurrences: [perform(actor, plan, t0, t1)] };
  }
  const needsRevert = verb === 'move' || verb === 'turn' || verb in REVERT;
  const slots = schedule(st.r, lengths(st.r, k, needsRevert ? 3 : 2), end);
  const first = perform(actor, plan, ...slots[0]);
  if (needsRevert) revert(actor, plan, ...slots[1], from);
  const second = perform(actor, plan, ...slots[slots.length - 1]);
  return { plan, occurrences: [first, second] };
}

function checkRoom(k: Knobs, grid: Grid): void {
  const worst = 2 * (k.events[1] + k.distractors) + k.clutter;
  if (worst > grid.n * grid.n)
    throw new Error(
      `pacer: up to ${k.events[1]} events, ${k.distractors} distractors and ${k.clutter} clutter ` +
        `need ${worst} cells; the ${grid.n}x${grid.n} grid has ${grid.n * grid.n} — ` +
        'lower --events, --distractors or --clutter, or raise --grid',
    );
}

/** Events are cut to fit a short video, down to 1 s; a partial item needs three of them, 1 s apart. */
function checkTime(k: Knobs): void {
  const need = k.partial > 0 ? 5 : 1;
  if (k.duration[0] - 1 < need)
    throw new Error(
      `pacer: --duration ${k.duration.join('-')} is too short: ` +
        `the queried event${k.partial > 0 ? ' of a partial item (3 events, 1 s apart)' : ''} needs ${need} s ` +
        `before the last second; use a --duration of at least ${need + 1}` +
        (k.partial > 0 ? ' (or --partial 0)' : ''),
    );
}

function generate(i: number, seed: number, o: WorldOptions) {
  const k = o.knobs as unknown as Knobs;
  const r = new Rand(itemSeed('grounding', seed, i));
  const grid = new Grid(o.width, o.height, k.grid);
  checkRoom(k, grid);
  checkTime(k);
  const st = new Stage(r, grid);
  const D = r.int(...k.duration);
  const end = D - 1; // the last event ends a second before the video does, so its end state is shown
  const partial = r.chance(k.partial);
  const { plan, occurrences } = actQuery(st, k, end, partial);
  for (let d = 0; d < k.distractors; d++) {
    const { actor, plan: p } = st.spawn(plan);
    perform(actor, p, ...schedule(r, lengths(r, k, 1), end)[0]);
  }
  const nEvents = r.int(...k.events);
  for (let e = 1; e < nEvents; e++) {
    const verb = r.pick(VERBS);
    const { actor, plan: p } = st.spawn({ verb: verb === 'move' && !st.canMove() ? 'flash' : verb });
    perform(actor, p, ...schedule(r, lengths(r, k, 1), end)[0]);
  }
  st.addClutter(k.clutter);
  const events = st.events();
  const label = partial ? r.int(0, 1) : 0;
  const q = occurrences[label];
  const id = `grounding-${String(i).padStart(6, '0')}`;
  const ask = `${whenQuestion(q)} Answer with the start and end time in seconds as <answer>[start, end]</answer>.`;
  const video = {
    fps: o.fps,
    width: o.width,
    height: o.height,
    clips: [{ frames: Math.round(D * o.fps), background: [24, 24, 24] as const, backdrop: [], things: st.things() }],
  };
  const row = {
    id,
    videos: [id],
    prompt: userVideo(ask),
    completion: assistant(`<answer>[${q.t0}, ${q.t1}]</answer>`),
    solution: `[${q.t0}, ${q.t1}]`,
    segment: [q.t0, q.t1],
    duration: D,
    query: whenQuestion(q),
    truth: { events, occurrences: occurrences.map((e) => [e.t0, e.t1]), partial, labelled: label },
  };
  return { videos: [{ key: id, video }], rows: [row] };
}

export const grounding: World = {
  name: 'grounding',
  summary: 'when does the red circle turn blue? → [start, end] s; distractors, clutter, partial labels',
  fps: 2,
  knobs: {
    events: rangeKnob('events', 1, '3-6', 'things with an event of their own per video'),
    'event-length': rangeKnob('event-length', 1, '2-6', 'event length in seconds (cut to fit a short video)'),
    duration: rangeKnob('duration', 4, '20-40', 'video length in seconds'),
    distractors: intKnob('distractors', 0, '1', 'other things doing the queried verb (same attribute when possible)'),
    clutter: intKnob('clutter', 0, '2', 'static grey shapes (at most the free grid cells)'),
    partial: numKnob('partial', 0, 1, '0.15', 'fraction of items whose event happens twice with one labelled'),
    grid: intKnob(
      'grid',
      2,
      '4',
      'cells per side of the stage (a thing spans 0.6 of a cell: fewer cells, bigger things)',
    ),
  },
  generate,
};
