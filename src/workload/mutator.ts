/**
 * A scripted Python program (the mutator) whose heap operations become trace events. Workloads
 * drive it: `m.alloc(...)`, `m.link(...)`, `m.decref(...)` each record one event in `m.pending`;
 * `runWorkload()` hands those events out, exactly as many as asked for.
 *
 * Read `decref()` and `release()` first: the mutator keeps a reference-counting model of its own
 * heap, the same rule the replay engine applies (refcount = references the program holds + edges
 * pointing in; at 0 the object is deallocated and its outgoing edges released, which may
 * deallocate more). That model is what makes every generated trace valid:
 *
 * - An id is handed out again only after the object that had it was deallocated *by reference
 *   counting*, which every collector model does at once. Objects left in garbage cycles never
 *   reach refcount 0 here (the mutator does not model the cycle collector), so their ids are
 *   never reused: a replay under a collector that never frees cycles still sees unique ids.
 * - Touching an object needs a live object, and every rule of the format is asserted: decref only
 *   when the program holds a reference, unlink only an existing edge, link only from a GC
 *   container, free only what nothing links to. A broken rule is a bug in a workload and throws.
 * - What the mutator cannot check cheaply is reachability: a workload must only touch objects it
 *   holds, or that are reachable from objects it holds. Workloads get that by construction (their
 *   handles are program-held references, or elements of program-held containers), and
 *   `test/workload` checks it on every event with an exact model.
 *
 * Handles are slot numbers, dense small integers. The id written in the trace is the slot itself
 * (`ids: 'integer'`) or an address-like string such as "0x7f3a00001f40" (`ids: 'address'`).
 *
 * State: per slot, typed arrays for the program's references and incoming edges; a JS array of
 * outgoing edges (destination slots, duplicates allowed) for containers that have any.
 */
import type { ObjectId, TraceEvent } from '../trace/types.js';

export type Handle = number;

export interface MutatorOptions {
  /** How ids are spelled in the trace. Default: 'integer'. */
  ids?: 'integer' | 'address';
  /**
   * Reuse the ids of deallocated objects, most recently freed first, as CPython reuses the
   * address of a freed block (pymalloc's per-pool free list is LIFO). Default: true.
   */
  reuseIds?: boolean;
  /** Write a `t` on every event: the mutator's clock, advanced by `advanceClock`. Default: false. */
  clock?: boolean;
}

const INITIAL_SLOTS = 1024;
/** First slot handed out; 0 is avoided only so that ids read naturally ("object 1"). */
const FIRST_SLOT = 1;
/** Base of address-like ids: a typical 64-bit Linux heap address. */
const ADDRESS_BASE = 0x7f3a00000000;
/** Address step between slots: pymalloc's block alignment. */
const ADDRESS_ALIGNMENT = 16;

const Flag = {
  alive: 1,
  container: 2,
  /** Found to be cyclic garbage and no longer tracked (see `forgetGarbage`); its slot is never reused. */
  forgotten: 4,
  /** Scratch bit of `forgetGarbage`: in the set being examined. */
  examined: 8,
  /** Scratch bit of `forgetGarbage`: reachable from outside that set. */
  reached: 16,
} as const;

export class Mutator {
  /** Events recorded since the driver last took them. */
  readonly pending: TraceEvent[] = [];
  /** Events recorded in total. */
  recorded = 0;
  /** Objects alive in the mutator's model: reachable ones, and garbage not yet forgotten. */
  liveObjects = 0;
  /** Objects found to be cyclic garbage by `forgetGarbage` (alive in a replay that never collects cycles). */
  forgottenObjects = 0;
  /** The clock written as `t` (when enabled). */
  now = 0;

  private readonly addressIds: boolean;
  private readonly reuseIds: boolean;
  private readonly clock: boolean;

  /** References the program holds (names, locals, the stack). */
  private programRefs = new Int32Array(INITIAL_SLOTS);
  /** Edges from other objects. */
  private incoming = new Int32Array(INITIAL_SLOTS);
  /** Edges from forgotten (garbage) objects: part of `incoming`, but not a path from the program. */
  private incomingFromGarbage = new Int32Array(INITIAL_SLOTS);
  /** Scratch count of `forgetGarbage`: edges from inside the examined set. */
  private internalRefs = new Int32Array(INITIAL_SLOTS);
  private flags = new Uint8Array(INITIAL_SLOTS);
  /** Outgoing edges of each container, destination slots in link order; undefined when none. */
  private outgoing: (Handle[] | undefined)[] = [];
  /** Address-like ids, made once per slot. */
  private addresses: (string | undefined)[] = [];
  /** Slots of deallocated objects, most recent last. */
  private readonly freeSlots: Handle[] = [];
  private nextSlot = FIRST_SLOT;
  /** Scratch stack for the deallocation cascade. */
  private readonly cascade: Handle[] = [];

  constructor(options: MutatorOptions = {}) {
    this.addressIds = options.ids === 'address';
    this.reuseIds = options.reuseIds ?? true;
    this.clock = options.clock ?? false;
  }

  /** The id a handle has in the trace. */
  idOf(handle: Handle): ObjectId {
    if (!this.addressIds) return handle;
    let address = this.addresses[handle];
    if (address === undefined) {
      address = `0x${(ADDRESS_BASE + handle * ADDRESS_ALIGNMENT).toString(16)}`;
      this.addresses[handle] = address;
    }
    return address;
  }

  /** Moves the clock forward (it never goes back: timestamps are non-decreasing). */
  advanceClock(delta: number): void {
    this.now += delta;
  }

  isAlive(handle: Handle): boolean {
    return (this.flags[handle] & Flag.alive) !== 0;
  }

  /** References the program holds to an object. */
  heldBy(handle: Handle): number {
    return this.programRefs[handle];
  }

  /** Outgoing edges of an object (read-only view; destination handles in link order). */
  edgesOf(handle: Handle): readonly Handle[] {
    return this.outgoing[handle] ?? [];
  }

  // ────────────────────────────────────────────────────────────────────────────────────────────
  // Events. Each records exactly one event.
  // ────────────────────────────────────────────────────────────────────────────────────────────

  /** A new GC container (list, dict, tuple, class instance…), held once by the program. */
  allocContainer(type: string, size: number, site?: string, finalizer?: 'del' | 'legacy'): Handle {
    const handle = this.newSlot(Flag.alive | Flag.container);
    const event: TraceEvent = { op: 'alloc', id: this.idOf(handle), type, size };
    if (site !== undefined) event.site = site;
    if (finalizer !== undefined) event.finalizer = finalizer;
    this.record(event);
    return handle;
  }

  /** A new object that holds no references (int, float, str, bytes): `tracked: false`. */
  allocAtom(type: string, size: number, site?: string): Handle {
    const handle = this.newSlot(Flag.alive);
    const event: TraceEvent = site === undefined
      ? { op: 'alloc', id: this.idOf(handle), type, size, tracked: false }
      : { op: 'alloc', id: this.idOf(handle), type, size, tracked: false, site };
    this.record(event);
    return handle;
  }

  /** The program takes one more reference (a name, a local, a stack slot). */
  incref(handle: Handle): void {
    this.assertAlive(handle, 'incref');
    this.programRefs[handle]++;
    this.record({ op: 'incref', id: this.idOf(handle) });
  }

  /** The program drops one of its references; at refcount 0 the object is deallocated. */
  decref(handle: Handle): void {
    this.assertAlive(handle, 'decref');
    if (this.programRefs[handle] === 0) throw new Error(`workload bug: decref of object ${this.idOf(handle)}, which the program does not hold`);
    this.record({ op: 'decref', id: this.idOf(handle) });
    this.programRefs[handle]--;
    if (this.programRefs[handle] === 0 && this.incoming[handle] === 0) this.release(handle);
  }

  /** `src` starts referencing `dst` (one edge; a reference to `dst`). */
  link(src: Handle, dst: Handle): void {
    this.assertAlive(src, 'link');
    this.assertAlive(dst, 'link');
    if ((this.flags[src] & Flag.container) === 0) throw new Error(`workload bug: link from ${this.idOf(src)}, which is not a GC container`);
    let edges = this.outgoing[src];
    if (edges === undefined) {
      edges = [];
      this.outgoing[src] = edges;
    }
    edges.push(dst);
    this.incoming[dst]++;
    this.record({ op: 'link', src: this.idOf(src), dst: this.idOf(dst) });
  }

  /** `src` stops referencing `dst` (removes one edge); `dst` may be deallocated. */
  unlink(src: Handle, dst: Handle): void {
    this.assertAlive(src, 'unlink');
    const edges = this.outgoing[src];
    const at = edges === undefined ? -1 : edges.lastIndexOf(dst);
    if (edges === undefined || at < 0) throw new Error(`workload bug: unlink ${this.idOf(src)} → ${this.idOf(dst)}, an edge that does not exist`);
    // Order of the remaining edges only decides the order of a later cascade; swap-remove is O(1).
    edges[at] = edges[edges.length - 1];
    edges.pop();
    this.record({ op: 'unlink', src: this.idOf(src), dst: this.idOf(dst) });
    this.incoming[dst]--;
    if (this.programRefs[dst] === 0 && this.incoming[dst] === 0) this.release(dst);
  }

  /**
   * Move the program's reference into a container: `link(container, item)` then `decref(item)`,
   * the pattern of `lst.append(make())` or `d[k] = make()` with a temporary.
   */
  store(container: Handle, item: Handle): void {
    this.link(container, item);
    this.decref(item);
  }

  /** Deallocate now (a raw-allocator event). Nothing may link to the object. */
  free(handle: Handle): void {
    this.assertAlive(handle, 'free');
    if (this.incoming[handle] !== 0) throw new Error(`workload bug: free of ${this.idOf(handle)}, which ${this.incoming[handle]} edge(s) still point to`);
    this.record({ op: 'free', id: this.idOf(handle) });
    this.programRefs[handle] = 0;
    this.release(handle);
  }

  resize(handle: Handle, size: number): void {
    this.assertAlive(handle, 'resize');
    this.record({ op: 'resize', id: this.idOf(handle), size });
  }

  collect(gen?: number): void {
    this.record(gen === undefined ? { op: 'collect' } : { op: 'collect', gen });
  }

  setGcEnabled(enabled: boolean): void {
    this.record({ op: 'gc', enabled });
  }

  setThreshold(gen: number, value: number): void {
    this.record({ op: 'threshold', gen, value });
  }

  freeze(): void {
    this.record({ op: 'freeze' });
  }

  unfreeze(): void {
    this.record({ op: 'unfreeze' });
  }

  mark(label: string): void {
    this.record({ op: 'mark', label });
  }

  /**
   * Stops tracking the objects that became cyclic garbage among those reachable from `starts`
   * (objects the workload has just let go of), and returns how many there were.
   *
   * Without this, the model would keep every garbage cycle forever (it does not model the cycle
   * collector); an ORM dropping batch after batch would grow the generator's memory with the
   * trace. The check is exact and costs time in proportion to what `starts` reach: trial
   * deletion, as CPython's collector does for a generation [v3.12.5 Modules/gcmodule.c:
   * update_refs, subtract_refs, move_unreachable], on that subgraph alone. An object of the
   * subgraph is reachable if the program holds it, or an edge from outside the subgraph (and not
   * from forgotten garbage) points to it, or a reachable object of the subgraph points to it.
   *
   * Forgotten objects keep their slots (their ids are never reused: a replay that does not collect
   * cycles still has them) and keep counting in their destinations' `incoming`, so whatever they
   * point to is never taken for freed either.
   */
  forgetGarbage(starts: readonly Handle[]): number {
    const flags = this.flags;
    const internal = this.internalRefs;
    // 1. The examined set: everything reachable from `starts`, with the edges inside it counted.
    const members: Handle[] = [];
    for (const start of starts) {
      if ((flags[start] & (Flag.alive | Flag.examined)) === Flag.alive) {
        flags[start] |= Flag.examined;
        members.push(start);
      }
    }
    for (let i = 0; i < members.length; i++) {
      const edges = this.outgoing[members[i]];
      if (edges === undefined) continue;
      for (const dst of edges) {
        internal[dst]++;
        if ((flags[dst] & Flag.examined) === 0) {
          flags[dst] |= Flag.examined;
          members.push(dst);
        }
      }
    }
    // 2. Members referenced from outside (program or live objects), and what they reach.
    const stack = this.cascade;
    for (const handle of members) {
      const external = this.programRefs[handle] + this.incoming[handle] - this.incomingFromGarbage[handle] - internal[handle];
      if (external > 0 && (flags[handle] & Flag.reached) === 0) {
        flags[handle] |= Flag.reached;
        stack.push(handle);
        while (stack.length > 0) {
          const edges = this.outgoing[stack.pop() as Handle];
          if (edges === undefined) continue;
          for (const dst of edges) {
            if ((flags[dst] & Flag.reached) === 0) {
              flags[dst] |= Flag.reached;
              stack.push(dst);
            }
          }
        }
      }
    }
    // 3. The rest is garbage: forget it. Reset the scratch state of everything examined.
    let forgotten = 0;
    for (const handle of members) {
      internal[handle] = 0;
      if ((flags[handle] & Flag.reached) !== 0) {
        flags[handle] &= ~(Flag.examined | Flag.reached);
        continue;
      }
      const edges = this.outgoing[handle];
      if (edges !== undefined) for (const dst of edges) this.incomingFromGarbage[dst]++;
      this.outgoing[handle] = undefined;
      this.addresses[handle] = undefined;
      flags[handle] = Flag.forgotten;
      forgotten++;
    }
    this.liveObjects -= forgotten;
    this.forgottenObjects += forgotten;
    return forgotten;
  }

  // ────────────────────────────────────────────────────────────────────────────────────────────
  // The model
  // ────────────────────────────────────────────────────────────────────────────────────────────

  private record(event: TraceEvent): void {
    if (this.clock) event.t = this.now;
    this.pending.push(event);
    this.recorded++;
  }

  private assertAlive(handle: Handle, op: string): void {
    if ((this.flags[handle] & Flag.alive) === 0) throw new Error(`workload bug: ${op} of object ${this.idOf(handle)}, which is not alive`);
  }

  private newSlot(flags: number): Handle {
    let handle = this.reuseIds ? this.freeSlots.pop() : undefined;
    if (handle === undefined) {
      handle = this.nextSlot++;
      if (handle >= this.flags.length) this.grow(handle + 1);
    }
    this.flags[handle] = flags;
    this.programRefs[handle] = 1;
    this.incoming[handle] = 0;
    this.incomingFromGarbage[handle] = 0;
    this.liveObjects++;
    return handle;
  }

  private grow(minimum: number): void {
    const capacity = Math.max(minimum, this.flags.length * 2);
    const programRefs = new Int32Array(capacity);
    programRefs.set(this.programRefs);
    this.programRefs = programRefs;
    const incoming = new Int32Array(capacity);
    incoming.set(this.incoming);
    this.incoming = incoming;
    const incomingFromGarbage = new Int32Array(capacity);
    incomingFromGarbage.set(this.incomingFromGarbage);
    this.incomingFromGarbage = incomingFromGarbage;
    this.internalRefs = new Int32Array(capacity);
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    this.flags = flags;
  }

  /**
   * Deallocates an object whose refcount reached 0, then every object that only it kept alive.
   * Postcondition: all of them are dead and their slots are on the free list (when ids are reused).
   * Iterative, so a long chain does not overflow the stack.
   */
  private release(first: Handle): void {
    const stack = this.cascade;
    stack.push(first);
    while (stack.length > 0) {
      const handle = stack.pop() as Handle;
      const edges = this.outgoing[handle];
      if (edges !== undefined) {
        for (let i = 0; i < edges.length; i++) {
          const dst = edges[i];
          if (--this.incoming[dst] === 0 && this.programRefs[dst] === 0) stack.push(dst);
        }
        this.outgoing[handle] = undefined;
      }
      this.flags[handle] = 0;
      this.liveObjects--;
      if (this.reuseIds) this.freeSlots.push(handle);
    }
  }
}
