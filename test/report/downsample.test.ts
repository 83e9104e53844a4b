import { describe, expect, it } from 'vitest';
import { compactNumber, evenIndices, extremaIndices, MAX_CHART_POINTS } from '../../src/report/downsample.js';
import { mulberry32 } from '../helpers/random-trace.js';

describe('report/downsample', () => {
  describe('extremaIndices', () => {
    it('keeps every index of a short series', () => {
      expect(extremaIndices([[5, 1, 4]], 3, 10)).toEqual([0, 1, 2]);
    });

    it('stays within the bound and keeps each column’s global maximum and minimum, first and last', () => {
      const random = mulberry32(7);
      const a = Array.from({ length: 2048 }, () => Math.floor(random() * 1000));
      const b = Array.from({ length: 2048 }, () => Math.floor(random() * 1000));
      a[1234] = 5000;
      b[777] = -5;
      const kept = extremaIndices([a, b], 2048, 300);
      expect(kept.length).toBeLessThanOrEqual(300);
      expect(kept).toEqual([...new Set(kept)].sort((x, y) => x - y));
      for (const i of [0, 2047, 1234, 777]) expect(kept).toContain(i);
    });

    it('bounds a chart series below the issue’s 2,000 points', () => {
      expect(MAX_CHART_POINTS).toBeLessThanOrEqual(2000);
      const column = Array.from({ length: 2048 }, (_, i) => i % 97);
      expect(extremaIndices([column, column, column, column], 2048).length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    });
  });

  describe('evenIndices', () => {
    it('spreads at most the asked number of indices over the whole range', () => {
      const picks = evenIndices(1000, 11);
      expect(picks).toHaveLength(11);
      expect(picks[0]).toBe(0);
      expect(picks[10]).toBe(999);
      expect(evenIndices(5, 11)).toEqual([0, 1, 2, 3, 4]);
    });
  });

  it('compacts numbers to four significant digits and keeps integers', () => {
    expect(compactNumber(99273.37421563115)).toBe(99270);
    expect(compactNumber(0.123456)).toBe(0.1235);
    expect(compactNumber(123456789)).toBe(123456789);
  });
});
