import { describe, expect, it } from 'vitest';
import { completeEntry, expandSweep, MAX_CONFIGURATIONS, replayOptionsOf, sweepSize } from '../../src/compare/configurations.js';
import { commonSettings, shortLabels } from '../../src/compare/rows.js';
import { UsageError } from '../../src/errors.js';

const failure = (fn: () => unknown): UsageError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('no usage error');
};

describe('compare/configurations', () => {
  describe('when options are repeated', () => {
    it('crosses policies with threshold triples, policy outermost, in the order given', () => {
      const entries = expandSweep({ policies: ['cpython-3.11', 'cpython-3.13'], thresholds: [[700, 10, 10], [10000, 10, 10]] });
      expect(entries.map((e) => e.label)).toEqual(['cpython-3.11 700/10/10', 'cpython-3.11 10000/10/10', 'cpython-3.13 700/10/10', 'cpython-3.13 10000/10/10']);
      expect(entries[1]).toMatchObject({ policy: 'cpython-3.11', thresholds: [10000, 10, 10], gc: 'on', oldObjects: null, pool: null, freeLists: null });
    });

    it('keeps unset options null, meaning what replay does without them', () => {
      const [entry] = expandSweep({});
      expect(entry).toEqual({ label: 'defaults', policy: null, thresholds: null, gc: 'on', oldObjects: null, markedObjects: null, pool: null, poolParams: {}, freeLists: null });
    });

    it('gives --marked-objects to every configuration, and names it', () => {
      const entries = expandSweep({ policies: ['cpython-3.14.2', 'cpython-3.12'], oldObjects: [20000], markedObjects: 19000, thresholds: [[100]] });
      expect(entries.map((e) => e.markedObjects)).toEqual([19000, 19000]);
      expect(entries.map((e) => e.label)).toEqual(['cpython-3.14.2 100 old=20000 marked=19000', 'cpython-3.12 100 old=20000 marked=19000']);
      expect(replayOptionsOf(entries[0])).toMatchObject({ policy: 'cpython-3.14.2', oldObjects: 20000, markedObjects: 19000 });
      expect(replayOptionsOf(expandSweep({})[0]).markedObjects).toBeUndefined();
    });

    it('crosses gc, old objects, pools and free lists outside the thresholds', () => {
      const entries = expandSweep({ gc: ['on', 'off'], pools: ['malloc', 'pymalloc-3.11'], thresholds: [[100], [1000]] });
      expect(entries.map((e) => e.label)).toEqual([
        '100 pool=malloc',
        '1000 pool=malloc',
        '100 pool=pymalloc-3.11',
        '1000 pool=pymalloc-3.11',
        '100 gc=off pool=malloc',
        '1000 gc=off pool=malloc',
        '100 gc=off pool=pymalloc-3.11',
        '1000 gc=off pool=pymalloc-3.11',
      ]);
    });
  });

  describe('when thresholds form a grid (--threshold0/1/2)', () => {
    it('crosses the generations, generation 0 outermost, leaving unset generations at their defaults', () => {
      const entries = expandSweep({ thresholdLists: [[100, 1000], undefined, [5, 10]] });
      expect(entries.map((e) => e.thresholds)).toEqual([
        [100, null, 5],
        [100, null, 10],
        [1000, null, 5],
        [1000, null, 10],
      ]);
      expect(entries[0].label).toBe('100/_/5');
    });

    it('trims trailing defaults, so --threshold0 100 is --threshold 100', () => {
      expect(expandSweep({ thresholdLists: [[100]] })[0].thresholds).toEqual([100]);
    });

    it('refuses triples and a grid together', () => {
      expect(failure(() => expandSweep({ thresholds: [[700]], thresholdLists: [[100]] })).message).toContain('not both');
    });
  });

  describe('when a policy collects no cycles', () => {
    it('is not crossed with thresholds, which it does not have', () => {
      const sweep = { policies: ['cpython-3.12', 'refcount-only'], thresholdLists: [[100, 1000, 10000, 100000]] };
      const entries = expandSweep(sweep);
      expect(sweepSize(sweep)).toBe(5);
      expect(entries.map((e) => e.label)).toEqual(['cpython-3.12 100', 'cpython-3.12 1000', 'cpython-3.12 10000', 'cpython-3.12 100000', 'refcount-only']);
    });
  });

  describe('when names are wrong', () => {
    it('rejects an unknown policy before any trace is read, listing the known ones', () => {
      const message = failure(() => expandSweep({ policies: ['cpython-3.12', 'cpython-3.15'] })).message;
      expect(message).toContain('unknown collector policy "cpython-3.15"');
      expect(message).toContain('known policies: refcount-only, mark-sweep, cpython-3.7');
    });

    it('rejects unknown pools and free-list models', () => {
      expect(failure(() => completeEntry({ pool: 'jemalloc' })).message).toContain('unknown pool policy "jemalloc"');
      expect(failure(() => completeEntry({ freeLists: '2.7' })).message).toContain('unknown free-list model "2.7"');
    });
  });

  describe('when the grid is too large', () => {
    it('says how large and from what, before expanding it', () => {
      const big = Array.from({ length: 101 }, (_, i) => i + 1);
      const message = failure(() => expandSweep({ policies: ['cpython-3.11', 'cpython-3.12'], thresholdLists: [big, big] })).message;
      expect(message).toContain('20,402 configurations (2 policies × 101 generation-0 thresholds × 101 generation-1 thresholds)');
      expect(message).toContain(`more than the ${MAX_CONFIGURATIONS.toLocaleString('en-US')}`);
    });

    it('accepts exactly the cap', () => {
      const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
      expect(sweepSize({ thresholdLists: [hundred, hundred] })).toBe(MAX_CONFIGURATIONS);
      expect(expandSweep({ thresholdLists: [hundred, hundred] })).toHaveLength(MAX_CONFIGURATIONS);
    });
  });

  describe('labels', () => {
    it('keeps a label the user gave', () => {
      expect(completeEntry({ label: 'production', thresholds: [10000] }).label).toBe('production');
    });

    it('shortens to the options that differ, with the shared ones said once', () => {
      const entries = expandSweep({ policies: ['cpython-3.11', 'refcount-only'], thresholds: [[700, 10, 10]], pools: ['malloc'], oldObjects: [25000] });
      expect(shortLabels(entries)).toEqual(['3.11 700/10/10', 'refcount']);
      expect(commonSettings(entries)).toBe('old=25000 · pool=malloc');
    });

    it('keeps pool parameters as ordinary keys, whatever they are called', () => {
      const entry = completeEntry({ poolParams: JSON.parse('{"__proto__": 1, "pool_size": 4096}') as Record<string, number> });
      expect(Object.keys(entry.poolParams)).toEqual(['__proto__', 'pool_size']);
      expect(Object.getPrototypeOf(entry.poolParams)).toBe(Object.prototype);
      expect(entry.label).toBe('__proto__=1,pool_size=4096');
    });
  });
});
