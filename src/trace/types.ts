/**
 * The trace vocabulary (format v1) and the compact event stream every decoder produces.
 *
 * Read this file first when working on `src/trace`: the JSON Schema in
 * `schemas/trace-event.schema.json` is the wire contract, and this file is its in-memory twin.
 *
 * Decoders turn JSON Lines, JSON documents and CSV into `EventChunk`s: columns of typed arrays,
 * one row per event, so that the replay loop touches no per-event objects. Strings that occur
 * once per object (type names, allocation sites) are interned in a trace-wide `StringTable`;
 * strings that can be unique per event (string object ids, mark labels) live in a table local to
 * their chunk, so the memory a decoder holds stays bounded by the chunk size, not the trace length.
 */

/** Operation codes. A const object, not an enum: `Op.alloc` is the code, `OpName` the wire name. */
export const Op = {
  alloc: 1,
  incref: 2,
  decref: 3,
  link: 4,
  unlink: 5,
  free: 6,
  resize: 7,
  collect: 8,
  gc: 9,
  threshold: 10,
  freeze: 11,
  unfreeze: 12,
  mark: 13,
} as const;

export type OpName = keyof typeof Op;
export type OpCode = (typeof Op)[OpName];

/** `OP_NAMES[code]` is the wire name of an op code (index 0 is unused). */
export const OP_NAMES: readonly (OpName | '')[] = (() => {
  const names: (OpName | '')[] = [''];
  for (const [name, code] of Object.entries(Op)) names[code] = name as OpName;
  return names;
})();

export const OP_COUNT = OP_NAMES.length;

export function isOpName(value: unknown): value is OpName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(Op, value);
}

/** Finalizer kinds of an allocated object, as stored in `EventChunk.flags` (bits 1-2). */
export const Finalizer = { none: 0, del: 1, legacy: 2 } as const;
export type FinalizerKind = (typeof Finalizer)[keyof typeof Finalizer];

/** Bits of `EventChunk.flags` for `alloc` rows. */
export const AllocFlag = {
  /** The object is not a GC container (`tracked: false`): int, str, bytes. */
  untracked: 1,
  /** Finalizer kind, shifted: `(flags >> FINALIZER_SHIFT) & 3`. */
  finalizerShift: 1,
} as const;

/** Identifier of an object as written in a trace: a non-negative integer or a string. */
export type ObjectId = number | string;

/**
 * One event as a plain object: what JSON and JSON Lines carry, what ajv validates, what tests and
 * the workload generator build. The replay engine never sees these; it reads `EventChunk` columns.
 */
export type TraceEvent =
  | { op: 'alloc'; id: ObjectId; type: string; size: number; tracked?: boolean; site?: string; finalizer?: 'del' | 'legacy'; t?: number }
  | { op: 'incref' | 'decref' | 'free'; id: ObjectId; t?: number }
  | { op: 'link' | 'unlink'; src: ObjectId; dst: ObjectId; t?: number }
  | { op: 'resize'; id: ObjectId; size: number; t?: number }
  | { op: 'collect'; gen?: number; t?: number }
  | { op: 'gc'; enabled: boolean; t?: number }
  | { op: 'threshold'; gen: number; value: number; t?: number }
  | { op: 'freeze' | 'unfreeze'; t?: number }
  | { op: 'mark'; label: string; t?: number };

/** Header `meta`: free-form, plus the fields memreplay reads. */
export interface TraceMeta {
  /** GC-tracked objects already in the oldest generation when the trace starts. */
  oldObjects?: number;
  /** Of `oldObjects`, those the interpreter's roots reach (3.14.1–3.14.4's incremental collector). */
  markedObjects?: number;
  /** The CPython version the trace was recorded from, e.g. "3.11.7". */
  python?: string;
  /** Unit of the `t` timestamps, e.g. "ns", "us", "ms", "s". */
  timeUnit?: string;
  [key: string]: unknown;
}

export interface TraceHeader {
  format: 'memreplay';
  version: 1;
  meta: TraceMeta;
}

/** The three encodings. */
export type TraceEncoding = 'jsonl' | 'json' | 'csv';

/**
 * Interns strings to dense non-negative integers. Keys are looked up in a `Map`, so names such as
 * `__proto__` are ordinary strings here.
 */
export class StringTable {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];

  intern(value: string): number {
    let id = this.index.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.index.set(value, id);
    }
    return id;
  }

  get(id: number): string {
    return this.values[id];
  }

  get size(): number {
    return this.values.length;
  }
}

/**
 * A run of decoded events in columnar form. Row `i` is event number `firstIndex + i` of the trace.
 *
 * Object keys (`obj`, and `arg` of link/unlink): a non-negative integer id is stored as itself; a
 * string id is stored as `-(k + 1)` where `k` indexes `strings`. Strings that spell a canonical
 * non-negative integer ("12") are decoded as that integer, so that CSV (where every cell is text)
 * and JSON agree on which object an id names. Strings that spell an address in canonical hex
 * ("0x7f3a00000010": lowercase, no leading zero, at most 13 digits) are stored as
 * `HEX_ID_KEY_LIMIT - address` (at most -2^52, below every string index): a number, not a string,
 * through decoding and replay (`hexIdKeyOf`, `objectIdOf` gives the string back).
 *
 * Column meaning by op:
 * | op              | obj      | arg               | aux        | site       | flags        |
 * |-----------------|----------|-------------------|------------|------------|--------------|
 * | alloc           | id key   | size (bytes)      | type index | site or -1 | AllocFlag    |
 * | incref/decref   | id key   |                   |            |            |              |
 * | free            | id key   |                   |            |            |              |
 * | link/unlink     | src key  | dst key           |            |            |              |
 * | resize          | id key   | new size          |            |            |              |
 * | collect         |          | generation        |            |            |              |
 * | gc              |          | 1 enabled, 0 not  |            |            |              |
 * | threshold       |          | value             | generation |            |              |
 * | freeze/unfreeze |          |                   |            |            |              |
 * | mark            |          | label index in `strings` |     |            |              |
 * `time` is NaN where the event has no `t`; `line` is the 1-based line in the source file where
 * the event starts (for CSV, the physical line, so quoted multi-line cells are counted).
 */
export interface EventChunk {
  length: number;
  firstIndex: number;
  op: Uint8Array;
  obj: Float64Array;
  arg: Float64Array;
  aux: Int32Array;
  site: Int32Array;
  flags: Uint8Array;
  time: Float64Array;
  line: Float64Array;
  /** Chunk-local strings: string object ids and mark labels. */
  strings: string[];
}

/** Rows per chunk a decoder aims for. */
export const CHUNK_ROWS = 16384;

export function createChunk(capacity: number, firstIndex: number): EventChunk {
  return {
    length: 0,
    firstIndex,
    op: new Uint8Array(capacity),
    obj: new Float64Array(capacity),
    arg: new Float64Array(capacity),
    aux: new Int32Array(capacity),
    site: new Int32Array(capacity),
    flags: new Uint8Array(capacity),
    time: new Float64Array(capacity),
    line: new Float64Array(capacity),
    strings: [],
  };
}

/** Keys at or below this are hex address ids (see `EventChunk`): `HEX_ID_KEY_LIMIT - address`. */
export const HEX_ID_KEY_LIMIT = -(2 ** 52);

/** Most hex digits an address id stored as a key may have: 13 digits are 52 bits. */
const MAX_HEX_ID_DIGITS = 13;

/**
 * The key of a string id, given as the bytes `start`..`end`, that spells an address in canonical
 * hex; 0 when it does not (0 is never such a key). The fast path calls it for every string id.
 */
export function hexIdKeyOfBytes(bytes: Uint8Array, start: number, end: number): number {
  const digits = end - start - 2;
  if (digits < 1 || digits > MAX_HEX_ID_DIGITS || bytes[start] !== 0x30 || bytes[start + 1] !== 0x78) return 0;
  if (digits > 1 && bytes[start + 2] === 0x30) return 0;
  let address = 0;
  for (let i = start + 2; i < end; i++) {
    const c = bytes[i];
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x57;
    else return 0;
    address = address * 16 + digit;
  }
  return HEX_ID_KEY_LIMIT - address;
}

/** `hexIdKeyOfBytes` for a string id (the general path). */
export function hexIdKeyOf(text: string): number {
  if (text.length > MAX_HEX_ID_DIGITS + 2 || !/^0x[0-9a-f]+$/.test(text)) return 0;
  return hexIdKeyOfBytes(Buffer.from(text, 'latin1'), 0, text.length);
}

/** The id a hex address key stands for. */
export function hexIdOf(key: number): string {
  return `0x${(HEX_ID_KEY_LIMIT - key).toString(16)}`;
}

/** Resolves an object key of a chunk back to the id written in the trace. */
export function objectIdOf(chunk: EventChunk, key: number): ObjectId {
  if (key >= 0) return key;
  return key <= HEX_ID_KEY_LIMIT ? hexIdOf(key) : chunk.strings[-key - 1];
}
