// What the scorers read from a model's free-text answer. pacer's convention (shared by every eval
// command): when the text holds <answer>…</answer>, only the first such block is read (as
// src/rewards/accuracy.ts does), else the whole text; surrounding whitespace is dropped. Each
// benchmark's own matching rule then applies to that string (src/eval/choice.ts, grounding.ts,
// vinoground.ts).

const ANSWER_TAG = /<answer>([\s\S]*?)<\/answer>/i;

/** The part of a completion the scorers read: the first <answer> block's content, else the whole text, trimmed. */
export function answerText(text: string): string {
  const m = ANSWER_TAG.exec(text);
  return (m ? m[1] : text).trim();
}

/** The option letter for index i: 0 → "A". */
export function optionLetter(i: number): string {
  return String.fromCharCode(65 + i);
}

/** The index of an option letter ("A" → 0), or -1 for anything that is not one capital letter. */
export function letterIndex(s: string): number {
  return /^[A-Z]$/.test(s) ? s.charCodeAt(0) - 65 : -1;
}
