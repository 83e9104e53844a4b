import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listPolicies, resolvePolicy } from '../../src/gc/index.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { randomGcTrace } from '../helpers/random-trace.js';
import { ev, replayEvents } from '../helpers/replay.js';

/** `n` kept-alive plain objects with ids start.. */
function allocs(start: number, n: number): TraceEvent[] {
  return Array.from({ length: n }, (_, i) => ev.alloc(start + i));
}

/**
 * The trace that makes `cpython-3.12` with automatic collection off do what `mark-sweep` did:
 * every `collect` event becomes a full collection, and a full collection is inserted after each
 * event at which mark-sweep collected automatically (3.12 runs an automatic collection at the end
 * of the allocating event).
 */
function asFullCollections(events: readonly TraceEvent[], automaticAfter: ReadonlySet<number>): TraceEvent[] {
  const out: TraceEvent[] = [];
  events.forEach((event, index) => {
    out.push(event.op === 'collect' ? ev.collect(2) : event);
    if (automaticAfter.has(index)) out.push(ev.collect(2));
  });
  return out;
}

describe('gc/mark-sweep', () => {
  it('is a registered policy without versions, listed with its single threshold', () => {
    const policy = resolvePolicy('mark-sweep');
    expect(policy.name).toBe('mark-sweep');
    expect(policy.module.constraints.tracesCycles).toBe(true);
    expect(listPolicies().find((row) => row.name === 'mark-sweep')?.defaultThresholds).toEqual([700, 0, 0]);
  });

  it('collects the whole heap each time, where the generational collector collects generation 0', () => {
    // Threshold 2: the third allocation triggers, and so does every third one after it.
    const trace = allocs(1, 6);
    const markSweep = replayEvents(trace, { policy: 'mark-sweep', thresholds: [2] }).report.gc;
    expect(markSweep.generations.map((g) => g.collections)).toEqual([0, 0, 2]);
    // The second collection examines the three survivors of the first as well.
    expect(markSweep.collections.list.map((c) => [c.generation, c.examined])).toEqual([
      [2, 3],
      [2, 6],
    ]);
    expect(markSweep.promotedInto).toEqual([0, 0, 0]);

    const generational = replayEvents(trace, { policy: 'cpython-3.12', thresholds: [2, 10, 10] }).report.gc;
    expect(generational.collections.list.map((c) => [c.generation, c.examined])).toEqual([
      [0, 3],
      [0, 3],
    ]);
  });

  it('pays for the old objects in every collection, with no long-lived heuristic to skip one', () => {
    const { report } = replayEvents(allocs(1, 9), { policy: 'mark-sweep', thresholds: [2], oldObjects: 1000 });
    expect(report.gc.collections.list.map((c) => c.examined)).toEqual([1003, 1006, 1009]);
  });

  it('makes gc.collect(0) a full collection, and frees a dropped cycle at the next one', () => {
    const trace = [ev.alloc(1), ev.alloc(2), ev.link(1, 2), ev.link(2, 1), ev.decref(1), ev.decref(2), ev.collect(0)];
    const { report } = replayEvents(trace, { policy: 'mark-sweep' });
    expect(report.gc.generations[2]).toEqual({ collections: 1, collected: 2, uncollectable: 0 });
    expect(report.leaks.cyclicGarbage.objects).toBe(0);
  });

  it('stops collecting automatically at threshold 0 and under --gc off', () => {
    expect(replayEvents(allocs(1, 10), { policy: 'mark-sweep', thresholds: [0] }).report.gc.totals.collections).toBe(0);
    expect(replayEvents(allocs(1, 10), { policy: 'mark-sweep', thresholds: [2], gcOff: true }).report.gc.totals.collections).toBe(0);
  });

  it('frees exactly what full collections at the same events free (against cpython-3.12 driven by hand)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), (seed, threshold, legacyFinalizers) => {
        const trace = randomGcTrace(seed, { events: 1500, legacyFinalizers, collectWeight: 0.5 });
        const markSweep = replayEvents(trace, { policy: 'mark-sweep', thresholds: [threshold] }).report;
        const list = markSweep.gc.collections.list;
        expect(list.every((c) => c.generation === 2)).toBe(true);
        const automaticAfter = new Set(list.filter((c) => c.reason === 'automatic').map((c) => c.event));

        const byHand = replayEvents(asFullCollections(trace, automaticAfter), { policy: 'cpython-3.12', gcOff: true }).report;
        const perCollection = (r: typeof markSweep) => r.gc.collections.list.map((c) => [c.examined, c.collected, c.uncollectable, c.finalizers]);
        expect(perCollection(markSweep)).toEqual(perCollection(byHand));
        expect(markSweep.memory.freedByCollector).toBe(byHand.memory.freedByCollector);
        expect(markSweep.memory.live).toEqual(byHand.memory.live);
        expect(markSweep.leaks.cyclicGarbage.objects).toBe(byHand.leaks.cyclicGarbage.objects);
        expect(markSweep.leaks.uncollectable.objects).toBe(byHand.leaks.uncollectable.objects);
      }),
      { numRuns: 40 },
    );
  });
});
