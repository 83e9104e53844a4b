/**
 * The allocator-policy interface: what the replay engine asks of a model of the memory allocator
 * underneath CPython's objects (the system malloc, or pymalloc's arenas → pools → blocks).
 *
 * The engine calls `allocate` when an object is created (unless a per-type free list hands back a
 * parked object, see `free-list.ts`), `release` when its memory goes back, and `resize` for
 * `resize` events. Handles are small non-negative integers owned by the policy; the engine stores
 * one per live object and never interprets it.
 *
 * Policies are observed, not asked to compute report statistics: `snapshot()` exposes the
 * allocator's state in `sys._debugmallocstats()` terms, and the engine samples it.
 */

/** One row of `sys._debugmallocstats()`'s size-class table, plus what a replay can add. */
export interface SizeClassStats {
  /** Size-class index (0-based). */
  index: number;
  /** Block size in bytes. */
  size: number;
  /** Pools of this class with at least one block in use ("num pools"). */
  poolsInUse: number;
  /** Blocks handed out and not yet freed ("blocks in use"). */
  blocksInUse: number;
  /** Free blocks in the in-use pools of this class, never-used blocks included ("avail blocks"). */
  availBlocks: number;
  /** Highest `blocksInUse` seen. */
  peakBlocksInUse: number;
  /** Highest `poolsInUse` seen. */
  peakPoolsInUse: number;
  /** Allocation requests served by this class. */
  requests: number;
  /** Requests served by a block that had been used before (from a pool's free-block list). */
  reusedBlocks: number;
  /** Requests served by a never-used block. */
  freshBlocks: number;
  /** Sum of the requested sizes of the blocks in use, for internal fragmentation. */
  bytesRequested: number;
}

export interface ArenaStats {
  /** Arenas ever allocated ("# arenas allocated total"). */
  allocated: number;
  /** Arenas given back to the system ("# arenas reclaimed"). */
  reclaimed: number;
  /** Most arenas alive at once ("# arenas highwater mark"). */
  highWater: number;
  /** Arenas alive now ("# arenas allocated current"). */
  current: number;
}

/** Requests that bypassed the small-object allocator (too large, size 0, or the malloc policy). */
export interface MallocStats {
  /** Calls to malloc (including moves by realloc). */
  allocations: number;
  frees: number;
  reallocs: number;
  /** Blocks currently held from malloc. */
  blocksInUse: number;
  /** Bytes requested by those blocks. */
  bytesRequested: number;
  /** Bytes they really occupy (malloc granularity and per-chunk overhead included). */
  bytesReserved: number;
  peakBytesReserved: number;
}

/**
 * How full one live arena is. An arena goes back to the system only when all its pools are
 * empty, so a few long-lived blocks can keep a whole arena (1 MiB on 3.10+) reserved: memory
 * pinned by the allocator, not by objects, which a leak report must tell apart from leaks.
 */
export interface ArenaUsage {
  /** Arena slot (the index in obmalloc.c's `arenas` vector); slots are reused after an arena is freed. */
  arena: number;
  /** Usable pools in the arena (`ntotalpools`). */
  pools: number;
  /** Pools with at least one block in use. */
  poolsInUse: number;
  /** Blocks in use in the arena. */
  blocksInUse: number;
  /** Bytes of those blocks (their block sizes, which is what they keep from being reused). */
  blockBytes: number;
}

/** MAX_LISTED_ARENAS: arenas listed one by one in a snapshot (the least used first); the rest are counted. */
export const MAX_LISTED_ARENAS = 100;

/**
 * True for 1, 2, 4, … (exact integers only). For allocator parameters, which may exceed 32 bits:
 * not `n & (n - 1)`, whose operands JavaScript cuts to 32 bits (2^32 + 16 passed).
 */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

export interface PoolSnapshot {
  policy: string;
  /** The parameters in effect (alignment, small_threshold, pool_size, ...). */
  params: Record<string, number>;
  /** One entry per size class (empty for the malloc policy). */
  sizeClasses: SizeClassStats[];
  arenas: ArenaStats;
  pools: {
    /** Pools with at least one block in use. */
    inUse: number;
    /** Carved pools that are empty and cached in their arena. */
    empty: number;
    /** Pools of live arenas never carved yet. */
    neverUsed: number;
    peakInUse: number;
  };
  malloc: MallocStats;
  /** Bytes requested by live blocks, small and large. */
  bytesRequested: number;
  /** Bytes reserved from the system: arenas plus malloc'd chunks. */
  bytesReserved: number;
  peakBytesReserved: number;
  /** Blocks served: fresh (never used) vs reused, over the whole replay. */
  blocksFresh: number;
  blocksReused: number;
  /** Fragmentation, in bytes. */
  fragmentation: {
    /** Block size minus requested size, over blocks in use. */
    internal: number;
    /** Free blocks inside pools that are in use (avail blocks × size) plus pool headers and quantization. */
    pool: number;
    /** Empty and never-used pools inside live arenas, plus arena alignment loss. */
    arena: number;
  };
  /**
   * Occupancy of the live arenas, the least used first (ties by slot), at most
   * `MAX_LISTED_ARENAS`; empty for policies without arenas.
   */
  arenaUsage: {
    /** Bytes one arena reserves (`arena_size`); 0 without arenas. */
    arenaBytes: number;
    arenas: ArenaUsage[];
    /** Live arenas left out of the list. */
    omitted: number;
  };
}

/** A few numbers cheap enough to read at every sample point of a time series. */
export interface PoolSample {
  arenas: number;
  poolsInUse: number;
  bytesRequested: number;
  bytesReserved: number;
  blocksFresh: number;
  blocksReused: number;
}

export interface PoolPolicy {
  readonly name: string;
  /** Serves a request of `size` bytes; returns the block's handle. */
  allocate(size: number): number;
  /** Gives a block back. */
  release(handle: number): void;
  /** Reallocates a block to `size` bytes (`pymalloc_realloc` rules); returns the handle, new or same. */
  resize(handle: number, size: number): number;
  /** The size class a request of `size` bytes would use, or -1 when it goes to malloc. */
  sizeClassOf(size: number): number;
  snapshot(): PoolSnapshot;
  sample(): PoolSample;
}

/** Describes a policy for the registry, `memreplay pools` and `--pool-param` validation. */
export interface PoolModule<Params extends Record<string, number> = Record<string, number>> {
  name: string;
  description: string;
  /** The CPython releases whose allocator this policy models, for the listing. */
  releases: string;
  defaultParams: Params;
  /** Meaning of each parameter, for `--help` and error messages. */
  paramDocs: Record<keyof Params & string, string>;
  /** Throws `UsageError` when a parameter combination is impossible. */
  create(params: Params): PoolPolicy;
}
