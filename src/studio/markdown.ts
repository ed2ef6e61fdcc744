// Text for the browser, safe by construction: everything is HTML-escaped first, and only tags this
// file writes are added back — a small Markdown subset (fenced code, headings, lists, quotes, rules,
// paragraphs with line breaks, `code`, **bold**, *italic*, ~~strike~~, [links](http…) with http,
// https or mailto targets only). Raw HTML in a completion is shown as text, never run. Pages also
// send a Content-Security-Policy without inline scripts, as a second wall. wordDiff marks the words
// of two texts that the other lacks (longest common subsequence over words and spaces).
import type { Text } from '../data/datasets.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]);

/** Inline markup on an already escaped line. */
function inline(escaped: string): string {
  const codes: string[] = [];
  // code spans are set aside (behind private-use placeholders) so no other markup applies inside them
  let s = escaped.replace(/`([^`]+)`/g, (_, c) => `\uE000${codes.push(`<code>${c}</code>`) - 1}\uE001`);
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, label, url) =>
    /^(https?:\/\/|mailto:)/i.test(url) ? `<a href="${url}" rel="noopener noreferrer" target="_blank">${label}</a>` : m,
  );
  s = s
    .replace(/\*\*(?=\S)([^*]*\S)\*\*/g, '<strong>$1</strong>')
    .replace(/__(?=\S)([^_]*\S)__/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*(?=\S)([^*]*\S)\*(?!\w)/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_(?=\S)([^_]*\S)_(?!\w)/g, '$1<em>$2</em>')
    .replace(/~~(?=\S)([^~]*\S)~~/g, '<del>$1</del>');
  return s.replace(/\uE000(\d+)\uE001/g, (m, k) => codes[Number(k)] ?? m);
}

type Block = { kind: 'p' | 'ul' | 'ol' | 'quote'; lines: string[] };

function flush(out: string[], b: Block | null, depth: number): Block | null {
  if (!b) return null;
  if (b.kind === 'p') out.push(`<p>${b.lines.map((l) => inline(escapeHtml(l))).join('<br>')}</p>`);
  else if (b.kind === 'quote') out.push(`<blockquote>${renderMarkdown(b.lines.join('\n'), depth + 1)}</blockquote>`);
  else out.push(`<${b.kind}>${b.lines.map((l) => `<li>${inline(escapeHtml(l))}</li>`).join('')}</${b.kind}>`);
  return null;
}

/** Markdown (the subset above) to safe HTML. */
export function renderMarkdown(src: string, depth = 0): string {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let b = null as Block | null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const fence = /^\s*```\s*([A-Za-z0-9_+-]*)/.exec(l);
    if (fence) {
      b = flush(out, b, depth);
      const body: string[] = [];
      for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i]);
      const cls = fence[1] ? ` class="language-${fence[1]}"` : '';
      out.push(`<pre><code${cls}>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(l);
    const ul = /^\s*[-*+]\s+(.*)$/.exec(l);
    const ol = /^\s*\d+[.)]\s+(.*)$/.exec(l);
    const q = depth < 4 ? /^\s*>\s?(.*)$/.exec(l) : null;
    if (!l.trim()) b = flush(out, b, depth);
    else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(l)) {
      b = flush(out, b, depth);
      out.push('<hr>');
    } else if (h) {
      b = flush(out, b, depth);
      out.push(`<h${h[1].length}>${inline(escapeHtml(h[2]))}</h${h[1].length}>`);
    } else {
      const [kind, text] = ul
        ? (['ul', ul[1]] as const)
        : ol
          ? (['ol', ol[1]] as const)
          : q
            ? (['quote', q[1]] as const)
            : (['p', l] as const);
      const open: Block | null = b;
      if (open === null || open.kind !== kind) {
        flush(out, open, depth);
        b = { kind, lines: [text] };
      } else open.lines.push(text);
    }
  }
  flush(out, b, depth);
  return out.join('\n');
}

/** A prompt or completion as HTML: Markdown, or a conversation as one block per message. */
export function renderText(t: Text): string {
  if (t === '') return '<div class="md"><p class="empty">(empty)</p></div>';
  if (typeof t === 'string') return `<div class="md">${renderMarkdown(t)}</div>`;
  return t
    .map(
      (m) =>
        `<div class="msg"><div class="role">${escapeHtml(m.role)}</div>` +
        `<div class="md">${renderMarkdown(m.content)}</div></div>`,
    )
    .join('');
}

export const plainText = (t: Text): string =>
  typeof t === 'string' ? t : t.map((m) => `${m.role}: ${m.content}`).join('\n\n');

/** Each text as HTML with the words the other lacks marked (<del> in a, <ins> in b); null if too long. */
export function wordDiff(a: string, b: string, maxCells = 4_000_000): { a: string; b: string } | null {
  const x = a.split(/(\s+)/).filter(Boolean);
  const y = b.split(/(\s+)/).filter(Boolean);
  if (x.length * y.length > maxCells) return null;
  const n = x.length,
    m = y.length;
  const L = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i * (m + 1) + j] =
        x[i] === y[j] ? L[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(L[(i + 1) * (m + 1) + j], L[i * (m + 1) + j + 1]);
  const keepX = new Uint8Array(n),
    keepY = new Uint8Array(m);
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (x[i] === y[j]) {
      keepX[i++] = 1;
      keepY[j++] = 1;
    } else if (L[(i + 1) * (m + 1) + j] >= L[i * (m + 1) + j + 1]) i++;
    else j++;
  }
  const mark = (ts: string[], keep: Uint8Array, tag: string) =>
    ts.map((t, k) => (keep[k] || !t.trim() ? escapeHtml(t) : `<${tag}>${escapeHtml(t)}</${tag}>`)).join('');
  return { a: mark(x, keepX, 'del'), b: mark(y, keepY, 'ins') };
}
