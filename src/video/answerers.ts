// Frozen answerers for learned frame sampling (TSPO, Tang et al., arXiv 2508.04369): something that
// answers a multiple-choice question about a video from a chosen list of its frames, deterministically
// (TSPO's answerer is a frozen video LLM decoding greedily, so the only randomness is the frame choice).
// The interface is pluggable (registerAnswerer). Built in, two *frame-reading oracles* over the needle
// world's exact annotations (src/video/worlds/needle.ts) — cheap, honest stand-ins for a video LLM whose
// answer depends only on which frames it is shown:
//   needle_oracle  answers correctly iff at least `min_frames` chosen frames lie inside a copy of the
//                  needle clip (needle_mask); otherwise it guesses blind: the option a hash of the item's
//                  id picks (right for about 1 item in 4, whatever the frames)
//   event_oracle   the same, counting only chosen frames during the needle's action (the needle event's
//                  [t0, t1] inside each copy, from truth.needle_clip_event and needle_segments)
// Neither reads pixels. The 'vlm' answerer (./vlm-answerer.ts) is a pacer Qwen2(.5)-VL model answering
// greedily from the chosen frames; others register the same way (answer(item, frames) → text).
// The reward helpers follow TSPO's code: accuracy = the first option letter A–E of the answer matches;
// temporal = |chosen ∩ needle| / k (items without a needle_mask get 1, as TSPO's "general" samples do).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readJsonl } from '../data/jsonl.js';
import { DataError } from '../util/errors.js';

/** One question about one video (a needle-world row, or any row in its shape). */
export interface VideoQuestion {
  id: string;
  /** Absolute path of the video (or .npz frame array). */
  video: string;
  /** The question text as the answerer reads it (with the lettered options). */
  question: string;
  /** The right option letter. */
  answer: string;
  /** 1 for each frame inside the needle, 0 elsewhere (null: no needle annotation). */
  needleMask: number[] | null;
  /** Frame spans [start, end) during the needle's action (null: not annotated). */
  eventFrames: Array<[number, number]> | null;
  /** Where the row came from (file:line), for messages. */
  where: string;
}

export interface Answerer {
  readonly name: string;
  /** The answer text to `q` from the frames at these indices (sorted); deterministic. */
  answer(q: VideoQuestion, frames: readonly number[]): Promise<string> | string;
  dispose?(): void;
}

/** Answerer options: numbers (min_frames, options) and strings (a model folder). */
export type AnswererOptions = Record<string, number | string>;
export type AnswererFactory = (options: AnswererOptions) => Answerer;
const ANSWERERS = new Map<string, AnswererFactory>();

/** Add an answerer by name (trainer: tspo's `answerer` key and `pacer video select` read it). */
export function registerAnswerer(name: string, factory: AnswererFactory): void {
  ANSWERERS.set(name, factory);
}
export const answererNames = (): string[] => [...ANSWERERS.keys()];

export function makeAnswerer(name: string, options: AnswererOptions = {}): Answerer {
  const f = ANSWERERS.get(name);
  if (!f) throw new RangeError(`pacer: unknown answerer '${name}' (known: ${answererNames().join(', ')})`);
  return f(options);
}

const LETTERS = ['A', 'B', 'C', 'D', 'E'];

/** The first option letter A–E of an answer (TSPO's accuracy reward reads the first letter), or null. */
export function optionLetter(text: string): string | null {
  const m = /\b([A-E])\b/.exec(text.trim().toUpperCase());
  return m ? m[1] : null;
}

/** 1 when the answer's option letter is the right one, else 0. */
export function accuracyReward(q: VideoQuestion, answer: string): number {
  return optionLetter(answer) === q.answer ? 1 : 0;
}

/** |chosen ∩ needle| / |chosen| (1 when the item has no needle annotation). */
export function temporalReward(q: VideoQuestion, frames: readonly number[]): number {
  if (!q.needleMask) return 1;
  return frames.filter((t) => q.needleMask![t] === 1).length / frames.length;
}

function blindGuess(q: VideoQuestion, options: number): string {
  const h = createHash('sha1').update(q.id).digest();
  return LETTERS[h[0] % options];
}

function oracle(name: string, inside: (q: VideoQuestion, t: number) => boolean, o: AnswererOptions): Answerer {
  const min = Number(o.min_frames ?? 1);
  const options = Number(o.options ?? 4);
  if (!Number.isInteger(min) || min < 1) throw new RangeError(`pacer: ${name}: min_frames must be >= 1, got ${min}`);
  return {
    name,
    answer(q, frames) {
      const seen = frames.filter((t) => inside(q, t)).length;
      return seen >= min ? q.answer : blindGuess(q, options);
    },
  };
}

registerAnswerer('needle_oracle', (o) => oracle('needle_oracle', (q, t) => q.needleMask?.[t] === 1, o));
registerAnswerer('event_oracle', (o) =>
  oracle('event_oracle', (q, t) => (q.eventFrames ?? []).some(([a, b]) => t >= a && t < b), o),
);

type Where = { file: string; line: number };
const bad = (w: Where, key: string, what: string) =>
  new DataError(`pacer: ${w.file}:${w.line}: field '${key}' ${what}`, { ...w, field: key });

/** The question text of a TRL conversational prompt (its first text part) or a plain string prompt. */
function promptText(p: unknown): string | null {
  if (typeof p === 'string') return p;
  if (!Array.isArray(p)) return null;
  for (const m of p)
    for (const c of Array.isArray(m?.content) ? m.content : [])
      if (c?.type === 'text' && typeof c.text === 'string') return c.text;
  return null;
}

/** Frame spans of the needle's action: the clip event's [t0, t1] (s) in every needle segment, at fps. */
function eventFrames(row: Record<string, any>, fps: number): Array<[number, number]> | null {
  const e = row.truth?.needle_clip_event;
  const segs = row.needle_segments;
  if (!e || !Array.isArray(segs)) return null;
  return segs.map(([s]: number[]) => [Math.floor((s + e.t0) * fps), Math.floor((s + e.t1) * fps) + 1]);
}

/**
 * The questions of a needle-world data.jsonl (`pacer video make --world needle`): videos relative to the
 * file's folder, the prompt's text, the answer letter, needle_mask; rows without a needle_mask are kept
 * (temporal reward 1). Bad rows are DataErrors naming file, line and field.
 */
export function readVideoQuestions(file: string, maxLineBytes?: number): VideoQuestion[] {
  const base = dirname(resolve(file));
  const info = join(base, 'info.json');
  const fps = existsSync(info) ? Number(JSON.parse(readFileSync(info, 'utf8')).fps) || 1 : 1;
  return readJsonl(file, maxLineBytes).map(({ line, value: row }) => {
    const w = { file, line };
    const videos = row.videos;
    if (!Array.isArray(videos) || typeof videos[0] !== 'string') throw bad(w, 'videos', 'must list a video path');
    const question = promptText(row.prompt);
    if (!question) throw bad(w, 'prompt', 'has no question text');
    const answer = row.answer;
    if (typeof answer !== 'string' || !LETTERS.includes(answer)) throw bad(w, 'answer', 'must be an option letter A-E');
    const mask = row.needle_mask;
    if (mask !== undefined && !(Array.isArray(mask) && mask.every((x) => x === 0 || x === 1)))
      throw bad(w, 'needle_mask', 'must be a list of 0/1, one per frame');
    const v = videos[0];
    return {
      id: typeof row.id === 'string' ? row.id : `${file}:${line}`,
      video: isAbsolute(v) ? v : resolve(base, v),
      question,
      answer,
      needleMask: (mask as number[] | undefined) ?? null,
      eventFrames: eventFrames(row, fps),
      where: `${file}:${line}`,
    };
  });
}
