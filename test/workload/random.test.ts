import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/workload/random.js';
import { pythonOrSkip } from '../helpers/python.js';

const python = pythonOrSkip('3.12');

/**
 * xoshiro128** 1.1 and the SplitMix32 seeding, transcribed independently from the reference C
 * (https://prng.di.unimi.it/xoshiro128starstar.c) into Python, whose integers do not overflow:
 * every 32-bit wrap is an explicit mask.
 */
const REFERENCE_SCRIPT = String.raw`
import json, sys
M = 0xffffffff
seed, count = json.load(sys.stdin)
def rotl(x, k): return ((x << k) | (x >> (32 - k))) & M
state = seed & M
def splitmix():
    global state
    state = (state + 0x9e3779b9) & M
    z = state
    z = ((z ^ (z >> 16)) * 0x85ebca6b) & M
    z = ((z ^ (z >> 13)) * 0xc2b2ae35) & M
    return z ^ (z >> 16)
s = [splitmix() for _ in range(4)]
out = []
for _ in range(count):
    out.append((rotl((s[1] * 5) & M, 7) * 9) & M)
    t = (s[1] << 9) & M
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
    s[3] = rotl(s[3], 11)
print(json.dumps(out))
`;

describe('workload/random', () => {
  describe.skipIf(python === null)('when compared with a reference transcription of xoshiro128**', () => {
    it.each([0, 1, 42, 0xffffffff])('gives the same 32-bit stream for seed %i', (seed) => {
      const result = spawnSync(python as string, ['-c', REFERENCE_SCRIPT], { input: JSON.stringify([seed, 1000]), encoding: 'utf8' });
      expect(result.status).toBe(0);
      const expected = JSON.parse(result.stdout) as number[];
      const rng = new SeededRandom(seed);
      expect(Array.from({ length: 1000 }, () => rng.nextUint32())).toEqual(expected);
    });
  });

  describe('when drawing numbers', () => {
    it('is deterministic from the seed, and different seeds give different streams', () => {
      const draw = (seed: number): number[] => {
        const rng = new SeededRandom(seed);
        return Array.from({ length: 64 }, () => rng.nextUint32());
      };
      expect(draw(7)).toEqual(draw(7));
      expect(draw(7)).not.toEqual(draw(8));
    });

    it('keeps below, between and skewed within their bounds', () => {
      fc.assert(
        fc.property(fc.nat(), fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: -1000, max: 1000 }), fc.nat({ max: 1000 }), (seed, n, low, width) => {
          const rng = new SeededRandom(seed);
          for (let i = 0; i < 50; i++) {
            const below = rng.below(n);
            expect(Number.isInteger(below) && below >= 0 && below < n).toBe(true);
            const between = rng.between(low, low + width);
            expect(Number.isInteger(between) && between >= low && between <= low + width).toBe(true);
            const skewed = rng.skewed(10, 50);
            expect(Number.isInteger(skewed) && skewed >= 1 && skewed <= 50).toBe(true);
            const float = rng.nextFloat();
            expect(float >= 0 && float < 1).toBe(true);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('spreads below(10) evenly (chi-square, 9 degrees of freedom)', () => {
      const rng = new SeededRandom(123);
      const counts = new Array<number>(10).fill(0);
      const draws = 100_000;
      for (let i = 0; i < draws; i++) counts[rng.below(10)]++;
      const expected = draws / 10;
      const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
      // 27.88 is the 0.999 quantile of chi-square with 9 degrees of freedom.
      expect(chiSquare).toBeLessThan(27.88);
    });

    it('gives skewed values with about the asked mean', () => {
      const rng = new SeededRandom(5);
      let sum = 0;
      for (let i = 0; i < 50_000; i++) sum += rng.skewed(20, 1_000_000);
      // ceil(exponential(20)) has mean about 20.5.
      expect(sum / 50_000).toBeGreaterThan(19.5);
      expect(sum / 50_000).toBeLessThan(21.5);
    });
  });
});
