/**
 * pacer/eval: benchmark-exact metrics (temporal grounding, TempCompass-style multiple choice, MLVU
 * macro average, Vinoground) and real annotation formats (Charades-STA, ActivityNet Captions,
 * TempCompass) read into and written from pacer's rows.
 *
 * @module pacer/eval
 */
export * from './answer.js';
export {
  CHOICE_FORMATS,
  byId,
  choiceRow,
  groundingRow,
  predictionRow,
  readRows,
  vinogroundRow,
  type ChoiceFormat,
  type ChoiceRow,
  type GroundingRow,
  type Located,
  type PredictionRow,
  type VinogroundRow,
} from './rows.js';
export * from './grounding.js';
export * from './choice.js';
export * from './vinoground.js';
export {
  DEFAULT_GROUNDING_PROMPT,
  readActivityNetCaptions,
  readCharadesSta,
  writeActivityNetCaptions,
  writeCharadesSta,
  type AnnotationOptions,
} from './annotations.js';
export * from './tempcompass.js';
export * from './files.js';
export * from './reward-model.js';
export { scoreCue, type CueRow, type CueScores } from './cue.js';
