// A small, well-known, seeded pseudo-random generator, so that initialisation and shuffling are
// reproducible bit for bit: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
// its 128-bit state filled from the user's integer seed with SplitMix64 as the authors recommend
// (https://prng.di.unimi.it/splitmix64.c). Only 32-bit integer arithmetic (Math.imul, shifts) is used
// for draws, so the stream is the same on every platform and Node version.

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64: a 64-bit generator used only to expand a seed into xoshiro's state (BigInt; a few calls). */
export class SplitMix64 {
  private state: bigint;
  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed);
  }
  next(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

export class Xoshiro128StarStar {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator with this exact state (four uint32 words, not all zero). Use `fromSeed` for user seeds. */
  constructor(state: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w >>> 0);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0)
      throw new RangeError('xoshiro128**: the state must not be all zero');
  }

  /** State words from two SplitMix64 outputs (low word first), as recommended by the authors. */
  static fromSeed(seed: number | bigint): Xoshiro128StarStar {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed))
      throw new RangeError(`seed must be an integer, got ${seed}`);
    const mixer = new SplitMix64(BigInt(seed));
    const a = mixer.next();
    const b = mixer.next();
    const words = [a & 0xffffffffn, a >> 32n, b & 0xffffffffn, b >> 32n].map(Number) as [
      number,
      number,
      number,
      number,
    ];
    return new Xoshiro128StarStar(words);
  }

  /** The current state (for tests and for saving a generator's position). */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** The next 32-bit output, as an unsigned integer 0 .. 2^32-1. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 24 random bits: exactly representable in float32 and in float64. */
  nextFloat24(): number {
    return (this.nextUint32() >>> 8) / 0x1000000;
  }

  /** An unbiased integer in [0, n) for 1 <= n <= 2^32 (rejection of the top partial range). */
  nextBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000)
      throw new RangeError(`nextBelow: n must be an integer in 1..2^32, got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n); // exact in float64
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Fisher-Yates shuffle of the first `length` entries of `values`, in place. */
  shuffle(values: Int32Array | Uint32Array | number[], length = values.length): void {
    for (let i = length - 1; i > 0; i--) {
      const j = this.nextBelow(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
  }
}
