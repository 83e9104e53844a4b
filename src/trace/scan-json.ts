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
import { dataViewOf } from '../typed-arrays.js';
import { SCAN_SLACK_BYTES } from './source.js';
import { AllocFlag, Op } from './types.js';

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
  const compact = scanCompactLine(bytes, start, end, event);
  if (compact !== NOT_COMPACT) return compact;
  const spaced = scanSpacedLine(bytes, start, end, event);
  return spaced === NOT_COMPACT ? scanJsonMembers(bytes, start, end, event) : spaced;
}

/**
 * `scanJsonLine` for any line: its members one by one, in any order and with any whitespace.
 * Exported for the tests, which check that `scanCompactLine` reads what this reads.
 */
export function scanJsonMembers(bytes: Buffer, start: number, end: number, event: ScannedEvent): number {
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
      // Python's json.dumps writes one space after each ':' and ','.
      if (b === 0x20) b = bytes[++i];
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
          i = readType(bytes, i + 1, end, event);
          if (i < 0) return -1;
          break;
        }
        case Field.size: {
          i = readSize(bytes, i, end, event);
          if (i < 0) return -1;
          break;
        }
        case Field.site: {
          if (b !== QUOTE) return -1;
          i = readSite(bytes, i + 1, end, event);
          if (i < 0) return -1;
          break;
        }
        case Field.t: {
          i = readTime(bytes, i, end, event);
          if (i < 0) return -1;
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
          i = readFinalizerValue(bytes, i + 1, end, event);
          if (i < 0) return -1;
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
      if (b === 0x20) b = bytes[++i];
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
 * Reads the `t` value at `i` into `event.time`; returns the position after it, or -1. Plain
 * digits are read here (most timestamps); anything longer or with a fraction or an exponent goes
 * through `readNumber` from the start.
 */
function readTime(bytes: Buffer, i: number, end: number, event: ScannedEvent): number {
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
    event.time = time;
    return j;
  }
  const after = readNumber(bytes, i, end, scratch);
  if (after >= 0) event.time = scratch.value;
  return after;
}

/** The `type` string whose text starts at `at` (after its quote); the position after its closing quote, or -1. */
function readType(bytes: Buffer, at: number, end: number, event: ScannedEvent): number {
  const close = closingQuote(bytes, at, end);
  if (close <= at || close - at > FAST_PATH_LIMITS.typeMaxLength) return -1;
  event.typeStart = at;
  event.typeEnd = close;
  return close + 1;
}

/** The `site` string whose text starts at `at` (after its quote); the position after its closing quote, or -1. */
function readSite(bytes: Buffer, at: number, end: number, event: ScannedEvent): number {
  const close = closingQuote(bytes, at, end);
  if (close < 0 || close - at > FAST_PATH_LIMITS.siteMaxLength) return -1;
  event.siteStart = at;
  event.siteEnd = close;
  return close + 1;
}

/** A `size` at `at`; the position after it, or -1. */
function readSize(bytes: Buffer, at: number, end: number, event: ScannedEvent): number {
  const after = readDigits(bytes, at, end, scratch);
  if (after < 0 || scratch.value > FAST_PATH_LIMITS.sizeMaximum) return -1;
  event.argValue = scratch.value;
  return after;
}

/** `true` or `false` at `at` as `tracked`; the position after it, or -1. */
function readTracked(v: DataView, bytes: Buffer, at: number, event: ScannedEvent): number {
  const w = v.getInt32(at, true);
  if (w === WORD_TRUE) return at + 4;
  if (w === WORD_FALS && bytes[at + 4] === 0x65 /* e */) {
    event.flags |= AllocFlag.untracked;
    return at + 5;
  }
  return -1;
}

/** The `finalizer` string whose text starts at `at` (after its quote); the position after its closing quote, or -1. */
function readFinalizerValue(bytes: Buffer, at: number, end: number, event: ScannedEvent): number {
  const close = closingQuote(bytes, at, end);
  return close >= 0 && readFinalizer(bytes, at, close, event) ? close + 1 : -1;
}

/**
 * Reads an object id at `i` (digits, or a plain string) as the event's `id`/`src` (`dst` false)
 * or `dst`; returns the position after it, or -1.
 */
function readId(bytes: Buffer, i: number, end: number, event: ScannedEvent, dst: boolean): number {
  if (bytes[i] === QUOTE) {
    const stringStart = i + 1;
    const stringEnd = closingQuote(bytes, stringStart, end);
    if (stringEnd <= stringStart || stringEnd - stringStart > FAST_PATH_LIMITS.idMaxLength) return -1;
    event.setId(dst, 0, stringStart, stringEnd);
    return stringEnd + 1;
  }
  const after = readDigits(bytes, i, end, scratch);
  if (after >= 0) event.setId(dst, scratch.value, -1, -1);
  return after;
}

// -------------------------------------------------------------------------------------------------
// Compact lines

/**
 * The common case first: a line exactly as `memreplay generate` and `JSON.stringify` write it,
 * without whitespace, keys in the schema's order (op, id or src, type, size, tracked, site,
 * finalizer, dst or size, t):
 *
 *   {"op":"alloc","id":12,"type":"dict","size":64,"site":"app.py:3","t":1500}
 *
 * Its keys are compared four bytes at a time (a `DataView` over the buffer) instead of byte by
 * byte, and there is no key to look up: each must be the one expected next. Values are read by
 * the same readers as in `scanJsonLine`. Returns the LF's position when the line is such a line
 * and an event the fast path accepts (the same event `scanJsonLine`'s member loop reads), or
 * `NOT_COMPACT` at the first byte that differs: the member loop then reads the line from its
 * start. A compact line is accepted only when its LF comes before `end`; keys are read at most
 * 24 bytes past a position before `end`, inside the `SCAN_SLACK_BYTES` that follow it.
 */
export function scanCompactLine(bytes: Buffer, start: number, end: number, event: ScannedEvent): number {
  // A DataView reads out of bounds with an exception, not undefined: only with the slack there.
  if (end + SCAN_SLACK_BYTES > bytes.length) return NOT_COMPACT;
  const v = dataViewOf(bytes);
  if (v.getInt32(start, true) !== OPEN_OP) return NOT_COMPACT;
  let op: number;
  let rest: WordPrefix;
  switch (v.getInt32(start + 4, true)) {
    case OP_ALLOC:
      op = Op.alloc;
      rest = ALLOC_ID;
      break;
    case OP_DECREF:
      op = Op.decref;
      rest = DECREF_ID;
      break;
    case OP_INCREF:
      op = Op.incref;
      rest = INCREF_ID;
      break;
    case OP_LINK:
      op = Op.link;
      rest = LINK_SRC;
      break;
    case OP_UNLINK:
      op = Op.unlink;
      rest = UNLINK_SRC;
      break;
    case OP_FREE:
      op = Op.free;
      rest = FREE_ID;
      break;
    case OP_RESIZE:
      op = Op.resize;
      rest = RESIZE_ID;
      break;
    default:
      return NOT_COMPACT;
  }
  // The rest of the op's name, then the id's (or src's) key.
  if (!hasPrefix(v, start + 8, rest)) return NOT_COMPACT;
  let i = start + 8 + rest.length;
  event.reset();
  // The id, or src.
  i = readId(bytes, i, end, event, false);
  if (i < 0) return NOT_COMPACT;
  let present = Field.op | (op === Op.link || op === Op.unlink ? Field.src : Field.id);
  if (op === Op.alloc) {
    // ,"type":"…","size":N
    if (v.getInt32(i, true) !== KEY_TYPE_0 || v.getInt32(i + 4, true) !== KEY_TYPE_1 || bytes[i + 8] !== QUOTE) return NOT_COMPACT;
    i = readType(bytes, i + 9, end, event);
    if (i < 0) return NOT_COMPACT;
    if (v.getInt32(i, true) !== KEY_SIZE_0 || v.getInt32(i + 4, true) !== KEY_SIZE_1) return NOT_COMPACT;
    i = readSize(bytes, i + 8, end, event);
    if (i < 0) return NOT_COMPACT;
    present |= Field.type | Field.size;
    // ,"tracked":true|false
    if (v.getInt32(i, true) === KEY_TRACKED_0 && hasPrefix(v, i + 4, TRACKED_REST)) {
      i = readTracked(v, bytes, i + 4 + TRACKED_REST.length, event);
      if (i < 0) return NOT_COMPACT;
      present |= Field.tracked;
    }
    // ,"site":"…"
    if (v.getInt32(i, true) === KEY_SITE_0 && v.getInt32(i + 4, true) === KEY_SITE_1) {
      if (bytes[i + 8] !== QUOTE) return NOT_COMPACT;
      i = readSite(bytes, i + 9, end, event);
      if (i < 0) return NOT_COMPACT;
      present |= Field.site;
    }
    // ,"finalizer":"del"|"legacy"
    if (v.getInt32(i, true) === KEY_FINALIZER_0 && hasPrefix(v, i + 4, FINALIZER_REST)) {
      i = readFinalizerValue(bytes, i + 4 + FINALIZER_REST.length, end, event);
      if (i < 0) return NOT_COMPACT;
      present |= Field.finalizer;
    }
  } else if (op === Op.link || op === Op.unlink) {
    // ,"dst":ID
    if (v.getInt32(i, true) !== KEY_DST_0 || (v.getInt32(i + 4, true) & 0xffffff) !== KEY_DST_1) return NOT_COMPACT;
    i = readId(bytes, i + 7, end, event, true);
    if (i < 0) return NOT_COMPACT;
    present |= Field.dst;
  } else if (op === Op.resize) {
    if (v.getInt32(i, true) !== KEY_SIZE_0 || v.getInt32(i + 4, true) !== KEY_SIZE_1) return NOT_COMPACT;
    i = readSize(bytes, i + 8, end, event);
    if (i < 0) return NOT_COMPACT;
    present |= Field.size;
  }
  // ,"t":T
  if (v.getInt32(i, true) === KEY_T) {
    if (bytes[i + 4] !== COLON) return NOT_COMPACT;
    i = readTime(bytes, i + 5, end, event);
    if (i < 0) return NOT_COMPACT;
    present |= Field.t;
  }
  // }LF, before `end`.
  if (bytes[i] !== CLOSE_BRACE || bytes[i + 1] !== NEWLINE || i + 1 >= end) return NOT_COMPACT;
  event.op = op;
  event.present = present;
  return i + 1;
}

/** `scanCompactLine`'s result for a line it leaves to the member loop. */
export const NOT_COMPACT = -2;

/**
 * `scanCompactLine` for the lines Python's `json.dumps` writes with its default separators, one
 * space after each `:` and `,`, keys in the same order:
 *
 *   {"op": "alloc", "id": 12, "type": "dict", "size": 64, "site": "app.py:3", "t": 1500}
 *
 * Each key with its separators is one `WordPrefix`, compared four bytes at a time. Returns the
 * LF's position for such a line that the fast path accepts (what the member loop reads), else
 * `NOT_COMPACT`. Keys are read at most 19 bytes past a position before `end`.
 */
export function scanSpacedLine(bytes: Buffer, start: number, end: number, event: ScannedEvent): number {
  if (end + SCAN_SLACK_BYTES > bytes.length) return NOT_COMPACT;
  const v = dataViewOf(bytes);
  if (v.getInt32(start, true) !== OPEN_OP || v.getInt32(start + 4, true) !== SPACED_OP) return NOT_COMPACT;
  // The op's first letter names it; the rest of its name runs to the id's (or src's) value.
  const letter = bytes[start + 8];
  const op = SPACED_OP_BY_LETTER[letter];
  if (op === 0) return NOT_COMPACT;
  const rest = SPACED_REST_BY_LETTER[letter];
  if (!hasPrefix(v, start + 9, rest)) return NOT_COMPACT;
  event.reset();
  let i = readId(bytes, start + 9 + rest.length, end, event, false);
  if (i < 0) return NOT_COMPACT;
  let present = Field.op | (op === Op.link || op === Op.unlink ? Field.src : Field.id);
  if (op === Op.alloc) {
    if (!hasPrefix(v, i, SPACED_TYPE)) return NOT_COMPACT;
    i = readType(bytes, i + SPACED_TYPE.length, end, event);
    if (i < 0 || !hasPrefix(v, i, SPACED_SIZE)) return NOT_COMPACT;
    i = readSize(bytes, i + SPACED_SIZE.length, end, event);
    if (i < 0) return NOT_COMPACT;
    present |= Field.type | Field.size;
    if (hasPrefix(v, i, SPACED_TRACKED)) {
      i = readTracked(v, bytes, i + SPACED_TRACKED.length, event);
      if (i < 0) return NOT_COMPACT;
      present |= Field.tracked;
    }
    if (hasPrefix(v, i, SPACED_SITE)) {
      i = readSite(bytes, i + SPACED_SITE.length, end, event);
      if (i < 0) return NOT_COMPACT;
      present |= Field.site;
    }
    if (hasPrefix(v, i, SPACED_FINALIZER)) {
      i = readFinalizerValue(bytes, i + SPACED_FINALIZER.length, end, event);
      if (i < 0) return NOT_COMPACT;
      present |= Field.finalizer;
    }
  } else if (op === Op.link || op === Op.unlink) {
    if (!hasPrefix(v, i, SPACED_DST)) return NOT_COMPACT;
    i = readId(bytes, i + SPACED_DST.length, end, event, true);
    if (i < 0) return NOT_COMPACT;
    present |= Field.dst;
  } else if (op === Op.resize) {
    if (!hasPrefix(v, i, SPACED_SIZE)) return NOT_COMPACT;
    i = readSize(bytes, i + SPACED_SIZE.length, end, event);
    if (i < 0) return NOT_COMPACT;
    present |= Field.size;
  }
  if (hasPrefix(v, i, SPACED_T)) {
    i = readTime(bytes, i + SPACED_T.length, end, event);
    if (i < 0) return NOT_COMPACT;
    present |= Field.t;
  }
  if (bytes[i] !== CLOSE_BRACE || bytes[i + 1] !== NEWLINE || i + 1 >= end) return NOT_COMPACT;
  event.op = op;
  event.present = present;
  return i + 1;
}


/** Four ASCII bytes as the little-endian int32 `DataView.getInt32(at, true)` reads. */
function word(text: string): number {
  return (text.charCodeAt(0) | (text.charCodeAt(1) << 8) | (text.charCodeAt(2) << 16) | (text.charCodeAt(3) << 24)) | 0;
}

/** Bytes compared by words: the full words, then the rest (1 to 4 bytes) under a mask. */
interface WordPrefix {
  /** Bytes in all. */
  length: number;
  words: Int32Array;
  lastMask: number;
}

function wordPrefix(text: string): WordPrefix {
  const full = Math.ceil(text.length / 4);
  const words = new Int32Array(full);
  for (let k = 0; k < full; k++) words[k] = word(text.slice(4 * k, 4 * k + 4).padEnd(4, '\0'));
  const tail = text.length - 4 * (full - 1);
  const lastMask = tail === 4 ? -1 : (1 << (8 * tail)) - 1;
  return { length: text.length, words, lastMask };
}

/** True when the bytes at `at` are `prefix` (reads up to 3 bytes past it). */
function hasPrefix(v: DataView, at: number, prefix: WordPrefix): boolean {
  const words = prefix.words;
  const last = words.length - 1;
  for (let k = 0; k < last; k++) if (v.getInt32(at + 4 * k, true) !== words[k]) return false;
  return (v.getInt32(at + 4 * last, true) & prefix.lastMask) === words[last];
}

// `{"op":"` is the first word and the first three bytes of the second, whose fourth byte is the
// op name's first letter; each op's prefix then runs from byte 8 to its first value.
const OPEN_OP = word('{"op');
const OP_ALLOC = word('":"a');
const OP_DECREF = word('":"d');
const OP_INCREF = word('":"i');
const OP_LINK = word('":"l');
const OP_UNLINK = word('":"u');
const OP_FREE = word('":"f');
const OP_RESIZE = word('":"r');
const ALLOC_ID = wordPrefix('lloc","id":');
const DECREF_ID = wordPrefix('ecref","id":');
const INCREF_ID = wordPrefix('ncref","id":');
const LINK_SRC = wordPrefix('ink","src":');
const UNLINK_SRC = wordPrefix('nlink","src":');
const FREE_ID = wordPrefix('ree","id":');
const RESIZE_ID = wordPrefix('esize","id":');
const KEY_TYPE_0 = word(',"ty');
const KEY_TYPE_1 = word('pe":');
const KEY_SIZE_0 = word(',"si');
const KEY_SIZE_1 = word('ze":');
const KEY_SITE_0 = word(',"si');
const KEY_SITE_1 = word('te":');
const KEY_TRACKED_0 = word(',"tr');
const TRACKED_REST = wordPrefix('acked":');
const WORD_TRUE = word('true');
const WORD_FALS = word('fals');
const KEY_FINALIZER_0 = word(',"fi');
const FINALIZER_REST = wordPrefix('nalizer":"');
const KEY_DST_0 = word(',"ds');
const KEY_DST_1 = word('t":\0') & 0xffffff;
const KEY_T = word(',"t"');
// Python's default separators: `{"op": "` is two words and the op name's first letter.
const SPACED_OP = word('": "');
/** By the op name's first letter: the op (0: none), and the rest of the line up to the id's value. */
// Indexed by any byte (a non-ASCII first letter included), so both tables cover all 256.
const SPACED_OP_BY_LETTER = new Uint8Array(256);
const SPACED_REST_BY_LETTER: WordPrefix[] = new Array<WordPrefix>(256).fill(wordPrefix('\0'));
for (const [name, idKey] of [['alloc', 'id'], ['decref', 'id'], ['incref', 'id'], ['link', 'src'], ['unlink', 'src'], ['free', 'id'], ['resize', 'id']] as const) {
  const letter = name.charCodeAt(0);
  SPACED_OP_BY_LETTER[letter] = Op[name];
  SPACED_REST_BY_LETTER[letter] = wordPrefix(`${name.slice(1)}", "${idKey}": `);
}
const SPACED_TYPE = wordPrefix(', "type": "');
const SPACED_SIZE = wordPrefix(', "size": ');
const SPACED_TRACKED = wordPrefix(', "tracked": ');
const SPACED_SITE = wordPrefix(', "site": "');
const SPACED_FINALIZER = wordPrefix(', "finalizer": "');
const SPACED_DST = wordPrefix(', "dst": ');
const SPACED_T = wordPrefix(', "t": ');

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

