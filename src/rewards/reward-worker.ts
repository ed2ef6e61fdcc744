// The body of a reward worker thread (see src/rewards/worker.ts): imports the extra reward modules
// and the library, says {ready: true, names} (the rewards it knows) or {ready: false, error}, then
// answers {id, spec, input}
// messages with {id, ok, out} or {id, ok: false, error}. Rewards are built from their spec once
// and cached.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { RewardFunction } from './types.js';

const cache = new Map<string, RewardFunction>();
const ready = (async () => {
  for (const m of (workerData?.modules ?? []) as string[])
    await import(m.startsWith('file:') ? m : pathToFileURL(m).href);
  return import('./index.js');
})();
ready.then(
  (lib) => parentPort!.postMessage({ ready: true, names: Object.keys(lib.REWARDS) }),
  (e: Error) => parentPort!.postMessage({ ready: false, error: e.message }),
);

parentPort!.on('message', async (m: { id: number; spec: string; input: Parameters<RewardFunction>[0] }) => {
  try {
    const lib = await ready;
    let fn = cache.get(m.spec);
    if (!fn) {
      fn = lib.rewardsFromSpec(m.spec)[0].fn;
      cache.set(m.spec, fn);
    }
    parentPort!.postMessage({ id: m.id, ok: true, out: await fn(m.input) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: (e as Error).message });
  }
});
