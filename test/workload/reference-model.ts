/**
 * A small, independent, exact model of trace format v1's rules, to check generated traces.
 * Deliberately written without looking at `src/workload/mutator.ts`'s data structures: plain Maps
 * keyed by the ids written in the trace.
 *
 * Besides refcounts and edges it tracks *reachability* exactly: an object is garbage once no
 * chain of references leads to it from the program (program refs are the roots). Touching garbage
 * (incref, decref, link from or to it, resize, free) is a violation, since a real program cannot
 * name an object it cannot reach. Garbage stays garbage (only touching it could revive it) and is
 * never freed here: this is the view of a collector that does not trace cycles, under which a
 * reused id of a garbage object would collide.
 *
 * Detecting new garbage: only a decref or an unlink that leaves an object alive without program
 * references can make objects unreachable, and only objects reachable from that object (its set S).
 * Within S, an object with references from outside S (program refs, or edges from reachable objects
 * outside S) is still reachable; everything in S reachable from such objects is too; the rest of
 * S is now garbage. This is trial deletion (CPython's `update_refs`/`subtract_refs`) on S alone.
 */
import type { ObjectId, TraceEvent } from '../../src/trace/types.js';

interface ModelObject {
  readonly id: ObjectId;
  readonly type: string;
  readonly tracked: boolean;
  /** References the program holds. */
  program: number;
  /** Edges pointing to this object, from any object (garbage included). */
  incoming: number;
  /** Edges pointing to this object from garbage objects. */
  incomingFromGarbage: number;
  /** Destinations of outgoing edges, one entry per edge. */
  readonly outgoing: ObjectId[];
  garbage: boolean;
}

/** Rules checked, named as the brief states them. */
export type Rule =
  | 'id unique while alive'
  | 'object exists'
  | 'not garbage'
  | 'decref only when held'
  | 'link only from GC containers'
  | 'unlink only existing edges'
  | 'free only when nothing links to it'
  | 'valid size'
  | 'valid generation'
  | 'timestamps non-decreasing';

export interface Violation {
  index: number;
  rule: Rule;
  event: TraceEvent;
}

export class ReferenceModel {
  private readonly objects = new Map<ObjectId, ModelObject>();
  readonly violations: Violation[] = [];
  /** Events applied. */
  count = 0;
  /** Objects freed by reference counting (including `free`). */
  freed = 0;
  /** Objects found to have become unreachable (cyclic garbage, and what only it holds). */
  garbage = 0;
  readonly opsSeen = new Set<string>();
  private lastTime = -Infinity;

  /** Objects alive and reachable from the program. */
  get reachable(): number {
    return this.objects.size - this.garbage;
  }

  /** Objects not freed: reachable ones plus garbage. */
  get alive(): number {
    return this.objects.size;
  }

  get(id: ObjectId): Readonly<ModelObject> | undefined {
    return this.objects.get(id);
  }

  applyAll(events: Iterable<TraceEvent>): this {
    for (const event of events) this.apply(event);
    return this;
  }

  apply(event: TraceEvent): void {
    const index = this.count++;
    this.opsSeen.add(event.op);
    if (event.t !== undefined) {
      if (!(event.t >= this.lastTime)) this.violate(index, 'timestamps non-decreasing', event);
      this.lastTime = event.t;
    }
    switch (event.op) {
      case 'alloc': {
        if (this.objects.has(event.id)) return this.violate(index, 'id unique while alive', event);
        if (!Number.isSafeInteger(event.size) || event.size < 0) this.violate(index, 'valid size', event);
        this.objects.set(event.id, {
          id: event.id,
          type: event.type,
          tracked: event.tracked !== false,
          program: 1,
          incoming: 0,
          incomingFromGarbage: 0,
          outgoing: [],
          garbage: false,
        });
        return;
      }
      case 'incref': {
        const object = this.touch(index, event, event.id);
        if (object !== undefined) object.program++;
        return;
      }
      case 'decref': {
        const object = this.touch(index, event, event.id);
        if (object === undefined) return;
        if (object.program === 0) return this.violate(index, 'decref only when held', event);
        object.program--;
        this.afterLoss(object);
        return;
      }
      case 'link': {
        const src = this.touch(index, event, event.src);
        const dst = this.touch(index, event, event.dst);
        if (src === undefined || dst === undefined) return;
        if (!src.tracked) return this.violate(index, 'link only from GC containers', event);
        src.outgoing.push(dst.id);
        dst.incoming++;
        return;
      }
      case 'unlink': {
        const src = this.touch(index, event, event.src);
        if (src === undefined) return;
        const at = src.outgoing.indexOf(event.dst);
        if (at < 0) return this.violate(index, 'unlink only existing edges', event);
        src.outgoing.splice(at, 1);
        const dst = this.objects.get(event.dst) as ModelObject;
        dst.incoming--;
        this.afterLoss(dst);
        return;
      }
      case 'free': {
        const object = this.touch(index, event, event.id);
        if (object === undefined) return;
        if (object.incoming !== 0) return this.violate(index, 'free only when nothing links to it', event);
        object.program = 0;
        this.afterLoss(object);
        return;
      }
      case 'resize': {
        this.touch(index, event, event.id);
        if (!Number.isSafeInteger(event.size) || event.size < 0) this.violate(index, 'valid size', event);
        return;
      }
      case 'collect':
        if (event.gen !== undefined && !(event.gen === 0 || event.gen === 1 || event.gen === 2)) this.violate(index, 'valid generation', event);
        return;
      case 'threshold':
        if (!(event.gen === 0 || event.gen === 1 || event.gen === 2)) this.violate(index, 'valid generation', event);
        return;
      default:
        return;
    }
  }

  /** The live, reachable object an event names, or a violation. */
  private touch(index: number, event: TraceEvent, id: ObjectId): ModelObject | undefined {
    const object = this.objects.get(id);
    if (object === undefined) {
      this.violate(index, 'object exists', event);
      return undefined;
    }
    if (object.garbage) {
      this.violate(index, 'not garbage', event);
      return undefined;
    }
    return object;
  }

  private violate(index: number, rule: Rule, event: TraceEvent): void {
    if (this.violations.length < 20) this.violations.push({ index, rule, event });
  }

  /** After `object` lost a reference: free it (and cascade) at refcount 0, else look for new garbage. */
  private afterLoss(object: ModelObject): void {
    const candidates: ModelObject[] = [];
    if (object.program + object.incoming === 0) this.deallocate(object, candidates);
    else if (object.program === 0) candidates.push(object);
    for (const candidate of candidates) {
      if (this.objects.get(candidate.id) === candidate && !candidate.garbage && candidate.program === 0) this.findGarbageFrom(candidate);
    }
  }

  private deallocate(first: ModelObject, candidates: ModelObject[]): void {
    const stack = [first];
    while (stack.length > 0) {
      const object = stack.pop() as ModelObject;
      this.objects.delete(object.id);
      this.freed++;
      for (const dstId of object.outgoing) {
        const dst = this.objects.get(dstId) as ModelObject;
        dst.incoming--;
        if (dst.program + dst.incoming === 0) stack.push(dst);
        else if (dst.program === 0) candidates.push(dst);
      }
    }
  }

  /** Trial deletion on the objects reachable from `start` (see the file comment). */
  private findGarbageFrom(start: ModelObject): void {
    // 1. S: objects reachable from `start`, and the edges inside S.
    const members = new Map<ObjectId, ModelObject>();
    const internal = new Map<ObjectId, number>();
    const stack = [start];
    members.set(start.id, start);
    while (stack.length > 0) {
      const object = stack.pop() as ModelObject;
      for (const dstId of object.outgoing) {
        const dst = this.objects.get(dstId) as ModelObject;
        if (dst.garbage) continue;
        internal.set(dstId, (internal.get(dstId) ?? 0) + 1);
        if (!members.has(dstId)) {
          members.set(dstId, dst);
          stack.push(dst);
        }
      }
    }
    // 2. Objects of S referenced from outside S by something reachable, and what they reach.
    const reached = new Set<ObjectId>();
    for (const object of members.values()) {
      const external = object.program + object.incoming - object.incomingFromGarbage - (internal.get(object.id) ?? 0);
      if (external > 0 && !reached.has(object.id)) {
        reached.add(object.id);
        stack.push(object);
        while (stack.length > 0) {
          const current = stack.pop() as ModelObject;
          for (const dstId of current.outgoing) {
            if (members.has(dstId) && !reached.has(dstId)) {
              reached.add(dstId);
              stack.push(members.get(dstId) as ModelObject);
            }
          }
        }
      }
    }
    // 3. The rest of S is garbage from now on.
    for (const object of members.values()) {
      if (reached.has(object.id)) continue;
      object.garbage = true;
      this.garbage++;
      for (const dstId of object.outgoing) (this.objects.get(dstId) as ModelObject).incomingFromGarbage++;
    }
  }
}
