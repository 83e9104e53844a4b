/**
 * The heap model: every live object of the replayed program, its references, and the intrusive
 * lists that collector policies keep objects on (CPython's generation lists).
 *
 * Read first: `dropReference` and `releaseCascade` (reference counting), then the list functions.
 *
 * Storage is struct-of-arrays. An object lives in a *slot*: a dense integer index into typed
 * arrays. Slots `0 .. LIST_HEADERS-1` are list headers (like CPython's `PyGC_Head` list heads), so
 * every list is circular and never empty of its header. Slots of dead objects are recycled.
 *
 * Reference counting follows CPython: an object's refcount is the references the program holds
 * (`programRefs`: names, locals; `alloc` starts it at 1) plus the edges from other objects that
 * point to it (`incomingRefs`). When it reaches 0 the object is deallocated at once, releasing its
 * outgoing edges, which may deallocate more objects. That cascade is iterative (an explicit stack),
 * so a ten-million-long chain frees without recursion.
 *
 * Outgoing edges are kept per object in insertion order, in segments of a shared `Int32Array`
 * whose capacities are powers of two; freed segments are recycled per capacity class.
 *
 * Invariants:
 * - `programRefs[s] + incomingRefs[s] > 0` for every live slot `s`, except transiently while it
 *   is being deallocated or while a collector holds it in its unreachable list;
 * - `listOf[s]` names the list `s` is on, or `NOT_TRACKED`; `listLength[l]` counts list `l`;
 * - an edge `s → d` is stored once per `link`, and counted once in `incomingRefs[d]`.
 */
import { ensureLength, grown } from '../typed-arrays.js';
import { hexIdOf } from '../trace/types.js';

/** The lists a collector can keep objects on. Values are header slots. */
export const List = {
  generation0: 0,
  generation1: 1,
  generation2: 2,
  permanent: 3,
  unreachable: 4,
  finalizers: 5,
  scratch: 6,
} as const;
export type ListId = (typeof List)[keyof typeof List];

export const LIST_HEADERS = 8;
export const NOT_TRACKED = -1;

/** Bits of `flags`. */
export const ObjectFlag = {
  alive: 1,
  /** A GC container (the trace did not say `tracked: false`). */
  gc: 2,
  /** Has a PEP 442 `__del__` (`tp_finalize`). */
  finalizerDel: 4,
  /** Has a legacy `tp_del` finalizer. */
  finalizerLegacy: 8,
  /** `tp_finalize` already ran (PEP 442: at most once per object). */
  finalized: 16,
  /** Found uncollectable; kept alive by `gc.garbage`. */
  uncollectable: 32,
  /** In the set being collected (CPython's COLLECTING bit). */
  collecting: 64,
  /** Scratch bit for traversals (marking). */
  mark: 128,
} as const;

const INITIAL_SLOTS = 1024;
const EDGE_CLASSES = 31;
/** Capacity class of an object's first edge segment (`1 << MIN_EDGE_CLASS` edges). */
const MIN_EDGE_CLASS = 2;

/** Told of each object as it is deallocated, after its outgoing edges were released. */
export interface DeallocationObserver {
  deallocate(slot: number): void;
  /**
   * Called, when `Heap.observeDeallocationStart` is set, as each deallocation starts: the object
   * has no reference left but still holds its own (CPython's deallocators untrack the object and
   * run its finalizer before they drop what it references). May run a collection.
   */
  deallocating?(slot: number): void;
}

export class Heap {
  /** Number of slots allocated in the arrays (headers included). */
  capacity = 0;
  /** One past the highest slot ever used. */
  highSlot = LIST_HEADERS;

  programRefs = new Int32Array(0);
  incomingRefs = new Int32Array(0);
  flags = new Uint8Array(0);
  listOf = new Int8Array(0);
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /** Scratch count for collections (CPython's `gc_refs`). */
  gcRefs = new Int32Array(0);
  /** The object's allocation group (type × site, see `groups.ts`). */
  group = new Int32Array(0);
  /** How CPython treats the object's type (`TypeKind` in src/pool/free-list.ts). */
  kind = new Uint8Array(0);
  size = new Float64Array(0);
  /** Memory-block handle from the pool policy. */
  block = new Int32Array(0);
  /** Event index at which a reference to the object was last dropped. */
  lastDrop = new Float64Array(0);
  /**
   * The id the trace uses: a number; a hex address id as its key (negative, see `EventChunk`); or
   * NaN when `idStrings` holds a string id for the slot.
   */
  idNumber = new Float64Array(0);
  /** String ids by slot (a `Map`: string ids are the exception, and slots are dense integers). */
  readonly idStrings = new Map<number, string>();

  edgeStart = new Int32Array(0);
  edgeLength = new Int32Array(0);
  /** Capacity class of the object's segment: capacity is `1 << edgeClass`, or 0 edges when -1. */
  edgeClass = new Int8Array(0);
  edges = new Int32Array(1024);
  private edgeTop = 0;
  /** Heads of the free-segment lists per capacity class (-1: empty); a free segment's first cell links to the next. */
  private readonly edgeFree = new Int32Array(EDGE_CLASSES).fill(-1);

  readonly listLength = new Int32Array(LIST_HEADERS);

  private freeSlots = new Int32Array(256);
  private freeSlotCount = 0;

  liveObjects = 0;
  liveBytes = 0;

  /**
   * Set by the replay engine. An object with a method rather than a function-valued field: V8
   * inlines a method call on an object of one shape, not a call through a field.
   */
  deallocations: DeallocationObserver = { deallocate: () => {} };

  /** The event being replayed, stamped into `lastDrop`. */
  now = 0;

  /** Whether `deallocations.deallocating` is called (only the collectors that need it ask). */
  observeDeallocationStart = false;

  private cascadeStack = new Int32Array(256);
  /** A cascade is running: one started inside it (by a collection run from `deallocating`) needs its own stack. */
  private cascading = false;
  /**
   * The most deallocations one cascade had in progress at once (CPython's nesting of `tp_dealloc`
   * calls): `verify` needs it, because CPython 3.7 leaks what a list subclass's deallocation
   * reaches below 25 levels (see verify-command.ts).
   */
  deepestCascade = 0;
  private clearBuffer = new Int32Array(256);

  constructor() {
    this.grow(INITIAL_SLOTS);
    for (let h = 0; h < LIST_HEADERS; h++) {
      this.next[h] = h;
      this.prev[h] = h;
      this.listOf[h] = NOT_TRACKED;
    }
  }

  private grow(minCapacity: number): void {
    let capacity = Math.max(this.capacity, INITIAL_SLOTS);
    while (capacity < minCapacity) capacity *= 2;
    if (capacity === this.capacity) return;
    this.programRefs = grown(this.programRefs, capacity);
    this.incomingRefs = grown(this.incomingRefs, capacity);
    this.flags = grown(this.flags, capacity);
    this.listOf = grown(this.listOf, capacity, NOT_TRACKED);
    this.next = grown(this.next, capacity);
    this.prev = grown(this.prev, capacity);
    this.gcRefs = grown(this.gcRefs, capacity);
    this.group = grown(this.group, capacity);
    this.kind = grown(this.kind, capacity);
    this.size = grown(this.size, capacity);
    this.block = grown(this.block, capacity);
    this.lastDrop = grown(this.lastDrop, capacity);
    this.idNumber = grown(this.idNumber, capacity);
    this.edgeStart = grown(this.edgeStart, capacity);
    this.edgeLength = grown(this.edgeLength, capacity);
    this.edgeClass = grown(this.edgeClass, capacity, -1);
    this.capacity = capacity;
  }

  // ---------------------------------------------------------------------------------------------
  // Objects

  isAlive(slot: number): boolean {
    return (this.flags[slot] & ObjectFlag.alive) !== 0;
  }

  isGc(slot: number): boolean {
    return (this.flags[slot] & ObjectFlag.gc) !== 0;
  }

  isTracked(slot: number): boolean {
    return this.listOf[slot] !== NOT_TRACKED;
  }

  refcount(slot: number): number {
    return this.programRefs[slot] + this.incomingRefs[slot];
  }

  /**
   * Creates an object with one program reference. The caller has checked that the id is free.
   * `idNumber` is NaN for a string id (`idString`).
   */
  createObject(
    idNumber: number,
    idString: string | undefined,
    group: number,
    kind: number,
    size: number,
    flags: number,
  ): number {
    let slot: number;
    if (this.freeSlotCount > 0) {
      slot = this.freeSlots[--this.freeSlotCount];
    } else {
      slot = this.highSlot++;
      if (slot >= this.capacity) this.grow(slot + 1);
    }
    this.programRefs[slot] = 1;
    this.incomingRefs[slot] = 0;
    this.flags[slot] = flags | ObjectFlag.alive;
    this.listOf[slot] = NOT_TRACKED;
    this.group[slot] = group;
    this.kind[slot] = kind;
    this.size[slot] = size;
    this.lastDrop[slot] = this.now;
    this.idNumber[slot] = idNumber;
    if (idString !== undefined) this.idStrings.set(slot, idString);
    this.edgeLength[slot] = 0;
    this.edgeClass[slot] = -1;
    this.liveObjects++;
    this.liveBytes += size;
    return slot;
  }

  /** Recycles the slot of a deallocated object. */
  private destroySlot(slot: number): void {
    this.releaseSegment(slot);
    this.liveObjects--;
    this.liveBytes -= this.size[slot];
    this.flags[slot] = 0;
    if (this.idStrings.size > 0 && Number.isNaN(this.idNumber[slot])) this.idStrings.delete(slot);
    if (this.freeSlotCount === this.freeSlots.length) this.freeSlots = grown(this.freeSlots, this.freeSlots.length * 2);
    this.freeSlots[this.freeSlotCount++] = slot;
  }

  resizeObject(slot: number, size: number): void {
    this.liveBytes += size - this.size[slot];
    this.size[slot] = size;
  }

  /** The id the trace gave the object in `slot`. */
  idOf(slot: number): number | string {
    const id = this.idNumber[slot];
    if (Number.isNaN(id)) return this.idStrings.get(slot) as string;
    return id >= 0 ? id : hexIdOf(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Reference counting

  /**
   * Drops one reference to `slot` that was counted in `programRefs` (when `fromProgram`) or in
   * `incomingRefs`; deallocates it, and whatever it alone kept alive, when the count reaches 0.
   */
  dropReference(slot: number, fromProgram: boolean): void {
    if (fromProgram) this.programRefs[slot]--;
    else this.incomingRefs[slot]--;
    this.lastDrop[slot] = this.now;
    if (this.programRefs[slot] + this.incomingRefs[slot] !== 0) return;
    // Most objects that die hold no references (strings, ints): no cascade to run.
    if (this.edgeLength[slot] === 0) {
      if (this.observeDeallocationStart) this.deallocations.deallocating?.(slot);
      this.deallocations.deallocate(slot);
      this.destroySlot(slot);
    } else {
      this.releaseCascade(slot);
    }
  }

  /**
   * Deallocates `root` (refcount 0) and, depth first, everything whose last reference it held,
   * in the order CPython's deallocators do it: a container drops its items from the last to the
   * first (`listobject.c: list_dealloc`, `tupleobject.c: tupledealloc`) and its own memory goes
   * back after theirs. The explicit stack replaces the C recursion (CPython bounds that recursion
   * with the trashcan mechanism, which only reorders frees of very deep structures).
   */
  releaseCascade(root: number): void {
    // The per-object position in its edge list lives in `gcRefs`: a dying object is either outside
    // any collection or in the garbage of one that no longer needs its `gcRefs`.
    const cursor = this.gcRefs;
    const nested = this.cascading;
    this.cascading = true;
    let stack = nested ? new Int32Array(64) : this.cascadeStack;
    let top = 0;
    const observe = this.observeDeallocationStart;
    stack[top++] = root;
    if (top > this.deepestCascade) this.deepestCascade = top;
    if (observe) this.deallocations.deallocating?.(root);
    cursor[root] = this.edgeLength[root];
    // No edge is added while a cascade runs, so the edge array cannot be replaced under us.
    const edges = this.edges;
    while (top > 0) {
      const s = stack[top - 1];
      const c = cursor[s];
      if (c > 0) {
        cursor[s] = c - 1;
        const d = edges[this.edgeStart[s] + c - 1];
        this.incomingRefs[d]--;
        this.lastDrop[d] = this.now;
        if (this.programRefs[d] + this.incomingRefs[d] === 0) {
          if (top === stack.length) {
            stack = grown(stack, stack.length * 2);
            if (!nested) this.cascadeStack = stack;
          }
          stack[top++] = d;
          if (top > this.deepestCascade) this.deepestCascade = top;
          if (observe) this.deallocations.deallocating?.(d);
          cursor[d] = this.edgeLength[d];
        }
      } else {
        top--;
        this.edgeLength[s] = 0;
        this.deallocations.deallocate(s);
        this.destroySlot(s);
      }
    }
    this.cascading = nested;
  }

  /**
   * Drops every outgoing edge of `slot`, as `tp_clear` does during a collection: the edges are
   * detached first, then released from the last to the first (`listobject.c: _list_clear`).
   * Objects that lose their last reference are deallocated, possibly `slot` itself.
   */
  clearEdges(slot: number): void {
    const n = this.edgeLength[slot];
    if (n === 0) return;
    if (this.clearBuffer.length < n) this.clearBuffer = new Int32Array(Math.max(n, this.clearBuffer.length * 2));
    const buffer = this.clearBuffer.subarray(0, n);
    buffer.set(this.edges.subarray(this.edgeStart[slot], this.edgeStart[slot] + n));
    this.edgeLength[slot] = 0;
    for (let i = n - 1; i >= 0; i--) this.dropReference(buffer[i], false);
  }

  // ---------------------------------------------------------------------------------------------
  // Edges

  edgeCount(slot: number): number {
    return this.edgeLength[slot];
  }

  /** The `i`-th outgoing edge's target. */
  edgeAt(slot: number, i: number): number {
    return this.edges[this.edgeStart[slot] + i];
  }

  /** Adds the edge `src → dst` and counts it as a reference to `dst`. */
  addEdge(src: number, dst: number): void {
    const n = this.edgeLength[src];
    const cls = this.edgeClass[src];
    if (cls < 0 || n === 1 << cls) this.growSegment(src, n + 1);
    this.edges[this.edgeStart[src] + n] = dst;
    this.edgeLength[src] = n + 1;
    this.incomingRefs[dst]++;
  }

  /**
   * Removes one edge `src → dst` (the most recently added one, so that stack-like use is O(1)),
   * keeping the order of the others. Does not drop the reference: the caller does, so that the
   * deallocation it may cause happens after the edge is gone. Returns false if there is none.
   */
  removeEdge(src: number, dst: number): boolean {
    const start = this.edgeStart[src];
    const n = this.edgeLength[src];
    const edges = this.edges;
    for (let i = start + n - 1; i >= start; i--) {
      if (edges[i] === dst) {
        edges.copyWithin(i, i + 1, start + n);
        this.edgeLength[src] = n - 1;
        return true;
      }
    }
    return false;
  }

  private growSegment(slot: number, needed: number): void {
    // NOTE: the first segment has room for 4 edges: containers mostly get several, and each
    // growth copies the segment (4 ints cost less than the two growths they save).
    let cls = MIN_EDGE_CLASS;
    while (1 << cls < needed) cls++;
    const start = this.takeSegment(cls);
    const n = this.edgeLength[slot];
    if (n > 0) this.edges.copyWithin(start, this.edgeStart[slot], this.edgeStart[slot] + n);
    this.releaseSegment(slot);
    this.edgeStart[slot] = start;
    this.edgeClass[slot] = cls;
  }

  private takeSegment(cls: number): number {
    const head = this.edgeFree[cls];
    if (head >= 0) {
      this.edgeFree[cls] = this.edges[head];
      return head;
    }
    const size = 1 << cls;
    this.edges = ensureLength(this.edges, this.edgeTop + size);
    const start = this.edgeTop;
    this.edgeTop += size;
    return start;
  }

  private releaseSegment(slot: number): void {
    const cls = this.edgeClass[slot];
    if (cls < 0) return;
    const start = this.edgeStart[slot];
    this.edges[start] = this.edgeFree[cls];
    this.edgeFree[cls] = start;
    this.edgeClass[slot] = -1;
  }

  // ---------------------------------------------------------------------------------------------
  // Lists (circular, doubly linked, with header slots; CPython's `gc_list_*`)

  listHead(list: ListId): number {
    return this.next[list];
  }

  listIsEmpty(list: ListId): boolean {
    return this.next[list] === list;
  }

  /** Appends `slot` (not on any list) at the tail of `list`. */
  listAppend(list: ListId, slot: number): void {
    const last = this.prev[list];
    this.next[last] = slot;
    this.prev[slot] = last;
    this.next[slot] = list;
    this.prev[list] = slot;
    this.listOf[slot] = list;
    this.listLength[list]++;
  }

  /** Takes `slot` off its list. */
  listRemove(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    this.next[p] = n;
    this.prev[n] = p;
    this.listLength[this.listOf[slot]]--;
    this.listOf[slot] = NOT_TRACKED;
  }

  /** Moves `slot` from its list to the tail of `list`. */
  listMove(slot: number, list: ListId): void {
    this.listRemove(slot);
    this.listAppend(list, slot);
  }

  /**
   * Appends all of `from`, in order, after the tail of `to` (`gc_list_merge`), leaving `from`
   * empty. O(length of `from`): every moved object's `listOf` is updated, so that list lengths
   * stay exact for the statistics.
   */
  listMerge(from: ListId, to: ListId): void {
    if (this.next[from] === from) return;
    for (let s = this.next[from]; s !== from; s = this.next[s]) this.listOf[s] = to;
    const firstFrom = this.next[from];
    const lastFrom = this.prev[from];
    const lastTo = this.prev[to];
    this.next[lastTo] = firstFrom;
    this.prev[firstFrom] = lastTo;
    this.next[lastFrom] = to;
    this.prev[to] = lastFrom;
    this.next[from] = from;
    this.prev[from] = from;
    this.listLength[to] += this.listLength[from];
    this.listLength[from] = 0;
  }
}
