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

/** Float64 columns, Int32 columns and Uint8 columns per line. */
const FLOAT_COLUMNS = 3;
const INT_COLUMNS = 15;
const BYTE_COLUMNS = 2;

export class PrescannedLines {
  /** Lines recorded. */
  count: number;
  /** The `id`/`src` when `objStart < 0`; `size`, the `dst` when `argStart < 0`, or 0; `t` or NaN. */
  readonly obj: Float64Array;
  readonly arg: Float64Array;
  readonly time: Float64Array;
  /** Where the line starts, the scan limit it was scanned with, and the scanner's result: the LF's position, or -1 (the general path takes the line). */
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly newline: Int32Array;
  /** -1: the id is the number in `obj`; else the string id's bytes `[objStart, objEnd)` (`argStart`, `argEnd`: the same for a link's `dst`). */
  readonly objStart: Int32Array;
  readonly objEnd: Int32Array;
  readonly argStart: Int32Array;
  readonly argEnd: Int32Array;
  /** alloc: the type's and the site's bytes, and the worker's own ids for them (-1: no site); see `ChunkWriter.writePrescannedRun`. */
  readonly typeStart: Int32Array;
  readonly typeEnd: Int32Array;
  readonly siteStart: Int32Array;
  readonly siteEnd: Int32Array;
  readonly typeId: Int32Array;
  readonly siteId: Int32Array;
  /** Op code, and `AllocFlag` bits (0 but for alloc). */
  readonly op: Uint8Array;
  readonly flags: Uint8Array;
  /** Reading position of `find` (the decoder asks about line starts in increasing order). */
  private cursor = 0;

  /** Records for `capacity` lines over `memory`, of which the first `count` are written. */
  constructor(
    readonly capacity: number,
    readonly memory: ArrayBuffer = new ArrayBuffer(PrescannedLines.bytesFor(capacity)),
    count = 0,
  ) {
    this.count = count;
    let offset = 0;
    const floats = (): Float64Array => {
      const column = new Float64Array(memory, offset, capacity);
      offset += capacity * 8;
      return column;
    };
    const ints = (): Int32Array => {
      const column = new Int32Array(memory, offset, capacity);
      offset += capacity * 4;
      return column;
    };
    const bytes = (): Uint8Array => {
      const column = new Uint8Array(memory, offset, capacity);
      offset += capacity;
      return column;
    };
    this.obj = floats();
    this.arg = floats();
    this.time = floats();
    this.start = ints();
    this.end = ints();
    this.newline = ints();
    this.objStart = ints();
    this.objEnd = ints();
    this.argStart = ints();
    this.argEnd = ints();
    this.typeStart = ints();
    this.typeEnd = ints();
    this.siteStart = ints();
    this.siteEnd = ints();
    this.typeId = ints();
    this.siteId = ints();
    this.op = bytes();
    this.flags = bytes();
  }

  static bytesFor(capacity: number): number {
    return capacity * (FLOAT_COLUMNS * 8 + INT_COLUMNS * 4 + BYTE_COLUMNS);
  }

  /** Lines that fit in `memory`. */
  static capacityOf(memory: ArrayBuffer): number {
    return Math.floor(memory.byteLength / PrescannedLines.bytesFor(1));
  }

  /** The first `count` records of `from`, into these (larger) columns. */
  copyFrom(from: PrescannedLines): void {
    const n = from.count;
    for (const key of COLUMN_KEYS) (this[key] as Float64Array | Int32Array | Uint8Array).set((from[key] as Float64Array | Int32Array | Uint8Array).subarray(0, n));
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

const COLUMN_KEYS = ['obj', 'arg', 'time', 'start', 'end', 'newline', 'objStart', 'objEnd', 'argStart', 'argEnd', 'typeStart', 'typeEnd', 'siteStart', 'siteEnd', 'typeId', 'siteId', 'op', 'flags'] as const;
