/**
 * One collection of a set of objects ("region"), the steps every CPython cycle collector shares:
 * `gc_collect_main` in 3.11–3.13 and 3.14.5+, `gc_collect_region` in the incremental collector of
 * 3.14.0–3.14.4 (cpython-memory.md §3.2, §5.3). The collectors (generational.ts, incremental.ts)
 * decide which objects form the region and where survivors go; these functions do the steps in
 * between, in CPython's order, on the heap's lists.
 */
import type { CollectionRecord, CollectorHost, GenerationStats } from './collector.js';
import { List, ObjectFlag, type Heap, type ListId } from '../replay/heap.js';
import { TypeKind, type TypeKindCode } from '../pool/free-list.js';

/**
 * `update_refs` then `subtract_refs`: each object's `gcRefs` becomes its refcount minus the
 * references from objects of the same generation, i.e. the references from outside it.
 */
export function updateAndSubtractRefs(heap: Heap, young: ListId): void {
  const { next, gcRefs, flags, programRefs, incomingRefs } = heap;
  for (let s = next[young]; s !== young; s = next[s]) {
    gcRefs[s] = programRefs[s] + incomingRefs[s];
    flags[s] |= ObjectFlag.collecting;
  }
  const edges = heap.edges;
  for (let s = next[young]; s !== young; s = next[s]) {
    const start = heap.edgeStart[s];
    const end = start + heap.edgeLength[s];
    for (let e = start; e < end; e++) {
      const d = edges[e];
      if (flags[d] & ObjectFlag.collecting) gcRefs[d]--;
    }
  }
}

/**
 * `move_unreachable`: one scan of `young` in list order. An object with outside references is
 * reachable; everything it references is then reachable too: an object already moved to the
 * unreachable list comes back to the tail of `young` (and is scanned again later), an object not
 * yet scanned gets `gcRefs = 1`. An object with no outside references is moved to the
 * unreachable list, tentatively. Referents are visited as `list_traverse` does, last to first.
 */
export function moveUnreachable(heap: Heap, young: ListId): void {
  const { next, gcRefs, flags, listOf } = heap;
  let lastReachable: number = young;
  let s = next[young];
  while (s !== young) {
    if (gcRefs[s] > 0) {
      const start = heap.edgeStart[s];
      for (let e = start + heap.edgeLength[s] - 1; e >= start; e--) {
        const d = heap.edges[e];
        if ((flags[d] & ObjectFlag.collecting) === 0) continue;
        if (listOf[d] === List.unreachable) {
          heap.listMove(d, young);
          gcRefs[d] = 1;
        } else if (gcRefs[d] === 0) {
          gcRefs[d] = 1;
        }
      }
      flags[s] &= ~ObjectFlag.collecting;
      lastReachable = s;
    } else {
      heap.listMove(s, List.unreachable);
    }
    s = next[lastReachable];
  }
}

/** `_PyObject_GC_MAY_BE_TRACKED`: a GC object that is not an exact tuple, or a tracked one. */
export function mayBeTracked(heap: Heap, slot: number): boolean {
  return heap.isGc(slot) && (heap.kind[slot] !== TypeKind.tuple || heap.isTracked(slot));
}

/** True when no referent of `slot` may be tracked. */
export function holdsOnlyUntrackable(heap: Heap, slot: number): boolean {
  const start = heap.edgeStart[slot];
  const end = start + heap.edgeLength[slot];
  for (let e = start; e < end; e++) if (mayBeTracked(heap, heap.edges[e])) return false;
  return true;
}

/**
 * `untrack_tuples`: in one pass over the survivors, in list order, untrack each tuple whose items
 * cannot be tracked (`_PyTuple_MaybeUntrack`). A tuple holding a tuple that comes later in the
 * list is untracked only by a later collection, as in CPython.
 */
export function untrackTuples(heap: Heap, young: ListId): number {
  return untrackAtomic(heap, young, TypeKind.tuple);
}

/** `untrack_dicts` (full collections, ≤ 3.13): `_PyDict_MaybeUntrack` on each surviving dict. */
export function untrackDicts(heap: Heap, young: ListId): void {
  untrackAtomic(heap, young, TypeKind.dict);
}

/** Untracks, in list order, every object of `kind` on `list` that holds nothing trackable; returns how many. */
export function untrackAtomic(heap: Heap, list: ListId, kind: TypeKindCode): number {
  let untracked = 0;
  for (let s = heap.next[list]; s !== list; ) {
    const after = heap.next[s];
    if (heap.kind[s] === kind && holdsOnlyUntrackable(heap, s)) {
      heap.listRemove(s);
      untracked++;
    }
    s = after;
  }
  return untracked;
}

/**
 * `move_legacy_finalizers` + `move_legacy_finalizer_reachable`: unreachable objects with a
 * legacy `tp_del`, and every unreachable object they reach, move to the finalizers list.
 */
export function moveLegacyFinalizers(heap: Heap): void {
  const { next, flags } = heap;
  for (let s = next[List.unreachable]; s !== List.unreachable; ) {
    const after = next[s];
    if (flags[s] & ObjectFlag.finalizerLegacy) {
      flags[s] &= ~ObjectFlag.collecting;
      heap.listMove(s, List.finalizers);
    }
    s = after;
  }
  for (let s = next[List.finalizers]; s !== List.finalizers; s = next[s]) {
    const start = heap.edgeStart[s];
    const end = start + heap.edgeLength[s];
    for (let e = start; e < end; e++) {
      const d = heap.edges[e];
      if (flags[d] & ObjectFlag.collecting) {
        flags[d] &= ~ObjectFlag.collecting;
        heap.listMove(d, List.finalizers);
      }
    }
  }
}

/** `finalize_garbage`: call each not-yet-finalized `__del__` once. Returns how many ran. */
export function finalizeGarbage(heap: Heap): number {
  const { next, flags } = heap;
  let ran = 0;
  for (let s = next[List.unreachable]; s !== List.unreachable; s = next[s]) {
    if ((flags[s] & (ObjectFlag.finalizerDel | ObjectFlag.finalized)) === ObjectFlag.finalizerDel) {
      flags[s] |= ObjectFlag.finalized;
      ran++;
    }
  }
  return ran;
}

/**
 * `delete_garbage`: `tp_clear` the head of the unreachable list until it is empty. Clearing
 * drops the object's references, which deallocates it and others through reference counting
 * (each deallocation takes its object off the list). An object still alive after its clear (kept
 * by garbage cleared later) moves to the old generation, as in CPython, and dies there soon after.
 */
export function deleteGarbage(heap: Heap, old: ListId): void {
  while (!heap.listIsEmpty(List.unreachable)) {
    const s = heap.listHead(List.unreachable);
    heap.clearEdges(s);
    if (heap.listHead(List.unreachable) === s) {
      heap.flags[s] &= ~ObjectFlag.collecting;
      heap.listMove(s, old);
    }
  }
}

/**
 * `handle_legacy_finalizers`: objects with `tp_del` are appended to `gc.garbage` (one more
 * reference, held by the interpreter for good); the whole finalizers list joins the old generation.
 */
export function handleLegacyFinalizers(heap: Heap, old: ListId): number {
  const n = heap.listLength[List.finalizers];
  for (let s = heap.next[List.finalizers]; s !== List.finalizers; s = heap.next[s]) {
    heap.flags[s] |= ObjectFlag.uncollectable;
    if (heap.flags[s] & ObjectFlag.finalizerLegacy) heap.programRefs[s]++;
  }
  heap.listMerge(List.finalizers, old);
  return n;
}


/** Charges a collection to `gc.get_stats()[generation]` only (the highest generation collected) and reports it. */
export function recordCollection(host: CollectorHost, stats: GenerationStats[], record: CollectionRecord): void {
  const entry = stats[record.generation];
  entry.collections++;
  entry.collected += record.collected;
  entry.uncollectable += record.uncollectable;
  host.onCollection(record);
}
