/**
 * The seeded pseudo-random generator behind every workload: xoshiro128** 1.1 (Blackman & Vigna,
 * https://prng.di.unimi.it/xoshiro128starstar.c), seeded through SplitMix32 so that nearby seeds
 * (1, 2, 3…) give unrelated streams.
 *
 * Why not `Math.random()`: workloads must be reproducible from their seed, byte for byte, on
 * every machine and Node version. Why xoshiro128** and not mulberry32: its 128-bit state has a
 * period of 2^128 − 1 (mulberry32 cycles after at most 2^32 outputs, and a 10M-event workload
 * draws a few tens of millions of numbers), and it needs only 32-bit integer arithmetic, which
 * `Math.imul` and `>>> 0` do exactly in JavaScript.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` is any number; its low 32 bits (after truncation toward zero) select the stream. */
  constructor(seed: number) {
    let state = Math.trunc(seed) >>> 0;
    // SplitMix32 (a 32-bit variant of Steele, Lea & Flood's SplitMix) fills the four words.
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is the one state xoshiro never leaves; SplitMix32 cannot give four
    // zeros in a row, but keep the invariant explicit.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [0, n). `n` must be a positive integer ≤ 2^32. */
  below(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** An integer in [low, high], both included. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /**
   * A whole number ≥ 1 from a geometric-like law with the given mean: small values are common,
   * large ones rare (request sizes, batch lengths). Deterministic and cheap: −mean·ln(U), rounded up.
   */
  skewed(mean: number, max: number): number {
    const value = Math.ceil(-mean * Math.log(1 - this.nextFloat()));
    return Math.min(max, Math.max(1, value));
  }
}

function rotateLeft(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
