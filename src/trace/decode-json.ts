/**
 * JSON traces: `{"format":"memreplay","version":1,"meta":{…},"events":[…]}` or a bare `[…]` of
 * events, decoded as a stream.
 *
 * Read `JsonDocumentDecoder.push()` first. It is an incremental scanner, not a parser: it walks the
 * bytes once, without recursion, keeping only the state needed to find where each top-level value
 * ends (nesting depth, inside-a-string, after-a-backslash). Each element of the `events` array is
 * cut out as bytes and handed to `JSON.parse` on its own, so a 100 MB document is never held in
 * memory, and an element nested a million levels deep is rejected by its depth count before any
 * parser sees it. Header keys (`format`, `version`, `meta`, anything unknown) are parsed the same
 * way and checked against the header schema.
 *
 * The shared helpers for one event in JSON text (`acceptJsonText`, `explainJsonSyntax`) are also
 * used by the JSON Lines decoder.
 */
import { isUtf8 } from 'node:buffer';
import type { EventSink } from './encode.js';
import { scanJsonLine } from './scan-json.js';
import { ScannedEvent } from './scanned-event.js';
import { MAX_EVENT_BYTES, SCAN_SLACK_BYTES, formatBytes } from './source.js';
import type { TraceDecoder } from './source.js';
import type { TraceHeader, TraceMeta } from './types.js';

/**
 * Deepest nesting accepted in one event. An event is a flat object (depth 1); a few more levels
 * still get a precise schema message (`"size" must be an integer >= 0, got [[1]]`), while
 * `[[[[…` a million deep is refused before `JSON.parse` or a message renderer could recurse on it.
 */
export const MAX_EVENT_DEPTH = 8;

/** The header of a trace that has none. */
export function defaultHeader(): TraceHeader {
  return { format: 'memreplay', version: 1, meta: {} };
}

/** What a piece of text is, for messages: a JSON Lines line, an array element, a CSV record, a header value. */
export type TextUnit = 'line' | 'event' | 'record' | 'value';

/**
 * Parses one event's JSON text and hands it to the sink, or reports why it is not an event.
 * `depth` is the nesting depth when the caller already measured it (the document scanner does).
 */
export function acceptJsonText(sink: EventSink, text: string, line: number, index: number, unit: TextUnit, depth = -1): void {
  const tooDeep = depth >= 0 ? depth > MAX_EVENT_DEPTH : exceedsDepth(text, MAX_EVENT_DEPTH);
  if (tooDeep) {
    sink.reject('schema', line, index, tooDeepDetail());
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    sink.reject('not-json', line, index, `not valid JSON: ${explainJsonSyntax(text, unit)}`);
    return;
  }
  // JSON.parse keeps the last of two equal keys; an event that says "id" twice is ambiguous. (The
  // fast-path scanners refuse such a line, so it always comes here.)
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const repeated = repeatedTopLevelKey(text, Object.keys(value).length);
    if (repeated !== null) {
      sink.reject('schema', line, index, `the field ${JSON.stringify(repeated)} is given twice; give each field once`);
      return;
    }
  }
  sink.accept(value, line, index);
}

/**
 * The first key that the top-level object in `text` (valid JSON) has twice, or null. `distinct`:
 * how many keys JSON.parse kept. The keys are counted first, without making strings; they are
 * read only when there are more of them than `distinct`.
 */
export function repeatedTopLevelKey(text: string, distinct: number): string | null {
  if (topLevelKeys(text, null) <= distinct) return null;
  const keys: string[] = [];
  topLevelKeys(text, keys);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return null;
}

/** How many keys the top-level object in `text` (valid JSON) has, repeats included; pushes them to `into` when given. */
function topLevelKeys(text: string, into: string[] | null): number {
  let count = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      while (text.charCodeAt(end) !== QUOTE) end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      let next = end + 1;
      while (next < text.length && text.charCodeAt(next) <= 0x20) next++;
      // A string at depth 1 followed by ':' is a key of the top-level object.
      if (depth === 1 && text.charCodeAt(next) === COLON) {
        count++;
        into?.push(JSON.parse(text.slice(i, end + 1)) as string);
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return count;
}

function tooDeepDetail(): string {
  return `an event must be a flat JSON object, but this one nests more than ${MAX_EVENT_DEPTH} levels deep`;
}

/** The detail for an event whose bytes were not decoded (too long, or not UTF-8). */
export function unreadableEventDetail(reason: 'too-long' | 'encoding', byteLength: number, unit: TextUnit): string {
  if (reason === 'encoding') return `the ${unit} is not valid UTF-8`;
  return `the ${unit} is ${formatBytes(byteLength)} long; an event may be at most ${formatBytes(MAX_EVENT_BYTES)}${unit === 'line' ? ' (is a newline missing?)' : ''}`;
}

/**
 * True when `text` nests brackets deeper than `limit` outside strings. Most event lines contain
 * one `{` and no `[`, which two native `indexOf` calls prove without a character loop.
 */
export function exceedsDepth(text: string, limit: number): boolean {
  const firstBrace = text.indexOf('{');
  if (text.indexOf('[') === -1 && (firstBrace === -1 || text.indexOf('{', firstBrace + 1) === -1)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const CARRIAGE_RETURN = 0x0d;

/** A JSON syntax checker for the error path: says where `JSON.parse` would fail, in stable words. */
const Expect = { value: 0, valueOrClose: 1, key: 2, keyOrClose: 3, colon: 4, afterValue: 5 } as const;
type Expect = (typeof Expect)[keyof typeof Expect];

const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERALS = ['true', 'false', 'null'] as const;

/**
 * Why `text` is not one JSON value: `unexpected "}" at column 13`, or `the line ends before the
 * JSON value does (is it cut off?)`. Iterative (an explicit stack), so any nesting is safe.
 * V8's own messages are not used: their wording changes between Node versions.
 */
export function explainJsonSyntax(text: string, unit: TextUnit): string {
  const cutOff = `the ${unit} ends before the JSON value does (is it cut off?)`;
  const at = (i: number): string =>
    `unexpected ${describeChar(text.charCodeAt(i))} at ${unit === 'line' ? 'column' : 'character'} ${i + 1}${unit === 'line' ? '' : ` of the ${unit}`}`;
  const containers: number[] = [];
  let expect: Expect = Expect.value;
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && isJsonSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const c = text.charCodeAt(i);
    switch (expect) {
      case Expect.valueOrClose:
      case Expect.value: {
        if (expect === Expect.valueOrClose && c === CLOSE_BRACKET) {
          containers.pop();
          expect = Expect.afterValue;
          i++;
        } else if (c === OPEN_BRACE) {
          containers.push(OPEN_BRACE);
          expect = Expect.keyOrClose;
          i++;
        } else if (c === OPEN_BRACKET) {
          containers.push(OPEN_BRACKET);
          expect = Expect.valueOrClose;
          i++;
        } else if (c === QUOTE) {
          const end = scanString(text, i);
          if (end < 0) return end === -1 ? cutOff : at(-end - 2);
          i = end;
          expect = Expect.afterValue;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          JSON_NUMBER.lastIndex = i;
          const match = JSON_NUMBER.exec(text);
          if (match === null) return i + 1 >= n ? cutOff : at(i + 1);
          i += match[0].length;
          expect = Expect.afterValue;
        } else {
          const literal = LITERALS.find((word) => word.charCodeAt(0) === c);
          if (literal === undefined) return at(i);
          for (let k = 0; k < literal.length; k++) {
            if (i + k >= n) return cutOff;
            if (text.charCodeAt(i + k) !== literal.charCodeAt(k)) return at(i + k);
          }
          i += literal.length;
          expect = Expect.afterValue;
        }
        break;
      }
      case Expect.keyOrClose:
      case Expect.key: {
        if (expect === Expect.keyOrClose && c === CLOSE_BRACE) {
          containers.pop();
          expect = Expect.afterValue;
          i++;
        } else if (c === QUOTE) {
          const end = scanString(text, i);
          if (end < 0) return end === -1 ? cutOff : at(-end - 2);
          i = end;
          expect = Expect.colon;
        } else {
          return at(i);
        }
        break;
      }
      case Expect.colon:
        if (c !== COLON) return at(i);
        i++;
        expect = Expect.value;
        break;
      case Expect.afterValue: {
        const top = containers[containers.length - 1];
        if (top === undefined) return `${at(i)} after the JSON value`;
        if (c === COMMA) expect = top === OPEN_BRACE ? Expect.key : Expect.value;
        else if ((top === OPEN_BRACE && c === CLOSE_BRACE) || (top === OPEN_BRACKET && c === CLOSE_BRACKET)) containers.pop();
        else return at(i);
        i++;
        break;
      }
    }
  }
  if (expect === Expect.afterValue && containers.length === 0) return `the ${unit} is not valid JSON`;
  return n === 0 ? `the ${unit} is empty` : cutOff;
}

/**
 * End of the JSON string starting at `start` (just past its closing quote); -1 when the text ends
 * inside it; `-(i + 2)` when character `i` cannot appear there.
 */
function scanString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -(i + 2);
    if (c === BACKSLASH) {
      const next = text.charCodeAt(i + 1);
      if (Number.isNaN(next)) return -1;
      if (next === 0x75 /* u */) {
        for (let k = 2; k <= 5; k++) {
          if (i + k >= text.length) return -1;
          if (!/[0-9a-fA-F]/.test(text[i + k])) return -(i + k + 2);
        }
        i += 5;
      } else if ('"\\/bfnrt'.includes(text[i + 1])) {
        i++;
      } else {
        return -(i + 1 + 2);
      }
    }
  }
  return -1;
}

function isJsonSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === NEWLINE || c === CARRIAGE_RETURN;
}

/** A character for a message: `"}"`, `"\u0001"`. */
function describeChar(c: number): string {
  return JSON.stringify(String.fromCharCode(c));
}

/** A byte for a message: `"x"` for printable ASCII, `byte 0xff` otherwise. */
function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/** Where the scanner is between values. */
const State = {
  /** Before the top-level value. */
  start: 0,
  /** After `{`: a key or `}`. */
  keyOrEnd: 1,
  /** After `,` in the document object: a key. */
  key: 2,
  /** After a key: `:`. */
  colon: 3,
  /** After `"events":`: `[`. */
  eventsValue: 4,
  /** After another key's `:`: its value. */
  headerValue: 5,
  /** After a value in the document object: `,` or `}`. */
  objectNext: 6,
  /** After `[`: an event or `]`. */
  firstEvent: 7,
  /** After `,` in the events array: an event. */
  event: 8,
  /** After an event: `,` or `]`. */
  eventsNext: 9,
  /** After the top-level value: only whitespace. */
  after: 10,
} as const;
type State = (typeof State)[keyof typeof State];

/** What the value being cut out is. */
const Capture = { none: 0, key: 1, headerValue: 2, event: 3 } as const;
type Capture = (typeof Capture)[keyof typeof Capture];

/** The header keys that make it complete. `meta` is optional, but it may follow `events`. */
const HEADER_KEYS = ['format', 'version', 'meta'] as const;

/**
 * What to do when a document's `events` array starts before its header is complete.
 *
 * NOTE: events before the header. The header is handed out before the first chunk, so when
 * `events` comes before `format`, `version` or `meta` (as Python's `json.dump(sort_keys=True)`
 * writes them), or `meta` is absent, the header is only known at the end of the document:
 * - `rescan` (files): the first pass only scans the structure, skipping the events without
 *   parsing them, to find the header; the caller then reads the file again with `knownHeader`.
 *   Memory stays bounded; the file is read twice.
 * - `buffer` (stdin and other streams that cannot be read twice): events are decoded as they
 *   come and their chunks are kept until the header is complete. Memory then grows with the
 *   trace (about 42 bytes per event, not the JSON text).
 */
export interface JsonDocumentOptions {
  eventsBeforeHeader: 'rescan' | 'buffer';
  /** The header found by a first pass; the second pass then streams events at once. */
  knownHeader?: TraceHeader;
  /** False reads every event on the general path (to check the fast path against it). Default: true. */
  fastPath?: boolean;
}

export class JsonDocumentDecoder implements TraceDecoder {
  header: TraceHeader | null = null;
  needsSecondPass = false;
  /** First pass of a rescan: events are scanned over, not decoded. */
  private skipEvents = false;
  private state: State = State.start;
  /** 1-based line of the byte being scanned. */
  private line = 1;
  private bare = false;

  // The value being cut out: kind, where it started, the bytes so far (earlier buffers), and the
  // scanner state inside it. Invariant: `capture !== none` iff a value is open.
  private capture: Capture = Capture.none;
  private captureLine = 0;
  private captureStart = 0;
  private pieces: Buffer[] = [];
  private capturedBytes = 0;
  private overLimit = false;
  private depth = 0;
  private deepest = 0;
  private inString = false;
  private escaped = false;
  /** The fast path's scratch (`writeScanned`). */
  private readonly scanned = new ScannedEvent();

  // The document object. Null-prototype records: keys such as `__proto__` are plain data here.
  private key = '';
  private readonly fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  private readonly fieldLines = new Map<string, number>();
  private documentLine = 1;
  private sawEvents = false;
  private nextIndex = 0;

  constructor(
    private readonly sink: EventSink,
    private readonly options: JsonDocumentOptions = { eventsBeforeHeader: 'buffer' },
  ) {
    this.header = options.knownHeader ?? null;
  }

  push(buffer: Buffer): void {
    const n = buffer.length;
    let i = 0;
    if (this.capture !== Capture.none) this.captureStart = 0;
    while (i < n) {
      if (this.capture !== Capture.none) {
        i = this.scanValue(buffer, i);
        continue;
      }
      const c = buffer[i];
      if (c === NEWLINE) this.line++;
      else if (c !== SPACE && c !== TAB && c !== CARRIAGE_RETURN && this.scanStructure(c, i)) continue;
      i++;
    }
    if (this.capture !== Capture.none) this.keepPiece(buffer.subarray(this.captureStart, n));
  }

  /**
   * Scans the open value from `start` and returns where scanning continues: just past the value
   * when it ended in this buffer (the capture is then closed), else the end of the buffer.
   * The state lives in locals while scanning: this loop sees every byte of the trace.
   */
  private scanValue(buffer: Buffer, start: number): number {
    const n = buffer.length;
    let i = start;
    let depth = this.depth;
    let deepest = this.deepest;
    let inString = this.inString;
    let line = this.line;
    if (this.escaped) {
      this.escaped = false;
      i++;
    }
    let end = -1;
    scan: while (i < n) {
      let c = buffer[i];
      if (inString) {
        // Most bytes of an event are inside strings: skip them in a tight loop.
        while (c !== QUOTE && c !== BACKSLASH && c !== NEWLINE) {
          if (++i === n) break scan;
          c = buffer[i];
        }
        if (c === BACKSLASH) {
          i += 2;
          if (i > n) this.escaped = true;
          continue;
        }
        i++;
        if (c === NEWLINE) {
          line++;
          continue;
        }
        inString = false;
        if (depth === 0) {
          end = i;
          break;
        }
        continue;
      }
      if (c === QUOTE) {
        inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth > deepest) deepest = depth;
      } else if (depth === 0) {
        // A scalar (number, literal, or garbage) ends at the next delimiter, which is then
        // scanned again as structure. In the events array, only at "," "]" or the line's end: so
        // that garbage with spaces in it (`@@ not an event,`) is one bad event, not a bad event
        // and then a malformed document at its second word.
        if (this.capture === Capture.event ? c === COMMA || c === CLOSE_BRACKET || c === NEWLINE : c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE || c === COLON || isJsonSpace(c)) {
          end = i;
          break;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) {
          end = i + 1;
          break;
        }
      } else if (c === NEWLINE) {
        line++;
      }
      i++;
    }
    this.depth = depth;
    this.deepest = deepest;
    this.inString = inString;
    this.line = line;
    if (end === -1) return n;
    this.endCapture(buffer, end);
    return end;
  }

  end(): void {
    if (this.state === State.start) this.sink.fatal('not-json', this.line, 'the file is empty; expected a JSON document ([…] or {…})');
    if (this.capture === Capture.event) this.sink.fatal('not-json', this.captureLine, 'the JSON document ends inside the event that starts on this line (is the file truncated?)');
    if (this.capture === Capture.headerValue) {
      this.sink.fatal('not-json', this.captureLine, `the JSON document ends inside the value of "${this.key}" (is the file truncated?)`);
    }
    if (this.state !== State.after) this.sink.fatal('not-json', this.line, 'the JSON document ends early (is the file truncated?)');
  }

  /**
   * One structural byte outside any value. Returns true when the byte starts a value and must be
   * scanned again in capture mode.
   */
  private scanStructure(c: number, i: number): boolean {
    switch (this.state) {
      case State.start:
        if (c === OPEN_BRACKET) {
          this.bare = true;
          this.header = defaultHeader();
          this.state = State.firstEvent;
        } else if (c === OPEN_BRACE) {
          this.documentLine = this.line;
          this.state = State.keyOrEnd;
        } else {
          this.malformed(`expected "[" or "{" at the start of the document, got ${describeByte(c)}`);
        }
        return false;
      case State.keyOrEnd:
      case State.key:
        if (c === QUOTE) return this.startCapture(Capture.key, i);
        if (c === CLOSE_BRACE && this.state === State.keyOrEnd) {
          this.endDocument();
          return false;
        }
        return this.malformed(`expected a key${this.state === State.key ? ' after ","' : ' or "}"'}, got ${describeByte(c)}`);
      case State.colon:
        if (c !== COLON) return this.malformed(`expected ":" after the key "${this.key}", got ${describeByte(c)}`);
        this.state = this.key === 'events' ? State.eventsValue : State.headerValue;
        return false;
      case State.eventsValue:
        if (c !== OPEN_BRACKET) this.sink.fatal('header', this.line, `invalid header: "events" must be an array (starting with "["), got ${describeByte(c)}`);
        this.startEvents();
        return false;
      case State.headerValue:
        if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COLON) return this.malformed(`expected a value for "${this.key}", got ${describeByte(c)}`);
        return this.startCapture(Capture.headerValue, i);
      case State.objectNext:
        if (c === COMMA) this.state = State.key;
        else if (c === CLOSE_BRACE) this.endDocument();
        else this.malformed(`expected "," or "}" after the value of "${this.key}", got ${describeByte(c)}`);
        return false;
      case State.firstEvent:
      case State.event:
        if (c === CLOSE_BRACKET && this.state === State.firstEvent) {
          this.endEvents();
          return false;
        }
        if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COLON) {
          return this.malformed(`expected an event${this.state === State.event ? ' after ","' : ' or "]"'}, got ${describeByte(c)}`);
        }
        return this.startCapture(Capture.event, i);
      case State.eventsNext:
        if (c === COMMA) this.state = State.event;
        else if (c === CLOSE_BRACKET) this.endEvents();
        else this.malformed(`expected "," or "]" after event ${this.nextIndex - 1}, got ${describeByte(c)}`);
        return false;
      case State.after:
        return this.malformed(`unexpected ${describeByte(c)} after the end of the JSON document`);
    }
  }

  private malformed(detail: string): never {
    return this.sink.fatal('not-json', this.line, `malformed JSON document: ${detail}`);
  }

  private startCapture(kind: Capture, start: number): true {
    this.capture = kind;
    this.captureLine = this.line;
    this.captureStart = start;
    this.depth = 0;
    this.deepest = 0;
    this.inString = false;
    this.escaped = false;
    return true;
  }

  /**
   * The fast path for an event that lies whole in this buffer, on one line: the JSON Lines
   * scanners (scan-json.ts) read it, and it is written without `JSON.parse` or a validator call,
   * exactly as the general path would write it. They want the line's LF right after its `}`, so
   * the byte after the event (`,`, `]`, a space or a line end) reads as one for the call: the
   * buffer is ours, and the byte is put back before anything else reads it. Returns false,
   * writing nothing, for an event they leave to the general path, which then also reports what
   * is wrong with it.
   */
  private writeScanned(buffer: Buffer, start: number, end: number): boolean {
    if (end - start > MAX_EVENT_BYTES || end + SCAN_SLACK_BYTES > buffer.length) return false;
    const after = buffer[end];
    buffer[end] = NEWLINE;
    let lineFeed: number;
    try {
      lineFeed = scanJsonLine(buffer, start, end + 1, this.scanned);
    } finally {
      buffer[end] = after;
    }
    return lineFeed === end && this.sink.writer.writeScanned(this.scanned, buffer, this.nextIndex, this.captureLine);
  }

  /** Saves the part of an open value that lies in the buffer about to be released. */
  private keepPiece(piece: Buffer): void {
    if (this.skipEvents && this.capture === Capture.event) return;
    if (!this.overLimit && this.capturedBytes + piece.length > MAX_EVENT_BYTES) {
      // Too long to be an event: stop keeping bytes, but go on counting them to find its end.
      this.overLimit = true;
      this.pieces = [];
    }
    if (!this.overLimit) this.pieces.push(Buffer.from(piece));
    this.capturedBytes += piece.length;
  }

  private endCapture(buffer: Buffer, end: number, start = this.captureStart): void {
    const kind = this.capture;
    this.capture = Capture.none;
    if (kind === Capture.event && this.skipEvents) {
      this.nextIndex++;
      this.state = State.eventsNext;
      return;
    }
    if (kind === Capture.event && this.options.fastPath !== false && this.pieces.length === 0 && !this.overLimit && this.deepest <= 1 && this.writeScanned(buffer, start, end)) {
      this.nextIndex++;
      this.state = State.eventsNext;
      return;
    }
    const byteLength = this.capturedBytes + (end - start);
    const tooLong = this.overLimit || byteLength > MAX_EVENT_BYTES;
    let bytes: Buffer | null = null;
    if (!tooLong) bytes = this.pieces.length === 0 ? buffer.subarray(start, end) : Buffer.concat([...this.pieces, buffer.subarray(start, end)]);
    this.pieces = [];
    this.capturedBytes = 0;
    this.overLimit = false;
    const valid = bytes !== null && isUtf8(bytes);
    const text = valid && bytes !== null ? bytes.toString('utf8') : '';

    switch (kind) {
      case Capture.event: {
        const index = this.nextIndex++;
        this.state = State.eventsNext;
        // Depth first: it is the more specific cause (a million "[" is also more than 1 MiB).
        if (this.deepest > MAX_EVENT_DEPTH) this.sink.reject('schema', this.captureLine, index, tooDeepDetail());
        else if (tooLong) this.sink.reject('too-long', this.captureLine, index, unreadableEventDetail('too-long', byteLength, 'event'));
        else if (!valid) this.sink.reject('encoding', this.captureLine, index, unreadableEventDetail('encoding', byteLength, 'event'));
        else acceptJsonText(this.sink, text, this.captureLine, index, 'event', this.deepest);
        return;
      }
      case Capture.key: {
        if (tooLong || !valid) this.malformed(`a key that is ${tooLong ? 'too long' : 'not valid UTF-8'}`);
        let key: unknown;
        try {
          key = JSON.parse(text);
        } catch {
          this.malformed(`a key that is not a valid JSON string: ${explainJsonSyntax(text, 'value')}`);
        }
        if (typeof key !== 'string') return this.malformed('a key that is not a string');
        if (this.fieldLines.has(key)) this.sink.repeatedHeaderKey(key, this.captureLine);
        this.key = key;
        this.fieldLines.set(key, this.captureLine);
        this.state = State.colon;
        return;
      }
      case Capture.headerValue: {
        const name = this.key;
        if (tooLong) this.sink.fatal('header', this.captureLine, `invalid header: the value of "${name}" is longer than ${formatBytes(MAX_EVENT_BYTES)}`);
        if (!valid) this.sink.fatal('encoding', this.captureLine, `invalid header: the value of "${name}" is not valid UTF-8`);
        try {
          this.fields[name] = JSON.parse(text);
        } catch {
          this.sink.fatal('header', this.captureLine, `invalid header: the value of "${name}" is not valid JSON: ${explainJsonSyntax(text, 'value')}`);
        }
        this.state = State.objectNext;
        return;
      }
      case Capture.none:
        return;
    }
  }

  private startEvents(): void {
    this.sawEvents = true;
    this.state = State.firstEvent;
    if (this.header !== null) return;
    if (HEADER_KEYS.every((key) => this.fieldLines.has(key))) this.completeHeader();
    else if (this.options.eventsBeforeHeader === 'rescan') this.skipEvents = true;
  }

  private endEvents(): void {
    this.state = this.bare ? State.after : State.objectNext;
    if (this.bare) this.key = '';
    else this.key = 'events';
  }

  private endDocument(): void {
    this.state = State.after;
    // The header first: a misspelt "evnets" is then reported as the unknown field it is.
    if (this.header === null) this.completeHeader();
    if (!this.sawEvents) this.sink.fatal('header', this.documentLine, 'invalid header: the JSON document has no "events" array');
    this.needsSecondPass = this.skipEvents;
  }

  /** Validates the header keys read so far (everything but `events`). A bad header is fatal. */
  private completeHeader(): void {
    this.sink.checkHeader(this.fields, (key) => (key !== null ? (this.fieldLines.get(key) ?? this.documentLine) : this.documentLine));
    const meta = this.fields.meta;
    this.header = {
      format: 'memreplay',
      version: 1,
      meta: (meta ?? {}) as TraceMeta,
    };
  }
}
