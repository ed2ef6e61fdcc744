// Counterfactual temporal pairs in Vinoground's design (Zhang et al., 2024): two videos with the same
// things in the same places doing the same two acts, in opposite orders — "A, and then B" versus
// "B, and then A" — and the two captions. Half the pairs have one thing doing both acts ("the red
// circle grows and then turns blue"), half two things. Each pair gives two rows sharing `pair_id`,
// with `variant` 'pos' or 'neg', the row's own `caption` and video, and a caption-matching question
// (both captions as `options`, `answer` the letter of the row's caption) for the text score.
import { capitalize, caption, predicate, type VideoEvent } from './grammar.js';
import { assistant, captionMatching, Grid, itemSeed, Rand, userVideo } from './common.js';
import { schedule, type World, type WorldOptions } from './world.js';
import { perform, Stage } from './stage.js';
import type { Video } from './scene.js';

const VERBS = ['move', 'turn', 'grow', 'shrink', 'spin', 'flash', 'bounce'];

function describe(x: VideoEvent, y: VideoEvent, same: boolean): string {
  return same ? `${caption(x)} and then ${predicate(y)}` : `${caption(x)}, and then ${caption(y)}`;
}

/** Cast the pair's things (the same draws for both videos), then act the plans in the given order. */
function build(seed: number, o: WorldOptions, same: boolean, swap: boolean) {
  const r = new Rand(seed);
  const st = new Stage(r, new Grid(o.width, o.height, 4));
  const v1 = r.pick(VERBS);
  const v2 = r.pick(VERBS.filter((v) => v !== v1));
  const one = st.spawn({ verb: v1 });
  const two = same ? { actor: one.actor, plan: st.planFor(one.actor, v2) } : st.spawn({ verb: v2 });
  const casts = [one, two];
  const D = r.int(8, 10);
  const slots = schedule(r, [3, 3], D - 1);
  const [first, second] = swap ? [casts[1], casts[0]] : casts;
  const e1 = perform(first.actor, first.plan, ...slots[0]);
  const e2 = perform(second.actor, second.plan, ...slots[1]);
  const clip = { frames: Math.round(D * o.fps), background: [24, 24, 24] as const, backdrop: [], things: st.things() };
  const video: Video = { fps: o.fps, width: o.width, height: o.height, clips: [clip] };
  return { video, caption: `${capitalize(describe(e1, e2, same))}.`, events: st.events(), duration: D };
}

function generate(i: number, seed: number, o: WorldOptions) {
  const s = itemSeed('vinoground', seed, i);
  const same = new Rand(s ^ 0x9e3779b9).chance(0.5);
  const pos = build(s, o, same, false);
  const neg = build(s, o, same, true);
  const pairId = `vinoground-${String(i).padStart(6, '0')}`;
  const flip = new Rand(s ^ 0x85ebca6b).chance(0.5);
  const options = flip ? [neg.caption, pos.caption] : [pos.caption, neg.caption];
  const rows = (
    [
      ['pos', pos],
      ['neg', neg],
    ] as const
  ).map(([variant, v]) => {
    const id = `${pairId}-${variant}`;
    const q = captionMatching('Which caption matches the video better?', options, options.indexOf(v.caption));
    return {
      id,
      pair_id: pairId,
      variant,
      caption: v.caption,
      videos: [id],
      prompt: userVideo(q.text),
      completion: assistant(q.reply),
      solution: q.reply,
      options,
      answer: q.answer,
      format: 'caption_matching',
      duration: v.duration,
      truth: { events: v.events },
    };
  });
  return {
    videos: [
      { key: `${pairId}-pos`, video: pos.video },
      { key: `${pairId}-neg`, video: neg.video },
    ],
    rows,
  };
}

export const vinoground: World = {
  name: 'vinoground',
  summary: 'Vinoground-style counterfactual pairs: "A, and then B" vs "B, and then A" (2 videos per item)',
  fps: 2,
  knobs: {},
  generate,
};
