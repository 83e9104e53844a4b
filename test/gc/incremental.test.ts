/**
 * Hand-worked traces for the incremental collector of 3.14.1–3.14.4 (src/gc/incremental.ts). The
 * differential test (test/differential/gc-incremental.test.ts) checks the same rules against the
 * real 3.14.2; these check them where pyodide is absent, with numbers worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { listPolicies, resolvePolicy } from '../../src/gc/index.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { ev, replayEvents } from '../helpers/replay.js';

const POLICY = 'cpython-3.14.2';

/** `n` self-cycles dropped by the program: each is garbage only a collection frees. */
function droppedSelfCycles(first: number, n: number): TraceEvent[] {
  return Array.from({ length: n }, (_, i) => [ev.alloc(first + i), ev.link(first + i, first + i), ev.decref(first + i)]).flat();
}

function gcAfter(events: TraceEvent[], options: { oldObjects?: number; markedObjects?: number; builtinContainerSubclasses?: boolean } = {}) {
  return replayEvents(events, { policy: POLICY, ...options }).report.gc;
}

describe('gc/incremental (cpython-3.14.2)', () => {
  it('is the model of 3.14.1 to 3.14.4; 3.14.0 has none', () => {
    for (const patch of [1, 2, 3, 4]) expect(resolvePolicy(`cpython-3.14.${patch}`).name).toBe(POLICY);
    expect(resolvePolicy('cpython-3.14').name).toBe('cpython-3.14');
    expect(() => resolvePolicy('cpython-3.14.0')).toThrow(/no model of CPython 3\.14\.0/);
    const row = listPolicies().find((r) => r.model === POLICY);
    expect(row).toEqual(expect.objectContaining({ name: 'cpython-3.14.{1-4}', defaultThresholds: [2000, 10, 0] }));
  });

  it('waits until the budget is back from the MARK step: the first collecting increment is increment M + 1', () => {
    // Threshold (1, 2^30): an increment every second allocation, adding 2 to the budget and no
    // heap share (heap / 10 / 2^30 = 0). Increment 1 marks the M interpreter objects the roots
    // reach plus the new object on the stack and subtracts twice that: 2 - 2(M + 1). Increment j
    // then leaves 2j - 2(M + 1), negative until j = M + 1, at allocation 2(M + 1).
    const M = 5;
    const setup = [ev.threshold(0, 1), ev.threshold(1, 2 ** 30)];
    const before = gcAfter([...setup, ...droppedSelfCycles(0, 2 * (M + 1) - 1)], { oldObjects: 10, markedObjects: M });
    expect(before.generations[1].collections).toBe(0);
    const at = gcAfter([...setup, ...droppedSelfCycles(0, 2 * (M + 1))], { oldObjects: 10, markedObjects: M });
    // Collected: every self-cycle still young, i.e. all but the one marked at increment 1
    // (allocation 2) and the one on the stack now (allocation 2(M + 1)).
    expect(at.generations[1]).toEqual({ collections: 1, collected: 2 * (M + 1) - 2, uncollectable: 0 });
    expect(at.count).toEqual([0, 0, 0]);
  });

  it('reports gc.get_count() as (young, visited space, pending space): only gc.collect(0) raises the old counts', () => {
    const events = [ev.alloc(1), ev.collect(0), ev.collect(0), ev.alloc(2)];
    expect(gcAfter(events).count).toEqual([1, 2, 0]);
    expect(gcAfter([...events, ev.collect(2)]).count).toEqual([0, 0, 0]);
    expect(gcAfter([...events, ev.collect(1)]).generations[1].collections).toBe(0);
  });

  it('after gc.freeze(), a MARK step does not reach the program objects, so the next increment collects', () => {
    // 100 held objects, pending after a full collection (the frozen interpreter keeps the spaces
    // from swapping). With threshold 3, increment 1 (4 new objects, share capped at 8: budget 12)
    // marks only the new object on the stack (12 - 2 = 10), so increment 2 collects. Were the held
    // objects reached through the frozen interpreter, it would subtract 2 × 104 and wait.
    const events: TraceEvent[] = [ev.freeze(), ...Array.from({ length: 100 }, (_, i) => ev.alloc(100 + i)), ev.collect(2), ev.threshold(0, 3), ...droppedSelfCycles(0, 8)];
    const after = gcAfter(events, { oldObjects: 20_000 });
    expect(after.generations[1].collections).toBe(1);
    // Without the freeze, increment 1 marks the 20,000 interpreter objects: nothing is collected.
    const notFrozen = gcAfter(events.slice(1), { oldObjects: 20_000 });
    expect(notFrozen.generations[1].collections).toBe(0);
  });

  it('a deallocation tracks again: a finalizer always, an instance of a container subclass too', () => {
    // Threshold 2000 until the count is 30, then 5: no allocation follows.
    const events: TraceEvent[] = [...Array.from({ length: 30 }, (_, i) => ev.alloc(i)), ev.threshold(0, 5)];
    // A plain object: untracked, count 29, nothing scheduled.
    expect(gcAfter([...events, ev.decref(0)]).count[0]).toBe(29);
    // A list subclass is tracked again before list_dealloc: 30 > 5 schedules an increment at the
    // end of the event, which resets the count.
    expect(gcAfter([...events, ev.decref(0)], { builtinContainerSubclasses: true }).count[0]).toBe(0);
    // An object with __del__ is tracked again around its finalizer, which runs the increment.
    const withFinalizer: TraceEvent[] = [ev.alloc('f', 'Node', { finalizer: 'del' }), ...events, ev.decref('f')];
    expect(gcAfter(withFinalizer).count[0]).toBe(0);
  });
});
