// report.html of an icpl run: the arms' final scores (mean ± std over the final seeds, env steps, time), the
// best and median candidate score per iteration, and per arm and iteration the candidates side by side —
// each with its rollout video (a contact sheet of frames and the MP4 itself, linked relatively so the report
// stays small), its score and Gymnasium return, the preference's best/worst marks, and its code.
import { join } from 'node:path';
import { esc, htmlTable, renderReport, type Plot } from '../report/html.js';
import { videoPanel } from '../report/video.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { ArmRecord, CandidateRecord, ICPLOptions, IterationRecord } from './icpl.js';

const CSS =
  '<style>.cands{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}' +
  '.cand{border:1px solid #ddd;padding:6px;width:340px;font-size:12px}.cand.best{border:2px solid #2ca02c}' +
  '.cand.worst{border:2px solid #d62728}.cand pre{max-height:220px;overflow:auto;font-size:11px;background:#f8f8f8}' +
  '.cand video{width:320px}.cand figure{margin:0}</style>';

const num = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

async function card(o: ICPLOptions, c: CandidateRecord, i: number, it: IterationRecord): Promise<string> {
  const mark = it.best === i ? 'best' : it.worst === i ? 'worst' : '';
  const head =
    `<b>candidate ${i}${mark ? ` (${mark})` : ''}</b> — ` +
    (c.ok ? `score ${num(c.score)}, return ${num(c.gymReturn, 1)}` : `crashed: ${esc(c.error ?? '')}`);
  let video = '';
  if (c.video) {
    const sheet = await videoPanel(join(o.out, c.video), {
      clip: false,
      frames: 4,
      thumbWidth: 80,
      cols: 4,
      title: ' ',
    });
    video = `${sheet}<video src="${esc(c.video)}" controls muted playsinline preload="none"></video>`;
  }
  const code = `<details><summary>code (${esc(c.dir)})</summary><pre>${esc(c.code)}</pre></details>`;
  return `<div class="cand ${mark}"><div>${head}</div>${video}${code}</div>`;
}

async function armSection(o: ICPLOptions, a: ArmRecord): Promise<string> {
  const parts: string[] = [];
  for (const it of a.iterations) {
    const cards = await Promise.all(it.candidates.map((c, i) => card(o, c, i, it)));
    parts.push(`<h3>iteration ${it.iteration} (${it.attempts} answers)</h3><div class="cands">${cards.join('')}</div>`);
  }
  const best = a.best
    ? `<p>best candidate: iteration ${a.best.iteration}, candidate ${a.best.index}, score ${num(a.best.score)}</p>`
    : '';
  return best + parts.join('');
}

function curves(arms: ArmRecord[]): Plot[] {
  const design = arms.filter((a) => a.iterations.length);
  const series = (f: (xs: number[]) => number) =>
    design.map((a) => ({
      name: a.arm,
      points: a.iterations.map((it): [number, number] => {
        const xs = it.candidates.filter((c) => c.ok).map((c) => c.score);
        return [it.iteration, xs.length ? f(xs) : Number.NaN];
      }),
    }));
  const median = (xs: number[]) => {
    const s = [...xs].sort((p, q) => p - q);
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  return [
    { title: 'Best candidate score per iteration', series: series((xs) => Math.max(...xs)) },
    { title: 'Median candidate score per iteration', series: series(median) },
  ];
}

/** Write out/report.html for a finished run. */
export async function writeICPLReport(o: ICPLOptions, arms: ArmRecord[], summary: Record<string, unknown>) {
  const rows = arms.map((a) => {
    const xs = a.finalScores;
    const m = xs.reduce((p, q) => p + q, 0) / Math.max(1, xs.length);
    const sd = Math.sqrt(xs.reduce((p, q) => p + (q - m) ** 2, 0) / Math.max(1, xs.length));
    return [a.arm, `${num(m)} ± ${num(sd)}`, xs.map((x) => num(x)).join(', '), a.envSteps, num(a.seconds, 0)];
  });
  const table = htmlTable(['arm', 'final score (mean ± std)', 'per seed', 'env steps', 'seconds'], rows);
  const sections = [{ title: 'Arms', html: CSS + table }];
  for (const a of arms) if (a.iterations.length) sections.push({ title: `Arm ${a.arm}`, html: await armSection(o, a) });
  const notice = o.proposer.isLLM ? '' : ' The proposer is pacer’s offline grammar-based writer, not an LLM.';
  const html = renderReport({
    title: `pacer icpl — ${o.task.envId}`,
    intro:
      `Task: ${o.task.description}. Proposer: ${o.proposer.description}. ` +
      `Preferences: ${o.preferences.name}.${notice}`,
    summary: Object.fromEntries(Object.entries(summary).filter(([k]) => k !== 'arms')),
    config: { iterations: o.iterations, samples: o.samples, seed: o.seed, final_seeds: o.finalSeeds },
    plots: curves(arms),
    sections,
  });
  writeFileAtomic(join(o.out, 'report.html'), html);
}
