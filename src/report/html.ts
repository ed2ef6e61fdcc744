// A self-contained HTML run report: summary, config, and line plots (inline SVG, no scripts or
// network) of chosen metric series from metrics.jsonl.
export interface Series {
  name: string;
  points: Array<[number, number]>;
}
export interface Plot {
  title: string;
  series: Series[];
  /** What the x axis counts (default: step). */
  xLabel?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e6) return String(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(2) : v.toFixed(a >= 10 ? 1 : 3);
}

export function svgPlot(p: Plot, w = 460, h = 260): string {
  const pts = p.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (pts.length === 0) return `<figure><figcaption>${esc(p.title)}</figcaption><p>no data</p></figure>`;
  const [x0, x1] = [Math.min(...pts.map((q) => q[0])), Math.max(...pts.map((q) => q[0]))];
  let [y0, y1] = [Math.min(...pts.map((q) => q[1])), Math.max(...pts.map((q) => q[1]))];
  if (y0 === y1) {
    y0 -= 1;
    y1 += 1;
  }
  const L = 56,
    R = 12,
    T = 12,
    B = 36;
  const sx = (x: number) => L + ((x - x0) / Math.max(x1 - x0, 1e-12)) * (w - L - R);
  const sy = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (h - T - B);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => y0 + f * (y1 - y0));
  const grid = ticks
    .map(
      (y) =>
        `<line x1="${L}" x2="${w - R}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#eee"/><text ` +
        `x="${L - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(y)}</text>`,
    )
    .join('');
  const lines = p.series
    .map((s, i) => {
      const d = s.points
        .filter(([, y]) => Number.isFinite(y))
        .map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join('');
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.6"/>`;
    })
    .join('');
  const legend = p.series
    .map((s, i) => `<tspan fill="${COLORS[i % COLORS.length]}">■ ${esc(s.name)}</tspan>`)
    .join('  ');
  return (
    `<figure><figcaption>${esc(p.title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${w}" ` +
    `height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(p.title)}">${grid}` +
    `<line x1="${L}" x2="${w - R}" y1="${h - B}" y2="${h - B}" stroke="#999"/><text x="${L}" y="${h - B + 14}" ` +
    `font-size="10">${fmt(x0)}</text><text x="${w - R}" y="${h - B + 14}" font-size="10" ` +
    `text-anchor="end">${fmt(x1)}</text>` +
    `<text x="${(L + w - R) / 2}" y="${h - 4}" font-size="10" text-anchor="middle">` +
    `${esc(p.xLabel ?? 'step')}</text>${lines}<text x="${L}" y="${h - B + 28}" font-size="10">${legend}</text>` +
    '</svg></figure>'
  );
}

/** A table from a header row and body rows (cells are escaped). */
export function htmlTable(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cell = (v: string | number | null | undefined) =>
    v === null || v === undefined ? '—' : esc(typeof v === 'number' ? fmt(v) : String(v));
  const tr = (cells: string[]) => `<tr>${cells.join('')}</tr>`;
  const header = tr(head.map((h) => `<th>${esc(h)}</th>`));
  return `<table>${header}${rows.map((r) => tr(r.map((v) => `<td>${cell(v)}</td>`))).join('')}</table>`;
}

export function renderReport(o: {
  title: string;
  summary: Record<string, unknown>;
  config: Record<string, unknown>;
  plots: Plot[];
  intro?: string;
  sections?: Array<{ title: string; html: string }>;
}): string {
  const rows = (obj: Record<string, unknown>) =>
    Object.entries(obj)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'number' ? fmt(v) : JSON.stringify(v))}</td></tr>`)
      .join('');
  const css =
    'body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}' +
    'figure{display:inline-block;margin:8px 16px 8px 0}figcaption{font-weight:600;margin-bottom:4px}' +
    'table{border-collapse:collapse;margin:8px 0 16px}' +
    'th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}th{background:#f6f6f6}';
  const intro = o.intro ? `<p>${esc(o.intro)}</p>` : '';
  const sections = (o.sections ?? []).map((x) => `<h2>${esc(x.title)}</h2>${x.html}`).join('');
  const plots = o.plots.map((p) => svgPlot(p)).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(o.title)}</title><style>${css}</style>
</head><body><h1>${esc(o.title)}</h1>${intro}<h2>Summary</h2><table>${rows(o.summary)}</table>${sections}
<h2>Curves</h2>${plots}
<h2>Configuration</h2><table>${rows(o.config)}</table></body></html>\n`;
}

/** Plots for a metrics history: each group becomes a plot of the series present. */
export function plotsFromMetrics(
  history: Array<Record<string, number>>,
  groups: Array<{ title: string; keys: string[] }>,
): Plot[] {
  return groups
    .map((g) => ({
      title: g.title,
      series: g.keys
        .map((k) => ({
          name: k,
          points: history.filter((m) => typeof m[k] === 'number').map((m) => [m.step, m[k]] as [number, number]),
        }))
        .filter((s) => s.points.length > 0),
    }))
    .filter((p) => p.series.length > 0);
}
