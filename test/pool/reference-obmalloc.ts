import type { PymallocParams } from '../../src/pool/size-classes.js';

/**
 * A deliberately plain second implementation of obmalloc, for property tests of `pymalloc.ts`:
 * objects and arrays instead of typed arrays and handles, and `usable_arenas` re-sorted by walking
 * the list as CPython 3.6/3.7 did (`if (ao->nextarena == NULL || nf <= ao->nextarena->nfreepools)
 * return; ... while (ao->nextarena != NULL && nf > ao->nextarena->nfreepools)`), where the model
 * uses 3.8's `nfp2lasta` fingers. Both must make the same decisions.
 */

interface RefPool {
  arena: RefArena;
  index: number;
  count: number;
  /** The free-block list, head last. */
  free: number[];
  nextVirgin: number;
  sizeClass: number;
}

interface RefArena {
  slot: number;
  pools: RefPool[];
  /** Cached empty pools, head last. */
  cached: RefPool[];
  nextVirgin: number;
  freePools: number;
  totalPools: number;
}

export type RefBlock = { owner: 'pymalloc'; pool: RefPool; block: number } | { owner: 'malloc'; size: number };

export interface RefLocation {
  owner: 'pymalloc' | 'malloc';
  arena?: number;
  pool?: number;
  block?: number;
}

export class ReferenceObmalloc {
  private readonly alignment: number;
  private readonly threshold: number;
  private readonly blocksPerPool: number[] = [];
  private readonly poolsPerArena: number;
  /** usedpools[c], front first. */
  private readonly usedPools: RefPool[][] = [];
  /** usable_arenas, head first. */
  private usable: RefArena[] = [];
  /** unused_arena_objects, head last. */
  private readonly unusedSlots: number[] = [];
  private maxArenas = 0;
  arenasAllocated = 0;
  arenasCurrent = 0;

  constructor(private readonly params: PymallocParams) {
    this.alignment = params.alignment;
    this.threshold = params.small_threshold;
    const overhead = Math.ceil(params.pool_header / params.alignment) * params.alignment;
    for (let c = 0; c < this.threshold / this.alignment; c++) {
      this.blocksPerPool.push(Math.floor((params.pool_size - overhead) / ((c + 1) * this.alignment)));
      this.usedPools.push([]);
    }
    this.poolsPerArena = params.arena_size / params.pool_size - params.unaligned_arenas;
  }

  allocate(size: number): RefBlock {
    if (size < 1 || size > this.threshold) return { owner: 'malloc', size: size === 0 ? 1 : size };
    const c = Math.floor((size - 1) / this.alignment);
    const list = this.usedPools[c];
    if (list.length > 0) {
      const pool = list[0];
      pool.count++;
      const block = pool.free.pop() as number;
      if (pool.free.length === 0) {
        if (pool.nextVirgin < this.blocksPerPool[c]) pool.free.push(pool.nextVirgin++);
        else list.shift();
      }
      return { owner: 'pymalloc', pool, block };
    }
    if (this.usable.length === 0) this.usable.push(this.newArena());
    const arena = this.usable[0];
    let pool = arena.cached.pop();
    if (pool === undefined) {
      pool = { arena, index: arena.nextVirgin++, count: 0, free: [], nextVirgin: 0, sizeClass: -1 };
      arena.pools.push(pool);
    }
    arena.freePools--;
    if (arena.freePools === 0) this.usable.shift();
    list.push(pool);
    pool.count = 1;
    if (pool.sizeClass === c) return { owner: 'pymalloc', pool, block: pool.free.pop() as number };
    pool.sizeClass = c;
    pool.free = [1];
    pool.nextVirgin = 2;
    return { owner: 'pymalloc', pool, block: 0 };
  }

  release(ref: RefBlock): void {
    if (ref.owner === 'malloc') return;
    const pool = ref.pool;
    const wasFull = pool.free.length === 0;
    pool.free.push(ref.block);
    pool.count--;
    const list = this.usedPools[pool.sizeClass];
    if (wasFull) {
      list.unshift(pool);
      return;
    }
    if (pool.count > 0) return;
    list.splice(list.indexOf(pool), 1);
    const arena = pool.arena;
    arena.cached.push(pool);
    const nf = ++arena.freePools;
    const at = this.usable.indexOf(arena);
    if (nf === arena.totalPools && (this.params.keep_free_arena === 0 || at < this.usable.length - 1)) {
      this.usable.splice(at, 1);
      this.unusedSlots.push(arena.slot);
      this.arenasCurrent--;
      return;
    }
    if (nf === 1) {
      this.usable.unshift(arena);
      return;
    }
    if (at === this.usable.length - 1 || nf <= this.usable[at + 1].freePools) return;
    this.usable.splice(at, 1);
    let to = at;
    while (to < this.usable.length && nf > this.usable[to].freePools) to++;
    this.usable.splice(to, 0, arena);
  }

  resize(ref: RefBlock, size: number): RefBlock {
    if (ref.owner === 'malloc') return { owner: 'malloc', size: size === 0 ? 1 : size };
    const blockSize = (ref.pool.sizeClass + 1) * this.alignment;
    if (size <= blockSize && 4 * size > 3 * blockSize) return ref;
    const moved = this.allocate(size);
    this.release(ref);
    return moved;
  }

  locate(ref: RefBlock): RefLocation {
    return ref.owner === 'malloc' ? { owner: 'malloc' } : { owner: 'pymalloc', arena: ref.pool.arena.slot, pool: ref.pool.index, block: ref.block };
  }

  usableOrder(): { arena: number; freePools: number }[] {
    return this.usable.map((a) => ({ arena: a.slot, freePools: a.freePools }));
  }

  private newArena(): RefArena {
    if (this.unusedSlots.length === 0) {
      const n = this.maxArenas === 0 ? 16 : this.maxArenas * 2;
      for (let slot = n - 1; slot >= this.maxArenas; slot--) this.unusedSlots.push(slot);
      this.maxArenas = n;
    }
    this.arenasAllocated++;
    this.arenasCurrent++;
    const slot = this.unusedSlots.pop() as number;
    return { slot, pools: [], cached: [], nextVirgin: 0, freePools: this.poolsPerArena, totalPools: this.poolsPerArena };
  }
}
