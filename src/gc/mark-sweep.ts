/**
 * `mark-sweep`: a plain tracing collector without generations, the baseline that shows what
 * CPython's generations save. Every collection examines every tracked object; survivors are
 * never "old", so nothing is skipped and nothing waits for an older generation's turn.
 *
 * What stays as in CPython 3.12, so that a comparison with `cpython-3.12` isolates the effect of
 * generations and nothing else:
 * - the trigger: GC allocations minus deallocations since the last collection (the young count)
 *   above a threshold, default 700 (`gcmodule.c: _PyObject_GC_Link`), checked after the
 *   allocating call (3.12's scheduling, §2.2); threshold 0 or `gc.disable()` stops automatic
 *   collections;
 * - how garbage is found and freed (`gc_collect_main`: reference subtraction from outside the
 *   collected set, PEP 442 and legacy finalizers, untracking of atomic tuples and dicts), and the
 *   free lists emptied by each collection, as by a full CPython collection;
 * - `gc.freeze()`: frozen objects are not examined.
 *
 * What differs: each collection, automatic or `gc.collect(n)` for any n, is a full collection and
 * is reported as one of generation 2 (CPython's name for a full collection); the long-lived
 * heuristic (`collect_generations`) never skips it. Only the first threshold is used: thresholds
 * are (700, 0, 0), and `--threshold` sets the first. New objects wait on generation 0's list
 * until the next collection; survivors stay on generation 2's, so both lists together are the
 * heap the next collection examines.
 *
 * Implemented by the generational collector with `everyCollectionFull` (generational.ts): one
 * implementation of CPython's collection steps, whichever policy drives them.
 */
import type { CollectorConstraints, CollectorHost, CollectorModule, CollectorOptions } from './collector.js';
import { createGenerationalCollector, type GenerationalRelease } from './generational.js';

const CONSTRAINTS: CollectorConstraints = { tracesCycles: true, generations: 3, incremental: false };

const RELEASE: GenerationalRelease = {
  id: '',
  covers: 'any',
  minor: '',
  firstPatch: 0,
  lastPatch: Infinity,
  defaultThresholds: [700, 0, 0],
  collectsInsideAllocation: false,
  untracksDicts: true,
  everyCollectionFull: true,
  freeLists: '3.12',
};

export const markSweep = {
  name: 'mark-sweep',
  description: 'a plain mark-sweep without generations: every collection examines every tracked object (triggered as CPython 3.12 triggers generation 0)',
  constraints: CONSTRAINTS,
  releases: [RELEASE],
  create(host: CollectorHost, options: CollectorOptions) {
    return createGenerationalCollector(host, RELEASE, options);
  },
} satisfies CollectorModule;
