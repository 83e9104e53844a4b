/**
 * CPython 3.14.1–3.14.4's incremental cycle collector, modelled so that a replay gives the
 * interpreter's `gc.get_stats()` and `gc.get_count()`. Checked against CPython 3.14.2 (pyodide,
 * test/differential/gc-incremental.test.ts). 3.14.0 counted differently and 3.14.5 went back to
 * the generational collector (generational.ts).
 *
 * Sources: our reading of the 3.14-era `Python/gc.c` (`gc_collect_increment`, `assess_work_to_do`,
 * `mark_at_start`, `mark_stacks`, `expand_region_transitively_reachable`, `completed_scavenge`,
 * `gc_collect_young`, `gc_collect_full`) and of gh-139951 (PR #140447), in
 * `shared/docs/cpython-memory.md` §1.3, §5.3 and §5.4; where those disagree with 3.14.2, what
 * 3.14.2 does (each such rule says "measured"). docs/cpython-3.14-incremental.md is the account
 * of these rules as checked, and of the spec's claims they correct.
 *
 * State (CPython's `GCState`):
 * - `young`: objects tracked since they were last collected or marked, and `count`, its
 *   `young.count`: tracking adds 1, untracking or the death of a tracked object takes 1 (floored
 *   at 0) (`_PyObject_GC_TRACK` / `_PyObject_GC_UNTRACK`, gh-139951);
 * - two old spaces, `old[visitedSpace]` ("visited") and the other ("pending"), on the heap's
 *   generation-1 and generation-2 lists; a scan moves every old object from pending to visited,
 *   then the spaces swap (`completed_scavenge`);
 * - `work` (`work_to_do`), the budget of objects an increment may examine, and `phase`: the
 *   first increment of a scan marks what the roots reach (MARK), the others collect (COLLECT);
 * - the interpreter's own objects (`oldObjects`), as numbers only: `markedObjects` of them are
 *   reached from the roots (modules, builtins, frames) and are marked by each MARK step; the
 *   others are alive but reached from no root, so each scan pulls them into an increment.
 *
 * An automatic collection is one increment (`gc_collect_increment`). Its budget grows by the
 * objects tracked since the last one plus a share of the heap, and shrinks by the objects each
 * step marks or examines. Measured on 3.14.2: an increment returns at once while the budget is
 * negative (no collection, no stats), and the objects a MARK step marks are subtracted twice
 * (upstream gh-141890), so after each MARK step the young objects wait through many increments
 * before one collects them.
 *
 * Deallocations count too (`onDeallocationStart`): a deallocator untracks its object, and tracks
 * it again around a finalizer, and, for an instance of a subclass of a builtin container, before
 * the base deallocator. Tracking can schedule an increment, which runs inside the finalizer or at
 * the end of the event.
 *
 * Approximations, found exact on every trace tried against 3.14.2: the interpreter's unrooted
 * objects lead the pending space (CPython's order there follows its own heap), and the trace's
 * objects are marked in list order (the order of the visited space, not the numbers, depends on
 * it).
 */
import type {
  Collector,
  CollectorConstraints,
  CollectorHost,
  CollectorModule,
  CollectorOptions,
  CollectorState,
  CollectionReason,
  GenerationStats,
  PolicyRelease,
} from './collector.js';
import { List, ObjectFlag, type Heap, type ListId } from '../replay/heap.js';
import { deleteGarbage, finalizeGarbage, handleLegacyFinalizers, mayBeTracked, moveLegacyFinalizers, moveUnreachable, recordCollection, untrackTuples, updateAndSubtractRefs } from './region.js';

export interface IncrementalRelease extends PolicyRelease {
  /** `gc.get_threshold()` at start-up: young 2000, old[0] 10, and 0 (old[1]'s is unused). */
  defaultThresholds: readonly [number, number, number];
  /**
   * `assess_work_to_do` caps the heap's share at `newObjects × num / den` (C integer arithmetic):
   * 3/2 in the 2025 sources, 2 in the later main branch.
   */
  heapShareCap: readonly [num: number, den: number];
  /** Whether a collecting increment adds `heap_size / 10 / scale` to the budget again (2025 sources only). */
  heapShareAfterIncrement: boolean;
}

export const INCREMENTAL_RELEASES: readonly IncrementalRelease[] = [
  {
    id: '3.14.2',
    covers: '3.14.1 – 3.14.4',
    minor: '3.14',
    firstPatch: 1,
    lastPatch: 4,
    defaultThresholds: [2000, 10, 0],
    heapShareCap: [2, 1],
    heapShareAfterIncrement: false,
    freeLists: '3.14',
  },
];

/** `SCAN_RATE_DIVISOR` (gc.c): an increment scans a tenth of the heap, divided by the scale. */
const SCAN_RATE_DIVISOR = 10;

const enum Phase {
  mark,
  collect,
}

/** The interpreter's own objects, as counts of where they are (see the header). */
interface PhantomObjects {
  pending: number;
  visited: number;
  frozen: number;
}

const CONSTRAINTS: CollectorConstraints = { tracesCycles: true, generations: 3, incremental: true };

class IncrementalCollector implements Collector {
  readonly constraints = CONSTRAINTS;

  private readonly heap: Heap;
  private count = 0;
  /** `old[0].count`, `old[1].count`: raised only by `gc.collect(0)`. */
  private readonly oldCount = [0, 0];
  private readonly threshold: number[];
  private enabled: boolean;
  private readonly automaticAllowed: boolean;
  private collecting = false;
  /** An increment is scheduled (`_Py_ScheduleGC`) and waits for the next eval-breaker check. */
  private scheduled = false;
  private readonly builtinContainerSubclasses: boolean;
  private visitedSpace = 0;
  /**
   * `work_to_do`. A fresh interpreter starts at -5000 (`pycore_runtime_init.h`), but a trace
   * starts right after a full collection, whose `completed_scavenge` leaves it at 0.
   */
  private work = 0;
  private phase = Phase.mark;
  private readonly interpreterObjects: number;
  /** Interpreter objects the roots reach, and those they do not. */
  private readonly rooted: PhantomObjects;
  private readonly unrooted: PhantomObjects;
  private readonly stats: GenerationStats[] = [0, 1, 2].map(() => ({ collections: 0, collected: 0, uncollectable: 0 }));
  private readonly promotedInto = [0, 0, 0];

  constructor(
    private readonly host: CollectorHost,
    private readonly release: IncrementalRelease,
    options: CollectorOptions,
  ) {
    this.heap = host.heap;
    this.threshold = release.defaultThresholds.map((t, i) => options.thresholds?.[i] ?? t);
    this.enabled = options.automatic;
    this.automaticAllowed = options.automatic;
    this.builtinContainerSubclasses = options.builtinContainerSubclasses ?? false;
    // The trace starts right after a full collection (that is how `oldObjects` is measured):
    // `completed_scavenge` left every object pending, the budget at 0 and the phase at MARK.
    this.interpreterObjects = options.oldObjects;
    const marked = Math.min(options.markedObjects ?? options.oldObjects, options.oldObjects);
    this.rooted = { pending: marked, visited: 0, frozen: 0 };
    this.unrooted = { pending: options.oldObjects - marked, visited: 0, frozen: 0 };
  }

  private get visited(): ListId {
    return (List.generation1 + this.visitedSpace) as ListId;
  }

  private get pending(): ListId {
    return (List.generation1 + (this.visitedSpace ^ 1)) as ListId;
  }

  // ---------------------------------------------------------------------------------------------
  // Mutator hooks

  onAllocate(slot: number): void {
    // 3.14 tracks every container at creation, dicts included (gh-127010); a free-list pop is
    // tracked again too, and counts, since the count is now of tracking (gh-139951).
    this.track(slot, slot);
  }

  onLink(src: number, dst: number): void {
    const heap = this.heap;
    if (heap.isTracked(src) || (heap.flags[src] & ObjectFlag.alive) === 0) return;
    // A tuple the collector untracked and the trace links into again (see generational.ts).
    if (mayBeTracked(heap, dst)) this.track(src, -1);
  }

  onDeallocate(slot: number): void {
    // Untracked already by `onDeallocationStart`; kept for a heap that does not report starts.
    this.untrack(slot);
  }

  /**
   * A deallocation starts. The deallocator untracks the object first (the count goes down only
   * for an object that was still tracked, gh-139951). An object with a finalizer is tracked again
   * around the finalizer's call and untracked after it (`typeobject.c: subtype_dealloc`, for
   * `tp_finalize` and for `tp_del`); tracking it counts, and can trigger an increment, which then
   * runs inside the finalizer (its frame's first eval-breaker check), with the object alive on
   * that frame and `frameHeld` on the frame below. Measured on 3.14.2: a threshold lowered below
   * the count, then an object with `__del__` dropped, runs an increment.
   */
  onDeallocationStart(slot: number, frameHeld: number): void {
    const heap = this.heap;
    this.untrack(slot);
    if (heap.flags[slot] & (ObjectFlag.finalizerDel | ObjectFlag.finalizerLegacy)) {
      this.trackAgain(slot);
      // The finalizer is Python code: its frame's first instruction runs what is scheduled.
      if (this.scheduled) {
        this.scheduled = false;
        this.collectIncrement('automatic', slot, frameHeld);
      }
      this.untrack(slot);
    }
    if (this.builtinContainerSubclasses) {
      // "first retrack self if basedealloc knows about gc" (subtype_dealloc); the base
      // deallocator (list_dealloc) untracks it at once, with no Python code in between.
      this.trackAgain(slot);
      this.untrack(slot);
    }
  }

  /** The end of an event that deallocated: the next eval-breaker check runs what is scheduled. */
  onEventEnd(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    this.collectIncrement('automatic', -1, -1);
  }

  /** `_PyObject_GC_TRACK` inside a deallocator: counts, and schedules an increment if triggered. */
  private trackAgain(slot: number): void {
    this.heap.listAppend(List.generation0, slot);
    this.count++;
    if (this.triggered()) this.scheduled = true;
  }

  /** `_PyObject_GC_UNTRACK` (3.14.1+), or the death of a tracked object. */
  private untrack(slot: number): void {
    if (this.heap.isTracked(slot)) {
      this.heap.listRemove(slot);
      if (this.count > 0) this.count--;
    }
  }

  /** `_PyObject_GC_TRACK`'s test (`_Py_TriggerGC`): the count above the threshold, enabled, not collecting. */
  private triggered(): boolean {
    return this.count > this.threshold[0] && this.enabled && this.threshold[0] !== 0 && !this.collecting;
  }

  /**
   * `_PyObject_GC_TRACK` (3.14.1+): append to young, count it, and schedule an increment when the
   * count passes the threshold (`_Py_TriggerGC`). The increment runs at the next eval-breaker
   * check, right after the call that tracked the object, with no second threshold test
   * (`_Py_RunGC`); the object is then on the caller's stack (`onStack`).
   */
  private track(slot: number, onStack: number): void {
    this.heap.listAppend(List.generation0, slot);
    this.count++;
    if (this.triggered()) this.collectIncrement('automatic', onStack, -1);
  }

  // ---------------------------------------------------------------------------------------------
  // The gc module

  collect(generation: number): void {
    if (this.collecting) return;
    if (generation === 0) this.collectYoung();
    else if (generation === 1) this.collectIncrement('explicit', -1, -1);
    else this.collectFull();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled && this.automaticAllowed;
  }

  setThreshold(generation: number, value: number): void {
    this.threshold[generation] = value;
  }

  /**
   * `gc.freeze()` (`_PyGC_Freeze`): young, then both old spaces, move to the permanent
   * generation with the visited bit; all counts become 0.
   */
  freeze(): void {
    const heap = this.heap;
    heap.listMerge(List.generation0, List.permanent);
    heap.listMerge(this.pending, List.permanent);
    heap.listMerge(this.visited, List.permanent);
    this.count = 0;
    this.oldCount[0] = this.oldCount[1] = 0;
    for (const phantom of [this.rooted, this.unrooted]) {
      phantom.frozen += phantom.pending + phantom.visited;
      phantom.pending = phantom.visited = 0;
    }
  }

  /** `gc.unfreeze()` (`_PyGC_Unfreeze`): the permanent generation joins the visited space. */
  unfreeze(): void {
    this.heap.listMerge(List.permanent, this.visited);
    for (const phantom of [this.rooted, this.unrooted]) {
      phantom.visited += phantom.frozen;
      phantom.frozen = 0;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Collections

  /** `heap_size`: tracked objects, the interpreter's included. */
  private heapSize(): number {
    const lengths = this.heap.listLength;
    return this.interpreterObjects + lengths[List.generation0] + lengths[List.generation1] + lengths[List.generation2] + lengths[List.permanent];
  }

  /** `untrack_tuples`, which lowers the count through `_PyObject_GC_UNTRACK` (3.14.1+). */
  private untrackTuples(list: ListId): void {
    const untracked = untrackTuples(this.heap, list);
    this.count = Math.max(0, this.count - untracked);
  }

  /**
   * `gc_collect_increment`: an automatic collection, or `gc.collect(1)`. `held1`, `held2`: objects
   * the running frames hold (the object whose tracking triggered the increment, and what
   * `onDeallocationStart` was given), which `mark_stacks` marks; -1 for none.
   */
  private collectIncrement(reason: CollectionReason, held1: number, held2: number): void {
    const heap = this.heap;
    this.collecting = true;

    // `assess_work_to_do`: the objects tracked since the last increment, plus a share of the heap
    // (a tenth, divided by threshold1 as a scale of at least 2) capped by the new objects.
    const scale = Math.max(2, this.threshold[1]);
    const newObjects = this.count;
    const [num, den] = this.release.heapShareCap;
    const heapShare = Math.min(Math.floor(this.heapSize() / SCAN_RATE_DIVISOR / scale), Math.floor((newObjects * num) / den));
    this.count = 0;
    this.work += newObjects + heapShare;
    // Measured on 3.14.2: nothing more happens while the budget is negative. The young objects
    // stay where they are, with the count already reset.
    if (this.work < 0) {
      this.collecting = false;
      return;
    }
    this.untrackTuples(List.generation0);

    if (this.phase === Phase.mark) {
      // `mark_at_start` subtracts what it marked, and its caller subtracts it again (gh-141890;
      // measured on 3.14.2). Nothing is collected and no stats are recorded.
      const marked = this.markFromRoots(held1, held2);
      this.work -= 2 * marked;
      this.phase = Phase.collect;
      this.collecting = false;
      return;
    }

    // `mark_stacks(start=false)`: the frames visited at the MARK step are not walked again, but
    // the running frame's stack is (and the frames above a visited one): what they hold is marked
    // with all it reaches, once.
    this.work -= this.markHeld(held1) + this.markHeld(held2);

    // The increment: all of young, then pending objects with everything pending they reach,
    // until it holds as many objects as the budget. The interpreter's unrooted objects are
    // taken first (they lead the pending space after the first scan of the trace).
    const increment = List.scratch;
    heap.listMerge(List.generation0, increment);
    let size = heap.listLength[increment];
    let phantoms = 0;
    while (size < this.work) {
      if (this.unrooted.pending > 0) {
        this.unrooted.pending--;
        phantoms++;
        size++;
      } else if (!heap.listIsEmpty(this.pending)) {
        size += this.moveClosure(heap.listHead(this.pending), increment);
      } else {
        break;
      }
    }

    const { collected, uncollectable, finalizers } = this.collectRegion(increment, this.visited);
    this.unrooted.visited += phantoms;
    const promoted = size - phantoms - collected;
    this.promotedInto[1] += promoted;
    if (this.release.heapShareAfterIncrement) this.work += Math.floor(this.heapSize() / SCAN_RATE_DIVISOR / scale);
    this.work -= size;
    this.record(1, reason, size, collected, promoted, uncollectable, finalizers);
    if (heap.listIsEmpty(this.pending) && this.unrooted.pending === 0) this.completedScavenge();
  }

  /**
   * `mark_at_start`: everything the roots reach that is not visited yet moves to the visited
   * space; returns how many objects moved. The roots are the interpreter's (modules, builtins,
   * its frames' locals and stacks), and the objects the running frames hold. The trace's program references are held by
   * interpreter objects the roots reach (a frame's locals, a module's globals; the oracle's
   * reference list), so marking reaches them only through those objects: not when they are
   * frozen or already visited (measured on 3.14.2: after `gc.freeze()`, a MARK step marks none
   * of the program's objects).
   */
  private markFromRoots(held1: number, held2: number): number {
    const heap = this.heap;
    let marked = 0;
    const roots: number[] = [];
    if (held1 >= 0) roots.push(held1);
    if (held2 >= 0) roots.push(held2);
    if (this.rooted.pending > 0) {
      marked += this.rooted.pending;
      this.rooted.visited += this.rooted.pending;
      this.rooted.pending = 0;
      for (const list of [this.pending, List.generation0]) {
        for (let s = heap.next[list]; s !== list; s = heap.next[s]) if (heap.programRefs[s] > 0) roots.push(s);
      }
    }
    for (const root of roots) marked += this.markHeld(root);
    return marked;
  }

  /**
   * Marks `root` (if it is markable) and everything markable it reaches: they move to the visited
   * space (`move_to_reachable` + `mark_all_reachable`). Returns how many moved.
   */
  private markHeld(root: number): number {
    return root < 0 || !this.markable(root) ? 0 : this.moveClosure(root, this.visited);
  }

  /** Tracked and neither visited nor frozen: what marking and scanning may move. */
  private markable(slot: number): boolean {
    const list = this.heap.listOf[slot];
    return list === List.generation0 || list === this.pending;
  }

  /**
   * Moves `first` (markable) and every markable object it reaches to the tail of `into`, whose
   * tail is the work list; returns how many moved. For marking (`mark_all_reachable`), and for the
   * pending objects an increment takes (`expand_region_transitively_reachable`: young objects are
   * in the increment by then, so what it reaches is pending).
   */
  private moveClosure(first: number, into: ListId): number {
    const heap = this.heap;
    heap.listMove(first, into);
    let moved = 1;
    for (let s = first; s !== into; s = heap.next[s]) moved += this.pullReferents(s, into);
    return moved;
  }

  /** Appends to `into` the markable referents of `slot`, last to first as `list_traverse` visits them. */
  private pullReferents(slot: number, into: ListId): number {
    const heap = this.heap;
    let moved = 0;
    const start = heap.edgeStart[slot];
    for (let e = start + heap.edgeLength[slot] - 1; e >= start; e--) {
      const d = heap.edges[e];
      if (this.markable(d)) {
        heap.listMove(d, into);
        moved++;
      }
    }
    return moved;
  }

  /**
   * `gc_collect_region(from, to)`: the steps of §3.2 on the objects of `from`; survivors and
   * uncollectable objects end on `to`.
   */
  private collectRegion(from: ListId, to: ListId): { collected: number; uncollectable: number; finalizers: number } {
    const heap = this.heap;
    updateAndSubtractRefs(heap, from);
    moveUnreachable(heap, from);
    this.untrackTuples(from);
    if (from !== to) heap.listMerge(from, to);
    moveLegacyFinalizers(heap);
    const finalizers = finalizeGarbage(heap);
    const collected = heap.listLength[List.unreachable];
    this.host.beforeDeleteGarbage(List.unreachable);
    deleteGarbage(heap, to);
    const uncollectable = handleLegacyFinalizers(heap, to);
    return { collected, uncollectable, finalizers };
  }

  /**
   * `completed_scavenge`: every old object is visited. The visited space becomes the pending one
   * (the spaces swap, or, while objects are frozen, visited objects move to pending), the budget
   * restarts at 0 and the next increment marks.
   */
  private completedScavenge(): void {
    const heap = this.heap;
    if (heap.listIsEmpty(List.permanent) && this.rooted.frozen === 0 && this.unrooted.frozen === 0) {
      this.visitedSpace ^= 1;
    } else {
      heap.listMerge(this.visited, this.pending);
    }
    for (const phantom of [this.rooted, this.unrooted]) {
      phantom.pending += phantom.visited;
      phantom.visited = 0;
    }
    this.work = 0;
    this.phase = Phase.mark;
  }

  /** `gc_collect_young` (`gc.collect(0)` only): young is collected and survivors join the visited space. */
  private collectYoung(): void {
    this.collecting = true;
    this.untrackTuples(List.generation0);
    const examined = this.heap.listLength[List.generation0];
    const { collected, uncollectable, finalizers } = this.collectRegion(List.generation0, this.visited);
    this.count = 0;
    this.oldCount[this.visitedSpace]++;
    const promoted = examined - collected;
    this.promotedInto[1] += promoted;
    this.record(0, 'explicit', examined, collected, promoted, uncollectable, finalizers);
  }

  /** `gc_collect_full` (`gc.collect()`): everything not frozen is one region; then a new scan starts. */
  private collectFull(): void {
    const heap = this.heap;
    this.collecting = true;
    this.untrackTuples(List.generation0);
    heap.listMerge(List.generation0, this.pending);
    heap.listMerge(this.pending, this.visited);
    for (const phantom of [this.rooted, this.unrooted]) {
      phantom.visited += phantom.pending;
      phantom.pending = 0;
    }
    this.count = 0;
    const examined = heap.listLength[this.visited] + this.rooted.visited + this.unrooted.visited;
    const { collected, uncollectable, finalizers } = this.collectRegion(this.visited, this.visited);
    this.count = 0;
    this.oldCount[0] = this.oldCount[1] = 0;
    this.completedScavenge();
    // Free-list entries were untracked when they were pushed: emptying the lists changes no count.
    this.host.clearFreeLists();
    this.record(2, 'explicit', examined, collected, 0, uncollectable, finalizers);
  }

  private record(generation: number, reason: CollectionReason, examined: number, collected: number, promoted: number, uncollectable: number, finalizers: number): void {
    this.collecting = false;
    recordCollection(this.host, this.stats, { generation, reason, examined, collected, promoted, uncollectable, finalizers });
  }

  // ---------------------------------------------------------------------------------------------
  // Reading the state

  /**
   * Generation 0 is young, 1 the visited space, 2 the pending one, in `gc.get_count()`'s order;
   * survivors of increments and of `gc.collect(0)` are counted as promoted into 1 (visited).
   */
  generationSize(generation: number): number {
    const list = generation === 0 ? List.generation0 : generation === 1 ? this.visited : this.pending;
    return this.heap.listLength[list];
  }

  youngCount(): number {
    return this.count;
  }

  state(): CollectorState {
    const heap = this.heap;
    return {
      generations: this.stats.map((s) => ({ ...s })),
      // `gc.get_count()`: (young.count, old[visited].count, old[pending].count).
      count: [this.count, this.oldCount[this.visitedSpace], this.oldCount[this.visitedSpace ^ 1]],
      // `gc.get_threshold()` reports 0 for the third value.
      thresholds: [this.threshold[0], this.threshold[1], 0],
      enabled: this.enabled,
      generationSizes: [0, 1, 2].map((g) => this.generationSize(g)),
      frozen: heap.listLength[List.permanent] + this.rooted.frozen + this.unrooted.frozen,
      promotedInto: [...this.promotedInto],
      longLivedPending: 0,
      longLivedTotal: 0,
    };
  }
}

export const incremental = {
  name: 'cpython',
  description: "CPython 3.14.1–3.14.4's incremental collector: young objects plus a budgeted slice of the old ones per collection",
  constraints: CONSTRAINTS,
  releases: INCREMENTAL_RELEASES,
  create(host: CollectorHost, options: CollectorOptions) {
    const release = INCREMENTAL_RELEASES.find((r) => r.id === options.release);
    if (release === undefined) throw new Error(`no incremental model for release ${String(options.release)}`);
    return new IncrementalCollector(host, release, options);
  },
} satisfies CollectorModule;
