/**
 * The decoders' fast path: one event read straight from the bytes of a JSON Lines line or a CSV
 * record, without `JSON.parse`, without a string per line and without an event object.
 *
 *   bytes ──scan-json.ts / scan-csv.ts──► ScannedEvent ──checkScannedEvent──► ChunkWriter.writeLines
 *     │ (anything unusual)                                  │ (not provably valid)
 *     └────────────────────────► the general path ◄──────────┘  (JSON.parse / CSV cells → ajv → write)
 *
 * NOTE: the fast path never reports an error and never decides that an event is invalid. It
 * accepts only events it can prove valid against `schemas/trace-event.schema.json`: the object
 * ops (alloc, incref, decref, link, unlink, free, resize), printable-ASCII strings without
 * escapes, integers written as plain digits, and each field at most once. Everything else — a
 * rare op, an escape, a non-ASCII letter, a negative or fractional size, a duplicate key, a
 * schema violation of any kind, a timestamp that goes backwards — is handed to the general path,
 * which then sees the line exactly as if the fast path did not exist. Messages, line numbers and
 * event indices therefore stay those of the general path by construction; what must hold is
 * that an accepted line is written exactly as the general path would write it, which
 * test/trace/fast-path.test.ts checks with random valid and invalid events (fast-check).
 *
 * The limits below restate the schema; test/trace/fast-path.test.ts checks them against it.
 */
import { AllocFlag, Finalizer, Op } from './types.js';

/** Bits of `ScannedEvent.present`: the fields the fast path understands. */
export const Field = {
  op: 1,
  id: 2,
  type: 4,
  size: 8,
  tracked: 16,
  site: 32,
  finalizer: 64,
  src: 128,
  dst: 256,
  t: 512,
} as const;

/**
 * Per op code: the fields the schema allows (`allowed`) and requires (`required`) for it.
 * `allowed` 0 means the op always takes the general path.
 */
const OP_FIELDS: readonly { allowed: number; required: number }[] = (() => {
  const rules = Array.from({ length: 16 }, () => ({ allowed: 0, required: 0 }));
  const { op, id, type, size, tracked, site, finalizer, src, dst, t } = Field;
  rules[Op.alloc] = { allowed: op | id | type | size | tracked | site | finalizer | t, required: op | id | type | size };
  for (const code of [Op.incref, Op.decref, Op.free]) rules[code] = { allowed: op | id | t, required: op | id };
  for (const code of [Op.link, Op.unlink]) rules[code] = { allowed: op | src | dst | t, required: op | src | dst };
  rules[Op.resize] = { allowed: op | id | size | t, required: op | id | size };
  return rules;
})();

/** Schema limits the fast path enforces (`definitions` and the alloc branch of the event schema). */
export const FAST_PATH_LIMITS = {
  /** `objectId`: a string of 1 to 256 characters. */
  idMaxLength: 256,
  /** alloc `type`: a string of 1 to 256 characters. */
  typeMaxLength: 256,
  /** alloc `site`: at most 1024 characters. */
  siteMaxLength: 1024,
  /** `size`: an integer from 0 to 2^40 bytes. */
  sizeMaximum: 1099511627776,
  /**
   * Most digits of an integer read on the fast path: any 15-digit integer is below 2^53, so it is
   * exact in a float64 and below the `objectId` maximum (2^53 - 1). Longer ones take the
   * general path.
   */
  integerMaxDigits: 15,
} as const;

/**
 * One event as the fast path read it. A single instance is reused for every line: it holds
 * numbers and byte offsets into the line's buffer, never strings, so reading a line allocates
 * nothing. `reset()` before each line.
 */
export class ScannedEvent {
  // NOTE: number fields that can exceed 2^30 start as non-integers, so that V8 stores them as
  // doubles from the start instead of deoptimizing the scanners at the first large id or time.
  /** `Field` bits of the fields read. */
  present = 0;
  /** Op code (0 until `op` is read). */
  op = 0;
  /** The `id` or `src` of the event: an integer, or (when `objStart >= 0`) a string at `[objStart, objEnd)`. */
  objValue = 0.5;
  objStart = -1;
  objEnd = -1;
  /** `size` (alloc, resize), or the `dst` of link/unlink like `obj`. */
  argValue = 0.5;
  argStart = -1;
  argEnd = -1;
  /** alloc `type` at `[typeStart, typeEnd)`. */
  typeStart = 0;
  typeEnd = 0;
  /** alloc `site` at `[siteStart, siteEnd)`; -1 when absent. */
  siteStart = -1;
  siteEnd = -1;
  /** `AllocFlag` bits from `tracked` and `finalizer`. */
  flags = 0;
  /** `t`, or NaN when absent. */
  time = NaN;

  /** Records the `id`/`src` (or, for `dst`, the second id): an integer, or a string at `[start, end)` when `start >= 0`. */
  setId(dst: boolean, value: number, start: number, end: number): void {
    if (dst) {
      this.argValue = value;
      this.argStart = start;
      this.argEnd = end;
    } else {
      this.objValue = value;
      this.objStart = start;
      this.objEnd = end;
    }
  }

  reset(): void {
    this.present = 0;
    this.op = 0;
    this.objStart = -1;
    this.argStart = -1;
    this.siteStart = -1;
    this.flags = 0;
    this.time = NaN;
  }
}

/** True when the fields read are exactly what the schema allows and requires for the event's op. */
export function checkScannedEvent(event: ScannedEvent): boolean {
  const rule = OP_FIELDS[event.op];
  if (rule === undefined || rule.allowed === 0) return false;
  const present = event.present;
  return (present & ~rule.allowed) === 0 && (present & rule.required) === rule.required;
}

// -------------------------------------------------------------------------------------------------
// Byte-level readers shared by the JSON and CSV scanners. Each returns the position after what it
// read, or -1 when the bytes are not what the fast path accepts.

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** The characters a fast-path string may hold: printable ASCII (a JSON string also excludes `"` and `\`). */
export function isPlainByte(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e;
}

/**
 * Reads a non-negative integer written as plain digits (`0` or no leading zero) at `i`, into
 * `scratch.value`. Stops at the first non-digit; the caller checks what follows.
 */
export function readDigits(bytes: Uint8Array, i: number, end: number, scratch: { value: number }): number {
  const first = i;
  let value = 0;
  while (i < end) {
    const digit = bytes[i] - DIGIT_0;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
    i++;
  }
  const digits = i - first;
  if (digits === 0 || digits > FAST_PATH_LIMITS.integerMaxDigits) return -1;
  // "012" is no JSON number, and the CSV reader leaves it as text.
  if (digits > 1 && bytes[first] === DIGIT_0) return -1;
  scratch.value = value;
  return i;
}

/**
 * Reads a non-negative JSON number at `i` into `scratch.value` (`-` is refused: `t` >= 0, and -0
 * is left to the general path). Plain digits are computed exactly; a fraction, an exponent or
 * more than 15 digits go through `Number()`, which rounds as `JSON.parse` does. Infinity (1e400,
 * which `strictNumbers` rejects) is refused.
 */
export function readNumber(bytes: Buffer, i: number, end: number, scratch: { value: number }): number {
  const first = i;
  let j = i;
  let integer = 0;
  while (j < end) {
    const digit = bytes[j] - DIGIT_0;
    if (digit < 0 || digit > 9) break;
    integer = integer * 10 + digit;
    j++;
  }
  const integerDigits = j - first;
  if (integerDigits === 0 || (integerDigits > 1 && bytes[first] === DIGIT_0)) return -1;
  let plain = integerDigits <= FAST_PATH_LIMITS.integerMaxDigits;
  if (j < end && bytes[j] === DOT) {
    plain = false;
    const fraction = ++j;
    while (j < end && bytes[j] >= DIGIT_0 && bytes[j] <= DIGIT_9) j++;
    if (j === fraction) return -1;
  }
  if (j < end && (bytes[j] === LOWER_E || bytes[j] === UPPER_E)) {
    plain = false;
    j++;
    if (j < end && (bytes[j] === PLUS || bytes[j] === MINUS)) j++;
    const exponent = j;
    while (j < end && bytes[j] >= DIGIT_0 && bytes[j] <= DIGIT_9) j++;
    if (j === exponent) return -1;
  }
  if (plain) {
    scratch.value = integer;
    return j;
  }
  const value = Number(bytes.toString('latin1', first, j));
  if (!Number.isFinite(value)) return -1;
  scratch.value = value;
  return j;
}

/** Sets the `AllocFlag` finalizer bits from the string at `[start, end)`; false unless it is `del` or `legacy`. */
export function readFinalizer(bytes: Uint8Array, start: number, end: number, event: ScannedEvent): boolean {
  const length = end - start;
  let kind: number;
  // "del" / "legacy"
  if (length === 3 && bytes[start] === 0x64 && bytes[start + 1] === 0x65 && bytes[start + 2] === 0x6c) kind = Finalizer.del;
  else if (length === 6 && matches(bytes, start, LEGACY)) kind = Finalizer.legacy;
  else return false;
  event.flags |= kind << AllocFlag.finalizerShift;
  return true;
}

const LEGACY = bytesOf('legacy');

/** The op code named by the string at `[start, end)`, or 0 (unknown, or an op the fast path leaves to the general one). */
export function opCodeOf(bytes: Uint8Array, start: number, end: number): number {
  // Dispatch on the length and first letter, then compare the whole name.
  let name: Uint8Array;
  let code: number;
  switch (end - start) {
    case 4:
      if (bytes[start] === 0x6c /* l */) {
        name = LINK;
        code = Op.link;
      } else {
        name = FREE;
        code = Op.free;
      }
      break;
    case 5:
      name = ALLOC;
      code = Op.alloc;
      break;
    case 6: {
      const first = bytes[start];
      if (first === 0x64 /* d */) {
        name = DECREF;
        code = Op.decref;
      } else if (first === 0x69 /* i */) {
        name = INCREF;
        code = Op.incref;
      } else if (first === 0x75 /* u */) {
        name = UNLINK;
        code = Op.unlink;
      } else {
        name = RESIZE;
        code = Op.resize;
      }
      break;
    }
    default:
      return 0;
  }
  return matches(bytes, start, name) ? code : 0;
}

const ALLOC = bytesOf('alloc');
const INCREF = bytesOf('incref');
const DECREF = bytesOf('decref');
const LINK = bytesOf('link');
const UNLINK = bytesOf('unlink');
const FREE = bytesOf('free');
const RESIZE = bytesOf('resize');

export function bytesOf(ascii: string): Uint8Array {
  return Uint8Array.from(ascii, (c) => c.charCodeAt(0));
}

/** True when `bytes` at `start` begins with `word`. */
export function matches(bytes: Uint8Array, start: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[start + k] !== word[k]) return false;
  return true;
}
