// A single-line progress bar with rate and ETA on stderr (plain lines when stderr is not a TTY).
export class Progress {
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly tty = process.stderr.isTTY === true;
  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly enabled = true,
  ) {}

  update(done: number, info = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    const final = done >= this.total;
    if (!final && now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    const el = (now - this.start) / 1000;
    const rate = done / Math.max(el, 1e-9);
    const eta = done > 0 ? (this.total - done) / rate : NaN;
    const width = 24;
    const fill = Math.round((width * Math.min(done, this.total)) / Math.max(this.total, 1));
    const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
    const line =
      `${this.label} ${bar} ${done}/${this.total} ${fmt(el)} elapsed, ETA ` +
      `${Number.isFinite(eta) ? fmt(eta) : '?'}${info ? '  ' + info : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  }
}

function fmt(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}
