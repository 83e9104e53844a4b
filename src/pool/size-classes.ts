/**
 * obmalloc's layout: the tunables that decide how a request maps to a size class, how many blocks
 * a pool holds and how many pools an arena holds. Read this before `pymalloc.ts`, which only
 * animates the structure described here.
 *
 * The numbers below were read from the source and then checked against the interpreters on this
 * machine (`sys._debugmallocstats()` and the addresses `PyObject_Malloc` returns through ctypes):
 *
 * | layout            | alignment | threshold | classes | pool   | header | arena    | pools/arena |
 * |-------------------|-----------|-----------|---------|--------|--------|----------|-------------|
 * | 3.10 … 3.14       | 16        | 512       | 32      | 16 KiB | 48     | 1 MiB    | 64, or 63   |
 * | 3.6 … 3.9 (here)  | 16        | 512       | 32      | 4 KiB  | 48     | 256 KiB  | 64          |
 * | 2.7.18 (here)     | 16        | 512       | 32      | 4 KiB  | 48     | 256 KiB  | 64          |
 *
 * - ALIGNMENT is 16 on 64-bit since bpo-27987 [v3.11.2 Objects/obmalloc.c "tunable settings";
 *   3.8.0a4]. Upstream 3.6 and 3.7.0–3.7.3 used 8 (64 classes of 8 bytes), but the 3.7.16 here
 *   carries the upstream backport, pyenv patches 3.6.15 with it
 *   (`0009-bpo-27987-pymalloc-align-by-16bytes-on-64bit-platfor.patch`), and 2.7.18 has the 2.7
 *   backport (GH-13319, 2.7.17). All of them print "Small block threshold = 512, in 32 size
 *   classes." (2.7 has no `_debugmallocstats`; its addresses show 16-byte steps up to 512 bytes).
 * - POOL_OVERHEAD = `_Py_SIZE_ROUND_UP(sizeof(struct pool_header), ALIGNMENT)`: the header is
 *   48 bytes on 64-bit in every version (a union holding the count, four pointers, four uints),
 *   rounded up to the alignment. Checked: 4 KiB pools of 16-byte blocks hold (4096 − 48) / 16 = 253.
 * - POOL_SIZE is 16 KiB and ARENA_SIZE 1 MiB since bpo-37448 (3.10.0a7, USE_LARGE_POOLS /
 *   USE_LARGE_ARENAS with the radix tree on 64-bit); before, 4 KiB and 256 KiB.
 * - An arena holds ARENA_SIZE / POOL_SIZE pools when its memory starts on a pool boundary, else
 *   one fewer: `new_arena` skips the unaligned head [v3.11.2 Objects/obmalloc.c: new_arena,
 *   "excess"]. A 256 KiB mmap is page-aligned, so 4 KiB pools always fit 64 times. A 1 MiB mmap
 *   lands on a 16 KiB boundary only by chance (where ASLR puts the first mapping decides for the
 *   ones packed after it): of 84 runs here (3.10.13–3.13.0), 57 had every new arena unaligned
 *   (63 pools) and the others nearly all aligned. `unaligned_arenas` chooses; its default, 1, is
 *   the common case.
 */
import { UsageError } from '../errors.js';
import { isPowerOfTwo } from './pool.js';

/** The obmalloc parameters a pymalloc policy takes; names are those of `--pool-param`. */
export type PymallocParams = {
  /** ALIGNMENT: block sizes are multiples of it. Default: 16. */
  alignment: number;
  /** SMALL_REQUEST_THRESHOLD: requests of 1..threshold bytes use pymalloc. Default: 512. */
  small_threshold: number;
  /** POOL_SIZE in bytes. Default: 16384 (3.10+), 4096 (older). */
  pool_size: number;
  /** sizeof(struct pool_header) in bytes, before rounding up to the alignment. Default: 48. */
  pool_header: number;
  /** ARENA_SIZE in bytes. Default: 1048576 (3.10+), 262144 (older). */
  arena_size: number;
  /** 1 when every arena starts off a pool boundary and so holds one pool fewer, else 0. */
  unaligned_arenas: number;
  /** 1 to keep the last wholly free arena of `usable_arenas` (bpo-37257, 3.9+), else 0. */
  keep_free_arena: number;
};

export const PYMALLOC_PARAM_DOCS: Record<keyof PymallocParams, string> = {
  alignment: 'ALIGNMENT in bytes: block sizes are its multiples (power of two, 8..4096)',
  small_threshold: 'SMALL_REQUEST_THRESHOLD in bytes: larger requests (and size 0) go to malloc (a multiple of alignment, at most 32768)',
  pool_size: 'POOL_SIZE in bytes (power of two; a pool must hold two blocks of the largest class)',
  pool_header: 'sizeof(struct pool_header) in bytes; the pool overhead is this rounded up to alignment',
  arena_size: 'ARENA_SIZE in bytes (a multiple of pool_size holding at least 3 pools, at most 1 GiB)',
  unaligned_arenas: '1: arenas start off a pool boundary and hold arena_size/pool_size - 1 pools (usual for 1 MiB mmaps); 0: aligned, all pools usable',
  keep_free_arena: '1: a wholly free arena that is last in usable_arenas is kept (3.9+, bpo-37257); 0: always released (3.8 and older)',
};

/**
 * Largest threshold accepted for what-if runs. obmalloc documents `threshold ≤ 512` as an
 * invariant [v3.11.2 Objects/obmalloc.c "tunable settings"] but nothing in the algorithm needs it;
 * the bound only keeps the per-class tables small.
 */
export const MAX_SMALL_THRESHOLD_BYTES = 32768;

/**
 * Largest arena accepted for what-if runs (CPython's are 256 KiB up to 3.9, 1 MiB from 3.10). The
 * model addresses blocks with 30-bit handles (pymalloc.ts), and one arena must fit in them.
 */
export const MAX_ARENA_SIZE_BYTES = 2 ** 30;

/** Marks a pool that was carved but never initialised for a class (obmalloc's DUMMY_SIZE_IDX). */
export const NO_SIZE_CLASS = -1;

function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

/**
 * The derived tables of one layout: everything `pymalloc.ts` needs per size class, precomputed
 * into typed arrays. Construction validates the parameters (obmalloc asserts the same invariants
 * at compile time) and throws `UsageError` naming the parameter at fault.
 */
export class SizeClassTable {
  readonly alignment: number;
  readonly alignmentShift: number;
  readonly smallThreshold: number;
  readonly poolSize: number;
  /** POOL_OVERHEAD: the header rounded up to the alignment. */
  readonly poolOverhead: number;
  readonly arenaSize: number;
  /** Pools in an aligned arena (ARENA_SIZE / POOL_SIZE, MAX_POOLS_IN_ARENA). */
  readonly maxPoolsPerArena: number;
  /** Pools each modelled arena really holds (one fewer when arenas are unaligned). */
  readonly poolsPerArena: number;
  /** Number of size classes (NB_SMALL_SIZE_CLASSES). */
  readonly count: number;
  /** Block size of each class: (index + 1) × alignment (INDEX2SIZE). */
  readonly blockSize: Int32Array;
  /** Blocks a pool of each class holds: ⌊(pool − overhead) / size⌋ (NUMBLOCKS). */
  readonly blocksPerPool: Int32Array;
  /** Bytes at the end of each pool that no block fits in: (pool − overhead) mod size. */
  readonly quantizationLoss: Int32Array;
  /** Most blocks any pool can hold (class 0); the stride of per-block arrays. */
  readonly maxBlocksPerPool: number;

  constructor(params: PymallocParams) {
    const { alignment, small_threshold: threshold, pool_size: poolSize, pool_header: header, arena_size: arenaSize } = params;
    if (!isPowerOfTwo(alignment) || alignment < 8 || alignment > 4096) {
      throw new UsageError(`pool parameter alignment must be a power of two from 8 to 4096, got ${alignment}`);
    }
    if (!Number.isInteger(threshold) || threshold < alignment || threshold % alignment !== 0 || threshold > MAX_SMALL_THRESHOLD_BYTES) {
      throw new UsageError(`pool parameter small_threshold must be a multiple of alignment (${alignment}) from ${alignment} to ${MAX_SMALL_THRESHOLD_BYTES}, got ${threshold}`);
    }
    if (!Number.isInteger(header) || header < 0) {
      throw new UsageError(`pool parameter pool_header must be an integer >= 0, got ${header}`);
    }
    const overhead = roundUp(header, alignment);
    // A new pool hands out its first block and puts the second on the free list without checking
    // that it exists [v3.11.2 Objects/obmalloc.c: allocate_from_new_pool], so every class needs
    // two blocks per pool.
    if (!isPowerOfTwo(poolSize) || poolSize - overhead < 2 * threshold) {
      throw new UsageError(
        `pool parameter pool_size must be a power of two holding the ${overhead}-byte header and two ${threshold}-byte blocks (at least ${overhead + 2 * threshold}), got ${poolSize}`,
      );
    }
    if (!Number.isInteger(arenaSize) || arenaSize % poolSize !== 0 || arenaSize / poolSize < 3 || arenaSize > MAX_ARENA_SIZE_BYTES) {
      throw new UsageError(`pool parameter arena_size must be a multiple of pool_size (${poolSize}) holding at least 3 pools, at most ${MAX_ARENA_SIZE_BYTES} (1 GiB), got ${arenaSize}`);
    }
    for (const flag of ['unaligned_arenas', 'keep_free_arena'] as const) {
      if (params[flag] !== 0 && params[flag] !== 1) throw new UsageError(`pool parameter ${flag} must be 0 or 1, got ${params[flag]}`);
    }
    this.alignment = alignment;
    this.alignmentShift = Math.log2(alignment);
    this.smallThreshold = threshold;
    this.poolSize = poolSize;
    this.poolOverhead = overhead;
    this.arenaSize = arenaSize;
    this.maxPoolsPerArena = arenaSize / poolSize;
    this.poolsPerArena = this.maxPoolsPerArena - params.unaligned_arenas;
    this.count = threshold / alignment;
    this.blockSize = new Int32Array(this.count);
    this.blocksPerPool = new Int32Array(this.count);
    this.quantizationLoss = new Int32Array(this.count);
    const usable = poolSize - overhead;
    for (let i = 0; i < this.count; i++) {
      const size = (i + 1) * alignment;
      this.blockSize[i] = size;
      this.blocksPerPool[i] = Math.floor(usable / size);
      this.quantizationLoss[i] = usable % size;
    }
    this.maxBlocksPerPool = this.blocksPerPool[0];
  }

  /**
   * The class of a request, or -1 when it goes to malloc: `(nbytes - 1) >> ALIGNMENT_SHIFT` for
   * 1..threshold; 0 and larger requests are refused by pymalloc
   * [v3.11.2 Objects/obmalloc.c: pymalloc_alloc, `nbytes - 1 >= SMALL_REQUEST_THRESHOLD`].
   */
  classOf(size: number): number {
    return size >= 1 && size <= this.smallThreshold ? (size - 1) >> this.alignmentShift : -1;
  }
}
