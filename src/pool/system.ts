/**
 * The system allocator (glibc malloc on 64-bit Linux), as a byte-counting model.
 *
 * It serves two purposes: the `malloc` policy, a baseline where every request goes to malloc (what
 * `PYTHONMALLOC=malloc` does), and the fallback of the pymalloc policies for requests they refuse
 * (size 0, above the small-request threshold, and blocks that realloc moved there).
 *
 * What is modelled is the size of the chunk each request occupies, not where it lands:
 * - A chunk carries an 8-byte size header (SIZE_SZ) and is a multiple of 16 bytes
 *   (MALLOC_ALIGNMENT), at least 32 (MINSIZE): `chunk = max(32, (n + 8 + 15) & ~15)`
 *   [glibc 2.36 malloc/malloc.c: request2size]. So a 24-byte request costs 32 bytes and a 25-byte
 *   one 48. `malloc(0)` also returns a 32-byte chunk; CPython never asks for 0 anyway (it asks for
 *   1, [v3.11.2 Objects/obmalloc.c: _PyMem_RawMalloc]).
 * - Chunks of at least M_MMAP_THRESHOLD (128 KiB) are mapped on their own, rounded up to whole
 *   pages with the header: `ALIGN_UP(chunk + 8, 4096)` [glibc 2.36 malloc/malloc.c:
 *   sysmalloc_mmap].
 * Checked against `malloc_usable_size` on the glibc 2.36 here (test/pool/system.test.ts).
 *
 * NOTE: approximations, on purpose. glibc raises the mmap threshold dynamically when a mapped
 * chunk is freed (up to 32 MiB), may serve a large request from the top of the heap when it has
 * room (seen here for chunks just above 128 KiB), hands out a free chunk up to 24 bytes larger
 * than needed whole (the rest could not form a chunk), and keeps freed chunks in bins and arenas
 * whose memory is not returned to the system. The
 * model counts the chunks of the blocks alive now, as if freed memory went straight back; it is
 * a lower bound of the process's real footprint, comparable across policies.
 *
 * State: one row per live block in typed arrays indexed by a dense handle; freed handles are
 * reused LIFO so the tables stay as small as the peak number of live blocks.
 */
import { UsageError } from '../errors.js';
import { isPowerOfTwo, type MallocStats, type PoolModule, type PoolPolicy, type PoolSample, type PoolSnapshot } from './pool.js';
import { grown } from '../typed-arrays.js';

export type MallocParams = {
  /** SIZE_SZ: bytes of chunk header. Default: 8. */
  chunk_header: number;
  /** MALLOC_ALIGNMENT: chunk sizes are its multiples. Default: 16. */
  chunk_alignment: number;
  /** MINSIZE: the smallest chunk. Default: 32. */
  min_chunk: number;
  /** M_MMAP_THRESHOLD: chunks this large are mapped on their own. Default: 131072. */
  mmap_threshold: number;
  /** Page size for mapped chunks. Default: 4096. */
  page_size: number;
};

/** glibc 2.36 on x86-64 / aarch64 Linux. */
export const GLIBC_MALLOC_PARAMS: Readonly<MallocParams> = {
  chunk_header: 8,
  chunk_alignment: 16,
  min_chunk: 32,
  mmap_threshold: 131072,
  page_size: 4096,
};

const MALLOC_PARAM_DOCS: Record<keyof MallocParams, string> = {
  chunk_header: 'SIZE_SZ: bytes of header per chunk',
  chunk_alignment: 'MALLOC_ALIGNMENT: chunk sizes are multiples of it (power of two)',
  min_chunk: 'MINSIZE: the smallest chunk in bytes',
  mmap_threshold: 'M_MMAP_THRESHOLD: chunks at least this large are mmapped and rounded up to pages',
  page_size: 'page size for mmapped chunks (power of two)',
};

export function validateMallocParams(params: MallocParams): void {
  for (const name of ['chunk_alignment', 'page_size'] as const) {
    if (!isPowerOfTwo(params[name])) throw new UsageError(`pool parameter ${name} must be a power of two, got ${params[name]}`);
  }
  for (const name of ['chunk_header', 'min_chunk', 'mmap_threshold'] as const) {
    if (!Number.isInteger(params[name]) || params[name] < 0) throw new UsageError(`pool parameter ${name} must be an integer >= 0, got ${params[name]}`);
  }
}

/** Bytes a malloc'd request of `size` bytes occupies (see the header comment). */
export function chunkBytes(size: number, params: Readonly<MallocParams> = GLIBC_MALLOC_PARAMS): number {
  const mask = params.chunk_alignment - 1;
  const padded = size + params.chunk_header + mask;
  const chunk = padded < params.min_chunk ? params.min_chunk : padded - (padded % params.chunk_alignment);
  if (chunk < params.mmap_threshold) return chunk;
  const page = params.page_size;
  return Math.ceil((chunk + params.chunk_header) / page) * page;
}

/**
 * The live malloc'd blocks and their byte counts. Handles are dense indexes from 0; O(1) per
 * operation.
 */
export class SystemHeap {
  private requested = new Float64Array(64);
  private reserved = new Float64Array(64);
  /** Stack of freed handles, reused last-in first-out. */
  private freeHandles = new Int32Array(64);
  private freeCount = 0;
  private nextHandle = 0;

  allocations = 0;
  frees = 0;
  reallocs = 0;
  blocksInUse = 0;
  bytesRequested = 0;
  bytesReserved = 0;
  peakBytesReserved = 0;

  constructor(private readonly params: Readonly<MallocParams> = GLIBC_MALLOC_PARAMS) {}

  allocate(size: number): number {
    let handle: number;
    if (this.freeCount > 0) {
      handle = this.freeHandles[--this.freeCount];
    } else {
      handle = this.nextHandle++;
      if (handle === this.requested.length) this.grow();
    }
    const chunk = chunkBytes(size, this.params);
    this.requested[handle] = size;
    this.reserved[handle] = chunk;
    this.allocations++;
    this.blocksInUse++;
    this.bytesRequested += size;
    this.bytesReserved += chunk;
    if (this.bytesReserved > this.peakBytesReserved) this.peakBytesReserved = this.bytesReserved;
    return handle;
  }

  release(handle: number): void {
    if (handle < 0 || handle >= this.nextHandle || this.reserved[handle] === 0) {
      throw new Error(`malloc model: release of handle ${handle}, which is not live; this is a bug in memreplay`);
    }
    this.bytesRequested -= this.requested[handle];
    this.bytesReserved -= this.reserved[handle];
    this.reserved[handle] = 0;
    this.requested[handle] = 0;
    this.frees++;
    this.blocksInUse--;
    if (this.freeCount === this.freeHandles.length) {
      this.freeHandles = grown(this.freeHandles, this.freeHandles.length * 2);
    }
    this.freeHandles[this.freeCount++] = handle;
  }

  /** `realloc(p, size)`: the handle stays, the chunk is recomputed (moved or not, same bytes). */
  resize(handle: number, size: number): void {
    const chunk = chunkBytes(size, this.params);
    this.bytesRequested += size - this.requested[handle];
    this.bytesReserved += chunk - this.reserved[handle];
    this.requested[handle] = size;
    this.reserved[handle] = chunk;
    this.reallocs++;
    if (this.bytesReserved > this.peakBytesReserved) this.peakBytesReserved = this.bytesReserved;
  }

  /** Requested size of a live block. */
  sizeOf(handle: number): number {
    return this.requested[handle];
  }

  stats(): MallocStats {
    return {
      allocations: this.allocations,
      frees: this.frees,
      reallocs: this.reallocs,
      blocksInUse: this.blocksInUse,
      bytesRequested: this.bytesRequested,
      bytesReserved: this.bytesReserved,
      peakBytesReserved: this.peakBytesReserved,
    };
  }

  private grow(): void {
    const n = this.requested.length * 2;
    this.requested = grown(this.requested, n);
    this.reserved = grown(this.reserved, n);
  }
}

/** The `malloc` policy: CPython with `PYTHONMALLOC=malloc`, every request a malloc chunk. */
export class SystemMallocPolicy implements PoolPolicy {
  readonly name = 'malloc';
  private readonly heap: SystemHeap;

  constructor(private readonly params: Readonly<MallocParams>) {
    this.heap = new SystemHeap(params);
  }

  allocate(size: number): number {
    // PyMem_RawMalloc(0) asks malloc for 1 byte [v3.11.2 Objects/obmalloc.c: _PyMem_RawMalloc].
    return this.heap.allocate(size === 0 ? 1 : size);
  }

  release(handle: number): void {
    this.heap.release(handle);
  }

  resize(handle: number, size: number): number {
    this.heap.resize(handle, size === 0 ? 1 : size);
    return handle;
  }

  sizeClassOf(): number {
    return -1;
  }

  /** Malloc keeps no arenas or pools, and does not say whether a chunk was used before. */
  snapshot(): PoolSnapshot {
    const heap = this.heap;
    return {
      policy: this.name,
      params: { ...this.params },
      sizeClasses: [],
      arenas: { allocated: 0, reclaimed: 0, highWater: 0, current: 0 },
      pools: { inUse: 0, empty: 0, neverUsed: 0, peakInUse: 0 },
      malloc: heap.stats(),
      bytesRequested: heap.bytesRequested,
      bytesReserved: heap.bytesReserved,
      peakBytesReserved: heap.peakBytesReserved,
      blocksFresh: 0,
      blocksReused: 0,
      fragmentation: { internal: heap.bytesReserved - heap.bytesRequested, pool: 0, arena: 0 },
      arenaUsage: { arenaBytes: 0, arenas: [], omitted: 0 },
    };
  }

  sample(): PoolSample {
    const heap = this.heap;
    return { arenas: 0, poolsInUse: 0, bytesRequested: heap.bytesRequested, bytesReserved: heap.bytesReserved, blocksFresh: 0, blocksReused: 0 };
  }
}

export const malloc: PoolModule<MallocParams> = {
  name: 'malloc',
  description: 'every request goes to the system allocator (glibc chunk sizes: 16-byte granularity, 8-byte header, 32-byte minimum, mmap above 128 KiB)',
  releases: 'any (PYTHONMALLOC=malloc)',
  defaultParams: { ...GLIBC_MALLOC_PARAMS },
  paramDocs: MALLOC_PARAM_DOCS,
  create(params: MallocParams): PoolPolicy {
    validateMallocParams(params);
    return new SystemMallocPolicy(params);
  },
};
