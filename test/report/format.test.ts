import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCount } from '../../src/report/format.js';
import { formatHeadlineChange } from '../../src/compare/terminal.js';

describe('report/format', () => {
  it('formatCount groups the digits of any integer below 1e21, and reads back to it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double({ min: -9.99e20, max: 9.99e20, noNaN: true })), (n) => {
        const text = formatCount(n);
        expect(text).toMatch(/^-?\d{1,3}(,\d{3})*$/);
        expect(Number(text.replace(/,/g, ''))).toBe(Math.round(n) === 0 ? 0 : Math.round(n));
      }),
    );
  });

  it('formatCount writes larger numbers in exponent notation, not cut into digit groups', () => {
    expect(formatCount(1e21)).toBe('1.000e+21');
    expect(formatCount(-2.5e300)).toBe('-2.500e+300');
    fc.assert(
      fc.property(fc.double({ min: 1e21, max: 1e300, noNaN: true }), (n) => {
        const text = formatCount(n);
        expect(text).not.toContain(',');
        expect(Math.abs(Number(text) - n) / n).toBeLessThan(1e-3);
      }),
    );
  });

  it("a diff's change shows no share of a zero or tiny A that it cannot write", () => {
    const change = (a: number, b: number) => formatHeadlineChange({ name: 'peak-bytes', title: 'peak', unit: 'objects', a, b, change: b - a });
    expect(change(200, 300)).toBe('+100 (+50.0%)');
    expect(change(0, 300)).toBe('+300');
    expect(change(1e-300, 1e300)).toBe('+1.000e+300');
  });
});
