// Running ffmpeg and ffprobe as child processes: argument arrays (no shell), stderr drained line by
// line (a full stderr pipe stalls ffmpeg), stdin fed with backpressure (wait for 'drain'), stdout
// either collected (small outputs) or cut into fixed-size frames and streamed (long decodes never sit
// in memory whole). A stall timeout kills a hung process: the clock runs only while pacer waits on
// ffmpeg (not while the consumer holds a frame) and restarts on any output, including the progress
// lines that `-progress pipe:2` prints every 0.5 s, and on stdin draining. Every process is awaited
// until it has exited, so none is left behind as a zombie; liveProcesses() counts those still running.
// Binaries: PACER_FFMPEG / PACER_FFPROBE, else `ffmpeg` / `ffprobe` on PATH (`npm run setup` installs them).
import { spawn, type ChildProcess } from 'node:child_process';

/** A video file could not be read or written; names the file and what ffmpeg said. */
export class VideoError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly detail = '',
  ) {
    super(message);
  }
}

export const ffmpegBin = (): string => process.env.PACER_FFMPEG ?? 'ffmpeg';
export const ffprobeBin = (): string => process.env.PACER_FFPROBE ?? 'ffprobe';

/** The longest a process may go without progress before it is killed (ms). */
export const DEFAULT_TIMEOUT_MS = 30_000;

const live = new Set<ChildProcess>();
/** How many ffmpeg/ffprobe processes started by pacer are still running. */
export function liveProcesses(): number {
  return live.size;
}

export interface ProcOptions {
  /** The file named in errors. */
  file: string;
  /** Kill the process after this long without progress (ms). */
  timeoutMs?: number;
  /** Data for stdin (written with backpressure); stdin is closed when it ends. */
  input?: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
}

/** A running process with its stderr drained, its stall timer and its exit awaited. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private messages: string[] = [];
  private partial = '';
  private timer: NodeJS.Timeout | null = null;
  timedOut = false;
  private done = false;
  private held = false;
  private inputError: Error | null = null;

  constructor(
    readonly bin: string,
    args: string[],
    readonly opts: ProcOptions,
  ) {
    this.child = spawn(bin, args, { stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('error', (e) => {
        if (this.child.pid === undefined) resolve({ code: null, signal: null, spawnError: e });
      });
      this.child.once('close', (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      live.delete(this.child);
      this.done = true;
      this.hold();
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => this.onStderr(s));
    if (opts.input) void this.feed(opts.input);
    this.touch();
  }

  private onStderr(s: string): void {
    this.touch();
    const lines = (this.partial + s).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      if (/^[a-z_0-9]+=/.test(l) || l.trim() === '') continue; // -progress key=value lines
      this.messages.push(l.trim());
      if (this.messages.length > 40) this.messages.shift();
    }
  }

  /** Restart the stall clock (unless the consumer holds things up). */
  touch(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.done || this.held) return;
    const ms = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.child.kill('SIGKILL');
    }, ms);
    this.timer.unref(); // the child's pipes keep the event loop alive while it runs
  }

  /** Stop the stall clock while the consumer, not ffmpeg, holds things up (e.g. keeps a frame). */
  hold(): void {
    this.held = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Start the stall clock again after hold(). */
  release(): void {
    this.held = false;
    this.touch();
  }

  private async feed(input: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    const stdin = this.child.stdin!;
    stdin.on('error', () => {}); // EPIPE when ffmpeg exits early: its exit status tells why
    try {
      for await (const chunk of input) {
        if (stdin.destroyed) return;
        if (!stdin.write(chunk)) {
          // ffmpeg is working through its input: its progress lines keep the clock from running out
          await new Promise<void>((r) => {
            const done = () => {
              stdin.off('drain', done);
              stdin.off('close', done);
              r();
            };
            stdin.on('drain', done);
            stdin.on('close', done);
          });
          this.touch();
        }
      }
    } catch (e) {
      this.inputError = e as Error; // a bad frame from the caller: stop ffmpeg and report it
      this.kill();
    } finally {
      stdin.end();
    }
  }

  /** What ffmpeg said on stderr (progress lines left out). */
  said(): string {
    const all = [...this.messages, this.partial.trim()].filter(Boolean);
    return all.slice(-8).join('\n');
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Wait for the exit; throw a VideoError if the process failed, timed out or could not start. */
  async check(what: string): Promise<void> {
    const e = await this.exited;
    const file = this.opts.file;
    if (this.inputError) throw this.inputError;
    if (e.spawnError) {
      const hint = `install ffmpeg (apt-get install ffmpeg, or npm run setup) or set PACER_FFMPEG/PACER_FFPROBE`;
      throw new VideoError(`pacer: cannot run ${this.bin} for ${file} (${e.spawnError.message}); ${hint}`, file);
    }
    if (this.timedOut) {
      const ms = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      throw new VideoError(
        `pacer: ${this.bin} made no progress for ${ms} ms while ${what} ${file} and was killed` +
          `${this.said() ? `; it said: ${this.said()}` : ''}`,
        file,
        this.said(),
      );
    }
    if (e.code !== 0) {
      const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
      throw new VideoError(
        `pacer: ${this.bin} failed while ${what} ${file} (${how}): ${this.said() || 'no message'}`,
        file,
        this.said(),
      );
    }
  }
}

/** Run to completion and return stdout (for small outputs: probe JSON, scene scores). */
export async function runCollect(bin: string, args: string[], o: ProcOptions, what: string): Promise<Buffer> {
  const p = new Proc(bin, args, o);
  const chunks: Buffer[] = [];
  p.child.stdout!.on('data', (c: Buffer) => {
    p.touch();
    chunks.push(c);
  });
  await p.check(what);
  return Buffer.concat(chunks);
}

/**
 * ffmpeg's stdout cut into frames of `frameBytes` (each a fresh Uint8Array). The process starts at
 * once (so it can work while the caller still prepares, e.g. probes); the frame size may be a
 * promise. close() kills it if it has not finished and waits for it: call it in a finally.
 */
export class FrameStream {
  readonly proc: Proc;
  private finished = false;

  constructor(
    bin: string,
    args: string[],
    private readonly frameBytes: number | Promise<number>,
    private readonly o: ProcOptions,
    private readonly what: string,
  ) {
    this.proc = new Proc(bin, args, o);
    // Mark stdout as read: Node resumes (and so discards) unread child output when the child exits.
    this.proc.child.stdout!.on('readable', () => {});
  }

  async *frames(): AsyncGenerator<Uint8Array> {
    const p = this.proc;
    const size = await this.frameBytes;
    // not zero-filled: every byte is written before a frame is handed out
    const fresh = () => new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
    let cur = fresh();
    let fill = 0;
    for await (const chunk of p.child.stdout! as AsyncIterable<Buffer>) {
      p.touch();
      for (let off = 0; off < chunk.length; ) {
        const n = Math.min(size - fill, chunk.length - off);
        cur.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === size) {
          p.hold(); // the consumer has the frame: a wait here is not ffmpeg's stall
          yield cur;
          p.release();
          cur = fresh();
          fill = 0;
        }
      }
    }
    await p.check(this.what);
    if (fill > 0)
      throw new VideoError(`pacer: ${p.bin} ended mid-frame while ${this.what} ${this.o.file}`, this.o.file);
    this.finished = true;
  }

  async close(): Promise<void> {
    if (!this.finished) {
      this.proc.kill();
      this.proc.child.stdout?.destroy(); // unread output would otherwise hold back 'close'
    }
    await this.proc.exited;
  }
}

/** Stream frames from a process started on the first read; ending the loop early kills it. */
export async function* runFrames(
  bin: string,
  args: string[],
  frameBytes: number,
  o: ProcOptions,
  what: string,
): AsyncGenerator<Uint8Array> {
  const s = new FrameStream(bin, args, frameBytes, o, what);
  try {
    yield* s.frames();
  } finally {
    await s.close();
  }
}
