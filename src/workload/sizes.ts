/**
 * Request sizes of common objects on 64-bit CPython 3.12, as `sys.getsizeof` reports them (GC
 * header and managed-dict pre-header included): what a workload writes as an `alloc`'s `size`.
 * `test/workload/sizes.test.ts` checks every function here against a real 3.12 interpreter.
 *
 * Where CPython makes two allocations for one object (a list and its item array, a dict and its
 * keys table), the size is their sum, as `sys.getsizeof` gives it, and a growing container is
 * written as a `resize` of that sum. A trace has one block per object; this is the closest it can
 * get, and it keeps sizes comparable with what a user sees in Python.
 *
 * Objects CPython never allocates are not allocated by workloads either: small ints −5…256, the
 * empty str/bytes/tuple and one-character latin-1 strs are static singletons
 * [v3.12.5 Include/internal/pycore_global_objects.h: _Py_SINGLETON].
 */

/** `sys.getsizeof(C())` for a plain class instance: 16 GC header + 16 pre-header + 16 object. 56 on 3.11. */
export const INSTANCE_BYTES = 48;
/** `sys.getsizeof(1.5)`. */
export const FLOAT_BYTES = 24;
/** An exception instance, `sys.getsizeof(ValueError('x'))`. */
export const EXCEPTION_BYTES = 88;
/** A traceback object, `sys.getsizeof(e.__traceback__)`. */
export const TRACEBACK_BYTES = 56;
/** A frame object materialised for a traceback: a small view function's frame (it varies with the code's stack size). */
export const FRAME_BYTES = 184;
/** A function object, `sys.getsizeof(f)`. */
export const FUNCTION_BYTES = 160;
/** A small function's code object (`def f(a, b): x = a + b; return x`); code objects are not GC containers. */
export const CODE_BYTES = 208;
/** A module object, without its `__dict__`. */
export const MODULE_BYTES = 72;
/** A class (heap type object), `sys.getsizeof(C)`. */
export const CLASS_BYTES = 1704;

/** Largest and smallest ints CPython keeps as preallocated singletons [_PY_NSMALLPOSINTS 257, _PY_NSMALLNEGINTS 5]. */
export const SMALL_INT_MAX = 256;
export const SMALL_INT_MIN = -5;

/** `sys.getsizeof(n)`: 24 bytes of header plus one 4-byte digit per 30 bits (0 has one digit). */
export function intBytes(value: number): number {
  let magnitude = Math.abs(Math.trunc(value));
  let digits = 1;
  while (magnitude >= 2 ** 30) {
    magnitude = Math.floor(magnitude / 2 ** 30);
    digits++;
  }
  return 24 + 4 * digits;
}

/**
 * `sys.getsizeof(s)` for an ASCII str of `length` characters: 40-byte PyASCIIObject + characters +
 * NUL. (3.11 is 8 bytes more: its PyASCIIObject still had the `wstr` pointer, removed in 3.12 by
 * PEP 623.)
 */
export function strBytes(length: number): number {
  return 41 + length;
}

/** `sys.getsizeof(b)` for bytes of `length`: 32-byte header (with the cached hash) + data + NUL. */
export function bytesBytes(length: number): number {
  return 33 + length;
}

/** `sys.getsizeof(t)` for a tuple of `n` items: 16 GC header + 24 PyVarObject header + 8 per item. */
export function tupleBytes(n: number): number {
  return 40 + 8 * n;
}

/** `sys.getsizeof(l)` for a list whose item array has room for `capacity` items. */
export function listBytes(capacity: number): number {
  return 56 + 8 * capacity;
}

/**
 * The capacity of a list's item array after it grows from `size - 1` to `size` items by
 * `append`, given its capacity before [v3.12.5 Objects/listobject.c: list_resize]: unchanged if
 * it fits; otherwise about 1/8 more than needed plus 6, rounded down to a multiple of 4.
 */
export function listCapacityAfterAppend(capacity: number, size: number): number {
  if (capacity >= size) return capacity;
  let grown = (size + (size >> 3) + 6) & ~3;
  // list_resize: "Do not overallocate if the new size is closer to overallocated size than to
  // the old size" — never true for a single append, kept for fidelity with the source.
  if (size - (size - 1) > grown - size) grown = (size + 3) & ~3;
  return grown;
}

/** Smallest keys table (log2 of its slot count) a dict uses [PyDict_LOG_MINSIZE 3]. */
const DICT_LOG_MINSIZE = 3;

/** Usable entries of a keys table of `2^log2Size` slots [USABLE_FRACTION: 2/3, rounded down]. */
function usableEntries(log2Size: number): number {
  return ((1 << log2Size) << 1) / 3 | 0;
}

/**
 * `sys.getsizeof(d)` for a dict whose keys table has `2^log2Size` slots (or none: `log2Size` 0
 * for the shared empty table of `{}`): 64 for the object, plus the keys object, 32 bytes of
 * header, the index array (1, 2, 4 or 8 bytes per slot), and the entries: 16 bytes each when all
 * keys are str, 24 otherwise [v3.12.5 Objects/dictobject.c: _PyDict_SizeOf, new_keys_object].
 */
export function dictBytesForTable(log2Size: number, strKeys: boolean): number {
  if (log2Size === 0) return 64;
  const slots = 1 << log2Size;
  const indexBytes = log2Size < 8 ? 1 : log2Size < 16 ? 2 : log2Size < 32 ? 4 : 8;
  return 64 + 32 + slots * indexBytes + usableEntries(log2Size) * (strKeys ? 16 : 24);
}

/** The smallest table (log2 of slots) whose usable entries hold `n` items; 0 for an empty dict. */
function tableFor(n: number): number {
  if (n === 0) return 0;
  let log2Size = DICT_LOG_MINSIZE;
  while (usableEntries(log2Size) < n) log2Size++;
  return log2Size;
}

/** `sys.getsizeof` of a dict holding `n` items built by insertion or as a literal. */
export function dictBytes(n: number, strKeys = true): number {
  return dictBytesForTable(tableFor(n), strKeys);
}

/**
 * The size of one dict as items are inserted and deleted, following CPython's keys table: a
 * deleted entry leaves a dummy behind, so the table fills with insertions alone; when it is full
 * the next insertion rebuilds it for `3 × used` items, which can shrink it
 * [v3.12.5 Objects/dictobject.c: insertion_resize, GROWTH_RATE, calculate_log2_keysize].
 */
export class DictShape {
  /** Live items. */
  used = 0;
  /** Entries consumed in the current table, deleted ones included (`dk_nentries`). */
  private entries = 0;
  /** log2 of the table's slot count; 0 while the dict has no table of its own. */
  private log2Size = 0;

  constructor(private readonly strKeys: boolean) {}

  /** Bytes the dict occupies now. */
  get bytes(): number {
    return dictBytesForTable(this.log2Size, this.strKeys);
  }

  /** Adds a new key. Returns true when the dict had to reallocate (its size changed). */
  insert(): boolean {
    const before = this.bytes;
    // insertdict: `if (mp->ma_keys->dk_usable <= 0) insertion_resize(...)`; `{}` starts on the
    // shared empty table, whose usable count is 0.
    if (this.log2Size === 0 || this.entries >= usableEntries(this.log2Size)) {
      this.log2Size = calculateLog2KeySize(this.used * 3);
      this.entries = this.used;
    }
    this.used++;
    this.entries++;
    return this.bytes !== before;
  }

  /** Removes a key (its entry stays consumed until the next rebuild). */
  delete(): void {
    this.used--;
  }
}

/**
 * calculate_log2_keysize, bit for bit: `bit_length(((minimum | 8) - 1) | 7)`. For the multiples
 * of 3 that GROWTH_RATE passes it, this is the smallest power of two ≥ `minimum`, at least 2^3.
 */
function calculateLog2KeySize(minimum: number): number {
  const bits = ((minimum | (1 << DICT_LOG_MINSIZE)) - 1) | ((1 << DICT_LOG_MINSIZE) - 1);
  return 32 - Math.clz32(bits);
}
