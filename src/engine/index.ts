// pacer's engine: libtorch tensors, autograd, nn, optimizers, schedules, safetensors, RNG, scopes.
import { native, type ThreadInfo } from './native.js';

export * from './tensor.js';
export * from './create.js';
export * from './scope.js';
export * from './random.js';
export * as F from './functional.js';
export { cat, stack, where } from './functional.js';
export * from './nn.js';
export * from './optim.js';
export * from './schedule.js';
export * from './safetensors.js';
export { preferredBlasCore, type ThreadInfo } from './native.js';

/**
 * Set the number of threads for libtorch's intra-op pool and for the BLAS. By default the BLAS gets
 * the same count (OpenBLAS with pthreads runs GEMMs outside OpenMP regions, so the two pools take
 * turns instead of competing; measured in `pacer bench engine`).
 */
export function setThreads(n: number, opts: { blas?: number } = {}): ThreadInfo {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`pacer: thread count must be a positive integer, got ${n}`);
  return native().threads(n, opts.blas ?? n);
}
export function threadInfo(): ThreadInfo { return native().threads(); }
/** Live native tensors and their bytes (views counted separately), as the engine sees them. */
export function memoryStats(): { liveTensors: number; liveBytes: number } { return native().stats(); }
export function buildInfo(): { torchVersion: string; cuda: boolean; cudaDevices: number; parallelInfo: string } { return native().buildInfo(); }
export function cudaAvailable(): boolean { return native().buildInfo().cuda; }
