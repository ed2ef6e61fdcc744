// NumPy's default random generator, bit for bit: np.random.Generator(PCG64(SeedSequence(seed))), which is
// what Gymnasium's `np_random` is (gymnasium/utils/seeding.py). With it an environment reset with seed s
// draws the same initial state here as in Gymnasium.
//   SeedSequence (numpy/random/bit_generator.pyx, after O'Neill's seed_seq): the seed's 32-bit words are
//     hashed into a pool of 4 words (hashmix/mix with INIT_A, MULT_A, MIX_MULT_L/R), then
//     generate_state(4, uint64) draws words from the pool with INIT_B/MULT_B.
//   PCG64 (numpy/random/src/pcg64): 128-bit LCG state ← state·M + inc, output XSL-RR
//     rotr64(hi ⊕ lo, state >> 122); seeded as state 0, inc = (s1 << 1) | 1, step, state += s0, step.
//   random() = (next64 >> 11) · 2⁻⁵³; uniform(lo, hi) = lo + (hi − lo)·random().
// 128-bit arithmetic is done on BigInt; environments draw only at reset (LunarLander: 2 draws a step).

const MASK32 = 0xffffffff;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;

function hashmix(value: number, hash: { c: number }): number {
  let v = (value ^ hash.c) >>> 0;
  hash.c = Math.imul(hash.c, 0x931e8875) >>> 0;
  v = Math.imul(v, hash.c) >>> 0;
  return (v ^ (v >>> 16)) >>> 0;
}

function mix(x: number, y: number): number {
  const r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
  return (r ^ (r >>> 16)) >>> 0;
}

/** The 32-bit little-endian words of a non-negative integer seed ([0] for 0), as NumPy splits it. */
function seedWords(seed: number): number[] {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`pacer: a seed must be a non-negative integer, got ${seed}`);
  const words: number[] = [];
  let n = BigInt(seed);
  do {
    words.push(Number(n & BigInt(MASK32)));
    n >>= 32n;
  } while (n > 0n);
  return words;
}

/** SeedSequence(seed).generate_state(4, uint64), pool size 4. */
export function seedSequenceState(seed: number): bigint[] {
  const entropy = seedWords(seed);
  const pool = [0, 0, 0, 0];
  const h = { c: 0x43b0d7e5 };
  for (let i = 0; i < 4; i++) pool[i] = hashmix(i < entropy.length ? entropy[i] : 0, h);
  for (let s = 0; s < 4; s++) for (let d = 0; d < 4; d++) if (s !== d) pool[d] = mix(pool[d], hashmix(pool[s], h));
  for (let s = 4; s < entropy.length; s++) for (let d = 0; d < 4; d++) pool[d] = mix(pool[d], hashmix(entropy[s], h));
  let hc = 0x8b51f9dd;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) {
    let v = (pool[i % 4] ^ hc) >>> 0;
    hc = Math.imul(hc, 0x58f38ded) >>> 0;
    v = Math.imul(v, hc) >>> 0;
    words.push((v ^ (v >>> 16)) >>> 0);
  }
  return [0, 1, 2, 3].map((k) => (BigInt(words[2 * k + 1]) << 32n) | BigInt(words[2 * k]));
}

/** NumPy's Generator(PCG64(seed)): random() and uniform() draw the same doubles as NumPy. */
export class NumpyRandom {
  private state = 0n;
  private inc = 0n;
  constructor(seed: number) {
    const [s0hi, s0lo, s1hi, s1lo] = seedSequenceState(seed);
    const initState = (s0hi << 64n) | s0lo;
    const initSeq = (s1hi << 64n) | s1lo;
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.step();
    this.state = (this.state + initState) & MASK128;
    this.step();
  }
  private step(): void {
    this.state = (this.state * PCG_MULT + this.inc) & MASK128;
  }
  /** The next 64-bit output (PCG64's XSL-RR). */
  nextUint64(): bigint {
    this.step();
    const rot = this.state >> 122n;
    const x = ((this.state >> 64n) ^ this.state) & MASK64;
    return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
  }
  /** A double in [0, 1), NumPy's random(). */
  random(): number {
    return Number(this.nextUint64() >> 11n) * 2 ** -53;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }
  /** The generator's state (for checkpoints). */
  getState(): { state: string; inc: string } {
    return { state: this.state.toString(16), inc: this.inc.toString(16) };
  }
  setState(s: { state: string; inc: string }): void {
    this.state = BigInt(`0x${s.state}`) & MASK128;
    this.inc = BigInt(`0x${s.inc}`) & MASK128;
  }
}
