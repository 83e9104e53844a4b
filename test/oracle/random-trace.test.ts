import { describe, expect, it } from 'vitest';
import { checkOracleTrace, runInCPython } from '../../src/oracle/cpython.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { pythonOrSkip } from '../helpers/python.js';
import { mulberry32, randomGcTrace } from '../helpers/random-trace.js';

function countOps(events: readonly TraceEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.op, (counts.get(event.op) ?? 0) + 1);
  return counts;
}

describe('helpers/random-trace', () => {
  describe('when a seed is given', () => {
    it('is deterministic', () => {
      expect(randomGcTrace(3, { events: 2000 })).toEqual(randomGcTrace(3, { events: 2000 }));
      expect(randomGcTrace(3, { events: 2000 })).not.toEqual(randomGcTrace(4, { events: 2000 }));
    });

    it('draws floats in [0, 1) from mulberry32', () => {
      const random = mulberry32(42);
      const draws = Array.from({ length: 1000 }, random);
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThan(1);
      expect(new Set(draws).size).toBe(1000);
    });
  });

  describe('when traces are generated', () => {
    it.each([1, 2, 3, 4, 5, 6, 7, 8])('makes a valid trace with every kind of event (seed %i)', (seed) => {
      const events = randomGcTrace(seed, { events: 4000, legacyFinalizers: true });
      expect(events).toHaveLength(4000);
      expect(() => checkOracleTrace(events)).not.toThrow();
      const ops = countOps(events);
      for (const op of ['alloc', 'incref', 'decref', 'link', 'unlink', 'free', 'collect', 'threshold', 'gc', 'freeze', 'unfreeze']) {
        expect(ops.get(op) ?? 0, op).toBeGreaterThan(0);
      }
      const allocs = events.filter((e): e is Extract<TraceEvent, { op: 'alloc' }> => e.op === 'alloc');
      expect(allocs.some((e) => e.tracked === false)).toBe(true);
      expect(allocs.some((e) => e.finalizer === 'del')).toBe(true);
      expect(events.some((e) => e.op === 'link' && e.src === e.dst)).toBe(true);
      expect(events.some((e) => e.op === 'threshold' && e.gen === 0 && e.value >= 5 && e.value <= 50)).toBe(true);
      expect(new Set(events.filter((e) => e.op === 'collect').map((e) => (e.op === 'collect' ? e.gen ?? 2 : -1)))).toEqual(new Set([0, 1, 2]));
    });

    it('emits no collector events when asked not to', () => {
      const ops = countOps(randomGcTrace(9, { events: 3000, collectorEvents: false }));
      for (const op of ['collect', 'threshold', 'gc', 'freeze', 'unfreeze']) expect(ops.has(op), op).toBe(false);
    });

    it('emits no legacy finalizers unless asked', () => {
      expect(randomGcTrace(5, { events: 4000 }).some((e) => e.op === 'alloc' && e.finalizer === 'legacy')).toBe(false);
    });
  });

  describe('when the traces run in CPython 3.11.7', () => {
    const python = pythonOrSkip('3.11.7');

    it.skipIf(python === null).each([1, 2, 3])('runs without error and collects cyclic garbage (seed %i)', async (seed) => {
      const result = await runInCPython(randomGcTrace(seed, { events: 4000, legacyFinalizers: seed === 3 }), { python: python as string });
      expect(result.generations.every((g) => g.collections > 0)).toBe(true);
      expect(result.generations.reduce((sum, g) => sum + g.collected, 0)).toBeGreaterThan(0);
    });
  });
});
