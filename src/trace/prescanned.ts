/**
 * Fast-path results computed ahead of time, for one buffer of a trace: what `scanJsonLine` or
 * `CsvLineScanner.scan` returns for each line start of the buffer. The scan worker fills them
 * (scan-worker.ts); the decoder in the starting thread reads them back instead of scanning
 * (scan-service.ts explains the division of labour).
 *
 * A result is used only when the decoder asks about the same line start and the same scan limit
 * `end` that the worker scanned with; anything else is scanned on the spot. The scanners are
 * pure functions of (bytes, start, end), so a result read back is the result the decoder would
 * have computed: decoding is unchanged, only the work moved.
 *
 * Layout: one column per field, all over one `ArrayBuffer` (so that it moves between threads in
 * one piece). `op`, `flags`, `obj`, `arg` and `time` are laid out as an `EventChunk`'s columns
 * and written for every accepted line (0 where the op has no such field), so that the decoder
 * copies a run of lines into a chunk column by column (`ChunkWriter.writePrescannedRun`).
 */
import type { ScannedEvent } from './scanned-event.js';
import { Op } from './types.js';

/** `find` result: the line was not scanned ahead (scan it now). */
export const NOT_PRESCANNED = -2;

type Column = Float64Array | Int32Array | Uint8Array;

/**
 * The columns, in memory order: the 8-byte ones first, then the 4-byte ones, then the bytes, so
 * that each starts aligned. One table gives the order, the element types and the bytes per line.
 */
const LAYOUT = {
  obj: Float64Array,
  arg: Float64Array,
  time: Float64Array,
  start: Int32Array,
  end: Int32Array,
  newline: Int32Array,
  objStart: Int32Array,
  objEnd: Int32Array,
  argStart: Int32Array,
  argEnd: Int32Array,
  typeStart: Int32Array,
  typeEnd: Int32Array,
  siteStart: Int32Array,
  siteEnd: Int32Array,
  typeId: Int32Array,
  siteId: Int32Array,
  op: Uint8Array,
  flags: Uint8Array,
} as const;
type ColumnName = keyof typeof LAYOUT;
const COLUMN_NAMES = Object.keys(LAYOUT) as ColumnName[];
const BYTES_PER_LINE = COLUMN_NAMES.reduce((sum, name) => sum + LAYOUT[name].BYTES_PER_ELEMENT, 0);

export class PrescannedLines {
  /** Lines recorded. */
  count: number;
  // The columns (see LAYOUT, which makes them in the constructor).
  /** The `id`/`src` when `objStart < 0`; `size`, the `dst` when `argStart < 0`, or 0; `t` or NaN. */
  declare readonly obj: Float64Array;
  declare readonly arg: Float64Array;
  declare readonly time: Float64Array;
  /** Where the line starts, the scan limit it was scanned with, and the scanner's result: the LF's position, or -1 (the general path takes the line). */
  declare readonly start: Int32Array;
  declare readonly end: Int32Array;
  declare readonly newline: Int32Array;
  /** -1: the id is the number in `obj`; else the string id's bytes `[objStart, objEnd)` (`argStart`, `argEnd`: the same for a link's `dst`). */
  declare readonly objStart: Int32Array;
  declare readonly objEnd: Int32Array;
  declare readonly argStart: Int32Array;
  declare readonly argEnd: Int32Array;
  /** alloc: the type's and the site's bytes, and the worker's own ids for them (-1: no site); see `ChunkWriter.writePrescannedRun`. */
  declare readonly typeStart: Int32Array;
  declare readonly typeEnd: Int32Array;
  declare readonly siteStart: Int32Array;
  declare readonly siteEnd: Int32Array;
  declare readonly typeId: Int32Array;
  declare readonly siteId: Int32Array;
  /** Op code, and `AllocFlag` bits (0 but for alloc). */
  declare readonly op: Uint8Array;
  declare readonly flags: Uint8Array;
  /** Reading position of `find` (the decoder asks about line starts in increasing order). */
  private cursor = 0;

  /** Records for `capacity` lines over `memory`, of which the first `count` are written. */
  constructor(
    readonly capacity: number,
    readonly memory: ArrayBuffer = new ArrayBuffer(PrescannedLines.bytesFor(capacity)),
    count = 0,
  ) {
    this.count = count;
    const columns = this as unknown as Record<ColumnName, Column>;
    let offset = 0;
    for (const name of COLUMN_NAMES) {
      const Type = LAYOUT[name];
      columns[name] = new Type(memory, offset, capacity);
      offset += capacity * Type.BYTES_PER_ELEMENT;
    }
  }

  static bytesFor(capacity: number): number {
    return capacity * BYTES_PER_LINE;
  }

  /** Lines that fit in `memory`. */
  static capacityOf(memory: ArrayBuffer): number {
    return Math.floor(memory.byteLength / PrescannedLines.bytesFor(1));
  }

  /** The first `count` records of `from`, into these (larger) columns. */
  copyFrom(from: PrescannedLines): void {
    const n = from.count;
    for (const name of COLUMN_NAMES) (this[name] as Column).set((from[name] as Column).subarray(0, n));
    this.count = n;
  }

  /**
   * Records what scanning the line at `start` with limit `end` gave: `newline`, and when it is
   * >= 0 the event, with its type and site as the worker's ids.
   */
  record(start: number, end: number, newline: number, event: ScannedEvent, typeId: number, siteId: number): void {
    const k = this.count++;
    this.start[k] = start;
    this.end[k] = end;
    this.newline[k] = newline;
    if (newline < 0) return;
    const op = event.op;
    this.op[k] = op;
    this.objStart[k] = event.objStart;
    if (event.objStart >= 0) this.objEnd[k] = event.objEnd;
    this.obj[k] = event.objValue;
    this.time[k] = event.time;
    this.argStart[k] = -1;
    if (op === Op.alloc) {
      this.flags[k] = event.flags;
      this.typeStart[k] = event.typeStart;
      this.typeEnd[k] = event.typeEnd;
      this.siteStart[k] = event.siteStart;
      this.siteEnd[k] = event.siteEnd;
      this.typeId[k] = typeId;
      this.siteId[k] = siteId;
      this.arg[k] = event.argValue;
    } else {
      this.flags[k] = 0;
      if (op === Op.resize) {
        this.arg[k] = event.argValue;
      } else if (op === Op.link || op === Op.unlink) {
        this.argStart[k] = event.argStart;
        this.argEnd[k] = event.argEnd;
        this.arg[k] = event.argStart < 0 ? event.argValue : 0;
      } else {
        this.arg[k] = 0;
      }
    }
  }

  /** The next `find` looks from record `k` on (a caller that read records `< k` itself). */
  resumeAt(k: number): void {
    this.cursor = k;
  }

  /**
   * The record of the line at `start` scanned with limit `end`, or `NOT_PRESCANNED`. Starts must
   * be asked in increasing order.
   */
  find(start: number, end: number): number {
    const starts = this.start;
    const count = this.count;
    let k = this.cursor;
    while (k < count && starts[k] < start) k++;
    this.cursor = k;
    if (k === count || starts[k] !== start || this.end[k] !== end) return NOT_PRESCANNED;
    this.cursor = k + 1;
    return k;
  }
}

// Each column's declared type is the one LAYOUT makes (checked here, as the constructor's loop is not).
const layoutMatchesFields: { [K in ColumnName]: new (buffer: ArrayBuffer, byteOffset: number, length: number) => PrescannedLines[K] } = LAYOUT;
void layoutMatchesFields;
