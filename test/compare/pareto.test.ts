import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dominates, OBJECTIVE_NAMES, paretoFront, parseObjectives } from '../../src/compare/pareto.js';

describe('compare/pareto', () => {
  describe('dominates', () => {
    it('needs no worse on every objective and better on one', () => {
      expect(dominates([1, 1], [2, 2])).toBe(true);
      expect(dominates([1, 2], [1, 3])).toBe(true);
      expect(dominates([1, 3], [2, 2])).toBe(false);
      expect(dominates([2, 2], [2, 2])).toBe(false);
    });
  });

  describe('paretoFront', () => {
    it('keeps the trade-off points and drops the dominated ones', () => {
      // work, memory: a low threshold (much work, little memory) … a high one (little work, much memory)
      const points = [
        [1000, 10], // 0 front
        [600, 15], // 1 front
        [700, 16], // 2 dominated by 1
        [100, 40], // 3 front
        [100, 45], // 4 dominated by 3 (equal work, more memory)
        [0, 60], // 5 front (no collections at all)
        [1200, 10], // 6 dominated by 0 (equal memory, more work)
      ];
      expect(paretoFront(points)).toEqual([0, 1, 3, 5]);
    });

    it('keeps identical points together on the front', () => {
      expect(paretoFront([[5, 5], [5, 5], [6, 6]])).toEqual([0, 1]);
    });

    it('works in more than two dimensions', () => {
      const points = [
        [1, 1, 9],
        [1, 1, 8],
        [2, 0, 9],
        [2, 2, 9],
      ];
      expect(paretoFront(points)).toEqual([1, 2]);
    });

    it('returns nothing for nothing and everything for one point', () => {
      expect(paretoFront([])).toEqual([]);
      expect(paretoFront([[3, 4]])).toEqual([0]);
    });

    it('agrees with the definition on random point sets', () => {
      const point = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 3, maxLength: 3 });
      fc.assert(
        fc.property(fc.array(point, { maxLength: 40 }), (points) => {
          const expected = points.map((_, i) => i).filter((i) => !points.some((other) => dominates(other, points[i])));
          expect(paretoFront(points)).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('parseObjectives', () => {
    it('takes two or more distinct known names', () => {
      expect(parseObjectives(['examined', 'peak-bytes', 'garbage-latency'])).toEqual(['examined', 'peak-bytes', 'garbage-latency']);
    });

    it.each([
      [['examined'], 'at least two objectives'],
      [['examined', 'examined'], 'named twice'],
      [['examined', 'memory'], `unknown objective "memory"; choose from ${OBJECTIVE_NAMES.join(', ')}`],
    ])('refuses %j', (names, message) => {
      expect(() => parseObjectives(names)).toThrow(message);
    });
  });
});
