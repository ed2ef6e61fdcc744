// Project contents from files. A JSONL line is one of
//   {"prompt", "completions": [...], "models"?: [...], "gold"?: [ranks]}        K text candidates
//   {"prompt", "completion", "model"?}                  TRL prompt-completion; lines sharing a prompt
//                                                       are one prompt's candidates (Arena's outputs)
//   {"prompt"?, "chosen", "rejected", "chosen_model"?, "rejected_model"?}
//                                                       a TRL preference pair, to audit (its labels
//                                                       are kept, hidden, and compared with the votes)
//   {"prompt", "videos": [paths], "models"?, "segments"?: [[{start, end, label}], ...], "gold"?}
//   {"prompt", "video": path, "model"?, "segments"?}    (grouped by prompt, like completion lines)
// with optional "category" or "subset" (RewardBench's column) and "id". Text may be conversational
// (lists of {"role", "content"}). Video paths are relative to the JSONL file and are copied into the
// project's media folder. A pacer run's samples: OUTPUT_DIR/completions.jsonl, written by online
// trainers with log_completions: true ({"step", "prompt", "completion", "reward", …}); the completions
// of one prompt at one step are that prompt's candidates, their rewards kept out of sight.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type Text, extractPrompt } from '../data/datasets.js';
import { isMessages, readJsonl } from '../data/jsonl.js';
import { importMedia } from './media.js';
import type { CandidateInput, GroupInput, Project, Segment } from './project.js';

type RowV = Record<string, unknown>;

function strOrNull(v: unknown, where: string, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Error(`pacer: ${where}: '${field}' must be a string`);
  return v;
}

function list(v: RowV, key: string, where: string, n: number): unknown[] | null {
  const x = v[key];
  if (x === undefined || x === null) return null;
  if (!Array.isArray(x) || x.length !== n)
    throw new Error(`pacer: ${where}: '${key}' must be a list with one entry per candidate (${n})`);
  return x;
}

function segmentsOf(x: unknown, where: string): Segment[] | undefined {
  if (x === undefined || x === null) return undefined;
  if (!Array.isArray(x)) throw new Error(`pacer: ${where}: 'segments' must be a list of {"start", "end", "label"?}`);
  return x as Segment[];
}

/** One line as a group of candidates (or, for grouped shapes, one candidate with its grouping key). */
function parseLine(
  p: Project,
  v: RowV,
  where: string,
  base: string,
): { group?: GroupInput; one?: { key: string; prompt: Text; cand: CandidateInput } } {
  const category = strOrNull(v.category ?? v.subset, where, v.category !== undefined ? 'category' : 'subset');
  const meta = v.id !== undefined ? { id: v.id } : {};
  const video = (path: unknown, k: string) => {
    if (typeof path !== 'string' || !path) throw new Error(`pacer: ${where}: '${k}' must be a file path`);
    return importMedia(p.mediaDir, isAbsolute(path) ? path : resolve(base, path), where);
  };
  const gold = (v.gold ?? null) as number[] | null;
  if ('chosen' in v || 'rejected' in v) {
    let prompt = v.prompt as Text | undefined;
    let chosen = v.chosen as Text,
      rejected = v.rejected as Text;
    if (prompt === undefined && (typeof chosen === 'string' || isMessages(chosen)))
      ({ prompt, chosen, rejected } = extractPrompt(chosen, rejected));
    const cands: CandidateInput[] = [
      { kind: 'text', text: chosen, system: strOrNull(v.chosen_model, where, 'chosen_model'), label: 'chosen' },
      { kind: 'text', text: rejected, system: strOrNull(v.rejected_model, where, 'rejected_model'), label: 'rejected' },
    ];
    return { group: { prompt: prompt as Text, candidates: cands, category, gold, source: where, meta } };
  }
  const many = Array.isArray(v.completions) ? 'completions' : Array.isArray(v.videos) ? 'videos' : null;
  if (many) {
    const xs = v[many] as unknown[];
    const models = list(v, 'models', where, xs.length);
    const segs = list(v, 'segments', where, xs.length);
    const candidates = xs.map((x, k): CandidateInput => {
      const system = models ? strOrNull(models[k], where, `models[${k}]`) : null;
      if (many === 'completions') return { kind: 'text', text: x as Text, system };
      return {
        kind: 'video',
        media: video(x, `videos[${k}]`),
        system,
        meta: { segments: segmentsOf(segs?.[k], where) },
      };
    });
    return { group: { prompt: v.prompt as Text, candidates, category, gold, source: where, meta } };
  }
  if ('completion' in v || 'video' in v) {
    const system = strOrNull(v.model, where, 'model');
    const cand: CandidateInput =
      'completion' in v
        ? { kind: 'text', text: v.completion as Text, system }
        : { kind: 'video', media: video(v.video, 'video'), system, meta: { segments: segmentsOf(v.segments, where) } };
    return { one: { key: JSON.stringify([category, v.prompt]), prompt: v.prompt as Text, cand } };
  }
  throw new Error(
    `pacer: ${where}: expected 'completions', 'videos', 'completion', 'video' or 'chosen'+'rejected' ` +
      `(found ${
        Object.keys(v)
          .map((k) => `'${k}'`)
          .join(', ') || 'no fields'
      })`,
  );
}

/** Read a JSONL file into groups (videos are copied into the project's media folder). */
export function groupsFromJsonl(p: Project, file: string): GroupInput[] {
  const out: GroupInput[] = [];
  const grouped = new Map<string, GroupInput>();
  const base = dirname(resolve(file));
  for (const { line, value } of readJsonl(file)) {
    const where = `${file}:${line}`;
    const r = parseLine(p, value, where, base);
    if (r.group) out.push(r.group);
    else if (r.one) {
      let g = grouped.get(r.one.key);
      if (!g) {
        g = { prompt: r.one.prompt, candidates: [], category: JSON.parse(r.one.key)[0], source: where };
        grouped.set(r.one.key, g);
        out.push(g);
      }
      g.candidates.push(r.one.cand);
    }
  }
  if (out.length === 0) throw new Error(`pacer: ${file}: no prompts in the file`);
  return out;
}

/** A pacer run's logged completions: the candidates of each (step, prompt). */
export function groupsFromRun(dir: string): GroupInput[] {
  const file = join(dir, 'completions.jsonl');
  if (!existsSync(file))
    throw new Error(`pacer: ${file} not found (online trainers write it with log_completions: true in the config)`);
  const groups = new Map<string, GroupInput>();
  for (const { line, value: v } of readJsonl(file)) {
    const where = `${file}:${line}`;
    if (!Number.isInteger(v.step) || v.prompt === undefined || v.completion === undefined)
      throw new Error(`pacer: ${where}: expected {"step", "prompt", "completion", …} as log_completions writes`);
    const key = JSON.stringify([v.step, v.prompt]);
    if (!groups.has(key))
      groups.set(key, { prompt: v.prompt as Text, candidates: [], source: where, meta: { step: v.step } });
    const { step, prompt, completion, ...rest } = v;
    groups.get(key)!.candidates.push({ kind: 'text', text: completion as Text, meta: rest });
  }
  return [...groups.values()];
}
