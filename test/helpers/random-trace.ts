import { ReferenceHeap, type FinalizerName } from '../../src/oracle/reference-model.js';
import type { TraceEvent } from '../../src/trace/types.js';

/**
 * Random, valid traces that exercise CPython's cyclic collector: chains, trees and cycles
 * (self-cycles, 2-cycles, rings) that become garbage when the program drops them, explicit
 * collections of every generation, small thresholds (so that a short trace triggers many
 * automatic collections), disabled spells, and freeze/unfreeze.
 *
 * Validity is kept with the same `ReferenceHeap` the CPython oracle compiles with, so every
 * trace passes `checkOracleTrace`: ids are unique while alive (reused only after their object
 * died by refcount), decref only while the program holds a reference, unlink only existing edges,
 * link only from tracked objects, `free` only objects nothing links to, and no event touches an
 * object that no held object leads to (it may already be cyclic garbage, freed by the collector).
 *
 * Deterministic: the same seed and options give the same trace (own PRNG, no Math.random).
 */

export interface RandomGcTraceOptions {
  /** Number of events. */
  events: number;
  /** Allocate a few objects with a legacy (`tp_del`) finalizer. Default: false. */
  legacyFinalizers?: boolean;
  /** Emit collector events (collect, threshold, gc, freeze, unfreeze). Default: true. */
  collectorEvents?: boolean;
  /** Emit freeze/unfreeze (only with collector events). Default: true. */
  freeze?: boolean;
  /** Reachable objects the generator aims to stay under; above it, it drops more. Default: 150. */
  maxLive?: number;
  /**
   * Relative weight of explicit `collect` events. Default: 2. Fewer explicit collections leave
   * more room for automatic ones, whose timing is where collector releases differ (3.11 collects
   * inside the allocation, 3.12+ after it).
   */
  collectWeight?: number;
}

/** mulberry32: a small 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Action = 'alloc' | 'incref' | 'decref' | 'link' | 'unlink' | 'free' | 'ring' | 'chain' | 'collect' | 'threshold' | 'gc' | 'freeze' | 'noop';

export function randomGcTrace(seed: number, options: RandomGcTraceOptions): TraceEvent[] {
  const random = mulberry32(seed);
  const int = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const collectorEvents = options.collectorEvents ?? true;
  const freezeEvents = collectorEvents && (options.freeze ?? true);
  const maxLive = options.maxLive ?? 150;

  const heap = new ReferenceHeap();
  const events: TraceEvent[] = [];
  const reusableIds: (number | string)[] = [];
  let nextId = 0;
  let enabled = true;
  let frozen = false;

  const newId = (): number | string => {
    // Reuse the id of an object that died by refcount now and then; some ids are strings.
    if (reusableIds.length > 0 && random() < 0.3) {
      const index = Math.floor(random() * reusableIds.length);
      const id = reusableIds[index];
      reusableIds[index] = reusableIds[reusableIds.length - 1];
      reusableIds.pop();
      if (heap.lookup(id) < 0) return id;
    }
    const n = nextId++;
    return n % 7 === 3 ? `o${n}` : n;
  };
  const idOf = (object: number): number | string => heap.traceIds[object];
  /** An object that died by refcount frees its id for reuse (checked again at reuse time). */
  const forgetIfDead = (object: number): void => {
    if (!heap.alive[object]) reusableIds.push(idOf(object));
  };

  const alloc = (tracked = random() < 0.88): number => {
    let finalizer: FinalizerName = 'none';
    if (tracked) {
      const roll = random();
      if (roll < 0.04) finalizer = 'del';
      else if (options.legacyFinalizers && roll < 0.06) finalizer = 'legacy';
    }
    const id = newId();
    const object = heap.alloc(id, tracked, finalizer);
    const event: TraceEvent = { op: 'alloc', id, type: tracked ? (finalizer === 'none' ? 'Node' : 'Finalized') : 'bytes', size: tracked ? 56 : int(33, 512) };
    if (!tracked) event.tracked = false;
    if (finalizer !== 'none') event.finalizer = finalizer;
    events.push(event);
    return object;
  };
  const decref = (object: number): void => {
    const referents = [...heap.referents[object]];
    heap.decref(object);
    events.push({ op: 'decref', id: idOf(object) });
    forgetIfDead(object);
    for (const referent of referents) forgetIfDead(referent);
  };
  const link = (src: number, dst: number): void => {
    heap.link(src, dst);
    events.push({ op: 'link', src: idOf(src), dst: idOf(dst) });
  };

  const chooseAction = (reachable: number[], held: number[]): Action => {
    const crowded = reachable.length > maxLive;
    const weights: [Action, number][] = [
      ['alloc', crowded ? 4 : 22],
      ['incref', 6],
      ['decref', held.length === 0 ? 0 : crowded ? 30 : 14],
      ['link', reachable.length === 0 ? 0 : 20],
      ['unlink', reachable.length === 0 ? 0 : 8],
      ['free', held.length === 0 ? 0 : 3],
      ['ring', crowded ? 1 : 4],
      ['chain', crowded ? 0 : 2],
      ['collect', collectorEvents ? (options.collectWeight ?? 2) : 0],
      ['threshold', collectorEvents ? 1.2 : 0],
      ['gc', collectorEvents ? (enabled ? 0.6 : 4) : 0],
      ['freeze', freezeEvents ? (frozen ? 1 : 0.3) : 0],
      ['noop', 0.5],
    ];
    let total = 0;
    for (const [, weight] of weights) total += weight;
    let roll = random() * total;
    for (const [action, weight] of weights) {
      roll -= weight;
      if (roll < 0) return action;
    }
    return 'noop';
  };

  // Small thresholds from the start, so that short traces see many automatic collections.
  if (collectorEvents && random() < 0.85) events.push({ op: 'threshold', gen: 0, value: int(5, 50) });

  while (events.length < options.events) {
    const reachable = heap.reachableObjects();
    const held = reachable.filter((object) => heap.isHeld(object));
    const action = chooseAction(reachable, held);
    switch (action) {
      case 'alloc':
        alloc();
        break;
      case 'incref': {
        if (reachable.length === 0) break;
        const object = pick(reachable);
        heap.incref(object);
        events.push({ op: 'incref', id: idOf(object) });
        break;
      }
      case 'decref':
        decref(pick(held));
        break;
      case 'link': {
        const sources = reachable.filter((object) => heap.tracked[object]);
        if (sources.length === 0) break;
        const src = pick(sources);
        // Mostly random targets (which close cycles often enough); sometimes a self-cycle.
        const dst = random() < 0.06 ? src : pick(reachable);
        link(src, dst);
        break;
      }
      case 'unlink': {
        const sources = reachable.filter((object) => heap.referents[object].length > 0);
        if (sources.length === 0) break;
        const src = pick(sources);
        const dst = pick(heap.referents[src]);
        heap.unlink(src, dst);
        events.push({ op: 'unlink', src: idOf(src), dst: idOf(dst) });
        forgetIfDead(dst);
        break;
      }
      case 'free': {
        const candidates = held.filter((object) => heap.incomingEdges[object] === 0);
        if (candidates.length === 0) break;
        const object = pick(candidates);
        const referents = [...heap.referents[object]];
        heap.free(object);
        events.push({ op: 'free', id: idOf(object) });
        forgetIfDead(object);
        for (const referent of referents) forgetIfDead(referent);
        break;
      }
      case 'ring': {
        // A self-cycle, a 2-cycle or a larger ring of fresh objects, usually dropped at once.
        const size = pick([1, 1, 2, 2, 2, 3, 4, 6]);
        const ring: number[] = [];
        for (let i = 0; i < size; i++) ring.push(alloc(true));
        for (let i = 0; i < size; i++) link(ring[i], ring[(i + 1) % size]);
        if (random() < 0.3 && reachable.length > 0) {
          // Hang the ring off an existing object: it becomes garbage when that edge goes.
          const anchors = reachable.filter((object) => heap.tracked[object]);
          if (anchors.length > 0) link(pick(anchors), ring[0]);
        }
        const keep = random() < 0.35 ? 1 : 0;
        for (let i = keep; i < size; i++) decref(ring[i]);
        break;
      }
      case 'chain': {
        // A chain or a small tree held by its root.
        const size = int(2, 8);
        const nodes = [alloc(true)];
        for (let i = 1; i < size; i++) {
          const child = alloc();
          link(pick(nodes.filter((object) => heap.tracked[object])), child);
          nodes.push(child);
        }
        for (let i = 1; i < size; i++) decref(nodes[i]);
        break;
      }
      case 'collect': {
        const roll = random();
        const gen = roll < 0.4 ? 0 : roll < 0.7 ? 1 : 2;
        events.push(gen === 2 && random() < 0.5 ? { op: 'collect' } : { op: 'collect', gen });
        break;
      }
      case 'threshold': {
        const gen = random() < 0.6 ? 0 : random() < 0.5 ? 1 : 2;
        let value: number;
        if (gen === 0) {
          const roll = random();
          value = roll < 0.08 ? 0 : roll < 0.8 ? int(5, 50) : pick([100, 700, 2000]);
        } else {
          value = random() < 0.1 ? 0 : int(1, 12);
        }
        events.push({ op: 'threshold', gen, value });
        break;
      }
      case 'gc':
        enabled = !enabled;
        events.push({ op: 'gc', enabled });
        break;
      case 'freeze':
        events.push({ op: frozen ? 'unfreeze' : 'freeze' });
        frozen = !frozen;
        break;
      case 'noop':
        if (reachable.length > 0 && random() < 0.5) events.push({ op: 'resize', id: idOf(pick(reachable)), size: int(16, 1024) });
        else events.push({ op: 'mark', label: `step ${events.length}` });
        break;
    }
  }
  return events.slice(0, options.events);
}
