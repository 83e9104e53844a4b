import type { ObjectId } from '../trace/types.js';

/**
 * The plain reference model of a trace: who holds whom, with no collector in it.
 *
 * Read this before `cpython.ts`. The CPython oracle compiles a trace into a Python program, and
 * the random trace generator (`test/helpers/random-trace.ts`) builds traces that such a program
 * can run. Both need the same facts after every event:
 * - which objects the program holds, and in which slots of the driver's reference list `R`;
 * - the referents of every container, *in list order*, because the driver links with
 *   `src.append(dst)` and unlinks with `del src[index]`;
 * - which objects are still reachable from a held object, since only those can be touched.
 *
 * Refcount semantics: refcount = program references + incoming edges. At 0 the object dies and
 * releases its outgoing edges, which can cascade. An unreachable cycle never reaches 0 here: it
 * stays "alive but unreachable" forever, because whether and when the collector frees it is what
 * the oracle measures, not something this model predicts. That is also why the model is
 * conservative: an edge from such a cycle still counts as incoming after the real collector may
 * have freed the cycle.
 *
 * Objects are numbered in allocation order (the object number, never reused); a trace id is bound
 * to the newest object allocated under it.
 */

/** A trace id normalized as the decoders do: strings that spell a canonical integer become numbers. */
export type ObjectKey = number | string;

const CANONICAL_INTEGER = /^(0|[1-9][0-9]*)$/;

export function objectKey(id: ObjectId): ObjectKey {
  if (typeof id === 'string' && CANONICAL_INTEGER.test(id)) {
    const value = Number(id);
    if (Number.isSafeInteger(value)) return value;
  }
  return id;
}

export type FinalizerName = 'none' | 'del' | 'legacy';

/** How to reach an object from the program: `R[rootSlot][indexes[0]][indexes[1]]...`. */
export interface ObjectPath {
  rootSlot: number;
  indexes: number[];
}

export class ReferenceHeap {
  /** Trace id each object was allocated under. */
  readonly traceIds: ObjectKey[] = [];
  /** False for objects that are not GC containers (`tracked: false`): they hold no references. */
  readonly tracked: boolean[] = [];
  readonly finalizers: FinalizerName[] = [];
  /** False once the refcount reached 0. Unreachable cycles stay true. */
  readonly alive: boolean[] = [];
  /** Slots of `R` holding the program's references to each object (one slot per reference). */
  readonly programSlots: number[][] = [];
  /** Referents of each container, in the order of its Python list (duplicates allowed). */
  readonly referents: number[][] = [];
  /** Incoming edges of each object: referrer → number of edges. Insertion order is deterministic. */
  readonly referrers: Map<number, number>[] = [];
  /** Total incoming edges of each object. */
  readonly incomingEdges: number[] = [];

  private readonly boundIds = new Map<ObjectKey, number>();
  /** Objects the program holds at least one reference to, in the order they became held. */
  private readonly heldObjects = new Set<number>();
  private readonly freeSlots: number[] = [];
  private slotsUsed = 0;

  /** Number of slots the program's reference list needs (high-water mark). */
  get slotCount(): number {
    return this.slotsUsed;
  }

  get objectCount(): number {
    return this.alive.length;
  }

  /** The live object bound to a trace id, or -1. */
  lookup(key: ObjectKey): number {
    const object = this.boundIds.get(key);
    return object !== undefined && this.alive[object] ? object : -1;
  }

  refcount(object: number): number {
    return this.programSlots[object].length + this.incomingEdges[object];
  }

  isHeld(object: number): boolean {
    return this.programSlots[object].length > 0;
  }

  /** True when a chain of edges leads from a held object to this live object. */
  isReachable(object: number): boolean {
    return this.pathTo(object) !== null;
  }

  /**
   * The shortest way to reach a live object from a program reference, found by a breadth-first
   * search backwards along incoming edges; null when no held object leads to it.
   */
  pathTo(object: number): ObjectPath | null {
    if (!this.alive[object]) return null;
    if (this.isHeld(object)) return { rootSlot: this.lastSlot(object), indexes: [] };
    // towardTarget.get(p) = the next object on the way from p to `object`.
    const towardTarget = new Map<number, number>([[object, -1]]);
    const queue = [object];
    for (let head = 0; head < queue.length; head++) {
      const current = queue[head];
      for (const referrer of this.referrers[current].keys()) {
        if (towardTarget.has(referrer)) continue;
        towardTarget.set(referrer, current);
        if (this.isHeld(referrer)) return this.buildPath(referrer, towardTarget);
        queue.push(referrer);
      }
    }
    return null;
  }

  /** Every live object reachable from the program, in breadth-first order from the held ones. */
  reachableObjects(): number[] {
    const seen = new Uint8Array(this.alive.length);
    const order: number[] = [];
    for (const object of this.heldObjects) {
      seen[object] = 1;
      order.push(object);
    }
    for (let head = 0; head < order.length; head++) {
      for (const referent of this.referents[order[head]]) {
        if (seen[referent] === 0) {
          seen[referent] = 1;
          order.push(referent);
        }
      }
    }
    return order;
  }

  /** A new object with one program reference; returns its number. The slot is `lastSlot(object)`. */
  alloc(key: ObjectKey, tracked: boolean, finalizer: FinalizerName): number {
    const object = this.alive.length;
    this.traceIds.push(key);
    this.tracked.push(tracked);
    this.finalizers.push(finalizer);
    this.alive.push(true);
    this.programSlots.push([this.takeSlot()]);
    this.referents.push([]);
    this.referrers.push(new Map());
    this.incomingEdges.push(0);
    this.boundIds.set(key, object);
    this.heldObjects.add(object);
    return object;
  }

  /** The program takes one more reference; returns the slot that now holds it. */
  incref(object: number): number {
    const slot = this.takeSlot();
    this.programSlots[object].push(slot);
    this.heldObjects.add(object);
    return slot;
  }

  /** The program drops one reference (the most recent one); returns the slot that held it. */
  decref(object: number): number {
    const slot = this.programSlots[object].pop();
    if (slot === undefined) throw new Error(`reference model: decref of object ${object}, which the program does not hold`);
    this.freeSlots.push(slot);
    if (this.programSlots[object].length === 0) this.heldObjects.delete(object);
    if (this.refcount(object) === 0) this.release(object);
    return slot;
  }

  /** `src` starts referencing `dst`: appended at the end of src's list. */
  link(src: number, dst: number): void {
    this.referents[src].push(dst);
    const referrers = this.referrers[dst];
    referrers.set(src, (referrers.get(src) ?? 0) + 1);
    this.incomingEdges[dst]++;
  }

  /** Number of edges from `src` to `dst`. */
  edgeCount(src: number, dst: number): number {
    return this.referrers[dst].get(src) ?? 0;
  }

  /**
   * `src` stops referencing `dst`; returns the list index that was deleted. The last occurrence
   * is removed (every edge is equivalent, and deleting near the end moves fewer items).
   */
  unlink(src: number, dst: number): number {
    const list = this.referents[src];
    const index = list.lastIndexOf(dst);
    if (index < 0) throw new Error(`reference model: no edge from object ${src} to object ${dst}`);
    list.splice(index, 1);
    this.dropEdge(src, dst);
    if (this.alive[dst] && this.refcount(dst) === 0) this.release(dst);
    return index;
  }

  /** The program drops all its references at once (the object must have no incoming edges); returns the slots. */
  free(object: number): number[] {
    const slots = this.programSlots[object].reverse();
    this.programSlots[object] = [];
    this.heldObjects.delete(object);
    for (const slot of slots) this.freeSlots.push(slot);
    if (this.refcount(object) === 0) this.release(object);
    return slots;
  }

  /** The slot of the program's most recent reference to a held object. */
  lastSlot(object: number): number {
    const slots = this.programSlots[object];
    return slots[slots.length - 1];
  }

  private takeSlot(): number {
    return this.freeSlots.pop() ?? this.slotsUsed++;
  }

  private dropEdge(src: number, dst: number): void {
    const referrers = this.referrers[dst];
    const edges = (referrers.get(src) ?? 0) - 1;
    if (edges > 0) referrers.set(src, edges);
    else referrers.delete(src);
    this.incomingEdges[dst]--;
  }

  /** Refcount reached 0: the object dies and releases its referents, cascading (explicit stack, so deep chains are fine). */
  private release(first: number): void {
    const dying = [first];
    while (dying.length > 0) {
      const object = dying.pop() as number;
      this.alive[object] = false;
      const key = this.traceIds[object];
      if (this.boundIds.get(key) === object) this.boundIds.delete(key);
      const referents = this.referents[object];
      this.referents[object] = [];
      for (const referent of referents) {
        this.dropEdge(object, referent);
        if (this.alive[referent] && this.refcount(referent) === 0) dying.push(referent);
      }
    }
  }

  private buildPath(root: number, towardTarget: Map<number, number>): ObjectPath {
    const indexes: number[] = [];
    let current = root;
    let next = towardTarget.get(current) as number;
    while (next !== -1) {
      indexes.push(this.referents[current].indexOf(next));
      current = next;
      next = towardTarget.get(current) as number;
    }
    return { rootSlot: this.lastSlot(root), indexes };
  }
}
