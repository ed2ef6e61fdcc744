// Starts the data-parallel workers of one node as torchrun does: one process per local rank with
// torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR,
// MASTER_PORT), the workers' output on this terminal, SIGINT/SIGTERM forwarded to them. When a
// worker fails (a non-zero exit, or a signal such as kill -9) the others are stopped (SIGTERM, then
// SIGKILL after a grace period) and the launcher exits with the failed worker's code (128 + signal
// number for a signal) and one line naming its rank and how it ended. Workers that failed only
// because a peer was gone (exit code EXIT_PEER_LOST: their collective saw the closed connection), or
// that the launcher itself stopped, are not the cause, and are not reported as such.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { constants } from 'node:os';

/** The exit code of `pacer` when a collective failed because a peer died or stalled (DistributedError). */
export const EXIT_PEER_LOST = 3;

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  /** null: a free port on this machine (single node only). */
  masterPort: number | null;
  /** Seconds a collective waits for peers (PACER_DIST_TIMEOUT); default: the workers' (1800). */
  timeoutS?: number;
  /** Seconds the rendezvous waits for every rank (PACER_RDZV_TIMEOUT); default: the workers' (900). */
  rendezvousTimeoutS?: number;
  /** The worker's program and arguments (run with this Node). */
  argv: string[];
  /** Extra environment for the workers. */
  env?: NodeJS.ProcessEnv;
  /** Seconds between SIGTERM and SIGKILL when stopping workers. */
  graceS?: number;
  log?: (line: string) => void;
}

interface Worker {
  rank: number;
  localRank: number;
  proc: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** The signals the launcher sent it. */
  sent: Set<NodeJS.Signals>;
}

/** A port nobody listens on now: bind port 0 on `host`, read the port the kernel chose, close. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function signalNumber(s: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[s] ?? 1;
}

function how(w: Worker): string {
  const e = w.exit!;
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

/** Whether a worker's end is a cause (not a consequence of a peer's death or of the launcher stopping it). */
function isCause(w: Worker): boolean {
  const e = w.exit!;
  if (e.code === 0) return false;
  if (e.code === EXIT_PEER_LOST) return false;
  return !(e.signal && w.sent.has(e.signal));
}

/** Run the node's workers to the end; resolves to the launcher's exit code. */
export async function launch(o: LaunchOptions): Promise<number> {
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const port = o.masterPort ?? (await freePort(o.masterAddr));
  const world = o.nnodes * o.nprocPerNode;
  const workers: Worker[] = Array.from({ length: o.nprocPerNode }, (_, local) => {
    const rank = o.nodeRank * o.nprocPerNode + local;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...o.env,
      RANK: String(rank),
      WORLD_SIZE: String(world),
      LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(o.nprocPerNode),
      GROUP_RANK: String(o.nodeRank),
      MASTER_ADDR: o.masterAddr,
      MASTER_PORT: String(port),
      ...(o.timeoutS !== undefined ? { PACER_DIST_TIMEOUT: String(o.timeoutS) } : {}),
      ...(o.rendezvousTimeoutS !== undefined ? { PACER_RDZV_TIMEOUT: String(o.rendezvousTimeoutS) } : {}),
    };
    const proc = spawn(process.execPath, o.argv, { env, stdio: 'inherit' });
    return { rank, localRank: local, proc, exit: null, sent: new Set<NodeJS.Signals>() };
  });
  return supervise(workers, o.graceS ?? 10, log);
}

function supervise(workers: Worker[], graceS: number, log: (s: string) => void): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let interrupted: NodeJS.Signals | null = null;
    let killTimer: NodeJS.Timeout | null = null;
    const ended: Worker[] = [];
    const alive = () => workers.filter((w) => w.exit === null);
    const stop = (sig: NodeJS.Signals) => {
      for (const w of alive()) {
        w.sent.add(sig);
        w.proc.kill(sig);
      }
    };
    const stopAll = () => {
      if (stopping) return;
      stopping = true;
      stop('SIGTERM');
      killTimer = setTimeout(() => stop('SIGKILL'), graceS * 1000);
    };
    const onSignal = (sig: NodeJS.Signals) => {
      interrupted ??= sig;
      stopping = true;
      stop(sig);
      killTimer ??= setTimeout(() => stop('SIGKILL'), graceS * 1000);
    };
    const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    for (const s of sigs) process.on(s, onSignal);
    const done = () => {
      if (killTimer) clearTimeout(killTimer);
      for (const s of sigs) process.off(s, onSignal);
      resolve(verdict(ended, interrupted, log));
    };
    for (const w of workers) {
      const record = (code: number | null, signal: NodeJS.Signals | null) => {
        if (w.exit) return;
        w.exit = { code, signal };
        ended.push(w);
        if (code !== 0) stopAll();
        if (alive().length === 0) done();
      };
      w.proc.on('exit', record);
      w.proc.on('error', () => record(127, null));
    }
  });
}

/** The exit code, after one line about the first worker that failed (or the signal that stopped all). */
function verdict(ended: Worker[], interrupted: NodeJS.Signals | null, log: (s: string) => void): number {
  if (interrupted) {
    log(`pacer launch: ${interrupted} received; stopped ${ended.length} worker(s)`);
    return 128 + signalNumber(interrupted);
  }
  const failed = ended.filter((w) => w.exit!.code !== 0);
  if (failed.length === 0) return 0;
  const cause = failed.find(isCause) ?? failed[0];
  const others = ended.length - 1;
  log(
    `pacer launch: rank ${cause.rank} (local rank ${cause.localRank}, pid ${cause.proc.pid}) ${how(cause)}; ` +
      `stopped the other ${others} worker(s) on this node`,
  );
  const e = cause.exit!;
  return e.signal ? 128 + signalNumber(e.signal) : (e.code ?? 1);
}
