// The procedural video worlds by name, and knob parsing for a chosen world.
import type { World } from './world.js';
import { grounding } from './grounding.js';
import { temporal } from './temporal.js';
import { vinoground } from './vinoground.js';
import { shots } from './shots.js';
import { anomaly } from './anomaly.js';
import { needle } from './needle.js';

export const WORLDS: Record<string, World> = { grounding, temporal, vinoground, shots, anomaly, needle };

export function getWorld(name: string): World {
  const w = WORLDS[name];
  if (!w) throw new Error(`pacer: unknown video world '${name}' (available: ${Object.keys(WORLDS).join(', ')})`);
  return w;
}

/** Knob values for a world: the given strings (by knob name) parsed, defaults for the rest. */
export function parseKnobs(w: World, given: Record<string, string | undefined> = {}): Record<string, unknown> {
  for (const k of Object.keys(given))
    if (given[k] !== undefined && !(k in w.knobs))
      throw new Error(`pacer: --${k} does not apply to --world ${w.name} (its options: ${knobList(w)})`);
  return Object.fromEntries(Object.entries(w.knobs).map(([k, s]) => [k, s.parse(given[k] ?? s.default)]));
}

function knobList(w: World): string {
  const ks = Object.keys(w.knobs);
  return ks.length ? ks.map((k) => `--${k}`).join(', ') : 'none';
}
