/**
 * The collector-policy interface. A collector policy is a model of one cycle collector (CPython
 * 3.11's generational collector, refcounting alone, ...) behind the same hooks, so that the
 * replay engine never branches on a policy's name: it calls the hooks and reads `constraints`.
 *
 * The hooks are mutator events (an object is allocated, linked, deallocated) and the `gc` module's
 * calls (`collect`, `enable`/`disable`, `set_threshold`, `freeze`/`unfreeze`). A collector keeps
 * its objects on the heap's lists (`src/replay/heap.ts`), which play the part of CPython's
 * `PyGC_Head` links; it reports each collection to the host, and computes no statistics of its
 * own beyond what the `gc` module itself exposes (`get_stats`, `get_count`).
 */
import type { Heap, ListId } from '../replay/heap.js';

/** Facts about a policy that the engine and the reports read instead of its name. */
export interface CollectorConstraints {
  /** Whether the policy frees reference cycles at all. */
  tracesCycles: boolean;
  /** Number of generations reported (CPython: 3). */
  generations: number;
  /** Whether collections are incremental (a collection may look at part of the old generation). */
  incremental: boolean;
}

/** What `gc.get_stats()` returns for one generation. */
export interface GenerationStats {
  collections: number;
  collected: number;
  uncollectable: number;
}

/** Why a collection ran. */
export type CollectionReason = 'automatic' | 'explicit';

/** One collection, as reported to the host's observers. */
export interface CollectionRecord {
  generation: number;
  reason: CollectionReason;
  /** Objects the collection looked at: the generations merged into the collected one (the pause cost). */
  examined: number;
  /** Objects freed as unreachable (CPython's `m`). */
  collected: number;
  /** Survivors moved to the next generation. */
  promoted: number;
  /** Objects found uncollectable (CPython's `n`). */
  uncollectable: number;
  /** PEP 442 finalizers called. */
  finalizers: number;
}

/** What the replay engine offers a collector. */
export interface CollectorHost {
  readonly heap: Heap;
  /** Empties the per-type free lists; returns how many GC objects they held. */
  clearFreeLists(): number;
  /** Called with the list of objects about to be freed as cyclic garbage, before they are. */
  beforeDeleteGarbage(list: ListId): void;
  /** Called after every collection. */
  onCollection(record: CollectionRecord): void;
}

/** The state a report shows at the end of a replay. */
export interface CollectorState {
  /** `gc.get_stats()`: one entry per generation. */
  generations: GenerationStats[];
  /** `gc.get_count()`. */
  count: number[];
  /** `gc.get_threshold()`. */
  thresholds: number[];
  enabled: boolean;
  /** Modelled objects on each generation's list (the trace's objects only). */
  generationSizes: number[];
  /** Objects in the permanent generation (`gc.get_freeze_count()`), `oldObjects` included. */
  frozen: number;
  /** Survivors promoted into each generation over the replay (index 0 is always 0). */
  promotedInto: number[];
  /** Long-lived heuristic state (CPython's `long_lived_pending` / `long_lived_total`). */
  longLivedPending: number;
  longLivedTotal: number;
}

export interface Collector {
  readonly constraints: CollectorConstraints;
  /**
   * A GC object was created (slot already on the heap, refcount 1, untracked). `fromFreeList`
   * says it was popped from a type free list, which skips `_PyObject_GC_Link` and so the count.
   * The collector tracks it as its rules say, and may collect.
   */
  onAllocate(slot: number, fromFreeList: boolean): void;
  /** The edge `src → dst` was added (src is a GC object). */
  onLink(src: number, dst: number): void;
  /**
   * A GC object is being deallocated. `parked`: its memory went onto a type free list, so
   * `PyObject_GC_Del` did not run.
   */
  onDeallocate(slot: number, parked: boolean): void;
  /**
   * Optional: a GC object starts its deallocation (refcount 0, its references not yet dropped).
   * `frameHeld` is an object the running frame still holds while the deallocation runs (the
   * container of an `unlink`, `del x[i]`), or -1. Policies that define it see each deallocation
   * here first, then in `onDeallocate`.
   */
  onDeallocationStart?(slot: number, frameHeld: number): void;
  /**
   * Optional: the event that may have deallocated objects (decref, unlink, free) is over; what
   * deallocations scheduled runs now (the interpreter's next eval-breaker check).
   */
  onEventEnd?(): void;
  /** `gc.collect(generation)`. */
  collect(generation: number): void;
  /** `gc.enable()` / `gc.disable()`. */
  setEnabled(enabled: boolean): void;
  /** `gc.set_threshold` for one generation. */
  setThreshold(generation: number, value: number): void;
  freeze(): void;
  unfreeze(): void;
  state(): CollectorState;
  /** Objects on generation lists now (generation 0, 1, 2), for time series. O(1). */
  generationSize(generation: number): number;
  /** `gc.get_count()[0]`, for time series. */
  youngCount(): number;
}

/** Options every policy accepts, resolved from the command line and the trace header. */
export interface CollectorOptions {
  /** The release model of the family, e.g. "3.12.1" (see `src/gc/index.ts`). */
  release?: string;
  /** Thresholds; absent entries take the release's defaults. */
  thresholds?: readonly (number | undefined)[];
  /** GC-tracked objects already in the oldest generation (`meta.oldObjects`). */
  oldObjects: number;
  /**
   * Of `oldObjects`, those the interpreter's roots reach (`meta.markedObjects`; default: all).
   * Only the incremental collector (3.14.1–3.14.4) tells them apart: it marks these at the start
   * of each scan and scans the others in its increments.
   */
  markedObjects?: number;
  /** False for `--gc off`: automatic collections never run. */
  automatic: boolean;
  /**
   * True when every GC object of the trace is an instance of a class derived from a builtin
   * container (`list`), as the oracle driver's objects are (src/oracle/driver.ts): its deallocation
   * tracks it again before the base deallocator runs (`typeobject.c: subtype_dealloc`), which in
   * 3.14.1–3.14.4 counts and can schedule an increment. Instances of plain classes do not.
   */
  builtinContainerSubclasses?: boolean;
}

/** A registered policy family (typescript-eslint's rule-module shape). */
export interface CollectorModule {
  /** Family name, e.g. `cpython` or `refcount-only`. */
  name: string;
  description: string;
  constraints: CollectorConstraints;
  /** The release models of the family; one entry with id "" for a policy without versions. */
  releases: readonly PolicyRelease[];
  create(host: CollectorHost, options: CollectorOptions): Collector;
}

/** A release model of a policy family, as listed by `memreplay policies`. */
export interface PolicyRelease {
  id: string;
  /** Releases covered, e.g. "3.12.0 – 3.12.4". */
  covers: string;
  /** The minor version ("3.12") and the patch range this model covers. */
  minor: string;
  firstPatch: number;
  lastPatch: number;
  /** Free-list configuration that goes with the release. */
  freeLists: string;
  /** Default thresholds (empty when the policy has none). */
  defaultThresholds: readonly number[];
}
