import { describe, expect, it } from 'vitest';
import { MAX_LIST_VALUES, parseValueList } from '../../src/compare/ranges.js';
import { UsageError } from '../../src/errors.js';

const parse = (text: string, max = 2 ** 31 - 1) => parseValueList(text, { option: '--threshold0', max });
const problem = (text: string, max?: number): string => {
  try {
    parse(text, max);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`"${text}" was accepted`);
};

describe('compare/ranges', () => {
  describe('when a list names values', () => {
    it('keeps them in the order given', () => {
      expect(parse('700,1000, 10')).toEqual([700, 1000, 10]);
    });

    it('drops repeats, keeping the first place', () => {
      expect(parse('100..1000x10,1000,5,100')).toEqual([100, 1000, 5]);
    });
  });

  describe('when a range is geometric (A..BxF)', () => {
    it('multiplies up to and including B', () => {
      expect(parse('100..100000x10')).toEqual([100, 1000, 10000, 100000]);
    });

    it('stops below B when the steps do not land on it', () => {
      expect(parse('700..6000x2')).toEqual([700, 1400, 2800, 5600]);
    });

    it('rounds decimal factors and drops values that round alike', () => {
      expect(parse('1..10x1.5')).toEqual([1, 2, 3, 5, 8]);
      expect(parse('100..1000x3.16')).toEqual([100, 316, 999]);
    });

    it('cannot start at 0 and says how to list 0', () => {
      expect(problem('0..1000x10')).toContain('list 0 on its own');
    });

    it('refuses a factor of 1 or a factor so small the range would be huge', () => {
      expect(problem('1..100x1')).toContain('must be above 1');
      expect(problem('1..2000000000x1.0000001')).toContain(`more than ${MAX_LIST_VALUES.toLocaleString('en-US')} values`);
    });
  });

  describe('when a range is arithmetic (A..B+S)', () => {
    it('adds S up to B', () => {
      expect(parse('0..1000+250')).toEqual([0, 250, 500, 750, 1000]);
      expect(parse('5..12+5')).toEqual([5, 10]);
    });

    it('refuses a step of 0 and more values than the cap', () => {
      expect(problem('0..10+0')).toContain('at least 1');
      expect(problem('0..1000000+1')).toContain('more than');
    });
  });

  describe('when the text is wrong', () => {
    it.each([
      ['100..1000', 'needs a step'],
      ['1000..100x10', 'ends below its start'],
      ['abc', 'cannot read "abc"'],
      ['-5', 'cannot read "-5"'],
      ['1,,2', 'empty item'],
      ['10..20x', 'cannot read'],
    ])('"%s" is a usage error: %s', (text, expected) => {
      expect(problem(text)).toContain(expected);
    });

    it('names the option and refuses values above the maximum', () => {
      const message = problem('10..100000x10', 5000);
      expect(message).toMatch(/^--threshold0: /);
      expect(message).toContain('above the largest allowed value, 5000');
    });
  });
});
