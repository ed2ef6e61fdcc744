// Event logs and their caption grammar. Every world logs each event as
// {t0, t1, subject, verb, object, attributes} (seconds from the start of the video) and words it
// with one grammar, so captions, questions and narrations always agree with the log:
//   caption   "the red circle turns blue"            (the subject, the verb's third-person form)
//   question  "When does the red circle turn blue?"   (the verb's base form)
//   narration "First, A. Then, B. Finally, C."        (TEMPLE's chronological clip-caption narration)
export interface VideoEvent {
  /** Start and end, seconds from the start of the video. */
  t0: number;
  t1: number;
  /** The thing acting, as it is named at t0 ("red circle"). */
  subject: string;
  verb: string;
  /** What it acts on ("road", "blue car"), or null. */
  object: string | null;
  attributes: Record<string, string | number | boolean>;
}

type Forms = (e: VideoEvent) => [string, string];
const fixed =
  (third: string, base: string): Forms =>
  () => [third, base];

const FORMS: Record<string, Forms> = {
  move: (e) => [`moves ${e.attributes.direction}`, `move ${e.attributes.direction}`],
  turn: (e) => [`turns ${e.attributes.to}`, `turn ${e.attributes.to}`],
  grow: fixed('grows', 'grow'),
  shrink: fixed('shrinks', 'shrink'),
  spin: fixed('spins', 'spin'),
  appear: fixed('appears', 'appear'),
  vanish: fixed('disappears', 'disappear'),
  flash: fixed('flashes', 'flash'),
  bounce: fixed('bounces', 'bounce'),
  cross: (e) => [`crosses the ${e.object}`, `cross the ${e.object}`],
  climb: (e) => [`climbs the ${e.object}`, `climb the ${e.object}`],
  swim: (e) => [`swims across the ${e.object}`, `swim across the ${e.object}`],
  crash: (e) => [`crashes into the ${e.object}`, `crash into the ${e.object}`],
  pass: (e) => [`drives past the ${e.object}`, `drive past the ${e.object}`],
  burn: fixed('catches fire', 'catch fire'),
  light: fixed('lights up', 'light up'),
  fall: (e) => [`falls off the ${e.object}`, `fall off the ${e.object}`],
  stop: (e) => [`stops at the edge of the ${e.object}`, `stop at the edge of the ${e.object}`],
};

export const VERBS = Object.keys(FORMS);

function forms(e: VideoEvent): [string, string] {
  const f = FORMS[e.verb];
  if (!f) throw new Error(`pacer: the caption grammar has no verb '${e.verb}'`);
  return f(e);
}

/** "turns blue" (the verb phrase alone) */
export function predicate(e: VideoEvent): string {
  return forms(e)[0];
}

/** "the red circle turns blue" */
export function caption(e: VideoEvent): string {
  return `the ${e.subject} ${forms(e)[0]}`;
}

/** "the red circle turn blue" (after "does", "did", "when does") */
export function basePhrase(e: VideoEvent): string {
  return `the ${e.subject} ${forms(e)[1]}`;
}

/** "When does the red circle turn blue?" */
export function whenQuestion(e: VideoEvent): string {
  return `When does ${basePhrase(e)}?`;
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** TEMPLE's template narration of clip captions in order: "First, a. Then, b. Finally, c." */
export function narrate(captions: readonly string[]): string {
  if (captions.length === 1) return `${capitalize(captions[0])}.`;
  return captions
    .map((c, i) => (i === 0 ? `First, ${c}.` : i === captions.length - 1 ? `Finally, ${c}.` : `Then, ${c}.`))
    .join(' ');
}
