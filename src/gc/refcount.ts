/**
 * `refcount-only`: CPython with the cycle collector switched off for good (`gc.disable()` at
 * start-up and `gc.collect()` never called). Reference counting alone frees objects, so every
 * reference cycle that becomes unreachable leaks; the replay's leak report shows them all.
 *
 * Nothing is tracked and no collection ever runs: `gc` events, thresholds, `collect`, `freeze`
 * are accepted and ignored. The counts and stats it reports stay at zero.
 */
import type { Collector, CollectorConstraints, CollectorModule, CollectorState } from './collector.js';

const CONSTRAINTS: CollectorConstraints = { tracesCycles: false, generations: 3, incremental: false };

class RefcountOnly implements Collector {
  readonly constraints = CONSTRAINTS;
  onAllocate(): void {}
  onLink(): void {}
  onDeallocate(): void {}
  collect(): void {}
  setEnabled(): void {}
  setThreshold(): void {}
  freeze(): void {}
  unfreeze(): void {}
  generationSize(): number {
    return 0;
  }
  youngCount(): number {
    return 0;
  }
  state(): CollectorState {
    return {
      generations: [0, 1, 2].map(() => ({ collections: 0, collected: 0, uncollectable: 0 })),
      count: [0, 0, 0],
      thresholds: [0, 0, 0],
      enabled: false,
      generationSizes: [0, 0, 0],
      frozen: 0,
      promotedInto: [0, 0, 0],
      longLivedPending: 0,
      longLivedTotal: 0,
    };
  }
}

export const refcountOnly = {
  name: 'refcount-only',
  description: 'reference counting only, as CPython with gc.disable() for good: cycles leak',
  constraints: CONSTRAINTS,
  releases: [{ id: '', covers: 'any', minor: '', firstPatch: 0, lastPatch: Infinity, freeLists: '3.12', defaultThresholds: [] }],
  create() {
    return new RefcountOnly();
  },
} satisfies CollectorModule;
