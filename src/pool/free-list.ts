/**
 * CPython's per-type free lists: dead objects of a few built-in types are parked in a private
 * LIFO list instead of being given back to the allocator, and the next object of that type takes
 * one back. Two things follow, and both the collector and the allocator model depend on them:
 *
 * 1. A pop skips `PyObject_GC_New` and a push skips `PyObject_GC_Del`, so neither changes the
 *    generation-0 count (`cpython-memory.md` §1.1, §8). A list made from the free list does not
 *    count as a GC allocation.
 * 2. The parked object keeps its memory block: pymalloc sees no free and no malloc.
 *
 * Every generation-2 collection empties the lists (`gcmodule.c: clear_freelists`, 3.11/3.12;
 * `Objects/object.c: _PyObject_ClearFreeLists`, 3.13+); parked GC objects then go through
 * `PyObject_GC_Del`, which lowers the count (floored at 0), and their blocks go back to the pool.
 *
 * Capacities per version [v3.11.2 Include/internal/pycore_*.h; v3.13.5
 * Include/internal/pycore_freelist.h; v3.14.7 Include/internal/pycore_freelist_state.h]:
 * | type  | 3.7 – 3.10 | 3.11 / 3.12 | 3.13 | 3.14 |
 * |-------|------------|-------------|------|------|
 * | float | 100        | 100         | 100  | 100  |
 * | int   | –          | –           | –    | 100 (exact compact ints) |
 * | list  | 80         | 80          | 80   | 80   |
 * | dict  | 80         | 80          | 80   | 80   |
 * | tuple | 2000 per length 1..19 | 2000 per length 1..20 | same | same |
 * From 3.11, tuples of length 20 are pushed but, up to 3.12.4, only lengths 1..19 are popped
 * (`tupleobject.c: maybe_freelist_pop`, `size < PyTuple_MAXSAVESIZE`; fixed by gh-121439 in
 * 3.12.5), so 20-tuples pile up unused until a full collection.
 */
import { UsageError } from '../errors.js';
import { grown } from '../typed-arrays.js';

/** How CPython treats objects of a type name. Every other name is a plain class instance. */
export const TypeKind = { plain: 0, list: 1, dict: 2, tuple: 3, float: 4, int: 5 } as const;
export type TypeKindCode = (typeof TypeKind)[keyof typeof TypeKind];

const KIND_BY_NAME: ReadonlyMap<string, TypeKindCode> = new Map([
  ['list', TypeKind.list],
  ['dict', TypeKind.dict],
  ['tuple', TypeKind.tuple],
  ['float', TypeKind.float],
  ['int', TypeKind.int],
]);

export function typeKindOf(typeName: string): TypeKindCode {
  return KIND_BY_NAME.get(typeName) ?? TypeKind.plain;
}

/** Whether objects of a kind are GC containers in CPython (floats and ints are not). */
export function isGcKind(kind: TypeKindCode): boolean {
  return kind === TypeKind.list || kind === TypeKind.dict || kind === TypeKind.tuple;
}

/**
 * Bytes of a tuple of `n` items on 64-bit CPython, GC header included: 16 (PyGC_Head) + 24
 * (PyVarObject header) + 8·n. `sys.getsizeof((1,))` is 48. A trace gives tuples a size, not a
 * length, so the length is read back from it; other sizes get no free list.
 */
export const TUPLE_BASE_BYTES = 40;
export const POINTER_BYTES = 8;

export function tupleLength(size: number): number {
  const items = (size - TUPLE_BASE_BYTES) / POINTER_BYTES;
  return Number.isInteger(items) && items >= 0 ? items : -1;
}

/** A compact (one-digit) int is 28 bytes on 64-bit; larger ints never use the 3.14 int free list. */
export const COMPACT_INT_MAX_BYTES = 28;

export interface FreeListConfig {
  /** Name used by `--freelists`: "3.11", "3.12.1", "3.13", "3.14" or "none". */
  name: string;
  float: number;
  int: number;
  list: number;
  dict: number;
  /** Capacity of each per-length tuple list. */
  tuple: number;
  /** Longest tuple pushed on a free list (PyTuple_MAXSAVESIZE). */
  tupleMaxLength: number;
  /** Longest tuple popped from a free list: 19 before gh-121439, else 20. */
  tuplePopMaxLength: number;
}

export const FREE_LIST_CONFIGS: Readonly<Record<string, FreeListConfig>> = {
  none: { name: 'none', float: 0, int: 0, list: 0, dict: 0, tuple: 0, tupleMaxLength: 0, tuplePopMaxLength: 0 },
  '3.10': { name: '3.10', float: 100, int: 0, list: 80, dict: 80, tuple: 2000, tupleMaxLength: 19, tuplePopMaxLength: 19 },
  '3.11': { name: '3.11', float: 100, int: 0, list: 80, dict: 80, tuple: 2000, tupleMaxLength: 20, tuplePopMaxLength: 19 },
  '3.12.1': { name: '3.12.1', float: 100, int: 0, list: 80, dict: 80, tuple: 2000, tupleMaxLength: 20, tuplePopMaxLength: 19 },
  '3.12': { name: '3.12', float: 100, int: 0, list: 80, dict: 80, tuple: 2000, tupleMaxLength: 20, tuplePopMaxLength: 20 },
  '3.13': { name: '3.13', float: 100, int: 0, list: 80, dict: 80, tuple: 2000, tupleMaxLength: 20, tuplePopMaxLength: 20 },
  '3.14': { name: '3.14', float: 100, int: 100, list: 80, dict: 80, tuple: 2000, tupleMaxLength: 20, tuplePopMaxLength: 20 },
};

/** The free-list configuration named by `--freelists` (or a collector release). */
export function freeListConfig(name: string): FreeListConfig {
  if (!Object.prototype.hasOwnProperty.call(FREE_LIST_CONFIGS, name)) {
    throw new UsageError(`unknown free-list model "${name}"; choose one of ${Object.keys(FREE_LIST_CONFIGS).join(', ')}`);
  }
  return FREE_LIST_CONFIGS[name];
}

/** Hits, misses and overflows of one free list, for the report. */
export interface FreeListStats {
  type: string;
  capacity: number;
  /** Allocations served from the list. */
  hits: number;
  /** Allocations that found it empty. */
  misses: number;
  /** Deaths that found it full (the object went back to the allocator). */
  overflows: number;
  /** Deaths parked on the list. */
  parked: number;
  /** Entries dropped by collections that emptied the list. */
  cleared: number;
  /** Entries on the list now. */
  current: number;
}

/** One LIFO list of parked memory-block handles. */
class ParkingList {
  private handles: Int32Array;
  length = 0;
  hits = 0;
  misses = 0;
  overflows = 0;
  parked = 0;
  cleared = 0;

  constructor(readonly capacity: number) {
    this.handles = new Int32Array(Math.min(capacity, 64));
  }

  push(handle: number): boolean {
    if (this.length >= this.capacity) {
      this.overflows++;
      return false;
    }
    if (this.length === this.handles.length) this.handles = grown(this.handles, Math.min(this.capacity, this.handles.length * 2));
    this.handles[this.length++] = handle;
    this.parked++;
    return true;
  }

  pop(): number {
    if (this.length === 0) {
      this.misses++;
      return -1;
    }
    this.hits++;
    return this.handles[--this.length];
  }

  drain(release: (handle: number) => void): number {
    const n = this.length;
    // LIFO from the top, as CPython's clear loops pop their lists.
    while (this.length > 0) release(this.handles[--this.length]);
    this.cleared += n;
    return n;
  }
}

const TUPLE_LISTS = 20;

/**
 * The free lists of one interpreter. `reuse` and `park` are called on the allocation and death of
 * every object whose kind has a list; both are O(1).
 */
export class FreeLists {
  private readonly float: ParkingList;
  private readonly int: ParkingList;
  private readonly list: ParkingList;
  private readonly dict: ParkingList;
  /** `tuples[n - 1]` holds tuples of length n. */
  private readonly tuples: ParkingList[];

  constructor(readonly config: FreeListConfig) {
    this.float = new ParkingList(config.float);
    this.int = new ParkingList(config.int);
    this.list = new ParkingList(config.list);
    this.dict = new ParkingList(config.dict);
    this.tuples = Array.from({ length: TUPLE_LISTS }, () => new ParkingList(config.tuple));
  }

  /** The list an object of this kind and size would use, or null. */
  private listFor(kind: TypeKindCode, size: number): ParkingList | null {
    switch (kind) {
      case TypeKind.list:
        return this.config.list > 0 ? this.list : null;
      case TypeKind.dict:
        return this.config.dict > 0 ? this.dict : null;
      case TypeKind.float:
        return this.config.float > 0 ? this.float : null;
      case TypeKind.int:
        return this.config.int > 0 && size <= COMPACT_INT_MAX_BYTES ? this.int : null;
      case TypeKind.tuple: {
        const n = tupleLength(size);
        return n >= 1 && n <= this.config.tupleMaxLength ? this.tuples[n - 1] : null;
      }
      default:
        return null;
    }
  }

  /**
   * An object of `kind` and `size` is being created: returns the memory-block handle of a parked
   * object to reuse, or -1 when the allocator must serve it.
   */
  reuse(kind: TypeKindCode, size: number): number {
    if (kind === TypeKind.plain) return -1;
    if (kind === TypeKind.tuple && tupleLength(size) > this.config.tuplePopMaxLength) return -1;
    const list = this.listFor(kind, size);
    return list === null ? -1 : list.pop();
  }

  /** An object dies: parks its block and returns true, or returns false when there is no room. */
  park(kind: TypeKindCode, size: number, handle: number): boolean {
    if (kind === TypeKind.plain) return false;
    const list = this.listFor(kind, size);
    return list === null ? false : list.push(handle);
  }

  /**
   * Empties every list, as a generation-2 collection does. `release` receives each parked block.
   * Returns how many of the dropped objects were GC objects (each lowers the young count).
   * Clearing order follows `gcmodule.c: clear_freelists` (tuple, float, list, dict).
   */
  clear(release: (handle: number) => void): number {
    let gcObjects = 0;
    for (const tuples of this.tuples) gcObjects += tuples.drain(release);
    this.float.drain(release);
    this.int.drain(release);
    gcObjects += this.list.drain(release);
    gcObjects += this.dict.drain(release);
    return gcObjects;
  }

  stats(): FreeListStats[] {
    const row = (type: string, list: ParkingList): FreeListStats => ({
      type,
      capacity: list.capacity,
      hits: list.hits,
      misses: list.misses,
      overflows: list.overflows,
      parked: list.parked,
      cleared: list.cleared,
      current: list.length,
    });
    const rows = [row('float', this.float), row('list', this.list), row('dict', this.dict)];
    if (this.config.int > 0) rows.push(row('int', this.int));
    this.tuples.forEach((list, i) => {
      if (list.hits + list.misses + list.parked + list.overflows > 0) rows.push(row(`tuple[${i + 1}]`, list));
    });
    return rows;
  }

  /** Entries parked now, over all lists. */
  get parkedNow(): number {
    let n = this.float.length + this.int.length + this.list.length + this.dict.length;
    for (const list of this.tuples) n += list.length;
    return n;
  }
}
