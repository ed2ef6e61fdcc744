// NumPy's default random generator, bit for bit: np.random.Generator(PCG64(SeedSequence(seed))), which is
// what Gymnasium's `np_random` is (gymnasium/utils/seeding.py). With it an environment reset with seed s
// draws the same initial state here as in Gymnasium.
//   SeedSequence (numpy/random/bit_generator.pyx, after O'Neill's seed_seq): the seed's 32-bit words are
//     hashed into a pool of 4 words (hashmix/mix with INIT_A, MULT_A, MIX_MULT_L/R), then
//     generate_state(4, uint64) draws words from the pool with INIT_B/MULT_B.
//   PCG64 (numpy/random/src/pcg64): 128-bit LCG state ← state·M + inc, output XSL-RR
//     rotr64(hi ⊕ lo, state >> 122); seeded as state 0, inc = (s1 << 1) | 1, step, state += s0, step.
//   random() = (next64 >> 11) · 2⁻⁵³; uniform(lo, hi) = lo + (hi − lo)·random().
// The generator's 128-bit arithmetic runs on 16-bit limbs (NumpyRandom); seeding uses BigInt.

const MASK32 = 0xffffffff;
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

const limbsOf = (x: bigint): Float64Array =>
  Float64Array.from({ length: 8 }, (_, k) => Number((x >> BigInt(16 * k)) & 0xffffn));
const bigOf = (l: ArrayLike<number>): bigint => {
  let x = 0n;
  for (let k = 7; k >= 0; k--) x = (x << 16n) | BigInt(l[k]);
  return x;
};
const MULT_LIMBS = limbsOf(PCG_MULT);

/**
 * NumPy's Generator(PCG64(seed)): random() and uniform() draw the same doubles as NumPy. The 128-bit state
 * is kept as eight 16-bit limbs in doubles (products of limbs and their sums stay exact below 2^53), which
 * is an order of magnitude faster than BigInt arithmetic.
 */
export class NumpyRandom {
  private readonly s = new Float64Array(8);
  private readonly inc = new Float64Array(8);
  private readonly t = new Float64Array(8);
  constructor(seed: number) {
    const [s0hi, s0lo, s1hi, s1lo] = seedSequenceState(seed);
    const initState = (s0hi << 64n) | s0lo;
    const initSeq = (s1hi << 64n) | s1lo;
    this.inc.set(limbsOf(((initSeq << 1n) | 1n) & MASK128));
    this.step();
    this.s.set(limbsOf((bigOf(this.s) + initState) & MASK128));
    this.step();
  }
  /** state ← state·M + inc (mod 2^128), limb by limb. */
  private step(): void {
    const s = this.s;
    const t = this.t;
    for (let k = 0; k < 8; k++) {
      let acc = this.inc[k];
      for (let i = 0; i <= k; i++) acc += s[i] * MULT_LIMBS[k - i];
      t[k] = acc;
    }
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      const v = t[k] + carry;
      const lo = v % 65536;
      s[k] = lo;
      carry = (v - lo) / 65536;
    }
  }
  /** The next 64-bit output (PCG64's XSL-RR), left in this.hi and this.lo (unsigned 32-bit halves). */
  private next(): void {
    this.step();
    const s = this.s;
    let hi = ((s[7] * 65536 + s[6]) ^ (s[3] * 65536 + s[2])) >>> 0;
    let lo = ((s[5] * 65536 + s[4]) ^ (s[1] * 65536 + s[0])) >>> 0;
    let rot = s[7] >>> 10; // state >> 122
    if (rot >= 32) {
      const h = hi;
      hi = lo;
      lo = h;
      rot -= 32;
    }
    if (rot > 0) {
      const h = ((hi >>> rot) | (lo << (32 - rot))) >>> 0;
      lo = ((lo >>> rot) | (hi << (32 - rot))) >>> 0;
      hi = h;
    }
    this.hi = hi;
    this.lo = lo;
  }
  private hi = 0;
  private lo = 0;
  nextUint64(): bigint {
    this.next();
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
  /** A double in [0, 1), NumPy's random(): the top 53 bits of the next output. */
  random(): number {
    this.next();
    return (this.hi * 2097152 + (this.lo >>> 11)) * 2 ** -53;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }
  /** The generator's state (for checkpoints). */
  getState(): { state: string; inc: string } {
    return { state: bigOf(this.s).toString(16), inc: bigOf(this.inc).toString(16) };
  }
  setState(st: { state: string; inc: string }): void {
    this.s.set(limbsOf(BigInt(`0x${st.state}`) & MASK128));
    this.inc.set(limbsOf(BigInt(`0x${st.inc}`) & MASK128));
  }
}
