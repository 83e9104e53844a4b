/**
 * pymalloc (CPython's `Objects/obmalloc.c`): arenas → pools → blocks, decision for decision.
 *
 * Read `size-classes.ts` first (the layout and where each number comes from), then `allocate()`
 * and `release()` below; `takeNewPool()` and `returnPoolToArena()` hold the arena policy.
 *
 * The algorithm [v3.11.2 Objects/obmalloc.c; the bodies are the same in v3.9 and v3.14.7]:
 * - A request of 1..SMALL_REQUEST_THRESHOLD bytes is rounded up to its size class. Size 0 and
 *   larger requests go to malloc (`system.ts`).
 * - `usedpools[c]` lists the pools of class c that have both used and free blocks. An allocation
 *   takes the first one; inside it, the head of the pool's free-block list (LIFO: the most
 *   recently freed block), else the next never-used block at the pool's tail ("virgin" blocks,
 *   handed out in address order). A pool whose last block goes out leaves the list; when a block
 *   of a full pool is freed, the pool goes back at the *front* of the list.
 * - When `usedpools[c]` is empty, a pool comes from the first arena of `usable_arenas`: its most
 *   recently emptied pool, else its next never-carved pool. An emptied pool remembers its class;
 *   taken again for the same class, it keeps its free-block list as it was.
 * - A pool whose last block is freed leaves `usedpools` and returns to its arena. `usable_arenas`
 *   is kept sorted by ascending number of free pools, so the most-used arena serves first and
 *   lightly used ones can drain; `nfp2lasta[k]` points at the rightmost arena with k free pools so
 *   that re-sorting is O(1) (bpo-37029, 3.8). An arena whose pools are all free is unmapped,
 *   except (3.9+, bpo-37257, `keep_free_arena`) when it is the last arena of the list.
 * - Arena slots (`arena_object`s) come from a LIFO list of unused slots; the slot vector starts
 *   with 16 and doubles.
 * - realloc keeps a block in place when the new size fits its class and is more than 3/4 of the
 *   block; otherwise it allocates the new size (from pymalloc or malloc), then frees the old
 *   block. A block owned by malloc stays with malloc.
 *
 * Versions: 3.6 and 3.7 re-sort `usable_arenas` by walking the list instead of using
 * `nfp2lasta`; both put an arena that gained a free pool just before the first arena with more
 * free pools, so the order is the same and this model covers them. What 3.6–3.8 (and 2.7) lack
 * is the keep-one-free-arena rule: run them with `keep_free_arena=0`.
 *
 * State, all in typed arrays indexed by integers (no objects per block or pool):
 * - a pool is `arena slot × maxPoolsPerArena + index in the arena` ("pool id");
 * - a block handle is `pool id × 2^k + block index in the pool` (2^k ≥ the most blocks a pool
 *   holds: 1024 for 16 KiB pools, 256 for 4 KiB), below 2^30;
 *   a malloc'd block's handle is `MALLOC_HANDLE_BASE + its SystemHeap handle`;
 * - `blocks[2 × handle + 1]` is the requested size of a live block and 0 for a free one.
 * Invariants: a pool with 0 < count < blocks of its class is in `usedpools[class]`; a full pool is
 * in no list; an empty pool is in its arena's cached list. An arena with 0 < free pools is in
 * `usable_arenas`, sorted ascending by free pools. Every operation is O(1) except the growth of
 * the arrays, which doubles.
 */
import { UserError } from '../errors.js';
import { MAX_LISTED_ARENAS, type ArenaUsage, type PoolModule, type PoolPolicy, type PoolSample, type PoolSnapshot, type SizeClassStats } from './pool.js';
import { NO_SIZE_CLASS, PYMALLOC_PARAM_DOCS, SizeClassTable, type PymallocParams } from './size-classes.js';
import { SystemHeap } from './system.js';

export type { PymallocParams } from './size-classes.js';

/** Handles at or above this belong to malloc'd blocks. */
export const MALLOC_HANDLE_BASE = 2 ** 30;

/** INITIAL_ARENA_OBJECTS: the arena-slot vector starts this long and doubles. */
const INITIAL_ARENA_OBJECTS = 16;

const NONE = -1;

/** Where a handle lives, for tests and debugging. */
export type BlockLocation =
  | { owner: 'pymalloc'; arena: number; pool: number; block: number; sizeClass: number }
  | { owner: 'malloc'; index: number };

function growInt32(array: Int32Array<ArrayBuffer>, length: number, fill: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(length);
  grown.set(array);
  if (fill !== 0) grown.fill(fill, array.length);
  return grown;
}

export class PymallocPolicy implements PoolPolicy {
  readonly table: SizeClassTable;
  private readonly keepFreeArena: boolean;
  private readonly system = new SystemHeap();
  /** log2 of the per-pool stride of block handles (the stride is a power of two ≥ the most blocks a pool holds). */
  private readonly blockShift: number;
  private readonly blockMask: number;
  private readonly maxPools: number;
  private readonly smallThreshold: number;
  private readonly alignmentShift: number;

  // ---- per size class ----
  /** First pool of `usedpools[c]`, or NONE. */
  private readonly usedPoolsHead: Int32Array;
  private readonly classBlocksInUse: Int32Array;
  private readonly classPeakBlocks: Int32Array;
  private readonly classPoolsInUse: Int32Array;
  private readonly classPeakPools: Int32Array;
  private readonly classRequests: Float64Array;
  private readonly classReused: Float64Array;
  private readonly classBytesRequested: Float64Array;

  // ---- per pool (pool id) ----
  /** `ref.count`: blocks in use. */
  private poolCount = new Int32Array(0);
  /** `freeblock`: head of the free-block list (a block index), or NONE when the pool is full. */
  private poolFreeBlock = new Int32Array(0);
  /** `nextoffset` in blocks: the next never-used block. */
  private poolNextVirgin = new Int32Array(0);
  /** The never-used block waiting at the tail of the free-block list, or NONE. */
  private poolVirginInList = new Int32Array(0);
  /** `szidx`, or NO_SIZE_CLASS for a pool carved but never initialised. */
  private poolClass = new Int16Array(0);
  /** `nextpool`/`prevpool`: links in `usedpools[c]`; `nextpool` also links an arena's cached pools. */
  private poolNext = new Int32Array(0);
  private poolPrev = new Int32Array(0);

  // ---- per block (handle) ----
  /**
   * Two entries per block, side by side so that a release touches one cache line:
   * `blocks[2h]` is the next block index in the pool's free-block list (or NONE), meaningful
   * only while the block is free; `blocks[2h + 1]` is the requested size of a live block, 0 for
   * a free one.
   */
  private blocks = new Int32Array(0);
  /** Arena slots the per-pool and per-block arrays cover. */
  private slotCapacity = 0;

  // ---- per arena slot (`arena_object`) ----
  /** `maxarenas`: arena slots created so far (16, 32, 64, …). */
  private arenaObjects = 0;
  /** `nfreepools`: cached empty pools plus never-carved pools. */
  private arenaFreePools = new Int32Array(0);
  /** `ntotalpools`. */
  private arenaTotalPools = new Int32Array(0);
  /** `freepools`: the most recently emptied pool (pool id), linked by `poolNext`, or NONE. */
  private arenaCachedPools = new Int32Array(0);
  /** `pool_address` as an index: pools below it have been carved. */
  private arenaNextVirgin = new Int32Array(0);
  /** `nextarena`/`prevarena`: links in `usable_arenas`; `nextarena` also links unused slots. */
  private arenaNext = new Int32Array(0);
  private arenaPrev = new Int32Array(0);
  /** Head of `usable_arenas` (the arena with the fewest free pools), or NONE. */
  private usableArenas = NONE;
  /** Head of `unused_arena_objects`, or NONE. */
  private unusedArenas = NONE;
  /** `nfp2lasta[k]`: the rightmost arena in `usable_arenas` with k free pools, or NONE. */
  private readonly lastArenaWithFree: Int32Array;

  // ---- running totals (so that `sample()` is O(1)) ----
  private arenasAllocated = 0;
  private arenasCurrent = 0;
  private arenasHighWater = 0;
  private poolsInUse = 0;
  private poolsPeakInUse = 0;
  private poolsEmpty = 0;
  private poolsNeverUsed = 0;
  private blocksFresh = 0;
  private blocksReused = 0;
  private smallBytesRequested = 0;
  private peakBytesReserved = 0;
  /** Set by `takeNewPool`: the block it chose to hand out. */
  private takenBlock = 0;

  constructor(
    readonly name: string,
    private readonly params: Readonly<PymallocParams>,
  ) {
    this.table = new SizeClassTable(params);
    this.keepFreeArena = params.keep_free_arena === 1;
    this.blockShift = Math.ceil(Math.log2(this.table.maxBlocksPerPool));
    this.blockMask = (1 << this.blockShift) - 1;
    this.smallThreshold = this.table.smallThreshold;
    this.alignmentShift = this.table.alignmentShift;
    this.maxPools = this.table.maxPoolsPerArena;
    const n = this.table.count;
    this.usedPoolsHead = new Int32Array(n).fill(NONE);
    this.classBlocksInUse = new Int32Array(n);
    this.classPeakBlocks = new Int32Array(n);
    this.classPoolsInUse = new Int32Array(n);
    this.classPeakPools = new Int32Array(n);
    this.classRequests = new Float64Array(n);
    this.classReused = new Float64Array(n);
    this.classBytesRequested = new Float64Array(n);
    this.lastArenaWithFree = new Int32Array(this.maxPools + 1).fill(NONE);
  }

  sizeClassOf(size: number): number {
    return this.table.classOf(size);
  }

  /**
   * `_PyObject_Malloc`: pymalloc for 1..threshold bytes, else malloc (`PyMem_RawMalloc`, which
   * turns 0 into 1) [v3.11.2 Objects/obmalloc.c: _PyObject_Malloc, pymalloc_alloc].
   */
  allocate(size: number): number {
    if (size < 1 || size > this.smallThreshold) {
      const handle = MALLOC_HANDLE_BASE + this.system.allocate(size === 0 ? 1 : size);
      this.notePeakReserved();
      return handle;
    }
    const sizeClass = (size - 1) >> this.alignmentShift;
    let pool = this.usedPoolsHead[sizeClass];
    let block: number;
    if (pool !== NONE) {
      // Fast path: the first pool of usedpools[c], the head of its free-block list.
      this.poolCount[pool]++;
      block = this.poolFreeBlock[pool];
      const next = this.blocks[((pool << this.blockShift) | block) << 1];
      this.poolFreeBlock[pool] = next;
      this.countServed(pool, block, sizeClass);
      if (next === NONE) this.extendPool(pool, sizeClass);
    } else {
      pool = this.takeNewPool(sizeClass);
      block = this.takenBlock;
    }
    const handle = (pool << this.blockShift) | block;
    this.blocks[(handle << 1) + 1] = size;
    this.classRequests[sizeClass]++;
    this.classBytesRequested[sizeClass] += size;
    this.smallBytesRequested += size;
    const inUse = ++this.classBlocksInUse[sizeClass];
    if (inUse > this.classPeakBlocks[sizeClass]) this.classPeakBlocks[sizeClass] = inUse;
    return handle;
  }

  /**
   * `_PyObject_Free`: pushes the block on its pool's free-block list; a pool that was full goes
   * back to the front of `usedpools`, a pool that became empty goes back to its arena
   * [v3.11.2 Objects/obmalloc.c: pymalloc_free, insert_to_usedpool].
   */
  release(handle: number): void {
    if (handle >= MALLOC_HANDLE_BASE) {
      this.system.release(handle - MALLOC_HANDLE_BASE);
      return;
    }
    const requested = this.blocks[(handle << 1) + 1];
    // 0 marks a free block (and undefined a handle past the arrays): a double free is a bug upstream.
    if (!(requested > 0)) throw new Error(`pymalloc model: release of block ${handle}, which is not in use; this is a bug in memreplay`);
    this.blocks[(handle << 1) + 1] = 0;
    const pool = handle >> this.blockShift;
    const block = handle & this.blockMask;
    const sizeClass = this.poolClass[pool];
    this.classBlocksInUse[sizeClass]--;
    this.classBytesRequested[sizeClass] -= requested;
    this.smallBytesRequested -= requested;

    const lastFree = this.poolFreeBlock[pool];
    this.blocks[handle << 1] = lastFree;
    this.poolFreeBlock[pool] = block;
    const count = --this.poolCount[pool];
    if (lastFree === NONE) {
      // The pool was full, so in no list: link it at the front, so that the next allocation of
      // this class reuses the block just freed ("mimics LRU pool usage").
      const head = this.usedPoolsHead[sizeClass];
      this.poolNext[pool] = head;
      this.poolPrev[pool] = NONE;
      if (head !== NONE) this.poolPrev[head] = pool;
      this.usedPoolsHead[sizeClass] = pool;
      return;
    }
    if (count === 0) this.returnPoolToArena(pool, sizeClass);
  }

  /**
   * `_PyObject_Realloc` → `pymalloc_realloc` [v3.11.2 Objects/obmalloc.c]: a pymalloc block stays
   * in place when `size ≤ S` and `4·size > 3·S` (S its block size); otherwise the new block is
   * allocated first (pymalloc for 1..threshold, else malloc) and the old one freed after the copy,
   * so a shrink within the same class can land in another pool. A malloc'd block stays with malloc
   * whatever the new size (`realloc`, 0 asking for 1 byte).
   */
  resize(handle: number, size: number): number {
    if (handle >= MALLOC_HANDLE_BASE) {
      this.system.resize(handle - MALLOC_HANDLE_BASE, size === 0 ? 1 : size);
      this.notePeakReserved();
      return handle;
    }
    const pool = handle >> this.blockShift;
    const sizeClass = this.poolClass[pool];
    const blockSize = this.table.blockSize[sizeClass];
    if (size <= blockSize && 4 * size > 3 * blockSize) {
      const delta = size - this.blocks[(handle << 1) + 1];
      this.blocks[(handle << 1) + 1] = size;
      this.classBytesRequested[sizeClass] += delta;
      this.smallBytesRequested += delta;
      return handle;
    }
    const moved = this.allocate(size);
    this.release(handle);
    return moved;
  }

  /**
   * `pymalloc_pool_extend`: the free-block list just ran out. Put the next never-used block on it,
   * or, when there is none, unlink the now full pool from `usedpools` (it is the first pool).
   */
  private extendPool(pool: number, sizeClass: number): void {
    const next = this.poolNextVirgin[pool];
    if (next < this.table.blocksPerPool[sizeClass]) {
      this.poolFreeBlock[pool] = next;
      this.blocks[((pool << this.blockShift) | next) << 1] = NONE;
      this.poolNextVirgin[pool] = next + 1;
      this.poolVirginInList[pool] = next;
      return;
    }
    const after = this.poolNext[pool];
    this.usedPoolsHead[sizeClass] = after;
    if (after !== NONE) this.poolPrev[after] = NONE;
  }

  /**
   * `allocate_from_new_pool`: `usedpools[c]` is empty. Take a pool from the head of
   * `usable_arenas` (making an arena if there is none), link it as the only pool of the class,
   * and choose its first block (`takenBlock`). Returns the pool id.
   * Postcondition: the arena has one free pool fewer; if it has none left it left the list. The
   * head keeps the smallest count, so the list stays sorted without moving anything.
   */
  private takeNewPool(sizeClass: number): number {
    if (this.usableArenas === NONE) {
      const fresh = this.newArena();
      this.usableArenas = fresh;
      this.arenaNext[fresh] = NONE;
      this.arenaPrev[fresh] = NONE;
      this.lastArenaWithFree[this.arenaFreePools[fresh]] = fresh;
    }
    const arena = this.usableArenas;
    const free = this.arenaFreePools[arena];
    if (this.lastArenaWithFree[free] === arena) this.lastArenaWithFree[free] = NONE;
    if (free > 1) this.lastArenaWithFree[free - 1] = arena;

    let pool = this.arenaCachedPools[arena];
    if (pool !== NONE) {
      this.arenaCachedPools[arena] = this.poolNext[pool];
      this.poolsEmpty--;
    } else {
      pool = arena * this.maxPools + this.arenaNextVirgin[arena]++;
      this.poolClass[pool] = NO_SIZE_CLASS;
      this.poolsNeverUsed--;
    }
    this.arenaFreePools[arena] = free - 1;
    if (free === 1) {
      // Wholly allocated: the arena leaves usable_arenas.
      const next = this.arenaNext[arena];
      this.usableArenas = next;
      if (next !== NONE) this.arenaPrev[next] = NONE;
    }

    this.usedPoolsHead[sizeClass] = pool;
    this.poolNext[pool] = NONE;
    this.poolPrev[pool] = NONE;
    this.poolCount[pool] = 1;
    const pools = ++this.classPoolsInUse[sizeClass];
    if (pools > this.classPeakPools[sizeClass]) this.classPeakPools[sizeClass] = pools;
    if (++this.poolsInUse > this.poolsPeakInUse) this.poolsPeakInUse = this.poolsInUse;

    if (this.poolClass[pool] === sizeClass) {
      // "Luckily, this pool last contained blocks of the same size class, so its header and free
      // list are already initialized." The list has at least two entries here.
      const block = this.poolFreeBlock[pool];
      this.poolFreeBlock[pool] = this.blocks[((pool << this.blockShift) | block) << 1];
      this.countServed(pool, block, sizeClass);
      this.takenBlock = block;
      return pool;
    }
    // Initialise: hand out block 0 (never used), put block 1 on the free list as the virgin
    // block waiting there, and start the tail at block 2.
    this.poolClass[pool] = sizeClass;
    this.poolFreeBlock[pool] = 1;
    this.blocks[((pool << this.blockShift) | 1) << 1] = NONE;
    this.poolNextVirgin[pool] = 2;
    this.poolVirginInList[pool] = 1;
    this.blocksFresh++;
    this.takenBlock = 0;
    return pool;
  }

  /**
   * Counts a block taken from a pool's free-block list as fresh when it is the never-used block
   * that `extendPool` put there, else as reused.
   */
  private countServed(pool: number, block: number, sizeClass: number): void {
    if (block === this.poolVirginInList[pool]) {
      this.poolVirginInList[pool] = NONE;
      this.blocksFresh++;
    } else {
      this.classReused[sizeClass]++;
      this.blocksReused++;
    }
  }

  /**
   * `insert_to_freepool`: the pool just became empty. Unlink it from `usedpools`, push it on its
   * arena's cached pools, and restore the order of `usable_arenas` [v3.11.2 Objects/obmalloc.c]:
   * 1. all pools free and (3.9+) not the last arena of the list → unlink and unmap the arena;
   * 2. the arena was full (1 free pool now) → insert it at the head;
   * 3. it was the rightmost arena with its old count → it stays;
   * 4. else move it just after that rightmost arena: it becomes the leftmost with its new count.
   */
  private returnPoolToArena(pool: number, sizeClass: number): void {
    const prevPool = this.poolPrev[pool];
    const nextPool = this.poolNext[pool];
    if (prevPool !== NONE) this.poolNext[prevPool] = nextPool;
    else this.usedPoolsHead[sizeClass] = nextPool;
    if (nextPool !== NONE) this.poolPrev[nextPool] = prevPool;
    this.classPoolsInUse[sizeClass]--;
    this.poolsInUse--;

    const arena = (pool / this.maxPools) | 0;
    this.poolNext[pool] = this.arenaCachedPools[arena];
    this.arenaCachedPools[arena] = pool;
    this.poolsEmpty++;

    let free = this.arenaFreePools[arena];
    const lastWithOldCount = this.lastArenaWithFree[free];
    if (lastWithOldCount === arena) {
      const before = this.arenaPrev[arena];
      this.lastArenaWithFree[free] = before !== NONE && this.arenaFreePools[before] === free ? before : NONE;
    }
    this.arenaFreePools[arena] = ++free;

    const next = this.arenaNext[arena];
    const prev = this.arenaPrev[arena];
    // NOTE: case 1's "not the last arena" test (bpo-37257, 3.9.0a1) keeps one wholly free arena
    // so that a loop allocating and freeing one pool's worth does not mmap and munmap an arena
    // every iteration; before 3.9 the arena was always released.
    if (free === this.arenaTotalPools[arena] && (!this.keepFreeArena || next !== NONE)) {
      if (prev !== NONE) this.arenaNext[prev] = next;
      else this.usableArenas = next;
      if (next !== NONE) this.arenaPrev[next] = prev;
      this.freeArena(arena);
      return;
    }
    if (free === 1) {
      this.arenaNext[arena] = this.usableArenas;
      this.arenaPrev[arena] = NONE;
      if (this.usableArenas !== NONE) this.arenaPrev[this.usableArenas] = arena;
      this.usableArenas = arena;
      if (this.lastArenaWithFree[1] === NONE) this.lastArenaWithFree[1] = arena;
      return;
    }
    if (this.lastArenaWithFree[free] === NONE) this.lastArenaWithFree[free] = arena;
    if (arena === lastWithOldCount) return;
    // Unlink, then insert after the rightmost arena with the old count (next is not NONE: an
    // arena that was not the rightmost with its count has a successor).
    if (prev !== NONE) this.arenaNext[prev] = next;
    else this.usableArenas = next;
    this.arenaPrev[next] = prev;
    const after = this.arenaNext[lastWithOldCount];
    this.arenaPrev[arena] = lastWithOldCount;
    this.arenaNext[arena] = after;
    if (after !== NONE) this.arenaPrev[after] = arena;
    this.arenaNext[lastWithOldCount] = arena;
  }

  /** `new_arena`: take the head of `unused_arena_objects` (doubling the slots when empty). */
  private newArena(): number {
    if (this.unusedArenas === NONE) {
      const created = this.arenaObjects === 0 ? INITIAL_ARENA_OBJECTS : this.arenaObjects * 2;
      this.growArenaObjects(created);
      for (let slot = this.arenaObjects; slot < created; slot++) this.arenaNext[slot] = slot < created - 1 ? slot + 1 : NONE;
      this.unusedArenas = this.arenaObjects;
      this.arenaObjects = created;
    }
    const arena = this.unusedArenas;
    this.unusedArenas = this.arenaNext[arena];
    if (arena >= this.slotCapacity) this.growPools(arena + 1);
    const pools = this.table.poolsPerArena;
    this.arenaCachedPools[arena] = NONE;
    this.arenaNextVirgin[arena] = 0;
    this.arenaFreePools[arena] = pools;
    this.arenaTotalPools[arena] = pools;
    this.poolsNeverUsed += pools;
    this.arenasAllocated++;
    if (++this.arenasCurrent > this.arenasHighWater) this.arenasHighWater = this.arenasCurrent;
    this.notePeakReserved();
    return arena;
  }

  /** Unmaps an arena (already unlinked from `usable_arenas`) and recycles its slot. */
  private freeArena(arena: number): void {
    const neverUsed = this.arenaTotalPools[arena] - this.arenaNextVirgin[arena];
    this.poolsNeverUsed -= neverUsed;
    this.poolsEmpty -= this.arenaFreePools[arena] - neverUsed;
    this.arenaNext[arena] = this.unusedArenas;
    this.unusedArenas = arena;
    this.arenasCurrent--;
  }

  private notePeakReserved(): void {
    const reserved = this.arenasCurrent * this.table.arenaSize + this.system.bytesReserved;
    if (reserved > this.peakBytesReserved) this.peakBytesReserved = reserved;
  }

  private growArenaObjects(length: number): void {
    this.arenaFreePools = growInt32(this.arenaFreePools, length, 0);
    this.arenaTotalPools = growInt32(this.arenaTotalPools, length, 0);
    this.arenaCachedPools = growInt32(this.arenaCachedPools, length, NONE);
    this.arenaNextVirgin = growInt32(this.arenaNextVirgin, length, 0);
    this.arenaNext = growInt32(this.arenaNext, length, NONE);
    this.arenaPrev = growInt32(this.arenaPrev, length, NONE);
  }

  /** Grows the per-pool and per-block arrays to cover at least `slots` arena slots (doubling). */
  private growPools(slots: number): void {
    let capacity = Math.max(1, this.slotCapacity);
    while (capacity < slots) capacity *= 2;
    // Multiplied, not shifted: a shift would wrap at 32 bits and pass the check.
    const handlesPerArena = this.maxPools * 2 ** this.blockShift;
    const blocks = capacity * handlesPerArena;
    if (blocks > MALLOC_HANDLE_BASE) {
      throw new UserError(
        'POOL_TOO_MANY_ARENAS',
        `the replay needs more than ${Math.floor(MALLOC_HANDLE_BASE / handlesPerArena)} pymalloc arenas at once, more than memreplay's block handles can address`,
      );
    }
    const pools = capacity * this.maxPools;
    this.poolCount = growInt32(this.poolCount, pools, 0);
    this.poolFreeBlock = growInt32(this.poolFreeBlock, pools, NONE);
    this.poolNextVirgin = growInt32(this.poolNextVirgin, pools, 0);
    this.poolVirginInList = growInt32(this.poolVirginInList, pools, NONE);
    const poolClass = new Int16Array(pools).fill(NO_SIZE_CLASS);
    poolClass.set(this.poolClass);
    this.poolClass = poolClass;
    this.poolNext = growInt32(this.poolNext, pools, NONE);
    this.poolPrev = growInt32(this.poolPrev, pools, NONE);
    this.blocks = growInt32(this.blocks, 2 * blocks, 0);
    this.slotCapacity = capacity;
  }

  /** Where a live handle's block is, for tests and debugging. */
  locate(handle: number): BlockLocation {
    if (handle >= MALLOC_HANDLE_BASE) return { owner: 'malloc', index: handle - MALLOC_HANDLE_BASE };
    const pool = handle >> this.blockShift;
    const arena = (pool / this.maxPools) | 0;
    return { owner: 'pymalloc', arena, pool: pool - arena * this.maxPools, block: handle & this.blockMask, sizeClass: this.poolClass[pool] };
  }

  /** The arena slots of `usable_arenas`, head first, with their free pools, for tests. */
  usableArenaOrder(): { arena: number; freePools: number }[] {
    const order: { arena: number; freePools: number }[] = [];
    for (let arena = this.usableArenas; arena !== NONE; arena = this.arenaNext[arena]) order.push({ arena, freePools: this.arenaFreePools[arena] });
    return order;
  }

  snapshot(): PoolSnapshot {
    const table = this.table;
    const sizeClasses: SizeClassStats[] = [];
    let blockBytes = 0;
    let availBytes = 0;
    let quantization = 0;
    for (let c = 0; c < table.count; c++) {
      const size = table.blockSize[c];
      const pools = this.classPoolsInUse[c];
      const inUse = this.classBlocksInUse[c];
      const avail = pools * table.blocksPerPool[c] - inUse;
      blockBytes += inUse * size;
      availBytes += avail * size;
      quantization += pools * table.quantizationLoss[c];
      const requests = this.classRequests[c];
      sizeClasses.push({
        index: c,
        size,
        poolsInUse: pools,
        blocksInUse: inUse,
        availBlocks: avail,
        peakBlocksInUse: this.classPeakBlocks[c],
        peakPoolsInUse: this.classPeakPools[c],
        requests,
        reusedBlocks: this.classReused[c],
        freshBlocks: requests - this.classReused[c],
        bytesRequested: this.classBytesRequested[c],
      });
    }
    const malloc = this.system.stats();
    const arenaBytes = this.arenasCurrent * table.arenaSize;
    const unusedPoolBytes = (this.poolsEmpty + this.poolsNeverUsed) * table.poolSize;
    const alignmentLoss = this.arenasCurrent * (table.maxPoolsPerArena - table.poolsPerArena) * table.poolSize;
    return {
      policy: this.name,
      params: { ...this.params },
      sizeClasses,
      arenas: { allocated: this.arenasAllocated, reclaimed: this.arenasAllocated - this.arenasCurrent, highWater: this.arenasHighWater, current: this.arenasCurrent },
      pools: { inUse: this.poolsInUse, empty: this.poolsEmpty, neverUsed: this.poolsNeverUsed, peakInUse: this.poolsPeakInUse },
      malloc,
      bytesRequested: this.smallBytesRequested + malloc.bytesRequested,
      bytesReserved: arenaBytes + malloc.bytesReserved,
      peakBytesReserved: this.peakBytesReserved,
      blocksFresh: this.blocksFresh,
      blocksReused: this.blocksReused,
      fragmentation: {
        internal: blockBytes - this.smallBytesRequested,
        pool: availBytes + this.poolsInUse * table.poolOverhead + quantization,
        arena: unusedPoolBytes + alignmentLoss,
      },
      arenaUsage: this.arenaUsage(),
    };
  }

  /**
   * Per live arena, its pools and blocks in use, the least used first. O(arena slots + carved
   * pools): run once per snapshot, never on the allocation path.
   */
  private arenaUsage(): PoolSnapshot['arenaUsage'] {
    // Live arenas are the created slots that are not on the unused-slot list.
    const unused = new Uint8Array(this.arenaObjects);
    for (let slot = this.unusedArenas; slot !== NONE; slot = this.arenaNext[slot]) unused[slot] = 1;
    const arenas: ArenaUsage[] = [];
    for (let arena = 0; arena < this.arenaObjects; arena++) {
      if (unused[arena]) continue;
      let poolsInUse = 0;
      let blocksInUse = 0;
      let blockBytes = 0;
      const first = arena * this.maxPools;
      for (let pool = first, end = first + this.arenaNextVirgin[arena]; pool < end; pool++) {
        const count = this.poolCount[pool];
        if (count === 0) continue;
        poolsInUse++;
        blocksInUse += count;
        blockBytes += count * this.table.blockSize[this.poolClass[pool]];
      }
      arenas.push({ arena, pools: this.arenaTotalPools[arena], poolsInUse, blocksInUse, blockBytes });
    }
    arenas.sort((a, b) => a.blockBytes - b.blockBytes || a.arena - b.arena);
    return {
      arenaBytes: this.table.arenaSize,
      arenas: arenas.slice(0, MAX_LISTED_ARENAS),
      omitted: Math.max(0, arenas.length - MAX_LISTED_ARENAS),
    };
  }

  sample(): PoolSample {
    return {
      arenas: this.arenasCurrent,
      poolsInUse: this.poolsInUse,
      bytesRequested: this.smallBytesRequested + this.system.bytesRequested,
      bytesReserved: this.arenasCurrent * this.table.arenaSize + this.system.bytesReserved,
      blocksFresh: this.blocksFresh,
      blocksReused: this.blocksReused,
    };
  }
}

function pymallocModule(name: string, description: string, releases: string, defaultParams: PymallocParams): PoolModule<PymallocParams> {
  return {
    name,
    description,
    releases,
    defaultParams,
    paramDocs: PYMALLOC_PARAM_DOCS,
    create: (params: PymallocParams) => new PymallocPolicy(name, params),
  };
}

/** 64-bit CPython 3.10 through 3.14 [v3.11.2 Objects/obmalloc.c; v3.14.7 Include/internal/pycore_obmalloc.h]. */
export const pymalloc311 = pymallocModule(
  'pymalloc-3.11',
  'pymalloc with 16 KiB pools in 1 MiB arenas (radix tree): 32 size classes of 16 bytes up to 512',
  '3.10–3.14',
  { alignment: 16, small_threshold: 512, pool_size: 16384, pool_header: 48, arena_size: 1048576, unaligned_arenas: 1, keep_free_arena: 1 },
);

/**
 * 64-bit CPython 3.9 as built here (3.6.15–3.9.18 show the same layout; 3.6–3.8 also need
 * `keep_free_arena=0`) [v3.9 Objects/obmalloc.c].
 */
export const pymalloc39 = pymallocModule(
  'pymalloc-3.9',
  'pymalloc with 4 KiB pools in 256 KiB arenas: 32 size classes of 16 bytes up to 512; keeps one wholly free arena',
  '3.6–3.9 (keep_free_arena=0 for 3.6–3.8)',
  { alignment: 16, small_threshold: 512, pool_size: 4096, pool_header: 48, arena_size: 262144, unaligned_arenas: 0, keep_free_arena: 1 },
);

/**
 * The seed's layout, CPython 2.7.0–2.7.16 on 64-bit: 8-byte alignment, requests up to 256 bytes
 * in 32 size classes, 4 KiB pools in 256 KiB arenas (page-aligned mmaps, 64 pools each),
 * released as soon as they are wholly free [v2.7.16 Objects/obmalloc.c]. 2.7.17 backported
 * bpo-27987 (GH-13319): 16-byte alignment and a 512-byte threshold, which is what the 2.7.18
 * here shows (`defaultPoolParamsFor('2.7.18')`, `--pool-param alignment=16,small_threshold=512`).
 */
export const pymalloc27 = pymallocModule(
  'pymalloc-2.7',
  "pymalloc of Python 2.7 (the seed's layout): 4 KiB pools in 256 KiB arenas, 32 size classes of 8 bytes up to 256, arenas released as soon as they are free",
  '2.7.0–2.7.16 (2.7.17+: alignment=16, small_threshold=512)',
  { alignment: 8, small_threshold: 256, pool_size: 4096, pool_header: 48, arena_size: 262144, unaligned_arenas: 0, keep_free_arena: 0 },
);
