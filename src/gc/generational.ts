/**
 * CPython's generational cycle collector (3.8 – 3.13), modelled exactly enough that a replay gives
 * the interpreter's own `gc.get_stats()` and `gc.get_count()`.
 *
 * Sources: `Modules/gcmodule.c` (v3.11.2, v3.12.5), `Python/gc.c` (v3.13.5); our reading of them
 * is `shared/docs/cpython-memory.md` §1–§4, which also records what was checked on 3.11.7,
 * 3.12.1 and 3.13.0. Read `collectGeneration()` first: it is `gc_collect_main`, step by step.
 *
 * State (CPython's `struct _gc_runtime_state`):
 * - three generation lists plus the permanent generation, kept on the heap's lists;
 * - `count[0]`: GC allocations minus `PyObject_GC_Del` calls since the last collection of
 *   generation 0 (floored at 0); `count[1]`: collections of generation 0 since generation 1 was
 *   last collected; `count[2]`: likewise for generation 1;
 * - `threshold[0..2]`, `enabled`, `collecting`;
 * - `longLivedPending` / `longLivedTotal`, the full-collection heuristic (see `shouldCollectOldest`);
 * - `phantomOld`: objects of the interpreter that sit in generation 2 when the trace starts
 *   (`meta.oldObjects`). They are alive throughout and never referenced by the trace's objects,
 *   so they matter only as numbers: in a full collection's cost and in `long_lived_total`.
 *
 * Invariant: every tracked object of the trace is on exactly one of generation 0, 1, 2 or
 * permanent, except during a collection (unreachable, finalizers lists).
 */
import type {
  Collector,
  CollectorHost,
  CollectorModule,
  CollectorOptions,
  CollectorConstraints,
  CollectorState,
  CollectionReason,
  GenerationStats,
  PolicyRelease,
} from './collector.js';
import { List, ObjectFlag, type Heap, type ListId } from '../replay/heap.js';
import { TypeKind } from '../pool/free-list.js';
import { deleteGarbage, finalizeGarbage, handleLegacyFinalizers, mayBeTracked, moveLegacyFinalizers, moveUnreachable, recordCollection, untrackDicts, untrackTuples, updateAndSubtractRefs } from './region.js';

/** The facts that differ between releases of the generational collector. */
export interface GenerationalRelease extends PolicyRelease {
  /** `gc.get_threshold()` at start-up. */
  defaultThresholds: readonly [number, number, number];
  /**
   * True up to 3.11: the collection runs inside the allocating call, before the new object is
   * tracked, so it is not part of that collection and stays in generation 0 uncounted
   * (`gcmodule.c: _PyObject_GC_Link` calls `gc_collect_generations` directly). From 3.12 the
   * allocation only schedules the collection (`_Py_ScheduleGC`); it runs at the next eval-breaker
   * check, after the call returned and the new object was tracked (§2.2). No other trace event can
   * come between the two, so the model runs it at the end of the allocating event; the thresholds
   * are tested again there as `_Py_RunGC` → `gc_collect_generations` does.
   */
  collectsInsideAllocation: boolean;
  /**
   * Up to 3.13: dicts are created untracked, become tracked when a value that may be tracked is
   * stored (`dictobject.c: MAINTAIN_TRACKING`), and full collections untrack dicts that hold only
   * atomic values (`gcmodule.c: untrack_dicts`). 3.14 tracks every dict from creation.
   */
  untracksDicts: boolean;
  /**
   * True for a model without generations (`mark-sweep.ts`): every collection, automatic or
   * `gc.collect(n)`, is a full one, and the long-lived heuristic never skips it. False for every
   * CPython release.
   */
  everyCollectionFull: boolean;
}

/**
 * The releases modelled, oldest first. Where a rule changed inside a patch series, the series is
 * split: 3.12.5 fixed the tuple free list so that 20-tuples are reused (gh-121439).
 */
export const GENERATIONAL_RELEASES: readonly GenerationalRelease[] = [
  // 3.7 – 3.10: the same collector as 3.11 (`gcmodule.c: _PyObject_GC_Alloc` / `_PyObject_GC_Link`
  // count and collect inside the allocation; `collect_generations` with the long-lived rule).
  // Their tuple free list keeps lengths 1..19 only (`len < PyTuple_MAXSAVESIZE`).
  ...['3.7', '3.8', '3.9', '3.10'].map(
    (minor): GenerationalRelease => ({
      id: minor,
      covers: `${minor}.0 – ${minor}.x`,
      minor,
      firstPatch: 0,
      lastPatch: Infinity,
      defaultThresholds: [700, 10, 10],
      collectsInsideAllocation: true,
      untracksDicts: true,
      everyCollectionFull: false,
      freeLists: '3.10',
    }),
  ),
  {
    id: '3.11',
    covers: '3.11.0 – 3.11.x',
    minor: '3.11',
    firstPatch: 0,
    lastPatch: Infinity,
    defaultThresholds: [700, 10, 10],
    collectsInsideAllocation: true,
    untracksDicts: true,
    everyCollectionFull: false,
    freeLists: '3.11',
  },
  {
    id: '3.12.1',
    covers: '3.12.0 – 3.12.4',
    minor: '3.12',
    firstPatch: 0,
    lastPatch: 4,
    defaultThresholds: [700, 10, 10],
    collectsInsideAllocation: false,
    untracksDicts: true,
    everyCollectionFull: false,
    freeLists: '3.12.1',
  },
  {
    id: '3.12',
    covers: '3.12.5 – 3.12.x',
    minor: '3.12',
    firstPatch: 5,
    lastPatch: Infinity,
    defaultThresholds: [700, 10, 10],
    collectsInsideAllocation: false,
    untracksDicts: true,
    everyCollectionFull: false,
    freeLists: '3.12',
  },
  {
    id: '3.13',
    covers: '3.13.0 – 3.13.x',
    minor: '3.13',
    firstPatch: 0,
    lastPatch: Infinity,
    defaultThresholds: [2000, 10, 10],
    collectsInsideAllocation: false,
    untracksDicts: true,
    everyCollectionFull: false,
    freeLists: '3.13',
  },
  // 3.14.5+ removed the incremental collector of 3.14.0–3.14.4 and ported 3.13's generational one
  // forward (gh-142516). Against 3.13 the differences a trace can see: dicts are tracked from
  // creation and never untracked (gh-127010), and the 3.14 free lists (ints among them).
  // Immortal objects and weakrefs do not occur in traces; `heap_size` decides nothing. Tuples
  // built by BUILD_TUPLE/PyTuple_Pack whose items cannot be GC objects are untracked at creation
  // in 3.14; a trace allocates a tuple before linking its items, as `PyTuple_New` does, which
  // tracks it, so the model tracks it and lets collections untrack it. Read from the v3.14.7
  // sources (cpython-memory.md §5.5): no 3.14.5+ interpreter is available here to check it
  // against. 3.14.1–3.14.4 ran an incremental collector (incremental.ts); 3.14.0 is not modelled.
  {
    id: '3.14',
    covers: '3.14.5 – 3.14.x',
    minor: '3.14',
    firstPatch: 5,
    lastPatch: Infinity,
    defaultThresholds: [2000, 10, 10],
    collectsInsideAllocation: false,
    untracksDicts: false,
    everyCollectionFull: false,
    freeLists: '3.14',
  },
];

const GENERATIONS = 3;
const OLDEST = GENERATIONS - 1;

const CONSTRAINTS: CollectorConstraints = { tracesCycles: true, generations: GENERATIONS, incremental: false };

class GenerationalCollector implements Collector {
  readonly constraints = CONSTRAINTS;

  private readonly heap: Heap;
  private readonly count = [0, 0, 0];
  private readonly threshold: number[];
  private enabled: boolean;
  private collecting = false;
  private longLivedPending = 0;
  private longLivedTotal: number;
  private phantomOld: number;
  private phantomPermanent = 0;
  private readonly stats: GenerationStats[] = [0, 1, 2].map(() => ({ collections: 0, collected: 0, uncollectable: 0 }));
  private readonly promotedInto = [0, 0, 0];
  /** False under `--gc off`: `gc.enable()` in the trace is then ignored. */
  private readonly automaticAllowed: boolean;

  constructor(
    private readonly host: CollectorHost,
    private readonly release: GenerationalRelease,
    options: CollectorOptions,
  ) {
    this.heap = host.heap;
    this.threshold = release.defaultThresholds.map((t, i) => options.thresholds?.[i] ?? t);
    this.enabled = options.automatic;
    this.automaticAllowed = options.automatic;
    // The trace starts right after a full collection (that is how `oldObjects` is measured): the
    // oldest generation holds them all, and long_lived_total is its size.
    this.phantomOld = options.oldObjects;
    this.longLivedTotal = options.oldObjects;
  }

  // ---------------------------------------------------------------------------------------------
  // Mutator hooks

  onAllocate(slot: number, fromFreeList: boolean): void {
    const tracksNow = !(this.release.untracksDicts && this.heap.kind[slot] === TypeKind.dict);
    if (fromFreeList) {
      // A free-list pop skips _PyObject_GC_Link: no count, no trigger (§1.1).
      if (tracksNow) this.heap.listAppend(List.generation0, slot);
      return;
    }
    this.count[0]++;
    if (this.release.collectsInsideAllocation) {
      this.collectIfTriggered();
      if (tracksNow) this.heap.listAppend(List.generation0, slot);
    } else {
      if (tracksNow) this.heap.listAppend(List.generation0, slot);
      this.collectIfTriggered();
    }
  }

  onLink(src: number, dst: number): void {
    const heap = this.heap;
    if (heap.isTracked(src) || (heap.flags[src] & ObjectFlag.alive) === 0) return;
    // Only dicts (and tuples, see below) can be untracked GC objects. Storing something that may
    // be tracked re-tracks a dict (`dictobject.c: MAINTAIN_TRACKING`). A CPython tuple never gains
    // items; a trace that links into a tuple the collector untracked gets it re-tracked the same
    // way, so that the new reference is seen by later collections.
    if (mayBeTracked(heap, dst)) heap.listAppend(List.generation0, src);
  }

  onDeallocate(slot: number, parked: boolean): void {
    if (this.heap.isTracked(slot)) this.heap.listRemove(slot);
    // PyObject_GC_Del: `if (count > 0) count--` (§1.1). A free-list push skips it.
    if (!parked && this.count[0] > 0) this.count[0]--;
  }

  // ---------------------------------------------------------------------------------------------
  // The gc module

  collect(generation: number): void {
    if (this.collecting) return;
    this.collectGeneration(this.release.everyCollectionFull ? OLDEST : generation, 'explicit');
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled && this.automaticAllowed;
  }

  setThreshold(generation: number, value: number): void {
    this.threshold[generation] = value;
  }

  /**
   * `gc.freeze()`: every generation, youngest first, moves to the permanent generation and its
   * count is zeroed (`gcmodule.c: gc_freeze_impl`). Thresholds, stats and long-lived totals stay.
   */
  freeze(): void {
    for (let g = 0; g < GENERATIONS; g++) {
      this.heap.listMerge(g as ListId, List.permanent);
      this.count[g] = 0;
    }
    this.phantomPermanent += this.phantomOld;
    this.phantomOld = 0;
  }

  /** `gc.unfreeze()`: the permanent generation goes to the tail of the oldest (`gc_unfreeze_impl`). */
  unfreeze(): void {
    this.heap.listMerge(List.permanent, List.generation2);
    this.phantomOld += this.phantomPermanent;
    this.phantomPermanent = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Choosing and running collections

  /** The trigger test of `_PyObject_GC_Link` (all comparisons strict, §2.2). */
  private collectIfTriggered(): void {
    if (this.count[0] > this.threshold[0] && this.enabled && this.threshold[0] !== 0 && !this.collecting) {
      this.collectGenerations();
    }
  }

  /**
   * `gc_collect_generations` (3.11, 3.12) / `gc_select_generation` (3.13): collect the oldest
   * generation whose count exceeds its threshold, oldest first.
   */
  private collectGenerations(): void {
    if (this.release.everyCollectionFull) {
      this.collectGeneration(OLDEST, 'automatic');
      return;
    }
    for (let g = OLDEST; g >= 0; g--) {
      if (this.count[g] > this.threshold[g]) {
        if (g === OLDEST && !this.shouldCollectOldest()) continue;
        this.collectGeneration(g, 'automatic');
        return;
      }
    }
  }

  /**
   * NOTE: the long-lived heuristic. A full collection examines every tracked object, so with many
   * long-lived objects the cost of full collections grows quadratically with the heap. CPython
   * therefore skips an automatic full collection unless the objects that survived a
   * generation-1 collection since the last full one (`long_lived_pending`) are at least 25% of
   * the objects the last full collection left in the oldest generation (`long_lived_total`),
   * using C integer division. Both start at 0 in a fresh interpreter, so the first full collection
   * is never skipped; here `long_lived_total` starts at `oldObjects` because the trace begins
   * right after a full collection. `gcmodule.c: collect_generations` (the comment there cites
   * Martin von Löwis's analysis, bpo-4074).
   */
  private shouldCollectOldest(): boolean {
    return !(this.longLivedPending < Math.floor(this.longLivedTotal / 4));
  }

  /**
   * One collection of `generation`: `gc_collect_main`, in the order of §3.2. Postcondition: the
   * unreachable objects are freed, survivors sit in the next generation (or stay in the oldest),
   * uncollectable objects are alive in the next generation with a reference from `gc.garbage`.
   */
  private collectGeneration(generation: number, reason: CollectionReason): void {
    const heap = this.heap;
    this.collecting = true;
    const young = generation as ListId;
    const old = (generation < OLDEST ? generation + 1 : generation) as ListId;

    // §2.3: the younger counts reset, the next one up counts this collection.
    if (generation < OLDEST) this.count[generation + 1]++;
    for (let g = 0; g <= generation; g++) this.count[g] = 0;

    // Merge the younger generations into this one, youngest first.
    for (let g = 0; g < generation; g++) heap.listMerge(g as ListId, young);
    const examined = heap.listLength[young] + (generation === OLDEST ? this.phantomOld : 0);

    // Steps 1-3: find what is unreachable from outside the generation.
    updateAndSubtractRefs(heap, young);
    moveUnreachable(heap, young);

    // Step 4: tuples holding only untrackable items leave the collector for good.
    untrackTuples(heap, young);

    // Step 5: survivors are promoted; the long-lived bookkeeping counts them.
    let promoted = 0;
    if (young !== old) {
      if (generation === OLDEST - 1) this.longLivedPending += heap.listLength[young];
      promoted = heap.listLength[young];
      this.promotedInto[old] += promoted;
      heap.listMerge(young, old);
    } else {
      // Dicts are untracked only in full collections, to avoid quadratic build-up (bpo-14775).
      if (this.release.untracksDicts) untrackDicts(heap, young);
      this.longLivedPending = 0;
      this.longLivedTotal = heap.listLength[young] + this.phantomOld;
    }

    // Step 6: objects with legacy finalizers, and all they reach, are uncollectable.
    moveLegacyFinalizers(heap);

    // Step 9: PEP 442 finalizers run once per object (`finalize_garbage`). A trace's finalizer
    // cannot resurrect its object (no event can run inside a collection), so step 10 finds every
    // object still unreachable and `final_unreachable` is the whole list.
    const finalizers = finalizeGarbage(heap);

    // Step 12: count, then free (`delete_garbage`).
    const collected = heap.listLength[List.unreachable];
    this.host.beforeDeleteGarbage(List.unreachable);
    deleteGarbage(heap, old);

    // Step 13: uncollectable objects go to gc.garbage and join the old generation.
    const uncollectable = handleLegacyFinalizers(heap, old);

    // Step 14: a full collection empties the free lists; each GC object freed from them runs
    // PyObject_GC_Del, which lowers count[0] if it is positive.
    if (generation === OLDEST) {
      const freed = this.host.clearFreeLists();
      this.count[0] = Math.max(0, this.count[0] - freed);
    }

    // Step 15: the stats are charged to the collected generation only.
    this.collecting = false;
    recordCollection(this.host, this.stats, { generation, reason, examined, collected, promoted, uncollectable, finalizers });
  }

  // ---------------------------------------------------------------------------------------------
  // Reading the state

  generationSize(generation: number): number {
    return this.heap.listLength[generation];
  }

  youngCount(): number {
    return this.count[0];
  }

  state(): CollectorState {
    const heap = this.heap;
    return {
      generations: this.stats.map((s) => ({ ...s })),
      count: [...this.count],
      thresholds: [...this.threshold],
      enabled: this.enabled,
      generationSizes: [heap.listLength[List.generation0], heap.listLength[List.generation1], heap.listLength[List.generation2]],
      frozen: heap.listLength[List.permanent] + this.phantomPermanent,
      promotedInto: [...this.promotedInto],
      longLivedPending: this.longLivedPending,
      longLivedTotal: this.longLivedTotal,
    };
  }
}

/** A collector of `release`'s rules; `generational.create` picks the release by id. */
export function createGenerationalCollector(host: CollectorHost, release: GenerationalRelease, options: CollectorOptions): Collector {
  return new GenerationalCollector(host, release, options);
}

export const generational = {
  name: 'cpython',
  description: "CPython's generational cycle collector: three generations, thresholds, the long-lived heuristic, freeze",
  constraints: CONSTRAINTS,
  releases: GENERATIONAL_RELEASES,
  create(host: CollectorHost, options: CollectorOptions) {
    const release = GENERATIONAL_RELEASES.find((r) => r.id === options.release);
    if (release === undefined) throw new Error(`no generational model for release ${String(options.release)}`);
    return createGenerationalCollector(host, release, options);
  },
} satisfies CollectorModule;
