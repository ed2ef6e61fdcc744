// Rewards in worker threads, where a timeout can stop them. A reward that runs synchronous code in
// the caller's thread (a catastrophic regex, a busy loop) cannot be interrupted by a timer: the
// timer only fires after the code returns. In a worker, a timeout terminates the thread (V8 stops
// the running JavaScript) and a fresh worker takes its place.
//
// Workers rebuild rewards from their spec strings ("accuracy", "overlong:max_length=512:cache=128"),
// so only the reward library — plus rewards that modules listed in `modules` add to REWARDS — can
// run here. A reward function passed in as a closure cannot be moved to a worker; runRewards runs
// those in-process and logs when they overrun. The 'remote' (network I/O, already interruptible)
// and 'reward_model' (a libtorch model per worker would multiply its memory) rewards stay
// in-process too.
import { Worker } from 'node:worker_threads';
import type { RewardInput } from './types.js';

/** Rewards that stay in the calling thread. */
export const IN_PROCESS_REWARDS = new Set(['remote', 'reward_model']);

export class RewardTimeoutError extends Error {}

/** A worker that has not imported its modules by then is given up (a module that hangs at import). */
const STARTUP_MS = 60_000;

interface Job {
  spec: string;
  input: RewardInput;
  timeoutMs: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * A pool of `size` workers, started on demand. run() resolves with the reward's values, or rejects
 * with RewardTimeoutError after timeoutMs of running (the worker is terminated and replaced) or with
 * the reward's own error. The timeout counts from when a started worker takes the job (a new
 * worker's imports are not counted). close() terminates every worker.
 */
export class RewardWorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly ready = new Map<Worker, Promise<Set<string>>>();
  private known: Promise<Set<string>> | null = null;
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(readonly o: { size: number; modules?: string[] }) {
    if (!(Number.isInteger(o.size) && o.size >= 1))
      throw new RangeError(`pacer: a reward worker pool needs size >= 1, got ${o.size}`);
  }

  /**
   * Can workers build this reward? (the library's, and those the modules add; a reward added to
   * REWARDS at run time by other code exists only in its own thread)
   */
  async has(name: string): Promise<boolean> {
    if (!this.known) {
      const w = this.idle.pop() ?? (this.all.size < this.o.size ? this.spawn() : null);
      if (!w) return false;
      this.idle.push(w);
      this.known = this.ready.get(w)!;
    }
    return this.known.then(
      (names) => names.has(name),
      () => false,
    );
  }

  run(spec: string, input: RewardInput, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('pacer: the reward worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ spec, input, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('pacer: the reward worker pool is closed'));
    await Promise.all([...this.all].map((w) => w.terminate()));
    this.all.clear();
    this.ready.clear();
    this.idle.length = 0;
  }

  private pump(): void {
    while (this.queue.length) {
      let w = this.idle.pop();
      if (!w && this.all.size < this.o.size) w = this.spawn();
      if (!w) return;
      this.start(w, this.queue.shift()!);
    }
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./reward-worker.js', import.meta.url), {
      workerData: { modules: this.o.modules ?? [] },
    });
    w.unref(); // an idle pool does not keep the process alive
    this.all.add(w);
    // a worker's start-up (imports) does not count against the first reward's timeout
    const ready = new Promise<Set<string>>((resolve, reject) => {
      const fail = (e: Error) => {
        off();
        reject(e);
      };
      const onMessage = (m: { ready?: boolean; error?: string; names?: string[] }) => {
        if (m.ready === undefined) return;
        if (m.ready) {
          off();
          resolve(new Set(m.names));
        } else fail(new Error(`pacer: a reward worker could not start: ${m.error}`));
      };
      const onExit = (code: number) => fail(new Error(`pacer: a reward worker exited (code ${code})`));
      const startup = setTimeout(
        () => fail(new Error(`pacer: a reward worker did not start within ${STARTUP_MS} ms`)),
        STARTUP_MS,
      );
      const off = () => {
        clearTimeout(startup);
        w.off('message', onMessage);
        w.off('error', fail);
        w.off('exit', onExit);
      };
      w.on('message', onMessage);
      w.on('error', fail);
      w.on('exit', onExit);
    });
    ready.catch(() => undefined);
    this.ready.set(w, ready);
    return w;
  }

  private retire(w: Worker): void {
    this.all.delete(w);
    this.ready.delete(w);
    void w.terminate();
  }

  private start(w: Worker, job: Job): void {
    this.ready.get(w)!.then(
      () => this.send(w, job),
      (e: Error) => {
        this.retire(w);
        job.reject(e);
        this.pump();
      },
    );
  }

  private send(w: Worker, job: Job): void {
    const id = this.nextId++;
    const done = (fn: () => void, healthy: boolean) => {
      clearTimeout(timer);
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
      if (healthy) this.idle.push(w);
      else this.retire(w);
      fn();
      this.pump();
    };
    const onMessage = (m: { id: number; ok: boolean; out?: unknown; error?: string }) => {
      if (m.id !== id) return;
      done(() => (m.ok ? job.resolve(m.out) : job.reject(new Error(m.error))), true);
    };
    const onError = (e: Error) => done(() => job.reject(e), false);
    const onExit = (code: number) =>
      done(() => job.reject(new Error(`pacer: a reward worker exited (code ${code})`)), false);
    const timer = setTimeout(
      () => done(() => job.reject(new RewardTimeoutError(`timed out after ${job.timeoutMs} ms`)), false),
      job.timeoutMs,
    );
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
    w.postMessage({ id, spec: job.spec, input: job.input });
  }
}
