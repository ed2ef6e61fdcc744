// Seedable random generators. Every random op takes an optional Generator; without one it uses
// libtorch's default CPU generator, which manualSeed() seeds (as torch.manual_seed does).
import { nativeOrDeferred, type GenHandle } from './native.js';
import { Tensor } from './tensor.js';

const N = nativeOrDeferred();

export class Generator {
  readonly handle: GenHandle;
  constructor(seed: number) {
    checkSeed(seed);
    this.handle = N.generator(seed);
  }
  /** The generator's full state (a uint8 tensor), for checkpoints. */
  getState(): Tensor {
    return new Tensor(N.generatorState(this.handle)!);
  }
  setState(state: Tensor): void {
    N.generatorState(this.handle, state.handle);
  }
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new TypeError(`pacer: a seed must be a non-negative integer, got ${seed}`);
}

/** Seed libtorch's default generator (torch.manual_seed). */
export function manualSeed(seed: number): void {
  checkSeed(seed);
  N.manualSeed(seed);
}

/** State of the default generator, for checkpoints. */
export function getRngState(): Tensor {
  return new Tensor(N.generatorState(null)!);
}
export function setRngState(state: Tensor): void {
  N.generatorState(null, state.handle);
}
