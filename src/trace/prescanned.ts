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
 * Layout: one record per line, row-major, in two arrays over one `ArrayBuffer` (so that it moves
 * between threads in one piece and a record is written and read from adjacent memory): `INTS`
 * 32-bit ints and `FLOATS` float64s per line. Only the fields the line's op uses are written.
 */
import type { ScannedEvent } from './scanned-event.js';
import { Op } from './types.js';

/** Int fields of a record, by offset. */
export const Int = {
  start: 0,
  end: 1,
  /** The scanner's result: the LF's position, or -1 (the general path takes the line). */
  newline: 2,
  op: 3,
  flags: 4,
  /** -1: the id is the number in `Float.obj`; else the string id's bytes `[objStart, objEnd)`. */
  objStart: 5,
  objEnd: 6,
  argStart: 7,
  argEnd: 8,
  typeStart: 9,
  typeEnd: 10,
  siteStart: 11,
  siteEnd: 12,
  /** The worker's own ids for the type and site (-1: no site); see `ChunkWriter.writePrescanned`. */
  typeId: 13,
  siteId: 14,
} as const;
export const INTS = 16;

/** Float fields of a record, by offset. */
export const Float = { obj: 0, arg: 1, time: 2 } as const;
export const FLOATS = 4;

/** `find` result: the line was not scanned ahead (scan it now). */
export const NOT_PRESCANNED = -2;

export class PrescannedLines {
  /** Lines recorded. */
  count: number;
  readonly ints: Int32Array;
  readonly floats: Float64Array;
  /** Reading position of `find` (the decoder asks about line starts in increasing order). */
  private cursor = 0;

  /** Records for `capacity` lines over `memory`, of which the first `count` are written. */
  constructor(
    readonly capacity: number,
    readonly memory: ArrayBuffer = new ArrayBuffer(PrescannedLines.bytesFor(capacity)),
    count = 0,
  ) {
    this.count = count;
    this.floats = new Float64Array(memory, 0, capacity * FLOATS);
    this.ints = new Int32Array(memory, capacity * FLOATS * 8, capacity * INTS);
  }

  static bytesFor(capacity: number): number {
    return capacity * (FLOATS * 8 + INTS * 4);
  }

  /** Lines that fit in `memory`. */
  static capacityOf(memory: ArrayBuffer): number {
    return Math.floor(memory.byteLength / PrescannedLines.bytesFor(1));
  }

  /**
   * Records what scanning the line at `start` with limit `end` gave: `newline`, and when it is
   * >= 0 the event, with its type and site as the worker's ids.
   */
  record(start: number, end: number, newline: number, event: ScannedEvent, typeId: number, siteId: number): void {
    const k = this.count++;
    const ints = this.ints;
    const i = k * INTS;
    ints[i + Int.start] = start;
    ints[i + Int.end] = end;
    ints[i + Int.newline] = newline;
    if (newline < 0) return;
    const floats = this.floats;
    const f = k * FLOATS;
    const op = event.op;
    ints[i + Int.op] = op;
    ints[i + Int.objStart] = event.objStart;
    if (event.objStart >= 0) ints[i + Int.objEnd] = event.objEnd;
    floats[f + Float.obj] = event.objValue;
    floats[f + Float.time] = event.time;
    if (op === Op.alloc) {
      ints[i + Int.flags] = event.flags;
      ints[i + Int.typeStart] = event.typeStart;
      ints[i + Int.typeEnd] = event.typeEnd;
      ints[i + Int.siteStart] = event.siteStart;
      ints[i + Int.siteEnd] = event.siteEnd;
      ints[i + Int.typeId] = typeId;
      ints[i + Int.siteId] = siteId;
      floats[f + Float.arg] = event.argValue;
    } else if (op === Op.resize) {
      floats[f + Float.arg] = event.argValue;
    } else if (op === Op.link || op === Op.unlink) {
      ints[i + Int.argStart] = event.argStart;
      ints[i + Int.argEnd] = event.argEnd;
      floats[f + Float.arg] = event.argValue;
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
    const ints = this.ints;
    const count = this.count;
    let k = this.cursor;
    while (k < count && ints[k * INTS + Int.start] < start) k++;
    this.cursor = k;
    if (k === count || ints[k * INTS + Int.start] !== start || ints[k * INTS + Int.end] !== end) return NOT_PRESCANNED;
    this.cursor = k + 1;
    return k;
  }
}
