// The contract between a procedural video world and `pacer video make`: a world turns (item index,
// seed, options) into videos (scenes, rendered later) and JSONL rows that name those videos by key.
// Worlds declare their own knobs (CLI options with help, default and a parser), so the command lists
// and checks them without knowing the worlds. Also the actors that most worlds share: a thing that
// acts out verbs on the grid and logs each act as an event under the name it has when it starts.
import { type Action, COLORS, type ColorName, type ShapeName, type Thing, type Video } from './scene.js';
import type { VideoEvent } from './grammar.js';
import { DIRS, type Direction, type Grid, ms, type Rand } from './common.js';

export interface WorldOptions {
  width: number;
  height: number;
  fps: number;
  /** Parsed knob values by knob name. */
  knobs: Record<string, unknown>;
}

export interface WorldItem {
  /** Videos by key; rows refer to them by key in their `videos` column. */
  videos: Array<{ key: string; video: Video }>;
  rows: Array<Record<string, unknown>>;
}

export interface Knob {
  arg: string;
  help: string;
  default: string;
  parse(v: string): unknown;
}

export interface World {
  name: string;
  summary: string;
  /** Default frames per second. */
  fps: number;
  knobs: Record<string, Knob>;
  generate(i: number, seed: number, o: WorldOptions): WorldItem;
  /** Extra files written next to the rows (e.g. the anomaly taxonomy), by name. */
  files?(): Record<string, string>;
}

const bad = (name: string, v: string, want: string) => new Error(`pacer: --${name} must be ${want}, got '${v}'`);

export function intKnob(name: string, min: number, dflt: string, help: string, arg = 'N'): Knob {
  return {
    arg,
    help,
    default: dflt,
    parse(v) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw bad(name, v, `an integer >= ${min}`);
      return n;
    },
  };
}

export function numKnob(name: string, lo: number, hi: number, dflt: string, help: string): Knob {
  return {
    arg: 'X',
    help,
    default: dflt,
    parse(v) {
      const n = Number(v);
      if (!(n >= lo && n <= hi)) throw bad(name, v, `a number in [${lo}, ${hi}]`);
      return n;
    },
  };
}

/** "A-B" (or "A") integers with min <= A <= B. */
export function rangeKnob(name: string, min: number, dflt: string, help: string): Knob {
  return {
    arg: 'A-B',
    help,
    default: dflt,
    parse(v) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(v.trim());
      const r = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [];
      if (!m || r[0] < min || r[1] < r[0]) throw bad(name, v, `A-B with ${min} <= A <= B (e.g. ${dflt})`);
      return r as [number, number];
    },
  };
}

export function choiceKnob(name: string, choices: readonly string[], dflt: string, help: string): Knob {
  return {
    arg: 'X',
    help: `${help} (${choices.join(', ')})`,
    default: dflt,
    parse(v) {
      if (!choices.includes(v)) throw bad(name, v, `one of ${choices.join(', ')}`);
      return v;
    },
  };
}

/** A comma-separated list of choices (at least one). */
export function listKnob(name: string, choices: readonly string[], dflt: string, help: string): Knob {
  return {
    arg: 'LIST',
    help: `${help} (comma-separated: ${choices.join(', ')})`,
    default: dflt,
    parse(v) {
      const xs = v.split(',').map((x) => x.trim());
      if (!xs.length || xs.some((x) => !choices.includes(x))) throw bad(name, v, `a list of ${choices.join(', ')}`);
      return [...new Set(xs)];
    },
  };
}

/** Shape-colour pairs already in use in a video, so every subject's name stays unique. */
export class Names {
  private used = new Set<string>();
  has(shape: ShapeName, c: ColorName): boolean {
    return this.used.has(`${c} ${shape}`);
  }
  take(shape: ShapeName, c: ColorName): void {
    this.used.add(`${c} ${shape}`);
  }
  /** Colours still free for a shape, in a fixed order. */
  freeColors(shape: ShapeName, palette: readonly ColorName[]): ColorName[] {
    return palette.filter((c) => !this.has(shape, c));
  }
}

/** A thing that acts out verbs on the grid and logs each act under its name at the act's start. */
export class Actor {
  readonly thing: Thing;
  color: ColorName;
  events: VideoEvent[] = [];

  constructor(
    readonly shape: ShapeName,
    color: ColorName,
    public cell: number,
    readonly grid: Grid,
  ) {
    this.color = color;
    const [x, y] = grid.centre(cell);
    this.thing = { shape, x, y, r: grid.radius, color: COLORS[color], actions: [] };
  }

  get name(): string {
    return `${this.color} ${this.shape}`;
  }

  private log(verb: string, t0: number, t1: number, attributes: VideoEvent['attributes'] = {}): VideoEvent {
    const e = { t0: ms(t0), t1: ms(t1), subject: this.name, verb, object: null, attributes };
    this.events.push(e);
    return e;
  }

  private push(a: Action): void {
    this.thing.actions.push(a);
  }

  /** Move `cells` cells in a direction; the caller has reserved the path. */
  move(dir: Direction, t0: number, t1: number, cells = 1): VideoEvent {
    let to: number | null = this.cell;
    for (let c = 0; c < cells && to !== null; c++) to = this.grid.step(to, dir);
    if (to === null) throw new Error(`pacer: internal: ${this.name} cannot move ${dir} from cell ${this.cell}`);
    const [dx, dy] = DIRS[dir];
    this.push({ kind: 'move', t0, t1, dx: dx * cells * this.grid.cw, dy: dy * cells * this.grid.ch });
    this.cell = to;
    return this.log('move', t0, t1, cells === 1 ? { direction: dir } : { direction: dir, cells });
  }

  turn(to: ColorName, t0: number, t1: number): VideoEvent {
    const e = this.log('turn', t0, t1, { from: this.color, to });
    this.push({ kind: 'color', t0, t1, to: COLORS[to] });
    this.color = to;
    return e;
  }

  /** grow (×1.5), shrink (×2/3, undoing a grow), spin (one turn), flash, bounce, appear, vanish. */
  simple(verb: string, t0: number, t1: number, _r?: Rand): VideoEvent {
    const g = this.grid;
    const flashTo = this.color === 'white' ? COLORS.yellow : COLORS.white;
    const acts: Record<string, Action> = {
      grow: { kind: 'scale', t0, t1, factor: 1.5 },
      shrink: { kind: 'scale', t0, t1, factor: 2 / 3 },
      spin: { kind: 'rotate', t0, t1, turns: 1 },
      flash: { kind: 'flash', t0, t1, color: flashTo, period: 1 },
      bounce: { kind: 'bounce', t0, t1, height: 0.3 * g.ch },
      appear: { kind: 'appear', t0, t1 },
      vanish: { kind: 'vanish', t0, t1 },
    };
    const a = acts[verb];
    if (!a) throw new Error(`pacer: internal: unknown verb ${verb}`);
    this.push(a);
    return this.log(verb, t0, t1);
  }
}

/**
 * k intervals of the given lengths, in order, inside [0, end], at least `gap` apart (integer seconds).
 * When they do not fit, the longest are shortened a second at a time (never below 1 s); an error only
 * when k one-second events cannot fit.
 */
export function schedule(r: Rand, want: number[], end: number, gap = 1): Array<[number, number]> {
  const lengths = [...want];
  const room = end - gap * (lengths.length - 1);
  let excess = lengths.reduce((a, b) => a + b, 0) - room;
  while (excess > 0) {
    const i = lengths.indexOf(Math.max(...lengths));
    if (lengths[i] <= 1)
      throw new Error(
        `pacer: ${lengths.length} events of ${want.join(', ')} s do not fit in ${end} s even cut to 1 s each; ` +
          'use a longer --duration',
      );
    lengths[i]--;
    excess--;
  }
  const slack = room - lengths.reduce((a, b) => a + b, 0);
  const cuts = Array.from({ length: lengths.length }, () => r.int(0, slack)).sort((a, b) => a - b);
  let t = 0;
  return lengths.map((len, i) => {
    const t0 = t + cuts[i] - (i ? cuts[i - 1] : 0) + (i ? gap : 0);
    t = t0 + len;
    return [t0, t0 + len];
  });
}
