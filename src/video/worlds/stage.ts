// Casting things for a scene: a Stage places actors on the grid (one cell each, plus the cells a
// move passes through, so no two things ever overlap), gives each a shape and colour whose name is
// unique for the whole video (colours a thing turns into are reserved too), and acts out plans:
// a verb with its attributes (direction and distance for move, target colour for turn).
import { COLOR_NAMES, type ColorName, SHAPES, type ShapeName, type Thing } from './scene.js';
import type { VideoEvent } from './grammar.js';
import { DIRECTIONS, type Direction, type Grid, type Rand } from './common.js';
import { Actor, Names } from './world.js';

export interface Plan {
  verb: string;
  dir?: Direction;
  /** Cells a move covers (default 1). */
  cells?: number;
  to?: ColorName;
}

export class Stage {
  readonly names = new Names();
  readonly actors: Actor[] = [];
  readonly clutter: Thing[] = [];
  constructor(
    readonly r: Rand,
    readonly grid: Grid,
    readonly palette: readonly ColorName[] = COLOR_NAMES,
  ) {}

  /** A new thing for a verb (and its attribute wishes), on a cell where the verb fits. */
  spawn(want: Plan, shapeWish?: ShapeName): { actor: Actor; plan: Plan } {
    const { r, grid, names, palette } = this;
    const need = want.verb === 'turn' ? 2 : 1;
    const ok = (s: ShapeName) => (want.verb !== 'spin' || s !== 'circle') && names.freeColors(s, palette).length > need;
    const shape = shapeWish && ok(shapeWish) ? shapeWish : r.pick(SHAPES.filter(ok));
    const color = r.pick(names.freeColors(shape, palette).filter((c) => c !== want.to));
    names.take(shape, color);
    const plan: Plan = { verb: want.verb, cells: want.cells ?? 1 };
    if (want.verb === 'turn') {
      const free = names.freeColors(shape, palette);
      plan.to = want.to && free.includes(want.to) ? want.to : r.pick(free);
      names.take(shape, plan.to);
    }
    const cell = this.cellFor(want, plan);
    const actor = new Actor(shape, color, grid.take(cell), grid);
    if (plan.dir) for (const c of this.path(cell, plan.dir, plan.cells!) ?? []) grid.take(c);
    this.actors.push(actor);
    return { actor, plan };
  }

  /** A second plan for a thing already on stage (its turn colour or move path reserved). */
  planFor(actor: Actor, verb: string): Plan {
    const { r, grid, names, palette } = this;
    if (verb === 'turn') {
      const to = r.pick(names.freeColors(actor.shape, palette));
      names.take(actor.shape, to);
      return { verb, to };
    }
    if (verb !== 'move') return { verb };
    const dirs = DIRECTIONS.filter((d) => this.path(actor.cell, d, 1));
    if (!dirs.length) throw new Error('pacer: no room left on the grid for a moving thing; lower the number of things');
    const dir = r.pick(dirs);
    for (const c of this.path(actor.cell, dir, 1)!) grid.take(c);
    return { verb, dir, cells: 1 };
  }

  /** The cells a move of k cells passes through, or null if it leaves the grid or meets a thing. */
  path(c: number, d: Direction, k: number): number[] | null {
    const out: number[] = [];
    for (let i = 0, at: number | null = c; i < k; i++) {
      at = this.grid.step(at, d);
      if (at === null || !this.grid.isFree(at)) return null;
      out.push(at);
    }
    return out;
  }

  /** Whether some free cell can start a move of k cells. */
  canMove(k = 1): boolean {
    return this.grid.free().some((c) => DIRECTIONS.some((d) => this.path(c, d, k)));
  }

  private cellFor(want: Plan, plan: Plan): number {
    const { r, grid } = this;
    const free = grid.free();
    if (want.verb !== 'move') return r.pick(free);
    const k = plan.cells!;
    if (!this.canMove(k))
      throw new Error('pacer: no room left on the grid for a moving thing; lower the number of things');
    const same = want.dir ? free.filter((c) => this.path(c, want.dir!, k)) : [];
    const cell = same.length ? r.pick(same) : r.pick(free.filter((c) => DIRECTIONS.some((d) => this.path(c, d, k))));
    plan.dir = same.length ? want.dir : r.pick(DIRECTIONS.filter((d) => this.path(cell, d, k)));
    return cell;
  }

  /** Static grey shapes on free cells (at most as many as there are free cells). */
  addClutter(n: number): void {
    for (let c = 0; c < n; c++) {
      const free = this.grid.free();
      if (!free.length) return;
      const [x, y] = this.grid.centre(this.grid.take(this.r.pick(free)));
      this.clutter.push({
        shape: this.r.pick(SHAPES),
        x,
        y,
        r: 0.5 * this.grid.radius,
        color: [120, 120, 120],
        actions: [],
      });
    }
  }

  /** Everything to draw, clutter first. */
  things(): Thing[] {
    return [...this.clutter, ...this.actors.map((a) => a.thing)];
  }

  /** Every logged event, in time order. */
  events(): VideoEvent[] {
    return this.actors.flatMap((a) => a.events).sort((a, b) => a.t0 - b.t0 || a.t1 - b.t1);
  }
}

/** Act a plan once at [t0, t1]; the event logged. */
export function perform(a: Actor, p: Plan, t0: number, t1: number): VideoEvent {
  if (p.verb === 'move') return a.move(p.dir!, t0, t1, p.cells ?? 1);
  if (p.verb === 'turn') return a.turn(p.to!, t0, t1);
  return a.simple(p.verb, t0, t1);
}
