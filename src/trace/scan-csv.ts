/**
 * The CSV fast path: reads one record that fits on one line and has no quoted cell, such as
 *
 *   alloc,12,dict,64,,app.py:3,,,,,,,,1500
 *
 * straight from the bytes into a `ScannedEvent` (see scanned-event.ts for what is accepted and
 * why anything else goes to the general path). Cells are converted as decode-csv.ts converts
 * them before ajv sees them (`coerceCell`): ids are integers when they spell one, `size` and `t`
 * are JSON numbers, `tracked` is true/false/1/0, the rest is text. An empty cell is an absent
 * field. Only printable ASCII is accepted, and a line with more cells than the header row has
 * columns takes the general path.
 */
import { Field, FAST_PATH_LIMITS, checkScannedEvent, isPlainByte, opCodeOf, readDigits, readFinalizer, readNumber } from './scanned-event.js';
import type { ScannedEvent } from './scanned-event.js';
import { AllocFlag } from './types.js';

/** What the fast path does with a column's cells. `other`: a non-empty cell sends the line to the general path. */
const CellKind = { other: 0, op: 1, id: 2, src: 3, dst: 4, type: 5, size: 6, site: 7, tracked: 8, finalizer: 9, t: 10 } as const;
type CellKind = (typeof CellKind)[keyof typeof CellKind];

const KIND_BY_NAME = new Map<string, CellKind>([
  ['op', CellKind.op],
  ['id', CellKind.id],
  ['src', CellKind.src],
  ['dst', CellKind.dst],
  ['type', CellKind.type],
  ['size', CellKind.size],
  ['site', CellKind.site],
  ['tracked', CellKind.tracked],
  ['finalizer', CellKind.finalizer],
  ['t', CellKind.t],
]);

const COMMA = 0x2c;
const QUOTE = 0x22;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Scratch for number readers (readers are synchronous and never nest). */
const scratch = { value: 0 };

export class CsvLineScanner {
  private readonly kinds: Uint8Array;

  /** `columns`: the field names of the header row, in order (as decode-csv.ts read them). */
  constructor(columns: readonly string[]) {
    this.kinds = Uint8Array.from(columns, (name) => KIND_BY_NAME.get(name) ?? CellKind.other);
  }

  /**
   * Reads the record that starts at `start` and must end (LF) before `end`. Returns the position
   * of its LF when it is an event the fast path accepts (then `event` holds it), else -1.
   */
  scan(bytes: Buffer, start: number, end: number, event: ScannedEvent): number {
    event.reset();
    const kinds = this.kinds;
    let column = 0;
    let i = start;
    for (;;) {
      const cellStart = i;
      let delimiter = -1;
      while (i < end) {
        const b = bytes[i];
        if (b === COMMA || b === QUOTE || !isPlainByte(b)) {
          delimiter = b;
          break;
        }
        i++;
      }
      let lineEnd = -1;
      if (delimiter === NEWLINE) lineEnd = i;
      else if (delimiter === CARRIAGE_RETURN && i + 1 < end && bytes[i + 1] === NEWLINE) lineEnd = i + 1;
      else if (delimiter !== COMMA) return -1;
      if (column === kinds.length) return -1;
      if (i > cellStart && !readCell(kinds[column], bytes, cellStart, i, event)) return -1;
      column++;
      if (lineEnd >= 0) return checkScannedEvent(event) ? lineEnd : -1;
      i++;
    }
  }
}

/** Reads one non-empty cell `[start, end)` of a column of `kind`; false sends the line to the general path. */
function readCell(kind: number, bytes: Buffer, start: number, end: number, event: ScannedEvent): boolean {
  switch (kind) {
    case CellKind.op:
      event.present |= Field.op;
      event.op = opCodeOf(bytes, start, end);
      return event.op !== 0;
    case CellKind.id:
    case CellKind.src:
    case CellKind.dst: {
      event.present |= kind === CellKind.id ? Field.id : kind === CellKind.src ? Field.src : Field.dst;
      if (end - start > FAST_PATH_LIMITS.idMaxLength) return false;
      // A cell that is not a plain integer is a string id; the writer turns one that spells a
      // canonical integer longer than 15 digits into that integer, as `coerceCell` does.
      const isInteger = readDigits(bytes, start, end, scratch) === end;
      const value = isInteger ? scratch.value : 0;
      const stringStart = isInteger ? -1 : start;
      event.setId(kind === CellKind.dst, value, stringStart, end);
      return true;
    }
    case CellKind.type:
      event.present |= Field.type;
      event.typeStart = start;
      event.typeEnd = end;
      return end - start <= FAST_PATH_LIMITS.typeMaxLength;
    case CellKind.site:
      event.present |= Field.site;
      event.siteStart = start;
      event.siteEnd = end;
      return end - start <= FAST_PATH_LIMITS.siteMaxLength;
    case CellKind.finalizer:
      event.present |= Field.finalizer;
      return readFinalizer(bytes, start, end, event);
    case CellKind.size:
      event.present |= Field.size;
      if (readDigits(bytes, start, end, scratch) !== end || scratch.value > FAST_PATH_LIMITS.sizeMaximum) return false;
      event.argValue = scratch.value;
      return true;
    case CellKind.tracked: {
      event.present |= Field.tracked;
      // "true" / "1" → true; "false" / "0" → false (decode-csv.ts: coerceCell).
      const length = end - start;
      const first = bytes[start];
      if (length === 1) {
        if (first === 0x30) event.flags |= AllocFlag.untracked;
        return first === 0x30 || first === 0x31;
      }
      if (length === 4) return first === 0x74 && bytes[start + 1] === 0x72 && bytes[start + 2] === 0x75 && bytes[start + 3] === 0x65;
      if (length === 5 && first === 0x66 && bytes[start + 1] === 0x61 && bytes[start + 2] === 0x6c && bytes[start + 3] === 0x73 && bytes[start + 4] === 0x65) {
        event.flags |= AllocFlag.untracked;
        return true;
      }
      return false;
    }
    case CellKind.t:
      event.present |= Field.t;
      if (readNumber(bytes, start, end, scratch) !== end) return false;
      event.time = scratch.value;
      return true;
    default:
      return false;
  }
}
