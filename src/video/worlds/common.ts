// What the worlds share: seeded randomness per item, the grid that places things without overlap,
// and TRL's vision row format (a `videos` column, conversational prompt/completion whose user turn
// holds {"type": "video"} then {"type": "text"}, as TRL's vision datasets do with images).
import { rng } from '../../data/random.js';

/** A seeded random stream with the helpers the worlds need. */
export class Rand {
  private u: () => number;
  constructor(seed: number) {
    this.u = rng(seed);
  }
  next(): number {
    return this.u();
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.u() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pacer: internal: pick from an empty list');
    return xs[Math.floor(this.u() * xs.length)];
  }
  chance(p: number): boolean {
    return this.u() < p;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.u() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

/** The seed of item i of a world: FNV-1a of "world/seed/i", so items do not depend on --n. */
export function itemSeed(world: string, seed: number, i: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${world}/${seed}/${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** An n × n grid of cells over the frame: where things stand, one per cell, so none overlap. */
export class Grid {
  readonly cw: number;
  readonly ch: number;
  private used = new Set<number>();
  constructor(
    readonly width: number,
    readonly height: number,
    readonly n = 4,
  ) {
    this.cw = width / n;
    this.ch = height / n;
  }
  /** A thing's half-extent for this grid. */
  get radius(): number {
    return 0.3 * Math.min(this.cw, this.ch);
  }
  centre(cell: number): [number, number] {
    return [((cell % this.n) + 0.5) * this.cw, (Math.floor(cell / this.n) + 0.5) * this.ch];
  }
  isFree(cell: number): boolean {
    return !this.used.has(cell);
  }
  take(cell: number): number {
    this.used.add(cell);
    return cell;
  }
  free(): number[] {
    return Array.from({ length: this.n * this.n }, (_, c) => c).filter((c) => !this.used.has(c));
  }
  /** The neighbouring cell in a direction, or null at the border. */
  step(cell: number, dir: Direction): number | null {
    const [x, y] = [cell % this.n, Math.floor(cell / this.n)];
    const [dx, dy] = DIRS[dir];
    const [nx, ny] = [x + dx, y + dy];
    return nx < 0 || ny < 0 || nx >= this.n || ny >= this.n ? null : ny * this.n + nx;
  }
}

export type Direction = 'left' | 'right' | 'up' | 'down';
export const DIRS: Record<Direction, [number, number]> = { left: [-1, 0], right: [1, 0], up: [0, -1], down: [0, 1] };
export const DIRECTIONS = Object.keys(DIRS) as Direction[];
export const OPPOSITE: Record<Direction, Direction> = { left: 'right', right: 'left', up: 'down', down: 'up' };

export const LETTERS = 'ABCDEFGHIJ';

type Message = { role: string; content: Array<{ type: string; text?: string }> };

/** A user turn with the video, then the text. */
export function userVideo(text: string): Message[] {
  return [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text }] }];
}

export function assistant(text: string): Message[] {
  return [{ role: 'assistant', content: [{ type: 'text', text }] }];
}

/** A multiple-choice question: the prompt text with lettered options, and the answer letter. */
export function multipleChoice(question: string, options: string[], correct: number) {
  const lines = options.map((o, i) => `${LETTERS[i]}. ${o}`);
  const text = `${question}\n${lines.join('\n')}\nAnswer with the option's letter.`;
  return { text, options, answer: LETTERS[correct] };
}

/**
 * A caption-matching question as TempCompass asks it: "Caption A: …" lines, answered with the whole
 * line of the right caption ("Caption B: …"), which `pacer eval mcq` matches as TempCompass's rule does.
 */
export function captionMatching(question: string, captions: string[], correct: number) {
  const lines = captions.map((c, i) => `Caption ${LETTERS[i]}: ${c}`);
  const text = `${question}\n${lines.join('\n')}\nAnswer with the caption that matches.`;
  return { text, options: captions, answer: LETTERS[correct], reply: lines[correct] };
}

/** Seconds as a short decimal string (0.5 s resolution at fps 2): 4, 4.5. */
export function secs(t: number): string {
  return String(Math.round(t * 1000) / 1000);
}

/** Round to milliseconds (times in rows and logs). */
export function ms(t: number): number {
  return Math.round(t * 1000) / 1000;
}
