// Real grounding annotation files in and out, as pacer grounding rows (src/eval/rows.ts).
//   Charades-STA (Gao et al., "TALL", ICCV 2017; charades_sta_{train,test}.txt): one query per line,
//     "VIDEO START END##SENTENCE", e.g. "3MSZA 24.3 30.4##person turn a light on." Times in seconds.
//     The file has no durations (they are in Charades_v1_*.csv); pass `durations` to fill them.
//   ActivityNet Captions (Krishna et al., ICCV 2017; train.json, val_1.json, val_2.json): one JSON object
//     {VIDEO: {"duration": s, "timestamps": [[s, e], …], "sentences": [text, …]}}; each sentence with its
//     timestamp is one grounding query.
// Query ids: VIDEO_K, K = 0, 1, … counting that video's queries in file order. Rows carry
// {id, video_id, query, segment, duration, prompt} and, with `videoDir`, videos: [videoDir/VIDEO.mp4].
// Times are kept as written (a few real annotations end after the video's duration). Errors name the
// file, the line and the field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { DataError } from '../data/jsonl.js';
import { fail, segmentOf, type GroundingRow } from './rows.js';

export interface AnnotationOptions {
  /** Folder holding the videos; rows then get videos: [videoDir/VIDEO + videoExt]. */
  videoDir?: string;
  /** The video files' extension (default '.mp4'). */
  videoExt?: string;
  /** The prompt, with {query} standing for the sentence (default DEFAULT_GROUNDING_PROMPT). */
  promptTemplate?: string;
}

export const DEFAULT_GROUNDING_PROMPT =
  'When does "{query}" happen in the video? Answer with the start and end time in seconds.';

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`pacer: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** JSON.parse with the error placed at its file:line. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    const line = pos ? `:${text.slice(0, Number(pos[1])).split('\n').length}` : '';
    throw new DataError(`pacer: ${file}${line}: not valid JSON (${(e as Error).message})`);
  }
}

/** "file:line" of the first place `key` appears as a JSON string (line 1 when absent). */
export function lineOf(text: string, key: string, file: string): string {
  const i = text.indexOf(JSON.stringify(key));
  return `${file}:${i < 0 ? 1 : text.slice(0, i).split('\n').length}`;
}

function queryRow(
  video_id: string,
  k: number,
  query: string,
  segment: [number, number],
  duration: number | null,
  o: AnnotationOptions,
): GroundingRow {
  const prompt = (o.promptTemplate ?? DEFAULT_GROUNDING_PROMPT).replaceAll('{query}', query.trim());
  const row: GroundingRow = { id: `${video_id}_${k}`, video_id, query, segment, duration, prompt };
  if (o.videoDir) row.videos = [join(o.videoDir, `${video_id}${o.videoExt ?? '.mp4'}`)];
  return row;
}

const CHARADES_LINE = /^(\S+) ([^\s#]+) ([^\s#]+)##(.*)$/;

/** Charades-STA "VIDEO START END##SENTENCE" lines as grounding rows. */
export function readCharadesSta(
  file: string,
  o: AnnotationOptions & { durations?: Record<string, number> } = {},
): GroundingRow[] {
  const counts = new Map<string, number>();
  const rows: GroundingRow[] = [];
  readText(file)
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (!line.trim()) return;
      const at = `${file}:${i + 1}`;
      const m = CHARADES_LINE.exec(line);
      if (!m) fail(at, `expected 'VIDEO START END##SENTENCE' (Charades-STA), got '${line.slice(0, 80)}'`);
      const [s, e] = [m[2], m[3]].map((t, j) => {
        const x = Number(t);
        if (!Number.isFinite(x) || x < 0) fail(at, `field '${j ? 'end' : 'start'}' must be seconds >= 0, got '${t}'`);
        return x;
      });
      const k = counts.get(m[1]) ?? 0;
      counts.set(m[1], k + 1);
      rows.push(queryRow(m[1], k, m[4], [s, e], o.durations?.[m[1]] ?? null, o));
    });
  return rows;
}

function need(row: GroundingRow, key: 'video_id' | 'query', what: string): string {
  const v = row[key];
  if (typeof v !== 'string' || !v) throw new DataError(`pacer: row '${row.id}' has no '${key}' (${what})`);
  return v;
}

/** Grounding rows as a Charades-STA file (written through a temp file and a rename). */
export function writeCharadesSta(file: string, rows: readonly GroundingRow[]): void {
  const lines = rows.map((r) => {
    const vid = need(r, 'video_id', 'the Charades video id');
    const q = need(r, 'query', 'the sentence');
    if (/\s|#/.test(vid)) throw new DataError(`pacer: row '${r.id}': video_id '${vid}' holds a space or '#'`);
    if (/[\r\n]/.test(q)) throw new DataError(`pacer: row '${r.id}': the query holds a line break`);
    return `${vid} ${r.segment[0]} ${r.segment[1]}##${q}\n`;
  });
  writeFileAtomic(file, lines.join(''));
}

interface AnetVideo {
  duration: number;
  timestamps: unknown[];
  sentences: unknown[];
}

function anetVideo(vid: string, v: unknown, at: string): AnetVideo {
  const o = v as AnetVideo;
  if (!o || typeof o !== 'object') fail(at, `video '${vid}' must be an object {duration, timestamps, sentences}`);
  if (typeof o.duration !== 'number' || !(o.duration > 0))
    fail(at, `video '${vid}': field 'duration' must be seconds > 0, got ${JSON.stringify(o.duration)}`);
  if (!Array.isArray(o.timestamps)) fail(at, `video '${vid}': field 'timestamps' must be a list of [start, end]`);
  if (!Array.isArray(o.sentences) || o.sentences.length !== o.timestamps.length)
    fail(
      at,
      `video '${vid}': field 'sentences' must be a list with one sentence per timestamp (${o.timestamps.length})`,
    );
  return o;
}

/** ActivityNet Captions JSON as grounding rows, one per (video, sentence). */
export function readActivityNetCaptions(file: string, o: AnnotationOptions = {}): GroundingRow[] {
  const text = readText(file);
  const data = parseJson(text, file);
  if (!data || typeof data !== 'object' || Array.isArray(data))
    fail(`${file}:1`, 'expected an object {VIDEO: {duration, timestamps, sentences}} (ActivityNet Captions)');
  return Object.entries(data).flatMap(([vid, v]) => {
    const at = lineOf(text, vid, file);
    const { duration, timestamps, sentences } = anetVideo(vid, v, at);
    return timestamps.map((t, k) => {
      const s = sentences[k];
      if (typeof s !== 'string') fail(at, `video '${vid}': sentences[${k}] must be a string`);
      return queryRow(vid, k, s, segmentOf(t, at, `${vid}.timestamps[${k}]`), duration, o);
    });
  });
}

/** Grounding rows as an ActivityNet Captions JSON file (rows need video_id, query and duration). */
export function writeActivityNetCaptions(file: string, rows: readonly GroundingRow[]): void {
  const out: Record<string, AnetVideo> = {};
  for (const r of rows) {
    const vid = need(r, 'video_id', 'the ActivityNet video id');
    const q = need(r, 'query', 'the sentence');
    if (typeof r.duration !== 'number')
      throw new DataError(`pacer: row '${r.id}' has no 'duration' (ActivityNet needs it)`);
    const v = (out[vid] ??= { duration: r.duration, timestamps: [], sentences: [] });
    if (v.duration !== r.duration)
      throw new DataError(
        `pacer: row '${r.id}': duration ${r.duration} differs from ${v.duration} given earlier for '${vid}'`,
      );
    v.timestamps.push([...r.segment]);
    v.sentences.push(q);
  }
  writeFileAtomic(file, JSON.stringify(out));
}
