/**
 * The JSON Lines fast path: reads one line such as
 *
 *   {"op":"alloc","id":12,"type":"dict","size":64,"site":"app.py:3","t":1500}
 *
 * straight from the bytes into a `ScannedEvent` (see scanned-event.ts for what is accepted and
 * why anything else goes to the general path). The accepted grammar is JSON's, restricted:
 *
 *   line   = ws "{" ws [ member ws *( "," ws member ws ) ] "}" ws LF
 *   member = key ws ":" ws value          key: one of the fields in `Field`, at most once
 *   value  = plain string | digits | true | false      as the key's schema type requires
 *
 * where a plain string is printable ASCII without `"` or `\`, and ws is JSON's (space, tab, CR).
 *
 * NOTE: this is the hottest loop of a replay (every byte of the trace passes through it), so it
 * is written for V8: one function, keys recognized by their first letters without a separate
 * scan, whitespace looked for only where a structural byte was expected and not found, plain
 * digits read in place. A key or a `true`/`false` is compared without bounds checks:
 * they start before `end` and `SCAN_SLACK_BYTES` readable bytes follow `end` (source.ts), so no
 * read leaves the buffer. A line is accepted only when its LF is found before `end`, and
 * positions only grow, so nothing read past `end` is ever accepted.
 */
import { Field, FAST_PATH_LIMITS, bytesOf, checkScannedEvent, matches, opCodeOf, readDigits, readFinalizer, readNumber } from './scanned-event.js';
import type { ScannedEvent } from './scanned-event.js';
import { AllocFlag } from './types.js';

const QUOTE = 0x22;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;

/** The rest of the keys `tracked` and `finalizer`, closing quote included. */
const RACKED = bytesOf('racked"');
const INALIZER = bytesOf('inalizer"');

/**
 * Scratch for the number readers (they are synchronous and never nest). Starts as a non-integer
 * so that V8 stores the field as a double from the start (no deoptimization at the first id
 * beyond 2^30).
 */
const scratch = { value: 0.5 };

/**
 * Reads the line that starts at `start` and must end (LF) before `end`. Returns the position of
 * its LF when the line is an event the fast path accepts (then `event` holds it), else -1.
 */
export function scanJsonLine(bytes: Buffer, start: number, end: number, event: ScannedEvent): number {
  event.reset();
  let i = start;
  if (bytes[i] !== OPEN_BRACE) {
    i = skipSpace(bytes, i, end);
    if (bytes[i] !== OPEN_BRACE) return -1;
  }
  i++;
  let b = bytes[i];
  if (b !== QUOTE) {
    i = skipSpace(bytes, i, end);
    b = bytes[i];
  }
  if (b !== CLOSE_BRACE) {
    for (;;) {
      // A key: `i` is at its opening quote.
      if (b !== QUOTE || i >= end) return -1;
      let field = 0;
      const k = i + 1;
      switch (bytes[k]) {
        case 0x6f /* o */:
          if (bytes[k + 1] === 0x70 && bytes[k + 2] === QUOTE) { field = Field.op; i = k + 3; }
          break;
        case 0x69 /* i */:
          if (bytes[k + 1] === 0x64 && bytes[k + 2] === QUOTE) { field = Field.id; i = k + 3; }
          break;
        case 0x74 /* t */:
          if (bytes[k + 1] === QUOTE) { field = Field.t; i = k + 2; }
          else if (bytes[k + 1] === 0x79 && bytes[k + 2] === 0x70 && bytes[k + 3] === 0x65 && bytes[k + 4] === QUOTE) { field = Field.type; i = k + 5; }
          else if (matches(bytes, k + 1, RACKED)) { field = Field.tracked; i = k + 8; }
          break;
        case 0x73 /* s */:
          if (bytes[k + 1] === 0x69 && bytes[k + 3] === 0x65 && bytes[k + 4] === QUOTE) {
            if (bytes[k + 2] === 0x7a) { field = Field.size; i = k + 5; }
            else if (bytes[k + 2] === 0x74) { field = Field.site; i = k + 5; }
          } else if (bytes[k + 1] === 0x72 && bytes[k + 2] === 0x63 && bytes[k + 3] === QUOTE) {
            field = Field.src;
            i = k + 4;
          }
          break;
        case 0x64 /* d */:
          if (bytes[k + 1] === 0x73 && bytes[k + 2] === 0x74 && bytes[k + 3] === QUOTE) { field = Field.dst; i = k + 4; }
          break;
        case 0x66 /* f */:
          if (matches(bytes, k + 1, INALIZER)) { field = Field.finalizer; i = k + 10; }
          break;
      }
      if (field === 0 || (event.present & field) !== 0) return -1;
      event.present |= field;
      if (bytes[i] !== COLON) {
        i = skipSpace(bytes, i, end);
        if (bytes[i] !== COLON) return -1;
      }
      i++;
      b = bytes[i];
      if (b === 0x20 || b === 0x09 || b === 0x0d) {
        i = skipSpace(bytes, i, end);
        b = bytes[i];
      }

      // The value, as the field's schema type requires.
      switch (field) {
        case Field.id:
        case Field.src:
        case Field.dst: {
          let value = 0;
          let stringStart = -1;
          let stringEnd = -1;
          if (b === QUOTE) {
            stringStart = i + 1;
            stringEnd = closingQuote(bytes, stringStart, end);
            if (stringEnd <= stringStart || stringEnd - stringStart > FAST_PATH_LIMITS.idMaxLength) return -1;
            i = stringEnd + 1;
          } else {
            i = readDigits(bytes, i, end, scratch);
            if (i < 0) return -1;
            value = scratch.value;
          }
          event.setId(field === Field.dst, value, stringStart, stringEnd);
          break;
        }
        case Field.op: {
          // The name is compared where it stands: no op name is a prefix of another, and the
          // byte after it must be the closing quote.
          if (b !== QUOTE) return -1;
          const length = opNameLength(bytes, i + 1);
          if (length === 0 || bytes[i + 1 + length] !== QUOTE) return -1;
          event.op = opCodeOf(bytes, i + 1, i + 1 + length);
          if (event.op === 0) return -1;
          i += length + 2;
          break;
        }
        case Field.type: {
          if (b !== QUOTE) return -1;
          const close = closingQuote(bytes, i + 1, end);
          if (close <= i + 1 || close - (i + 1) > FAST_PATH_LIMITS.typeMaxLength) return -1;
          event.typeStart = i + 1;
          event.typeEnd = close;
          i = close + 1;
          break;
        }
        case Field.size: {
          i = readDigits(bytes, i, end, scratch);
          if (i < 0 || scratch.value > FAST_PATH_LIMITS.sizeMaximum) return -1;
          event.argValue = scratch.value;
          break;
        }
        case Field.site: {
          if (b !== QUOTE) return -1;
          const close = closingQuote(bytes, i + 1, end);
          if (close < 0 || close - (i + 1) > FAST_PATH_LIMITS.siteMaxLength) return -1;
          event.siteStart = i + 1;
          event.siteEnd = close;
          i = close + 1;
          break;
        }
        case Field.t: {
          // Plain digits are read here (most timestamps); anything longer or with a fraction or
          // an exponent goes through `readNumber` from the start.
          let time = 0;
          let j = i;
          while (j < end) {
            const digit = bytes[j] - 0x30;
            if (digit < 0 || digit > 9) break;
            time = time * 10 + digit;
            j++;
          }
          const next = bytes[j];
          if (j > i && j - i <= FAST_PATH_LIMITS.integerMaxDigits && (bytes[i] !== 0x30 || j === i + 1) && next !== 0x2e && next !== 0x65 && next !== 0x45) {
            i = j;
            event.time = time;
          } else {
            i = readNumber(bytes, i, end, scratch);
            if (i < 0) return -1;
            event.time = scratch.value;
          }
          break;
        }
        case Field.tracked: {
          if (b === 0x74 && bytes[i + 1] === 0x72 && bytes[i + 2] === 0x75 && bytes[i + 3] === 0x65) {
            i += 4;
          } else if (b === 0x66 && bytes[i + 1] === 0x61 && bytes[i + 2] === 0x6c && bytes[i + 3] === 0x73 && bytes[i + 4] === 0x65) {
            event.flags |= AllocFlag.untracked;
            i += 5;
          } else {
            return -1;
          }
          break;
        }
        case Field.finalizer: {
          if (b !== QUOTE) return -1;
          const close = closingQuote(bytes, i + 1, end);
          if (close < 0 || !readFinalizer(bytes, i + 1, close, event)) return -1;
          i = close + 1;
          break;
        }
      }

      // After the value: `,` and the next key, or `}`.
      if (i >= end) return -1;
      b = bytes[i];
      if (b !== COMMA && b !== CLOSE_BRACE) {
        i = skipSpace(bytes, i, end);
        b = bytes[i];
      }
      if (b === CLOSE_BRACE) break;
      if (b !== COMMA) return -1;
      i++;
      b = bytes[i];
      if (b !== QUOTE) {
        i = skipSpace(bytes, i, end);
        b = bytes[i];
      }
    }
  }
  i++;
  if (bytes[i] !== NEWLINE) i = skipSpace(bytes, i, end);
  if (i >= end || bytes[i] !== NEWLINE) return -1;
  return checkScannedEvent(event) ? i : -1;
}

/**
 * The length of the fast-path op name that would start at `at`, judged by its first letters
 * (alloc, decref, incref, free, link, unlink, resize), or 0; `opCodeOf` then checks it whole.
 */
function opNameLength(bytes: Uint8Array, at: number): number {
  switch (bytes[at]) {
    case 0x61 /* a */:
      return 5;
    case 0x64 /* d */:
    case 0x69 /* i */:
    case 0x72 /* r */:
    case 0x75 /* u */:
      return 6;
    case 0x66 /* f */:
    case 0x6c /* l */:
      return 4;
    default:
      return 0;
  }
}

/** JSON whitespace other than LF (which ends the line): space, tab, CR. */
function skipSpace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) break;
    i++;
  }
  return i;
}

/** The closing quote of a plain string whose characters start at `from`, or -1 (an escape, a control or non-ASCII byte, or no quote before `end`). */
function closingQuote(bytes: Uint8Array, from: number, end: number): number {
  for (let j = from; j < end; j++) {
    const b = bytes[j];
    if (b === QUOTE) return j;
    if (b < 0x20 || b > 0x7e || b === 0x5c) return -1;
  }
  return -1;
}

