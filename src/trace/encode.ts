/**
 * From one decoded event object to one row of an `EventChunk`: the step every decoder shares.
 *
 * Read `EventSink.accept()` first: validate (one compiled ajv call) → check the time order →
 * write the row. An event that fails either check is reported to the `Diagnostics` sink and
 * skipped; a row is written only after every check has passed, so no event is half-encoded.
 *
 * Chunks and event indices. Row `i` of a chunk is event `firstIndex + i` of the trace, where the
 * index counts every event record in the file, skipped ones included, so that "event 7" in a
 * message from the decoder and one from the replay engine name the same record. A skipped event
 * therefore ends the current chunk early; the next rows start a new chunk that is a view
 * (`subarray`) into the same typed arrays, so a trace with many bad events does not allocate a
 * fresh set of columns per gap.
 */
import { ByteInterner } from './byte-interner.js';
import { repeatedTopLevelKey } from './decode-json.js';
import type { Diagnostics } from './diagnostics.js';
import { TraceError } from '../errors.js';
import { eventValidators } from './schema.js';
import type { EventValidators } from './schema.js';
import { AllocFlag, CHUNK_ROWS, Finalizer, Op, createChunk, hexIdKeyOf, hexIdKeyOfBytes, isOpName } from './types.js';
import type { EventChunk, ObjectId, StringTable, TraceEvent } from './types.js';
import { NOT_PRESCANNED } from './prescanned.js';
import type { PrescannedLines } from './prescanned.js';
import type { ScannedEvent } from './scanned-event.js';

/** A fast-path scanner (scan-json.ts, scan-csv.ts): the LF of the line at `start` it read into `event`, or -1. */
export type LineScanner = (bytes: Buffer, start: number, end: number, event: ScannedEvent) => number;

/** Largest id that survives a round trip through a float64 column (2^53 - 1). */
const MAX_INTEGER_ID = Number.MAX_SAFE_INTEGER;

/** `collect` without `gen` collects the oldest generation, as `gc.collect()` does. */
const DEFAULT_COLLECT_GENERATION = 2;

/**
 * The integer a string id spells, or -1: "12" → 12, but "012", "1e3", "-1" and " 12" stay
 * strings. CSV cells are all text, so this is what makes `"id":12` in JSON and `12` in CSV name
 * the same object.
 */
export function canonicalIntegerOf(text: string): number {
  const length = text.length;
  if (length === 0 || length > 16) return -1;
  const first = text.charCodeAt(0);
  if (first === 48 /* 0 */) return length === 1 ? 0 : -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value <= MAX_INTEGER_ID ? value : -1;
}

/**
 * Writes validated events into chunk columns. State: the backing columns being filled, the row
 * where the current chunk (segment) starts in them, and the chunk-local string table.
 * Invariant: `rows` rows of `backing` are written; rows `[segmentStart, rows)` belong to the
 * chunk that starts at event `segmentFirstIndex` and is not yet handed out.
 */
export class ChunkWriter {
  /** Chunks ready to be handed to the consumer, oldest first. */
  readonly ready: EventChunk[] = [];
  private backing: EventChunk | null = null;
  private rows = 0;
  private segmentStart = 0;
  private segmentFirstIndex = 0;
  /** Chunk-local strings of `backing`, deduplicated: ids repeat within a chunk. */
  private localStrings = new Map<string, number>();
  /** Largest `t` seen so far; timestamps must not decrease. */
  private lastTime = -Infinity;
  /** After `writeLines`: the position after the last line it wrote. */
  runEnd = 0;

  /** `types` and `sites` for the fast path, which hands over bytes rather than strings. */
  private readonly typeInterner: ByteInterner;
  private readonly siteInterner: ByteInterner;
  /** The scan worker's type and site ids → this trace's (-1: not met yet); see `writePrescannedRun`. */
  private typeByWorkerId = new Int32Array(256).fill(-1);
  private siteByWorkerId = new Int32Array(256).fill(-1);

  constructor(
    readonly types: StringTable,
    readonly sites: StringTable,
    private readonly chunkRows: number = CHUNK_ROWS,
    /** Where the columns of each new backing chunk come from: zeroed arrays of `capacity` rows. */
    private readonly newChunk: (capacity: number, firstIndex: number) => EventChunk = createChunk,
  ) {
    this.typeInterner = new ByteInterner(types);
    this.siteInterner = new ByteInterner(sites);
  }

  /**
   * Appends event number `index` (from line `line`). Returns null when the row was written, or
   * the detail of a time-order problem (the row is then not written).
   */
  write(event: TraceEvent, index: number, line: number): string | null {
    const time = event.t;
    if (time !== undefined && time < this.lastTime) {
      return `"t" must be non-decreasing, got ${time} after ${this.lastTime}`;
    }
    const row = this.openRow(index);
    const chunk = this.backing as EventChunk;

    switch (event.op) {
      case 'alloc': {
        chunk.obj[row] = this.keyOf(event.id);
        chunk.arg[row] = event.size;
        chunk.aux[row] = this.types.intern(event.type);
        chunk.site[row] = event.site === undefined ? -1 : this.sites.intern(event.site);
        chunk.flags[row] =
          (event.tracked === false ? AllocFlag.untracked : 0) |
          ((event.finalizer === undefined ? Finalizer.none : Finalizer[event.finalizer]) << AllocFlag.finalizerShift);
        break;
      }
      case 'incref':
      case 'decref':
      case 'free':
        chunk.obj[row] = this.keyOf(event.id);
        break;
      case 'link':
      case 'unlink':
        chunk.obj[row] = this.keyOf(event.src);
        chunk.arg[row] = this.keyOf(event.dst);
        break;
      case 'resize':
        chunk.obj[row] = this.keyOf(event.id);
        chunk.arg[row] = event.size;
        break;
      case 'collect':
        chunk.arg[row] = event.gen ?? DEFAULT_COLLECT_GENERATION;
        break;
      case 'gc':
        chunk.arg[row] = event.enabled ? 1 : 0;
        break;
      case 'threshold':
        chunk.arg[row] = event.value;
        chunk.aux[row] = event.gen;
        break;
      case 'freeze':
      case 'unfreeze':
        break;
      case 'mark':
        chunk.arg[row] = this.localStringIndex(event.label);
        break;
    }
    this.closeRow(row, Op[event.op], time ?? NaN, line, index);
    return null;
  }

  /**
   * The fast path's `write` (see scanned-event.ts), as `LineSink.takeLines` for a decoder: the
   * run of lines from `start` on that the fast path accepts, each with the scan limit
   * `min(scanLimit, its start + scanReach)`, written as events `index, …` from line `line` on.
   * They come from the scan worker's results `lines` when it scanned the line at `start`
   * (`writePrescannedRun`), else from scanning them here with `scan` into `event`
   * (`writeScannedRun`). Returns how many were written (0: the line at `start` takes the general
   * path, which then reports whatever is wrong with it); `runEnd` is then the position after the
   * last one's LF. Each row is exactly what `write` writes for the same event.
   */
  writeLines(scan: LineScanner, event: ScannedEvent, lines: PrescannedLines | null, bytes: Buffer, start: number, scanLimit: number, scanReach: number, index: number, line: number): number {
    const k = lines === null ? NOT_PRESCANNED : lines.find(start, Math.min(scanLimit, start + scanReach));
    if (k === NOT_PRESCANNED) return this.writeScannedRun(scan, event, bytes, start, scanLimit, scanReach, index, line);
    const written = this.writePrescannedRun(lines as PrescannedLines, k, bytes, index, line, scanLimit, scanReach);
    // The record that stopped the run (if any) is asked about again next time.
    (lines as PrescannedLines).resumeAt(k + written);
    return written;
  }

  /**
   * `writeLines` without the scan worker's results: scans the lines from `start` on with `scan`
   * and writes each, until a line the fast path leaves or whose timestamp goes backwards (it is
   * written nothing).
   */
  private writeScannedRun(scan: LineScanner, event: ScannedEvent, bytes: Buffer, start: number, scanLimit: number, scanReach: number, index: number, line: number): number {
    let written = 0;
    let lastTime = this.lastTime;
    let newline = scan(bytes, start, Math.min(scanLimit, start + scanReach), event);
    // NaN (no `t`) compares false.
    while (newline >= 0 && !(event.time < lastTime)) {
      const row0 = this.openRow(index + written);
      const chunk = this.backing as EventChunk;
      const rowEnd = this.chunkRows;
      let row = row0;
      // `closeRow`'s work, with the row count and the last time kept in locals until the run
      // leaves this chunk.
      for (;;) {
        const time = event.time;
        this.fillScannedRow(chunk, row, event, bytes);
        chunk.op[row] = event.op;
        chunk.time[row] = time;
        chunk.line[row] = line + written;
        if (time === time) lastTime = time;
        row++;
        written++;
        start = newline + 1;
        newline = start < scanLimit ? scan(bytes, start, Math.min(scanLimit, start + scanReach), event) : -1;
        if (row === rowEnd || newline < 0 || event.time < lastTime) break;
      }
      this.rows = row;
      this.lastTime = lastTime;
      if (row === rowEnd) this.closeSegment(index + written);
    }
    this.runEnd = start;
    return written;
  }

  /**
   * Writes one event the fast path scanned (an element of a JSON document) as event `index`, from
   * line `line`: the row `write` would write for it. Returns false, writing nothing, when its
   * timestamp goes backwards (the general path then reports it).
   */
  writeScanned(event: ScannedEvent, bytes: Buffer, index: number, line: number): boolean {
    const time = event.time;
    // NaN (no `t`) compares false.
    if (time < this.lastTime) return false;
    const row = this.openRow(index);
    this.fillScannedRow(this.backing as EventChunk, row, event, bytes);
    this.closeRow(row, event.op, time, line, index);
    return true;
  }

  /** The columns of a scanned event's row other than op, time and line. */
  private fillScannedRow(chunk: EventChunk, row: number, event: ScannedEvent, bytes: Buffer): void {
    const op = event.op;
    chunk.obj[row] = event.objStart < 0 ? event.objValue : this.keyOfBytes(bytes, event.objStart, event.objEnd);
    if (op === Op.alloc) {
      chunk.arg[row] = event.argValue;
      chunk.aux[row] = this.typeInterner.intern(bytes, event.typeStart, event.typeEnd);
      chunk.site[row] = event.siteStart < 0 ? -1 : this.siteInterner.intern(bytes, event.siteStart, event.siteEnd);
      chunk.flags[row] = event.flags;
    } else if (op === Op.resize) {
      chunk.arg[row] = event.argValue;
    } else if (op === Op.link || op === Op.unlink) {
      chunk.arg[row] = event.argStart < 0 ? event.argValue : this.keyOfBytes(bytes, event.argStart, event.argEnd);
    }
  }

  /**
   * `writeLines` from the scan worker's results (scan-service.ts): records `first, first + 1, …`
   * of `lines`. The run goes on while each record is a line the fast path accepted, starts at the
   * byte after the previous one's LF and was scanned with the splitter's limit, and its timestamp
   * does not go backwards. The rows are checked first and then copied column by column
   * (`copyPrescannedRows`), which is what makes a run cheaper than its lines one by one. The
   * worker's type and site ids become this trace's ids in the order rows are written, so that ids
   * are assigned exactly as scanning here would assign them.
   */
  writePrescannedRun(lines: PrescannedLines, first: number, bytes: Buffer, index: number, line: number, scanLimit: number, scanReach: number): number {
    const { start: starts, end: ends, newline: newlines, time: times } = lines;
    const last = lines.count;
    let k = first;
    let start = starts[k];
    let lastTime = this.lastTime;
    let stopped = false;
    while (!stopped && k < last) {
      // How far the run goes in this chunk: each record is the line at `start`, scanned with the
      // splitter's limit, accepted, and not going back in time (NaN, no `t`, compares false). A
      // record that ends the run is written nothing.
      const row0 = this.needsBacking() ? 0 : this.rows;
      const room = Math.min(this.chunkRows - row0, last - k);
      let n = 0;
      while (n < room) {
        const j = k + n;
        if (starts[j] !== start || ends[j] !== Math.min(scanLimit, start + scanReach) || newlines[j] < 0) {
          stopped = true;
          break;
        }
        const time = times[j];
        if (time < lastTime) {
          stopped = true;
          break;
        }
        if (time === time) lastTime = time;
        start = newlines[j] + 1;
        n++;
        if (start >= scanLimit) {
          stopped = true;
          break;
        }
      }
      if (n === 0) break;
      const row = this.openRow(index + (k - first));
      this.copyPrescannedRows(lines, k, n, row, bytes, line + (k - first));
      k += n;
      this.rows = row + n;
      this.lastTime = lastTime;
      if (this.rows === this.chunkRows) this.closeSegment(index + (k - first));
    }
    this.runEnd = start;
    return k - first;
  }

  /**
   * Rows `row, …` of the current chunk from records `k, …, k + n - 1` (checked by
   * `writePrescannedRun`): the columns laid out alike are copied whole; then, row by row, the
   * line numbers, the worker's type and site ids turned into this trace's (in row order, as
   * scanning here interns them), and string ids.
   */
  private copyPrescannedRows(lines: PrescannedLines, k: number, n: number, row: number, bytes: Buffer, line: number): void {
    const chunk = this.backing as EventChunk;
    const end = k + n;
    chunk.op.set(lines.op.subarray(k, end), row);
    chunk.flags.set(lines.flags.subarray(k, end), row);
    chunk.obj.set(lines.obj.subarray(k, end), row);
    chunk.arg.set(lines.arg.subarray(k, end), row);
    chunk.time.set(lines.time.subarray(k, end), row);
    const { op, objStart, argStart } = lines;
    const { aux, site, line: lineColumn } = chunk;
    for (let j = k, r = row; j < end; j++, r++) {
      lineColumn[r] = line + (j - k);
      if (op[j] === Op.alloc) {
        aux[r] = this.typeOfWorkerId(lines.typeId[j], bytes, lines.typeStart[j], lines.typeEnd[j]);
        const siteId = lines.siteId[j];
        site[r] = siteId < 0 ? -1 : this.siteOfWorkerId(siteId, bytes, lines.siteStart[j], lines.siteEnd[j]);
      }
      if (objStart[j] >= 0) chunk.obj[r] = this.keyOfBytes(bytes, objStart[j], lines.objEnd[j]);
      if (argStart[j] >= 0) chunk.arg[r] = this.keyOfBytes(bytes, argStart[j], lines.argEnd[j]);
    }
  }

  /** The row for event `index`: ends the current chunk first when it cannot take it. */
  private openRow(index: number): number {
    if (index !== this.segmentFirstIndex + (this.rows - this.segmentStart)) this.closeSegment(index);
    if (this.needsBacking()) this.startBacking(index);
    return this.rows;
  }

  /** No chunk yet, or the current one is full: the next row is row 0 of a new chunk. */
  private needsBacking(): boolean {
    return this.backing === null || this.rows === this.chunkRows;
  }

  /** Completes the row `openRow` gave (its columns other than op, time and line are written). */
  private closeRow(row: number, op: number, time: number, line: number, index: number): void {
    const chunk = this.backing as EventChunk;
    chunk.op[row] = op;
    chunk.time[row] = time;
    chunk.line[row] = line;
    if (time === time) this.lastTime = time;
    this.rows = row + 1;
    if (this.rows === this.chunkRows) this.closeSegment(index + 1);
  }

  /** This trace's type id for the scan worker's type id `workerId` (spelled at `bytes[start, end)`). */
  private typeOfWorkerId(workerId: number, bytes: Buffer, start: number, end: number): number {
    if (workerId >= this.typeByWorkerId.length) this.typeByWorkerId = grownIds(this.typeByWorkerId, workerId);
    let id = this.typeByWorkerId[workerId];
    if (id < 0) {
      id = this.typeInterner.intern(bytes, start, end);
      this.typeByWorkerId[workerId] = id;
    }
    return id;
  }

  private siteOfWorkerId(workerId: number, bytes: Buffer, start: number, end: number): number {
    if (workerId >= this.siteByWorkerId.length) this.siteByWorkerId = grownIds(this.siteByWorkerId, workerId);
    let id = this.siteByWorkerId[workerId];
    if (id < 0) {
      id = this.siteInterner.intern(bytes, start, end);
      this.siteByWorkerId[workerId] = id;
    }
    return id;
  }

  /** Hands out the rows written so far (call at the end of the trace). */
  flush(): void {
    this.closeSegment(this.segmentFirstIndex + (this.rows - this.segmentStart));
  }

  /** Ends the current chunk; the next row written belongs to event `nextIndex`. */
  private closeSegment(nextIndex: number): void {
    const chunk = this.backing;
    if (chunk !== null && this.rows > this.segmentStart) {
      const start = this.segmentStart;
      const end = this.rows;
      this.ready.push({
        length: end - start,
        firstIndex: this.segmentFirstIndex,
        op: chunk.op.subarray(start, end),
        obj: chunk.obj.subarray(start, end),
        arg: chunk.arg.subarray(start, end),
        aux: chunk.aux.subarray(start, end),
        site: chunk.site.subarray(start, end),
        flags: chunk.flags.subarray(start, end),
        time: chunk.time.subarray(start, end),
        line: chunk.line.subarray(start, end),
        // Shared by every segment of one backing chunk; keys index into it, and it only grows.
        strings: chunk.strings,
      });
    }
    this.segmentStart = this.rows;
    this.segmentFirstIndex = nextIndex;
  }

  private startBacking(firstIndex: number): void {
    this.backing = this.newChunk(this.chunkRows, firstIndex);
    this.rows = 0;
    this.segmentStart = 0;
    this.segmentFirstIndex = firstIndex;
    this.localStrings = new Map();
  }

  /** The column value of an object id (see `EventChunk`): the integer, a hex address key, or -(string index + 1). */
  private keyOf(id: ObjectId): number {
    if (typeof id === 'number') return id;
    const hexKey = hexIdKeyOf(id);
    return hexKey !== 0 ? hexKey : this.nonHexKeyOf(id);
  }

  /** `keyOf` for a string id the fast path found at `start`..`end`: an address makes no string. */
  private keyOfBytes(bytes: Buffer, start: number, end: number): number {
    const hexKey = hexIdKeyOfBytes(bytes, start, end);
    return hexKey !== 0 ? hexKey : this.nonHexKeyOf(bytes.toString('latin1', start, end));
  }

  /** `keyOf` for a string id known not to be a hex address: a canonical integer, or a chunk string. */
  private nonHexKeyOf(id: string): number {
    const asInteger = canonicalIntegerOf(id);
    return asInteger >= 0 ? asInteger : -(this.localStringIndex(id) + 1);
  }

  private localStringIndex(text: string): number {
    let index = this.localStrings.get(text);
    if (index === undefined) {
      const strings = (this.backing as EventChunk).strings;
      index = strings.length;
      strings.push(text);
      this.localStrings.set(text, index);
    }
    return index;
  }
}

/** `ids` grown to hold index `needed`, new entries -1. */
function grownIds(ids: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  let length = ids.length * 2;
  while (length <= needed) length *= 2;
  const grown = new Int32Array(length).fill(-1);
  grown.set(ids);
  return grown;
}

/** A location-free description of a bad event, turned into a `TraceError` by `EventSink`. */
export type TraceErrorKind = 'schema' | 'time-order' | 'too-long' | 'not-json' | 'not-csv' | 'header' | 'encoding';

/**
 * Where decoders hand their events: validates, encodes, and reports problems with the right
 * location. One per trace being read.
 */
export class EventSink {
  private readonly validators: EventValidators = eventValidators();

  constructor(
    readonly file: string,
    readonly diagnostics: Diagnostics,
    readonly writer: ChunkWriter,
  ) {}

  /** Validates a decoded value and appends it as event `index`, or reports why not. */
  accept(value: unknown, line: number, index: number): void {
    if (!this.validators.isEvent(value)) {
      this.reject('schema', line, index, this.validators.explainEvent(value), opOf(value));
      return;
    }
    const problem = this.writer.write(value, index, line);
    if (problem !== null) this.reject('time-order', line, index, problem, value.op);
  }

  /** Records event `index` as skipped. Throws `TraceErrors` once `--max-errors` is reached. */
  reject(kind: TraceErrorKind, line: number, index: number, detail: string, op?: string): void {
    this.diagnostics.record(new TraceError(kind, { file: this.file, line, event: index, op }, detail));
  }

  /** Stops reading: the rest of the file cannot be decoded. `index` -1 means the file as a whole. */
  fatal(kind: TraceErrorKind, line: number, detail: string, index = -1): never {
    return this.diagnostics.fatal(new TraceError(kind, { file: this.file, line, event: index }, detail));
  }

  /** Stops reading at a header key given twice (`key`, on `line`). */
  repeatedHeaderKey(key: string, line: number): never {
    return this.fatal('header', line, `invalid header: the key "${key}" appears twice`);
  }

  /**
   * `checkHeader` for a header parsed whole from one line's JSON `text` (JSON Lines, CSV's
   * "# {…}" line): JSON.parse kept the last of two equal keys, so the text is asked first.
   */
  checkHeaderText(text: string, value: unknown, line: number): void {
    const repeated = typeof value === 'object' && value !== null ? repeatedTopLevelKey(text, Object.keys(value).length) : null;
    if (repeated !== null) this.repeatedHeaderKey(repeated, line);
    this.checkHeader(value, () => line);
  }

  /** Checks a header object against the header schema; a bad header is fatal. */
  checkHeader(value: unknown, lineOfKey: (key: string | null) => number): void {
    const problems = this.validators.checkHeader(value);
    if (problems.length > 0) {
      const line = lineOfKey(problems[0].key);
      this.fatal('header', line, `invalid header: ${problems.map((p) => p.message).join('; ')}`);
    }
    // Reports copy `meta`, and JSON.stringify recurses: a header nested thousands deep passes the
    // schema (meta is free-form) and would overflow the stack while a report is written.
    for (const [key, field] of Object.entries(value as object)) {
      if (nestsDeeperThan(field, MAX_HEADER_DEPTH - 1)) this.fatal('header', lineOfKey(key), `invalid header: "${key}" nests more than ${MAX_HEADER_DEPTH - 1} levels deep`);
    }
  }
}

/** Deepest nesting a header may have, the header object being level 1 (enough for any metadata). */
export const MAX_HEADER_DEPTH = 32;

/** True when `value` nests objects or arrays more than `limit` levels deep (walked without recursion). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The event's op for the location prefix, when it is a known op name. */
function opOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const op = (value as { op?: unknown }).op;
  return isOpName(op) ? op : undefined;
}
