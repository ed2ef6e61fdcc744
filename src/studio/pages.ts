// The studio's pages, rendered on the server as plain HTML (every value escaped); the annotation page
// is a shell that /static/annotate.js fills from the JSON API. The leaderboard draws its intervals
// and the win-rate matrix as inline SVG, so it needs no script at all.
import { escapeHtml as esc, renderMarkdown } from './markdown.js';
import type { ProjectSettings } from './settings.js';
import type { Agreement, Progress, Ratings } from './stats.js';
import type { User } from './users.js';

export interface PageOptions {
  user?: User | null;
  csrf?: string | null;
  scripts?: string[];
  project?: string;
}

const TASK_NAMES = {
  pairwise: 'Pairwise (A / B / tie / both bad)',
  best_worst: 'Best and worst of K',
  ranking: 'Ranking with ties',
  likert: 'Likert 1–7',
} as const;

const link = (href: string, text: string) => `<a href="${esc(href)}">${esc(text)}</a>`;

function nav(o: PageOptions): string {
  if (!o.user) return '';
  const p = o.project ? `/p/${encodeURIComponent(o.project)}` : null;
  const links = [link('/', 'Projects')];
  if (p) links.push(link(p, 'Annotate'), link(`${p}/leaderboard`, 'Leaderboard'));
  if (p && o.user.role === 'admin') links.push(link(`${p}/admin`, 'Admin'));
  const out = `<form method="post" action="/logout" class="inline">
    <input type="hidden" name="csrf" value="${esc(o.csrf ?? '')}"><button type="submit">Sign out</button></form>`;
  return `<nav>${links.join(' · ')}<span class="who">${esc(o.user.name)} (${o.user.role}) ${out}</span></nav>`;
}

export function layout(title: string, body: string, o: PageOptions = {}): string {
  const scripts = (o.scripts ?? []).map((s) => `<script type="module" src="${esc(s)}"></script>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${o.csrf ? `<meta name="csrf" content="${esc(o.csrf)}">` : ''}
<title>${esc(title)} · pacer studio</title><link rel="stylesheet" href="/static/studio.css"></head>
<body>${nav(o)}<main>${body}</main>${scripts}</body></html>`;
}

export function loginPage(csrf: string, error?: string): string {
  return layout(
    'Sign in',
    `<h1>pacer studio</h1>
    ${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
    <form method="post" action="/login" class="login">
      <label for="token">Your token</label>
      <input id="token" name="token" type="password" autocomplete="off" autofocus required>
      <input type="hidden" name="csrf" value="${esc(csrf)}">
      <button type="submit">Sign in</button>
      <p class="hint">Paste the token your admin gave you and press Enter. Tokens never go in a URL.</p>
    </form>`,
  );
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));

function bar(done: number, target: number): string {
  const w = target > 0 ? Math.min(100, Math.round((100 * done) / target)) : 0;
  return `<svg class="bar" width="200" height="10" role="img" aria-label="${done} of ${target}">
    <rect width="200" height="10" class="bar-bg"/><rect width="${2 * w}" height="10" class="bar-fg"/></svg>
    ${done} / ${target}`;
}

export interface ProjectCard {
  name: string;
  s: ProjectSettings;
  progress: Progress;
}

export function projectsPage(user: User, csrf: string, projects: ProjectCard[]): string {
  const rows = projects.map(({ name, s, progress }) => {
    const p = `/p/${encodeURIComponent(name)}`;
    const links = [link(`${p}/leaderboard`, 'leaderboard')];
    if (user.role === 'admin') links.push(link(`${p}/admin`, 'admin'));
    return `<tr><td>${link(p, s.title || name)}</td><td>${TASK_NAMES[s.task]}</td>
      <td>${bar(progress.done, progress.target)}</td><td>${links.join(' · ')}</td></tr>`;
  });
  const table = `<table class="list"><thead><tr><th>Project</th><th>Task</th><th>Progress</th><th></th></tr></thead>
    <tbody>${rows.join('')}</tbody></table>`;
  const none = '<p>No projects yet. An admin creates them with <code>pacer studio import</code> or the API.</p>';
  return layout('Projects', `<h1>Projects</h1>${projects.length ? table : none}`, { user, csrf });
}

export function annotatePage(name: string, s: ProjectSettings, user: User, csrf: string): string {
  const guide = s.guidelines
    ? `<details class="guidelines"><summary>Guidelines</summary>${renderMarkdown(s.guidelines)}</details>`
    : '';
  return layout(
    s.title || name,
    `<header class="task-head"><h1>${esc(s.title || name)}</h1><span id="progress" class="progress"></span></header>
    <div id="reveal" class="reveal" hidden></div>
    ${guide}
    <section id="app" data-project="${esc(name)}" data-task="${s.task}" aria-live="polite"><p>Loading…</p></section>
    <aside id="keys" class="keys" hidden></aside>`,
    { user, csrf, project: name, scripts: ['/static/annotate.js'] },
  );
}

/** A rating as shown everywhere on the page: Elo-scale ratings to 0.1, Likert means to 0.01. */
export function ratingFormat(r: Pick<Ratings, 'kind'>): (x: number) => string {
  const digits = r.kind === 'likert_mean' ? 2 : 1;
  return (x) => x.toFixed(digits);
}

/** One row of the forest plot: the name, the interval with end ticks, the point, the value. */
type Row = Ratings['rows'][number];
function forestRow(row: Row, y: number, X: (v: number) => number, L: number, right: number, f: (x: number) => string) {
  const tick = (v: number) => `<line x1="${X(v)}" x2="${X(v)}" y1="${y - 5}" y2="${y + 5}" class="ci"/>`;
  return `<g class="row"><title>${esc(row.name)}: ${f(row.rating)} [${f(row.lower)}, ${f(row.upper)}]</title>
    <text x="${L - 8}" y="${y + 4}" text-anchor="end">${esc(row.name.slice(0, 24))}</text>
    <line x1="${X(row.lower)}" x2="${X(row.upper)}" y1="${y}" y2="${y}" class="ci"/>${tick(row.lower)}${tick(row.upper)}
    <circle cx="${X(row.rating)}" cy="${y}" r="4.5" class="pt"/>
    <text x="${right + 8}" y="${y + 4}">${f(row.rating)}</text></g>`;
}

/**
 * "Nice" axis ticks on [lo, hi]: the smallest step of 1, 2 or 5 × 10^k that gives at most `most` ticks,
 * every multiple of it inside the range, and how many decimals the step needs (so no two labels are equal).
 * An empty or degenerate range (lo = hi) is widened by 1 on each side first.
 */
export function niceTicks(lo: number, hi: number, most = 7): { ticks: number[]; decimals: number; labels: string[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error('pacer: niceTicks needs finite bounds');
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-9 * Math.max(1, Math.abs(lo))) [lo, hi] = [lo - 1, hi + 1];
  const count = (step: number) => Math.floor(hi / step + 1e-9) - Math.ceil(lo / step - 1e-9) + 1;
  const base = 10 ** Math.floor(Math.log10((hi - lo) / most));
  const nth = (i: number) => base * [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3);
  let i = 0;
  while (count(nth(i)) > most && i < 60) i++;
  const step = nth(i);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const first = Math.ceil(lo / step - 1e-9);
  const n = count(step);
  const ticks = Array.from({ length: n }, (_, k) => Number(((first + k) * step).toFixed(decimals)));
  return { ticks, decimals, labels: ticks.map((t) => t.toFixed(decimals)) };
}

/** The intervals as a forest plot: a dot at the rating, a line from the lower to the upper bound. */
export function forestPlot(r: Ratings): string {
  if (!r.rows.length) return '';
  const lo = Math.min(...r.rows.map((x) => x.lower));
  const hi = Math.max(...r.rows.map((x) => x.upper));
  const pad = (hi - lo) * 0.08 || 1;
  const [x0, x1] = [lo - pad, hi + pad];
  const [W, L, R, rowH] = [640, 170, 80, 26];
  const H = r.rows.length * rowH + 30;
  const X = (v: number) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const { ticks, labels } = niceTicks(x0, x1);
  const axis = ticks.map(
    (t, k) => `<line x1="${X(t)}" x2="${X(t)}" y1="0" y2="${H - 24}" class="grid"/>
      <text x="${X(t)}" y="${H - 8}" text-anchor="middle" class="tick">${labels[k]}</text>`,
  );
  const f = ratingFormat(r);
  const rows = r.rows.map((row, k) => forestRow(row, 14 + k * rowH, X, L, W - R, f));
  return `<svg id="forest" class="forest" width="${W}" height="${H}" role="img" aria-label="ratings with 95% intervals">
    ${axis.join('')}${rows.join('')}</svg>`;
}

/** White at ½, shading to blue (1) or red (0). */
function winColor(w: number): string {
  const t = Math.abs(w - 0.5) * 2;
  const to = w >= 0.5 ? [37, 99, 235] : [220, 38, 38];
  return `rgb(${to.map((v) => Math.round(255 + (v - 255) * t)).join(',')})`;
}

/** Win rates (row beat column, ties half) as coloured cells. */
export function winMatrix(r: Ratings): string {
  const n = r.rows.length;
  if (n < 2 || n > 40) return '';
  const [c, L, T] = [34, 150, 150];
  let cells = '';
  r.rows.forEach((row, i) => {
    const label = esc(row.name.slice(0, 18));
    cells += `<text x="${L - 6}" y="${T + i * c + c / 2 + 4}" text-anchor="end">${label}</text>`;
    cells += `<text transform="translate(${L + i * c + c / 2 + 4},${T - 6}) rotate(-60)">${label}</text>`;
    r.rows.forEach((col, j) => {
      const w = r.winMatrix[i][j];
      const [x, y] = [L + j * c, T + i * c];
      const what = w === null ? 'never compared' : `${pct(w)} of ${r.counts[i][j]}`;
      const num = w === null ? '' : `<text x="${x + c / 2}" y="${y + c / 2 + 4}" text-anchor="middle" class="cell">`;
      cells += `<g><title>${esc(row.name)} vs ${esc(col.name)}: ${what}</title>
        <rect x="${x}" y="${y}" width="${c - 1}" height="${c - 1}" fill="${w === null ? '#eee' : winColor(w)}"/>
        ${w === null ? '' : `${num}${Math.round(100 * w)}</text>`}</g>`;
    });
  });
  const [w, h] = [L + n * c + 90, T + n * c + 10]; // room for the last rotated column label
  return `<svg id="winmatrix" class="matrix" width="${w}" height="${h}" role="img" aria-label="win-rate matrix">
    ${cells}</svg>`;
}

function ratingsTable(r: Ratings): string {
  const likert = r.kind === 'likert_mean';
  const cols = likert
    ? ['Rank', 'Item', 'Mean score', '95% interval', 'Ratings']
    : ['Rank', 'Item', 'Rating (BT)', '95% interval', 'Elo (online)', 'W / T / L'];
  const f = ratingFormat(r);
  const rows = r.rows.map((x) => {
    const cells = [x.rank, esc(x.name), f(x.rating), `<span class="ci-cell">[${f(x.lower)}, ${f(x.upper)}]</span>`];
    cells.push(...(likert ? [x.losses] : [f(x.elo), `${x.wins} / ${x.ties} / ${x.losses}`]));
    return `<tr>${cells.map((v) => `<td>${v}</td>`).join('')}</tr>`;
  });
  return `<table id="ratings" class="list"><thead><tr>${cols.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
    <tbody>${rows.join('')}</tbody></table>`;
}

function methodNote(r: Ratings, s: ProjectSettings): string {
  if (r.kind === 'likert_mean')
    return `Mean Likert score per item; 95% percentile-bootstrap intervals from ${r.rounds} resamples.`;
  const ties = r.ties === 'half' ? 'as half wins (as Chatbot Arena)' : `by Davidson's model (ν = ${f3(r.nu)})`;
  const prior = r.prior > 0 ? `, each item with ${r.prior} virtual tie(s) against the mean` : '';
  return (
    `Bradley–Terry ratings by maximum likelihood on the Elo scale (1000 + 400·log₁₀ odds, mean item 1000), ` +
    `ties ${ties}${prior}; 95% intervals from ${r.rounds} bootstrap resamples of the ${r.comparisons} ` +
    'comparisons; rank = 1 + items whose interval lies wholly above.' +
    (s.task === 'pairwise' && s.allow_both_bad ? ' "Both bad" counts as a tie.' : '') +
    (s.task === 'ranking' ? ' A ranking of K counts as its K(K−1)/2 pairs, equal ranks as ties.' : '') +
    (s.task === 'best_worst' ? ' The best beats each other candidate; each of those beats the worst.' : '')
  );
}

export function leaderboardPage(
  name: string,
  s: ProjectSettings,
  r: Ratings,
  a: Agreement,
  pr: Progress,
  o: PageOptions,
): string {
  const title = `${s.title || name} — leaderboard`;
  const matrix = r.winMatrix.length ? `<h2>Win rates (row beats column, %)</h2>${winMatrix(r)}` : '';
  return layout(
    title,
    `<h1>${esc(title)}</h1>
    <p class="method">${esc(methodNote(r, s))}</p>
    ${r.note ? `<p class="note">${esc(r.note)}</p>` : ''}
    ${ratingsTable(r)}${forestPlot(r)}${matrix}
    <h2>Agreement</h2>
    <p id="alpha">Krippendorff's α (${a.metric}): <b>${f3(a.alpha)}</b> over ${a.units} units with two or more
    answers; raw agreement ${pct(a.raw)}.</p>
    <h2>Progress</h2><p>${bar(pr.done, pr.target)} answers</p>`,
    { ...o, project: name },
  );
}

function peopleTable(pr: Progress): string {
  const rows = pr.people.map((x) => {
    const gold = x.gold ? `${pct(x.goldAccuracy)} of ${x.gold}` : '—';
    const time = x.medianMs === null ? '—' : `${(x.medianMs / 1000).toFixed(1)} s`;
    return `<tr><td>${esc(x.name)}</td><td>${x.votes}</td><td>${gold}</td><td>${time}</td></tr>`;
  });
  return `<table class="list" id="people"><thead><tr><th>Annotator</th><th>Answers</th><th>Gold accuracy</th>
    <th>Median time</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function kappaTable(a: Agreement): string {
  if (!a.kappa.length) return '';
  const rows = a.kappa.map(
    (k) => `<tr><td>${esc(k.a)}</td><td>${esc(k.b)}</td><td>${f3(k.kappa)}</td><td>${k.n}</td></tr>`,
  );
  return `<table class="list" id="kappa"><thead><tr><th>A</th><th>B</th><th>Cohen's κ</th><th>Shared units</th></tr>
    </thead><tbody>${rows.join('')}</tbody></table>`;
}

export interface AdminData {
  progress: Progress;
  agreement: Agreement;
  labels: { n: number; rate: number | null };
  people: Array<{ name: string; role: string }>;
  newToken?: { name: string; token: string };
}

export function adminPage(name: string, s: ProjectSettings, d: AdminData, o: PageOptions): string {
  const q = encodeURIComponent(name);
  const exp = (f: string, ties: string) =>
    `<a href="/api/projects/${q}/export?format=${f}&amp;ties=${ties}" download="${esc(name)}-${f}.jsonl">` +
    `${f}${ties === 'keep' ? ' (ties kept)' : ''}</a>`;
  const { progress: pr, agreement: a } = d;
  const token = d.newToken
    ? `<p class="token" role="alert">Token for <b>${esc(d.newToken.name)}</b> (shown once):
       <code id="new-token">${esc(d.newToken.token)}</code></p>`
    : '';
  const labels = d.labels.n
    ? `<p>Votes that side with the dataset's 'chosen': ${pct(d.labels.rate)} of ${d.labels.n}.</p>`
    : '';
  return layout(
    `${s.title || name} — admin`,
    `<h1>${esc(s.title || name)} — admin</h1>
    <p>Task: ${TASK_NAMES[s.task]}; ${s.overlap} annotator(s) per task; pairs: ${s.pairs}.
    ${bar(pr.done, pr.target)} answers on ${pr.tasks} tasks.</p>
    <h2>People</h2>${peopleTable(pr)}
    <h2>Agreement</h2><p>Krippendorff's α (${a.metric}): <b>${f3(a.alpha)}</b> (${a.units} units);
    raw agreement ${pct(a.raw)}.</p>${kappaTable(a)}${labels}
    <h2>Export (TRL JSONL)</h2>
    <p>${exp('preference', 'drop')} · ${exp('preference', 'keep')} · ${exp('pairs', 'drop')} · ${exp('kto', 'drop')}</p>
    <h2>Annotators</h2>${token}
    <ul>${d.people.map((u) => `<li>${esc(u.name)} (${u.role})</li>`).join('')}</ul>
    <form method="post" action="/p/${q}/admin/annotators" class="inline">
      <input type="hidden" name="csrf" value="${esc(o.csrf ?? '')}">
      <label>New annotator <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}"></label>
      <button type="submit">Add</button></form>`,
    { ...o, project: name },
  );
}
