// A served task as the page needs it: the prompt and candidates as safe HTML (Markdown), videos as
// URLs under the project, the word diff of two texts, the options the task allows, and nothing that
// gives the candidates away (no system names, no gold flag, no ids beyond the assignment).
import type { Project } from './project.js';
import type { Served } from './queue.js';
import { plainText, renderText, wordDiff } from './markdown.js';

export interface TaskView {
  done: false;
  assignment: string;
  task: string;
  prompt_html: string;
  media: 'text' | 'video';
  candidates: Array<{ label: string; html?: string; video?: string; segments?: unknown[] }>;
  diff: [string, string] | null;
  options: { allow_tie: boolean; allow_both_bad: boolean };
}

export function taskView(p: Project, s: Served): TaskView {
  const byId = new Map(p.candidates(s.groupId).map((c) => [c.id, c]));
  const shown = s.shown.map((id) => byId.get(id)!);
  const kind = shown[0].kind;
  // Likert shows one candidate: a neutral heading, not a "1" that reads like a score
  const task = p.settings.task;
  const labels =
    task === 'pairwise' ? ['A', 'B'] : task === 'likert' ? ['Response'] : shown.map((_, k) => String(k + 1));
  const candidates = shown.map((c, k) =>
    c.kind === 'video'
      ? {
          label: labels[k],
          video: `/p/${encodeURIComponent(p.name)}/media/${encodeURIComponent(c.content as string)}`,
          segments: c.meta?.segments ?? [],
        }
      : { label: labels[k], html: renderText(c.content) },
  );
  let diff: [string, string] | null = null;
  if (kind === 'text' && shown.length === 2) {
    const d = wordDiff(plainText(shown[0].content), plainText(shown[1].content));
    if (d) diff = [d.a, d.b];
  }
  return {
    done: false,
    assignment: s.assignment,
    task: p.settings.task,
    prompt_html: renderText(p.group(s.groupId).prompt),
    media: kind,
    candidates,
    diff,
    options: { allow_tie: p.settings.allow_tie, allow_both_bad: p.settings.allow_both_bad },
  };
}
