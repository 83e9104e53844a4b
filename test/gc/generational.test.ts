import { describe, expect, it } from 'vitest';
import { ev, replayEvents } from '../helpers/replay.js';
import type { TraceEvent } from '../../src/trace/types.js';

/** `n` kept-alive plain objects with ids start.. */
function allocs(start: number, n: number): TraceEvent[] {
  return Array.from({ length: n }, (_, i) => ev.alloc(start + i));
}

/** A two-object cycle that the program then lets go of. */
function droppedCycle(a: number, b: number): TraceEvent[] {
  return [ev.alloc(a), ev.alloc(b), ev.link(a, b), ev.link(b, a), ev.decref(a), ev.decref(b)];
}

describe('gc/generational', () => {
  describe('when a reference cycle loses its last outside reference', () => {
    it('stays alive under reference counting and is freed by the next collection', () => {
      const before = replayEvents(droppedCycle(1, 2));
      expect(before.report.memory.live.objects).toBe(2);
      expect(before.report.leaks.cyclicGarbage.objects).toBe(2);

      const after = replayEvents([...droppedCycle(1, 2), ev.collect()]);
      expect(after.report.gc.generations[2]).toEqual({ collections: 1, collected: 2, uncollectable: 0 });
      expect(after.report.memory.live.objects).toBe(0);
      expect(after.report.memory.freedByCollector).toBe(2);
      expect(after.report.leaks.cyclicGarbage.objects).toBe(0);
    });

    it('leaks for good under refcount-only', () => {
      const { report } = replayEvents([...droppedCycle(1, 2), ev.collect()], { policy: 'refcount-only' });
      expect(report.gc.totals.collections).toBe(0);
      expect(report.leaks.cyclicGarbage.objects).toBe(2);
      expect(report.leaks.cyclicGarbage.groups).toHaveLength(1);
    });

    it('measures the garbage latency from the drop to the collection', () => {
      // Dropped at events 4 and 5; collected at event 9.
      const { report } = replayEvents([...droppedCycle(1, 2), ev.mark('a'), ev.mark('b'), ev.mark('c'), ev.collect()]);
      expect(report.garbageLatency.objects).toBe(2);
      expect(report.garbageLatency.max).toBe(4);
    });
  });

  describe('counts, as gc.get_count() shows them', () => {
    it('rises with GC allocations, falls with deallocations, and resets per collection (§2.3)', () => {
      const trace = [...allocs(1, 3), ev.decref(3)];
      expect(replayEvents(trace).report.gc.count).toEqual([2, 0, 0]);
      expect(replayEvents([...trace, ev.collect(0)]).report.gc.count).toEqual([0, 1, 0]);
      expect(replayEvents([...trace, ev.collect(0), ev.collect(1)]).report.gc.count).toEqual([0, 0, 1]);
      expect(replayEvents([...trace, ev.collect(0), ev.collect(1), ev.collect(2)]).report.gc.count).toEqual([0, 0, 0]);
    });

    it('ignores objects that are not GC containers', () => {
      const { report } = replayEvents([ev.alloc(1, 'int', { tracked: false, size: 28 }), ev.alloc(2, 'str', { tracked: false, size: 50 })]);
      expect(report.gc.count).toEqual([0, 0, 0]);
    });

    it('never goes below zero', () => {
      const { report } = replayEvents([...allocs(1, 2), ev.collect(0), ev.decref(1), ev.decref(2), ev.alloc(3)]);
      expect(report.gc.count[0]).toBe(1);
    });
  });

  describe('promotion', () => {
    it('moves survivors one generation per collection', () => {
      const { report } = replayEvents([...allocs(1, 3), ev.collect(0), ev.alloc(4), ev.collect(1), ev.alloc(5), ev.collect(0)]);
      expect(report.gc.generationSizes).toEqual([0, 1, 4]);
      expect(report.gc.promotedInto).toEqual([0, 4, 4]);
      const examined = report.gc.collections.list.map((c) => [c.generation, c.examined, c.promoted]);
      expect(examined).toEqual([
        [0, 3, 3],
        [1, 4, 4],
        [0, 1, 1],
      ]);
    });
  });

  describe('when the generation-0 count exceeds its threshold', () => {
    const trace = [ev.threshold(0, 3), ...allocs(1, 4)];

    it('does not collect at count == threshold (the test is strict)', () => {
      const { report } = replayEvents(trace.slice(0, 4));
      expect(report.gc.totals.collections).toBe(0);
    });

    it('3.11 collects inside the allocation, before the new object is tracked', () => {
      const { report } = replayEvents(trace, { policy: 'cpython-3.11' });
      expect(report.gc.collections.list).toEqual([expect.objectContaining({ generation: 0, examined: 3, promoted: 3, reason: 'automatic', event: 4 })]);
      expect(report.gc.generationSizes).toEqual([1, 3, 0]);
      expect(report.gc.count).toEqual([0, 1, 0]);
    });

    it('3.12 collects after the allocating call, with the new object in generation 0', () => {
      const { report } = replayEvents(trace, { policy: 'cpython-3.12' });
      expect(report.gc.collections.list).toEqual([expect.objectContaining({ generation: 0, examined: 4, promoted: 4 })]);
      expect(report.gc.generationSizes).toEqual([0, 4, 0]);
      expect(report.gc.count).toEqual([0, 1, 0]);
    });

    it('does not collect automatically while disabled, with threshold 0, or under --gc off', () => {
      expect(replayEvents([ev.gc(false), ...trace]).report.gc.totals.collections).toBe(0);
      expect(replayEvents([ev.threshold(0, 0), ...allocs(1, 50)]).report.gc.totals.collections).toBe(0);
      expect(replayEvents([...trace, ev.gc(true)], { gcOff: true }).report.gc.totals.collections).toBe(0);
      // gc.collect() still works when automatic collection is off.
      expect(replayEvents([ev.gc(false), ...droppedCycle(1, 2), ev.collect()]).report.gc.generations[2].collected).toBe(2);
    });

    it('uses 3.13\'s default threshold of 2000', () => {
      expect(replayEvents(allocs(1, 2000), { policy: 'cpython-3.13' }).report.gc.totals.collections).toBe(0);
      expect(replayEvents(allocs(1, 2001), { policy: 'cpython-3.13' }).report.gc.totals.collections).toBe(1);
      expect(replayEvents(allocs(1, 701), { policy: 'cpython-3.12' }).report.gc.totals.collections).toBe(1);
    });
  });

  describe('the long-lived heuristic', () => {
    // Thresholds (2, 0, 0) and 100 old objects: a full collection needs long_lived_pending >=
    // 100 // 4 = 25. Every 6 allocations run one gen-0 and one gen-1 collection, and each gen-1
    // collection adds its 6 survivors to pending: 6, 12, 18, 24 (skip), 30 (allowed).
    const run = (n: number) =>
      replayEvents([ev.threshold(0, 2), ev.threshold(1, 0), ev.threshold(2, 0), ...allocs(1, n)], { oldObjects: 100 }).report;

    it('skips full collections while pending < total / 4', () => {
      const report = run(32);
      expect(report.gc.generations.map((g) => g.collections)).toEqual([5, 5, 0]);
      expect(report.gc.longLived).toEqual({ pending: 30, total: 100 });
    });

    it('then allows one, which examines every generation and the old objects', () => {
      const report = run(33);
      expect(report.gc.generations.map((g) => g.collections)).toEqual([5, 5, 1]);
      expect(report.gc.collections.list.at(-1)).toEqual(expect.objectContaining({ generation: 2, examined: 133 }));
      expect(report.gc.longLived).toEqual({ pending: 0, total: 133 });
      expect(report.gc.count).toEqual([0, 0, 0]);
    });
  });

  describe('freeze', () => {
    const frozenCycle = [ev.alloc(1), ev.alloc(2), ev.link(1, 2), ev.link(2, 1), ev.freeze(), ev.decref(1), ev.decref(2)];

    it('moves every generation to the permanent one, which collections never look at', () => {
      const { report } = replayEvents([...frozenCycle, ev.collect()]);
      expect(report.gc.frozen).toBe(2);
      expect(report.gc.generations[2].collected).toBe(0);
      expect(report.gc.count).toEqual([0, 0, 0]);
      expect(report.leaks.cyclicGarbage.objects).toBe(2);
    });

    it('zeroes the counts', () => {
      expect(replayEvents([...allocs(1, 5), ev.collect(0), ev.alloc(6), ev.freeze()]).report.gc.count).toEqual([0, 0, 0]);
    });

    it('unfreeze gives the objects back to the oldest generation', () => {
      const { report } = replayEvents([...frozenCycle, ev.unfreeze(), ev.collect()]);
      expect(report.gc.frozen).toBe(0);
      expect(report.gc.generations[2].collected).toBe(2);
    });
  });

  describe('finalizers', () => {
    it('a PEP 442 __del__ runs once and its cycle is collected in the same collection', () => {
      const trace = [ev.alloc(1, 'Node', { finalizer: 'del' }), ev.alloc(2), ev.link(1, 2), ev.link(2, 1), ev.decref(1), ev.decref(2), ev.collect()];
      const { report } = replayEvents(trace);
      expect(report.gc.generations[2]).toEqual({ collections: 1, collected: 2, uncollectable: 0 });
      expect(report.gc.totals.finalizersRun).toBe(1);
    });

    it('a legacy finalizer makes its cycle and all it reaches uncollectable, kept in gc.garbage', () => {
      const trace = [
        ev.alloc(1, 'Legacy', { finalizer: 'legacy' }),
        ev.alloc(2),
        ev.alloc(3),
        ev.link(1, 2),
        ev.link(2, 1),
        ev.link(2, 3),
        ev.decref(1),
        ev.decref(2),
        ev.decref(3),
        ev.collect(),
      ];
      const first = replayEvents(trace).report;
      expect(first.gc.generations[2]).toEqual({ collections: 1, collected: 0, uncollectable: 3 });
      expect(first.leaks.uncollectable.objects).toBe(3);
      expect(first.leaks.cyclicGarbage.objects).toBe(0);
      const second = replayEvents([...trace, ev.collect()]).report;
      expect(second.gc.generations[2]).toEqual({ collections: 2, collected: 0, uncollectable: 3 });
    });
  });

  describe('types CPython treats specially', () => {
    it('a list from the free list is not a GC allocation, and a parked one is not a deallocation', () => {
      const trace = [ev.alloc(1, 'list', { size: 56 }), ev.decref(1), ev.alloc(2, 'list', { size: 56 })];
      const { report } = replayEvents(trace);
      expect(report.gc.count).toEqual([1, 0, 0]);
      expect(report.freeLists.find((f) => f.type === 'list')).toEqual(expect.objectContaining({ hits: 1, misses: 1, parked: 1 }));
      expect(replayEvents(trace, { freeLists: 'none' }).report.gc.count).toEqual([1, 0, 0]);
      expect(replayEvents(trace.slice(0, 2), { freeLists: 'none' }).report.gc.count).toEqual([0, 0, 0]);
      expect(replayEvents(trace.slice(0, 2)).report.gc.count).toEqual([1, 0, 0]);
    });

    it('a full collection empties the free lists', () => {
      const trace = [ev.alloc(1, 'list', { size: 56 }), ev.decref(1), ev.collect(), ev.alloc(2, 'list', { size: 56 })];
      const { report } = replayEvents(trace);
      expect(report.freeLists.find((f) => f.type === 'list')).toEqual(expect.objectContaining({ hits: 0, misses: 2, cleared: 1, current: 0 }));
      expect(report.gc.count).toEqual([1, 0, 0]);
    });

    it('3.11 and 3.12.1 never reuse 20-tuples; 3.12.5+ does', () => {
      const tuple20 = 40 + 8 * 20;
      const trace = [ev.alloc(1, 'tuple', { size: tuple20 }), ev.decref(1), ev.alloc(2, 'tuple', { size: tuple20 })];
      expect(replayEvents(trace, { policy: 'cpython-3.11' }).report.gc.count[0]).toBe(2);
      expect(replayEvents(trace, { policy: 'cpython-3.12.1' }).report.gc.count[0]).toBe(2);
      expect(replayEvents(trace, { policy: 'cpython-3.12.5' }).report.gc.count[0]).toBe(1);
    });

    it('dicts start untracked, are tracked once they hold a GC object, and full collections untrack atomic ones', () => {
      const start = [ev.alloc(1, 'dict', { size: 64 }), ev.alloc(2, 'int', { tracked: false, size: 28 }), ev.link(1, 2)];
      expect(replayEvents(start).report.gc.generationSizes).toEqual([0, 0, 0]);
      expect(replayEvents(start).report.gc.count).toEqual([1, 0, 0]);
      const tracked = [...start, ev.alloc(3), ev.link(1, 3)];
      expect(replayEvents(tracked).report.gc.generationSizes).toEqual([2, 0, 0]);
      const unlinked = [...tracked, ev.unlink(1, 3), ev.collect(1)];
      expect(replayEvents(unlinked).report.gc.generationSizes).toEqual([0, 0, 2]);
      expect(replayEvents([...unlinked, ev.collect(2)]).report.gc.generationSizes).toEqual([0, 0, 1]);
    });

    it('collections untrack tuples that hold only untrackable items', () => {
      const trace = [ev.alloc(1, 'tuple', { size: 48 }), ev.alloc(2, 'int', { tracked: false, size: 28 }), ev.link(1, 2), ev.collect(0)];
      const { report } = replayEvents(trace);
      expect(report.gc.collections.list[0]).toEqual(expect.objectContaining({ examined: 1, promoted: 0 }));
      expect(report.gc.generationSizes).toEqual([0, 0, 0]);
      const holdsList = [ev.alloc(1, 'tuple', { size: 48 }), ev.alloc(2), ev.link(1, 2), ev.collect(0)];
      expect(replayEvents(holdsList).report.gc.generationSizes).toEqual([0, 2, 0]);
    });
  });
});

describe('gc/generational: the 3.14.5+ model', () => {
  it('tracks dicts from creation and never untracks them, with thresholds (2000, 10, 10)', () => {
    const trace = [ev.alloc(1, 'dict', { size: 64 }), ev.alloc(2, 'int', { tracked: false, size: 28 }), ev.link(1, 2), ev.collect(2)];
    expect(replayEvents(trace.slice(0, 1), { policy: 'cpython-3.14' }).report.gc.generationSizes).toEqual([1, 0, 0]);
    expect(replayEvents(trace, { policy: 'cpython-3.14' }).report.gc.generationSizes).toEqual([0, 0, 1]);
    expect(replayEvents(trace, { policy: 'cpython-3.13' }).report.gc.generationSizes).toEqual([0, 0, 0]);
    expect(replayEvents([], { policy: 'cpython-3.14' }).report.gc.thresholds).toEqual([2000, 10, 10]);
  });

  it('does not stand in for the incremental collector of 3.14.0 - 3.14.4', () => {
    // 3.14.1-3.14.4 have their own model (incremental.ts); 3.14.0 counted differently and has none.
    expect(() => replayEvents([], { policy: 'cpython-3.14.0' })).toThrow("no model of CPython 3.14.0: memreplay's models of CPython 3.14 cover 3.14.1 – 3.14.4 and 3.14.5 – 3.14.x");
    expect(replayEvents([], { policy: 'cpython-3.14.2' }).report.config.policy).toBe('cpython-3.14.2');
    expect(replayEvents([], { policy: 'cpython-3.14.7' }).report.config.policy).toBe('cpython-3.14');
  });
});
