/**
 * A decoded trace that worker threads read without copying it: every chunk's typed-array columns
 * and its chunk-local strings live in one `SharedArrayBuffer`, which `postMessage` shares instead
 * of cloning. A worker rebuilds `EventChunk` views over that memory (`chunkView`), so N workers
 * hold one copy of the event stream, not N.
 *
 *   EventChunk (decoder) ──shareChunk──► SharedChunk { buffer: SharedArrayBuffer, layout }
 *                                           │ postMessage (shared, not copied)
 *                                           ▼
 *                        chunkView ──► EventChunk whose columns are views on the same buffer
 *
 * The layout is read from the chunk itself (every typed-array field is a column), so a column the
 * decoders add later is carried without a change here. Strings are stored as UTF-16 code units:
 * unlike UTF-8 that keeps lone surrogates, which a string id may contain, exactly.
 */
import { createHash } from 'node:crypto';
import type { ReplaySource } from '../replay/index.js';
import { StringTable, type EventChunk, type TraceHeader } from '../trace/types.js';

type TypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** The typed arrays a column may be, by constructor name: a view of that type on shared memory. */
const VIEWS = {
  Int8Array: (buffer, offset, length) => new Int8Array(buffer, offset, length),
  Uint8Array: (buffer, offset, length) => new Uint8Array(buffer, offset, length),
  Int16Array: (buffer, offset, length) => new Int16Array(buffer, offset, length),
  Uint16Array: (buffer, offset, length) => new Uint16Array(buffer, offset, length),
  Int32Array: (buffer, offset, length) => new Int32Array(buffer, offset, length),
  Uint32Array: (buffer, offset, length) => new Uint32Array(buffer, offset, length),
  Float32Array: (buffer, offset, length) => new Float32Array(buffer, offset, length),
  Float64Array: (buffer, offset, length) => new Float64Array(buffer, offset, length),
} satisfies Record<string, (buffer: SharedArrayBuffer, byteOffset: number, length: number) => TypedArray>;

type TypedArrayName = keyof typeof VIEWS;

/** Columns start at multiples of this many bytes (the largest element size). */
const COLUMN_ALIGNMENT = 8;

export interface SharedColumn {
  /** The `EventChunk` field. */
  name: string;
  type: TypedArrayName;
  byteOffset: number;
  /** Elements: the chunk's `length`. */
  length: number;
}

export interface SharedChunk {
  buffer: SharedArrayBuffer;
  columns: SharedColumn[];
  /** Chunk-local strings: `count` end offsets (Uint32, in code units) then the UTF-16 text. */
  strings: { count: number; endsOffset: number; textOffset: number; codeUnits: number };
  /** The chunk's other fields (`length`, `firstIndex`, …), as plain values. */
  fields: Record<string, unknown>;
}

/** A whole decoded trace, ready to post to workers. Plain data plus shared buffers. */
export interface SharedTrace {
  file: string;
  header: TraceHeader;
  /** The trace-wide interned type names and sites, in index order. */
  types: string[];
  sites: string[];
  events: number;
  chunks: SharedChunk[];
}

function isTypedArrayName(name: string): name is TypedArrayName {
  return Object.prototype.hasOwnProperty.call(VIEWS, name);
}

function align(offset: number): number {
  return Math.ceil(offset / COLUMN_ALIGNMENT) * COLUMN_ALIGNMENT;
}

/** Copies one decoded chunk into shared memory (once, however many workers read it). */
export function shareChunk(chunk: EventChunk): SharedChunk {
  const columns: SharedColumn[] = [];
  const sources: TypedArray[] = [];
  const fields: Record<string, unknown> = {};
  let size = 0;
  for (const [name, value] of Object.entries(chunk) as [string, unknown][]) {
    if (name === 'strings') continue;
    if (ArrayBuffer.isView(value)) {
      const type = value.constructor.name;
      // A bug, not an input problem: a decoder added a column of a kind this copy cannot share.
      if (!isTypedArrayName(type)) throw new Error(`EventChunk.${name} is a ${type}, which shareChunk does not know how to share`);
      // Every typed array of a chunk is a column, one element per row; rows past `length` are
      // capacity, possibly holding an earlier chunk's rows when the decoder recycles memory.
      const column = (value as TypedArray).subarray(0, chunk.length);
      size = align(size);
      columns.push({ name, type, byteOffset: size, length: column.length });
      sources.push(column);
      size += column.byteLength;
    } else {
      fields[name] = value;
    }
  }
  size = align(size);
  const endsOffset = size;
  size += chunk.strings.length * Uint32Array.BYTES_PER_ELEMENT;
  const textOffset = size;
  const codeUnits = chunk.strings.reduce((total, s) => total + s.length, 0);
  size += codeUnits * 2;

  const buffer = new SharedArrayBuffer(size);
  columns.forEach((column, i) => {
    const target = VIEWS[column.type](buffer, column.byteOffset, column.length);
    target.set(sources[i]);
  });
  const ends = new Uint32Array(buffer, endsOffset, chunk.strings.length);
  const text = Buffer.from<SharedArrayBuffer>(buffer, textOffset, codeUnits * 2);
  let at = 0;
  chunk.strings.forEach((s, i) => {
    text.write(s, at * 2, 'utf16le');
    at += s.length;
    ends[i] = at;
  });
  return { buffer, columns, strings: { count: chunk.strings.length, endsOffset, textOffset, codeUnits }, fields };
}

/** An `EventChunk` whose columns are views on the shared buffer (nothing is copied but strings). */
export function chunkView(shared: SharedChunk): EventChunk {
  const chunk: Record<string, unknown> = { ...shared.fields };
  for (const column of shared.columns) chunk[column.name] = VIEWS[column.type](shared.buffer, column.byteOffset, column.length);
  const { count, endsOffset, textOffset, codeUnits } = shared.strings;
  const ends = new Uint32Array(shared.buffer, endsOffset, count);
  const text = Buffer.from<SharedArrayBuffer>(shared.buffer, textOffset, codeUnits * 2);
  const strings: string[] = new Array<string>(count);
  let start = 0;
  for (let i = 0; i < count; i++) {
    strings[i] = text.toString('utf16le', start * 2, ends[i] * 2);
    start = ends[i];
  }
  chunk.strings = strings;
  // The fields are those `shareChunk` read from an EventChunk, so the shape is the same.
  return chunk as unknown as EventChunk;
}

/** What `replayChunks` reads: the shared trace, its chunks rebuilt one at a time as they are replayed. */
export function sourceOf(trace: SharedTrace): Omit<ReplaySource, 'chunks'> & { chunks(): Iterable<EventChunk> } {
  return {
    file: trace.file,
    header: trace.header,
    types: tableOf(trace.types),
    sites: tableOf(trace.sites),
    chunks: function* () {
      for (const shared of trace.chunks) yield chunkView(shared);
    },
  };
}

function tableOf(values: readonly string[]): StringTable {
  const table = new StringTable();
  for (const value of values) table.intern(value);
  // Interned values are distinct, so re-interning them in order gives the same indices.
  if (table.size !== values.length) throw new Error('a shared string table held a value twice');
  return table;
}

/**
 * A digest of the decoded events (and header), for checking that the shards of a sweep replayed
 * the same trace: `sha256:` and 64 hex digits.
 */
export function traceDigest(trace: SharedTrace): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([trace.header, trace.types, trace.sites, trace.events]));
  for (const chunk of trace.chunks) {
    hash.update(JSON.stringify([chunk.columns, chunk.strings, chunk.fields]));
    hash.update(new Uint8Array(chunk.buffer));
  }
  return `sha256:${hash.digest('hex')}`;
}
