import type { SizeClassTable } from '../../src/pool/size-classes.js';
import type { AllocatorOp } from './pymalloc-oracle.js';

/** Small deterministic PRNG (mulberry32), so that a failing seed can be replayed. */
export { mulberry32 as seededRandom } from '../helpers/random-trace.js';

/** Builds op lists with slot bookkeeping. A slot is used by one block only, never reused. */
export class OpList {
  readonly ops: AllocatorOp[] = [];
  private nextSlot = 0;
  readonly live = new Set<number>();

  malloc(size: number): number {
    const slot = this.nextSlot++;
    this.ops.push({ op: 'malloc', slot, size });
    this.live.add(slot);
    return slot;
  }

  free(slot: number): void {
    this.ops.push({ op: 'free', slot });
    this.live.delete(slot);
  }

  realloc(slot: number, size: number): void {
    this.ops.push({ op: 'realloc', slot, size });
  }
}

/** A request size that falls in class `c`: somewhere in ((c)·alignment, (c+1)·alignment]. */
export function sizeIn(table: SizeClassTable, c: number, random: () => number): number {
  return c * table.alignment + 1 + Math.floor(random() * table.alignment);
}

/**
 * A deterministic scenario that exercises the arena rules: it fills three arenas with blocks of
 * the largest trace class, empties most of the first, all of the second, part of the third, then
 * allocates again (which arena serves decides what can be released later), and frees in an order
 * that empties whole arenas. Blocks of the other classes are interleaved, some reallocated in
 * place, moved to another class, and moved to malloc and back.
 */
export function arenaScenario(table: SizeClassTable, classes: readonly number[], random: () => number): OpList {
  const list = new OpList();
  const big = classes[classes.length - 1];
  const perArena = table.poolsPerArena * table.blocksPerPool[big];
  const bigSlots: number[] = [];
  const smallSlots: number[] = [];
  for (let i = 0; i < 3 * perArena; i++) {
    bigSlots.push(list.malloc(sizeIn(table, big, random)));
    if (i % 7 === 0) smallSlots.push(list.malloc(sizeIn(table, classes[i % (classes.length - 1)], random)));
  }
  // Empty most of the first arena, all of the second (released, or kept when last), half the third.
  for (let i = 0; i < perArena - 2 * table.blocksPerPool[big]; i++) list.free(bigSlots[i]);
  for (let i = perArena; i < 2 * perArena; i++) list.free(bigSlots[i]);
  for (let i = 2 * perArena; i < 3 * perArena; i += 2) list.free(bigSlots[i]);
  // Reallocations: in place (same class, > 3/4), shrink by more than 1/4, grow, to malloc, from malloc.
  for (let k = 0; k < smallSlots.length; k++) {
    const slot = smallSlots[k];
    switch (k % 5) {
      case 0:
        list.realloc(slot, table.smallThreshold + 100);
        break;
      case 1:
        list.realloc(slot, 1 + Math.floor(random() * 8));
        break;
      case 2:
        list.realloc(slot, table.smallThreshold);
        break;
      case 3:
        list.realloc(slot, table.smallThreshold + 1000);
        list.realloc(slot, 16);
        break;
      default:
        list.free(slot);
    }
  }
  // Allocate again: pools come from the most used arena first.
  for (let i = 0; i < 2 * perArena; i++) list.malloc(sizeIn(table, classes[i % classes.length], random));
  list.malloc(0);
  list.malloc(200_000);
  // Free the rest of the big blocks from the first arena on, so whole arenas drain.
  for (const slot of bigSlots) if (list.live.has(slot)) list.free(slot);
  return list;
}

/**
 * Random churn over the given classes: phases of growth (70% allocations) and shrinkage (70%
 * frees), with reallocations and a few malloc-sized requests.
 */
export function churnScenario(table: SizeClassTable, classes: readonly number[], random: () => number, operations: number): OpList {
  const list = new OpList();
  const live: number[] = [];
  for (let i = 0; i < operations; i++) {
    const growing = Math.floor(i / (operations / 6)) % 2 === 0;
    const r = random();
    if (live.length === 0 || r < (growing ? 0.7 : 0.3)) {
      const size = random() < 0.02 ? (random() < 0.5 ? 0 : table.smallThreshold + 1 + Math.floor(random() * 5000)) : sizeIn(table, classes[Math.floor(random() * classes.length)], random);
      live.push(list.malloc(size));
    } else if (r < 0.95) {
      const k = Math.floor(random() * live.length);
      list.free(live[k]);
      live[k] = live[live.length - 1];
      live.pop();
    } else {
      const slot = live[Math.floor(random() * live.length)];
      list.realloc(slot, random() < 0.1 ? table.smallThreshold + 10 : sizeIn(table, classes[Math.floor(random() * classes.length)], random));
    }
  }
  return list;
}

/**
 * A scenario whose arena counts depend on `usable_arenas` order: six arenas of the largest class
 * are emptied to different degrees (whole pools at a time), new blocks of another class then take
 * pools from the most used arenas first, and freeing the rest of the large blocks releases exactly
 * the arenas that received none of the new pools.
 */
export function orderingScenario(table: SizeClassTable, big: number, other: number, random: () => number): OpList {
  const list = new OpList();
  const perPool = table.blocksPerPool[big];
  const pools = table.poolsPerArena;
  const arenas = 6;
  const slots: number[] = [];
  for (let i = 0; i < arenas * pools * perPool; i++) slots.push(list.malloc(sizeIn(table, big, random)));
  const freedPools = [10, 30, 5, pools - 2, 20, 0].map((n) => Math.min(n, pools - 1));
  const freePool = (arena: number, pool: number) => {
    const first = (arena * pools + pool) * perPool;
    for (let i = first; i < first + perPool; i++) if (list.live.has(slots[i])) list.free(slots[i]);
  };
  for (let arena = 0; arena < arenas; arena++) {
    // Free pools from the middle out, so that cached pools and never-used pools interleave.
    for (let k = 0; k < freedPools[arena]; k++) freePool(arena, (k * 7 + arena) % pools);
  }
  const newSlots: number[] = [];
  const newBlocks = Math.floor(0.6 * 45 * table.blocksPerPool[other]);
  for (let i = 0; i < newBlocks; i++) newSlots.push(list.malloc(sizeIn(table, other, random)));
  for (const slot of slots) if (list.live.has(slot)) list.free(slot);
  // Free every third new block, then allocate some of the big class again.
  for (let i = 0; i < newSlots.length; i += 3) list.free(newSlots[i]);
  for (let i = 0; i < 3 * perPool * pools; i++) list.malloc(sizeIn(table, big, random));
  return list;
}
