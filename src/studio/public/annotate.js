// The annotation page: fetches the caller's next task, shows it (the prompt and candidates arrive as
// safe HTML from the server; videos play in sync through sync.js), takes the answer from the keyboard
// (or the buttons, which show the same keys), posts it with the session's CSRF token, shows who made
// what (after the vote, never before) and moves on. #app carries data-state and data-seq for tests.
import { SyncedPlayers } from './sync.js';

const app = document.getElementById('app');
const keysBox = document.getElementById('keys');
const revealBox = document.getElementById('reveal');
const progressBox = document.getElementById('progress');
const project = app.dataset.project;
const kind = app.dataset.task;
const csrf = document.querySelector('meta[name="csrf"]').content;
const SPEEDS = [0.25, 0.5, 1, 1.5, 2];
const LIKERT_WORDS = { 1: 'very bad', 4: 'neutral', 7: 'excellent' };

let view = null;
let sel = {};
let players = null;
let shownAt = 0;
let seq = 0;

const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'html')
      e.innerHTML = v; // server-rendered, escaped HTML only
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
};

function setState(s) {
  app.dataset.state = s;
}

async function load() {
  setState('loading');
  const r = await fetch(`/api/projects/${encodeURIComponent(project)}/next`, {
    headers: { accept: 'application/json' },
  });
  if (r.status === 401) return location.assign('/login');
  const body = await r.json();
  if (!r.ok) return showError(body.error?.message ?? `error ${r.status}`);
  showProgress(body.progress);
  if (body.done) {
    view = null;
    const again = el('button', { type: 'button', id: 'again', onclick: () => load() }, 'Check again');
    app.replaceChildren(el('p', { class: 'done' }, 'Nothing left to answer here. Thank you! ', again));
    keysBox.replaceChildren();
    keysBox.hidden = true;
    return setState('done');
  }
  view = body;
  sel = { rank: [] };
  render();
  shownAt = performance.now();
  app.dataset.seq = String(++seq);
  setState('ready');
}

function showProgress(p) {
  if (!p) return;
  const mine = `${p.mine} answer${p.mine === 1 ? '' : 's'}`;
  progressBox.textContent = `You: ${mine} · project: ${p.done} / ${p.target}`;
}

function showError(msg) {
  setState('error');
  app.replaceChildren(el('p', { class: 'error', role: 'alert' }, msg));
}

function candidateBox(c, k) {
  const body = c.video
    ? el('video', { src: c.video, class: 'player', 'aria-label': `video ${c.label}` })
    : el('div', { class: 'text', html: c.html });
  const chip = c.video ? [el('span', { class: `chip seg${k % 8}`, title: 'its segments on the timeline' })] : [];
  if (kind !== 'ranking' && kind !== 'best_worst')
    return el('section', { class: 'cand', 'data-pos': String(k) }, el('h2', {}, ...chip, c.label), body);
  const badge = el('span', { class: 'badge', hidden: '' });
  const pick = (e) => {
    if (e.target.closest('a') || String(window.getSelection() ?? '') !== '') return; // a link, or selecting text
    press(String(k + 1));
  };
  const title = kind === 'ranking' ? 'click to rank next' : 'click: first the best, then the worst';
  const attrs = { class: 'cand pickable', 'data-pos': String(k), title, onclick: pick };
  return el('section', attrs, el('h2', {}, ...chip, c.label, badge), body);
}

function render() {
  players = null;
  const cands = view.candidates.map(candidateBox);
  const parts = [
    el('div', { class: 'prompt', html: view.prompt_html }),
    el('div', { class: `cands n${cands.length}` }, ...cands),
  ];
  if (view.media === 'video') parts.push(videoControls());
  parts.push(el('div', { id: 'choice', class: 'choice' }), rationaleBox());
  app.replaceChildren(...parts);
  if (view.media === 'video') startPlayers();
  renderChoice();
  renderKeys();
}

function rationaleBox() {
  return el(
    'label',
    { class: 'rationale' },
    'Why? (optional — press R to write, Esc to leave) ',
    el('textarea', { id: 'rationale', rows: '2', maxlength: '4000' }),
  );
}

function videoControls() {
  const speed = el('span', { id: 'speed' }, '1×');
  const time = el('span', { id: 'time' }, '0.00 s');
  const track = el(
    'div',
    { id: 'timeline', class: 'timeline', title: 'click to seek' },
    el('div', { id: 'playhead', class: 'playhead' }),
  );
  track.addEventListener('click', (e) => {
    const r = track.getBoundingClientRect();
    players?.seek(((e.clientX - r.left) / r.width) * players.duration);
  });
  return el(
    'div',
    { class: 'controls' },
    el(
      'button',
      { type: 'button', id: 'play', onclick: () => players?.toggle() },
      el('kbd', {}, 'Space'),
      ' Play / pause',
    ),
    el('button', { type: 'button', onclick: () => players?.step(-1) }, '◀ ,'),
    el('button', { type: 'button', onclick: () => players?.step(1) }, '. ▶'),
    time,
    speed,
    track,
  );
}

function startPlayers() {
  const videos = [...app.querySelectorAll('video')];
  const track = document.getElementById('timeline');
  const head = document.getElementById('playhead');
  const onTime = (t) => {
    document.getElementById('time').textContent = `${t.toFixed(2)} s`;
    const d = players?.duration || 0;
    if (d > 0) head.style.left = `${(100 * t) / d}%`;
  };
  players = new SyncedPlayers(videos, { onTime });
  window.studioPlayers = players;
  const drawSegments = () => {
    const d = players.duration;
    if (!(d > 0)) return;
    for (const s of track.querySelectorAll('.seg')) s.remove();
    view.candidates.forEach((c, k) => {
      for (const s of c.segments ?? []) {
        const seg = el('div', {
          class: `seg seg${k % 8}`,
          title: `${c.label}: ${s.label ?? ''} ${s.start}–${s.end} s`,
        });
        seg.style.left = `${(100 * s.start) / d}%`;
        seg.style.width = `${(100 * Math.max(0.002 * d, s.end - s.start)) / d}%`;
        seg.style.top = `${4 + k * 8}px`;
        track.append(seg);
      }
    });
  };
  for (const v of videos) v.addEventListener('loadedmetadata', drawSegments);
}

/** The segment starts on the timeline, for j / k jumps. */
function segmentStarts() {
  return [...new Set(view.candidates.flatMap((c) => (c.segments ?? []).map((s) => s.start)))].sort((a, b) => a - b);
}

const KEYS = {
  pairwise: () => [
    ['1', 'A is better'],
    ['2', 'B is better'],
    ...(view.options.allow_tie ? [['3', 'Tie']] : []),
    ...(view.options.allow_both_bad ? [['0', 'Both are bad']] : []),
  ],
  best_worst: () => [
    [`1–${view.candidates.length}`, 'first the best, then the worst'],
    ['Backspace', 'clear'],
  ],
  ranking: () => [
    [`1–${view.candidates.length}`, 'candidates from best to worst'],
    ['=', 'tie with the previous'],
    ['Backspace', 'undo'],
  ],
  likert: () => [['1–7', '1 = very bad, 4 = neutral, 7 = excellent']],
};

function renderKeys() {
  const rows = [...KEYS[kind](), ['Enter', 'submit'], ['R', 'write a reason']];
  if (view.media === 'video')
    rows.push(
      ['Space', 'play / pause all'],
      ['← →', 'seek 1 s'],
      [', .', 'one frame'],
      ['[ ]', 'slower / faster'],
      ['J K', 'previous / next segment'],
      ['Home', 'start'],
    );
  else if (view.diff) rows.push(['D', 'show / hide differences']);
  keysBox.hidden = false;
  keysBox.replaceChildren(
    el('h2', {}, 'Keys'),
    // each key with its description in one group, so a line never breaks between them
    el('dl', {}, ...rows.map(([k, what]) => el('div', {}, el('dt', {}, el('kbd', {}, k)), el('dd', {}, what)))),
  );
}

function choiceButton(key, label, on, active) {
  return el(
    'button',
    { type: 'button', class: active ? 'on' : '', 'data-key': key, onclick: on },
    el('kbd', {}, key),
    label ? ` ${label}` : '',
  );
}

/** Ranking: the candidates' ranks so far (equal for ties), by shown position; undefined if not ranked yet. */
function rankOf() {
  const ranks = new Array(view.candidates.length);
  let r = 0;
  for (const [pos, tie] of sel.rank) ranks[pos] = tie && r > 0 ? r : ++r;
  return ranks;
}

/** The ranking so far as "1. 3   2. 1 = 2" (rank, then the cards' numbers). */
function rankingLine() {
  const buckets = [];
  for (const [p, tie] of sel.rank)
    tie && buckets.length ? buckets[buckets.length - 1].push(p + 1) : buckets.push([p + 1]);
  return buckets.map((b, i) => `${i + 1}. ${b.join(' = ')}`).join('   ');
}

/** What the person chose, in words, for the strip shown after the vote. */
function chosenText() {
  if (kind === 'pairwise') return KEYS.pairwise().find(([k]) => k === sel.choice)?.[1] ?? '?';
  if (kind === 'likert') return `score ${sel.score}`;
  if (kind === 'best_worst') return `best ${sel.best + 1}, worst ${sel.worst + 1}`;
  return rankingLine();
}

/** The selection line and the buttons for best/worst and ranking (clicks on the cards pick). */
function pickItems() {
  const K = view.candidates.length;
  const pos = (k) => (k === undefined ? '—' : k + 1);
  if (kind === 'best_worst')
    return [
      el('span', { id: 'selection' }, `Best: ${pos(sel.best)} · Worst: ${pos(sel.worst)}`),
      choiceButton('Backspace', 'Clear', () => press('Backspace'), false),
    ];
  const line = rankingLine() + (sel.tieNext ? ' =' : '');
  const tie = choiceButton('=', 'Tie with the previous', () => press('='), sel.tieNext === true);
  tie.disabled = sel.rank.length === 0 || sel.rank.length === K;
  return [
    el('span', { id: 'selection' }, sel.rank.length ? line : `Ranking: click the cards or press 1–${K}, best first`),
    tie,
    choiceButton('Backspace', 'Undo', () => press('Backspace'), false),
  ];
}

/** Best/worst and rank badges on the cards (text as well as colour). */
function markCards() {
  const ranks = kind === 'ranking' ? rankOf() : [];
  for (const c of app.querySelectorAll('.cand')) {
    const k = Number(c.dataset.pos);
    c.classList.toggle('best', sel.best === k);
    c.classList.toggle('worst', sel.worst === k);
    const badge = c.querySelector('.badge');
    if (!badge) continue;
    badge.textContent =
      kind === 'ranking'
        ? ranks[k] === undefined
          ? ''
          : `Rank ${ranks[k]}`
        : sel.best === k
          ? 'Best'
          : sel.worst === k
            ? 'Worst'
            : '';
    badge.hidden = badge.textContent === '';
  }
}

function renderChoice() {
  const box = document.getElementById('choice');
  const items = [];
  if (kind === 'pairwise')
    for (const [key, label] of KEYS.pairwise())
      items.push(choiceButton(key, label, () => press(key), sel.choice === key));
  else if (kind === 'likert')
    for (let s = 1; s <= 7; s++)
      items.push(choiceButton(String(s), LIKERT_WORDS[s] ?? '', () => press(String(s)), sel.score === s));
  else items.push(...pickItems());
  const send = el(
    'button',
    { type: 'button', id: 'submit', class: 'submit', onclick: submit },
    el('kbd', {}, 'Enter'),
    ' Submit',
  );
  send.disabled = !ready();
  items.push(send);
  box.replaceChildren(...items);
  markCards();
}

function ready() {
  if (kind === 'pairwise') return sel.choice !== undefined;
  if (kind === 'likert') return sel.score !== undefined;
  if (kind === 'best_worst') return sel.best !== undefined && sel.worst !== undefined;
  return sel.rank.length === view.candidates.length;
}

function answer() {
  if (kind === 'pairwise') return { choice: { 1: 'A', 2: 'B', 3: 'tie', 0: 'both_bad' }[sel.choice] };
  if (kind === 'likert') return { score: sel.score };
  if (kind === 'best_worst') return { best: sel.best, worst: sel.worst };
  return { ranks: rankOf() };
}

/** A choice key (1/2/3/0, digits, =, Backspace). */
function press(key) {
  const K = view.candidates.length;
  const d = Number(key);
  if (kind === 'pairwise' && ['1', '2', '3', '0'].includes(key)) {
    if ((key === '3' && !view.options.allow_tie) || (key === '0' && !view.options.allow_both_bad)) return;
    sel.choice = key;
  } else if (kind === 'likert' && d >= 1 && d <= 7) sel.score = d;
  else if (kind === 'best_worst' && d >= 1 && d <= K) {
    if (sel.best === undefined) sel.best = d - 1;
    else if (sel.best !== d - 1) sel.worst = d - 1;
  } else if (kind === 'best_worst' && key === 'Backspace') sel = { rank: [] };
  else if (kind === 'ranking' && d >= 1 && d <= K && !sel.rank.some(([p]) => p === d - 1)) {
    sel.rank.push([d - 1, sel.tieNext === true]);
    sel.tieNext = false;
  } else if (kind === 'ranking' && key === '=' && sel.rank.length && sel.rank.length < K) sel.tieNext = !sel.tieNext;
  else if (kind === 'ranking' && key === 'Backspace') {
    if (sel.tieNext) sel.tieNext = false;
    else sel.rank.pop();
  } else return false;
  renderChoice();
  return true;
}

async function submit() {
  if (!view || !ready() || app.dataset.state !== 'ready') return;
  setState('sending');
  const rationale = document.getElementById('rationale')?.value.trim() || undefined;
  const body = {
    assignment: view.assignment,
    ...answer(),
    rationale,
    duration_ms: Math.round(performance.now() - shownAt),
  };
  players?.pause();
  const r = await fetch(`/api/projects/${encodeURIComponent(project)}/votes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const out = await r.json();
  if (!r.ok) return showError(out.error?.message ?? `error ${r.status}`);
  showReveal(out.reveal);
  await load();
}

function showReveal(systems) {
  if (!systems || systems.every((s) => s === null)) return void (revealBox.hidden = true);
  const who = view.candidates.map((c, k) => `${c.label}: ${systems[k] ?? '?'}`).join(' · ');
  revealBox.textContent = `Last answer — ${who} — you chose: ${chosenText()}`;
  revealBox.hidden = false;
}

function videoKey(e) {
  const p = players;
  if (!p) return false;
  const starts = segmentStarts();
  if (e.key === ' ') p.toggle();
  else if (e.key === 'ArrowLeft') p.seek(p.time - 1);
  else if (e.key === 'ArrowRight') p.seek(p.time + 1);
  else if (e.key === ',') p.step(-1);
  else if (e.key === '.') p.step(1);
  else if (e.key === 'Home') p.seek(0);
  else if (e.key === '[' || e.key === ']') {
    const i = SPEEDS.indexOf(p.videos[0].playbackRate);
    const r = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 2 : i) + (e.key === '[' ? -1 : 1)))];
    p.setRate(r);
    document.getElementById('speed').textContent = `${r}×`;
  } else if (e.key === 'j' || e.key === 'k') {
    const t = p.time;
    const to = e.key === 'k' ? starts.find((s) => s > t + 0.01) : [...starts].reverse().find((s) => s < t - 0.01);
    if (to !== undefined) p.seek(to);
  } else return false;
  return true;
}

/** Keys that are not choices: submit, reason, differences. */
function otherKey(e) {
  if (e.key === 'Enter') submit();
  else if (e.key === 'r' || e.key === 'R') document.getElementById('rationale')?.focus();
  else if ((e.key === 'd' || e.key === 'D') && view.diff) toggleDiff();
  else return false;
  return true;
}

document.addEventListener('keydown', (e) => {
  const typing = e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement;
  if (typing) {
    if (e.key === 'Escape') e.target.blur();
    else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit();
    return;
  }
  if (!view || e.ctrlKey || e.metaKey || e.altKey) return;
  // speed is [ and ], so '=' (a tie in a ranking) never changes the videos
  let handled = view.media === 'video' && videoKey(e);
  if (!handled) handled = otherKey(e) || press(e.key);
  if (handled) e.preventDefault();
});

let diffOn = false;
function toggleDiff() {
  diffOn = !diffOn;
  app.querySelectorAll('.cand .text').forEach((box, k) => {
    box.innerHTML = diffOn ? `<pre class="diff">${view.diff[k]}</pre>` : view.candidates[k].html;
  });
}

load();
