/**
 * CSV traces (`.csv`):
 *
 *   # {"format":"memreplay","version":1,"meta":{"timeUnit":"ns"}}   ← optional header, first line only
 *   # any other line starting with "#" before the header row is a comment
 *   op,id,type,size,src,dst,t                                        ← header row: field names, any subset
 *   alloc,1,list,56,,,0                                                 and order; must include "op"
 *   link,,,,1,2,10
 *
 * Cells follow RFC 4180: `"` quotes a cell (which may then hold commas, `""` for a quote, and line
 * breaks); line endings may be LF or CRLF. An unquoted empty cell means the field is absent; a
 * quoted empty cell `""` is the empty string (a `mark` with an empty label).
 *
 * Cells are text, so each is first coerced to the type its field has in the schema: ids are
 * integers when they spell a canonical non-negative integer ("12", not "012"), else strings;
 * size/gen/value/t are numbers when they are JSON numbers; tracked/enabled accept true/false/1/0.
 * A cell that does not convert is left as text, and the event then goes through the same ajv
 * validator as JSON and JSON Lines events, so all three give the same messages.
 *
 * One-line records without quotes take the fast path (scan-csv.ts), which reads them straight
 * from the bytes and hands anything it cannot prove valid to the reader below.
 */
import type { EventSink, LineScanner } from './encode.js';
import { canonicalIntegerOf } from './encode.js';
import { defaultHeader, unreadableEventDetail } from './decode-json.js';
import { isBlank } from './decode-jsonl.js';
import type { PrescannedLines } from './prescanned.js';
import { CsvLineScanner } from './scan-csv.js';
import { ScannedEvent } from './scanned-event.js';
import { LineSplitter, MAX_EVENT_BYTES } from './source.js';
import type { LineSink, TraceDecoder } from './source.js';
import type { TraceHeader, TraceMeta } from './types.js';

/** How a column's cells are converted before validation. */
const Coercion = { text: 0, objectId: 1, number: 2, boolean: 3 } as const;
type Coercion = (typeof Coercion)[keyof typeof Coercion];

/** Non-text fields of the event schema, by name. Any other column is text. */
const COERCION_BY_FIELD = new Map<string, Coercion>([
  ['id', Coercion.objectId],
  ['src', Coercion.objectId],
  ['dst', Coercion.objectId],
  ['size', Coercion.number],
  ['gen', Coercion.number],
  ['value', Coercion.number],
  ['t', Coercion.number],
  ['tracked', Coercion.boolean],
  ['enabled', Coercion.boolean],
]);

/** A JSON number, the only spelling a numeric cell may have ("0x10", " 5", "1_000" stay text). */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

const QUOTE = '"';
const HEADER_COMMENT = /^#\s*\{/;

/** Why a record cannot become an event, found while its lines were being read. */
interface RecordFailure {
  kind: 'too-long' | 'encoding' | 'not-csv';
  detail: string;
}

export class CsvDecoder implements TraceDecoder, LineSink {
  header: TraceHeader | null = null;
  private readonly lines: LineSplitter;
  private firstLine = true;
  /** Field names from the header row; null until it is read. */
  private columns: string[] | null = null;
  private coercions: Coercion[] = [];
  /** True when a column is named `__proto__`: rows are then built on null-prototype objects. */
  private needsNullPrototype = false;
  private nextIndex = 0;
  /** The fast path's reader for the header row's columns; null until the header row is read. */
  private scanRecord: LineScanner | null = null;
  private readonly scanned = new ScannedEvent();
  /** The scan worker's results for the buffer being pushed, if any (scan-service.ts). */
  private prescanned: PrescannedLines | null = null;

  // The record being assembled. Invariant: `inRecord` while a record has started and its last
  // quoted cell (if any) is still open; `cell` holds the open quoted cell's text so far.
  private inRecord = false;
  private recordLine = 0;
  private recordBytes = 0;
  /** Cells of the record so far; an empty string is an absent field unless listed in `quotedEmpty`. */
  private cells: string[] = [];
  /** Indices of cells written as `""`: present, and empty. */
  private quotedEmpty: number[] = [];
  private cell = '';
  private inQuotes = false;
  /** The line break inside the open quoted cell, as the file wrote it (LF or CR LF, RFC 4180). */
  private openCellBreak = '\n';
  private failure: RecordFailure | null = null;

  /** `fastPath`: false reads every line on the general path (to check the fast path against it). */
  constructor(
    private readonly sink: EventSink,
    private readonly fastPath = true,
  ) {
    this.lines = new LineSplitter(this);
  }

  push(bytes: Buffer, prescanned?: PrescannedLines): void {
    this.prescanned = prescanned ?? null;
    this.lines.push(bytes);
    this.prescanned = null;
  }

  /** The header row's field names once read: what the scan worker needs to scan records. */
  get scanColumns(): readonly string[] | null {
    return this.scanRecord === null ? null : this.columns;
  }

  end(): void {
    this.lines.end();
    if (this.inRecord) {
      if (this.columns === null) this.sink.fatal('header', this.recordLine, 'invalid header: the header row has a quoted name that is never closed');
      this.failure ??= { kind: 'not-csv', detail: 'a quoted cell is not closed before the end of the file' };
      this.finishRecord();
    }
    this.header ??= defaultHeader();
  }

  /** Where the lines `takeLines` took last end (after the last one's LF). */
  takenEnd = 0;

  /**
   * `LineSink.takeLines`: the fast path (scan-csv.ts, or the scan worker's results for the
   * buffer) for one-line records with no quote, once the header row is read.
   */
  takeLines(bytes: Buffer, start: number, scanLimit: number, scanReach: number, lineNumber: number): number {
    if (this.inRecord || this.scanRecord === null) return 0;
    const writer = this.sink.writer;
    const taken = writer.writeLines(this.scanRecord, this.scanned, this.prescanned, bytes, start, scanLimit, scanReach, this.nextIndex, lineNumber);
    this.nextIndex += taken;
    this.takenEnd = writer.runEnd;
    return taken;
  }

  line(text: string, lineNumber: number, byteLength: number, crlf: boolean): void {
    if (!this.inRecord) {
      if (this.columns === null && this.readPreamble(text, lineNumber)) return;
      if (isBlank(text)) return;
      this.startRecord(lineNumber);
    }
    this.recordBytes += byteLength + 1;
    if (this.failure === null && this.recordBytes > MAX_EVENT_BYTES + 1) {
      this.failure = { kind: 'too-long', detail: unreadableEventDetail('too-long', this.recordBytes, 'record') };
      this.cells = [];
      this.cell = '';
    }
    if (this.failure === null) this.parseLine(text);
    else if (countQuotes(text) % 2 === 1) this.inQuotes = !this.inQuotes;
    if (!this.inQuotes) this.finishRecord();
    else this.openCellBreak = crlf ? '\r\n' : '\n';
  }

  unreadableLine(lineNumber: number, reason: 'too-long' | 'encoding', byteLength: number, quoteCount: number): void {
    if (this.columns === null && !this.inRecord) {
      this.sink.fatal(reason === 'encoding' ? 'encoding' : 'header', lineNumber, `invalid header: ${unreadableEventDetail(reason, byteLength, 'line')}`);
    }
    if (!this.inRecord) this.startRecord(lineNumber);
    this.recordBytes += byteLength + 1;
    this.failure ??= { kind: reason, detail: unreadableEventDetail(reason, this.recordBytes, 'record') };
    // The line's bytes are gone, but its quotes still tell whether a quoted cell spans it.
    if (quoteCount % 2 === 1) this.inQuotes = !this.inQuotes;
    if (!this.inQuotes) this.finishRecord();
  }

  /**
   * Lines before the header row: the `# {…}` header (first line only) and `#` comments.
   * Returns true when the line was consumed.
   */
  private readPreamble(text: string, lineNumber: number): boolean {
    const first = this.firstLine;
    this.firstLine = false;
    if (first && HEADER_COMMENT.test(text)) {
      this.readHeaderComment(text.slice(text.indexOf('{')), lineNumber);
      return true;
    }
    if (text.startsWith('#')) return true;
    return false;
  }

  private readHeaderComment(json: string, lineNumber: number): void {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      this.sink.fatal('header', lineNumber, 'invalid header: the "# {…}" line is not valid JSON');
    }
    this.sink.checkHeaderText(json, value, lineNumber);
    const meta = (value as { meta?: TraceMeta }).meta;
    this.header = { format: 'memreplay', version: 1, meta: meta ?? {} };
  }

  private startRecord(lineNumber: number): void {
    this.inRecord = true;
    this.recordLine = lineNumber;
    this.recordBytes = 0;
    this.cells = [];
    if (this.quotedEmpty.length > 0) this.quotedEmpty = [];
    this.cell = '';
    this.inQuotes = false;
    this.failure = null;
  }

  /** Splits one physical line into cells, continuing a quoted cell left open by the line before. */
  private parseLine(text: string): void {
    const n = text.length;
    let i = 0;
    if (this.inQuotes) {
      this.cell += this.openCellBreak;
      i = this.scanQuoted(text, 0);
      if (i < 0) return;
      i = this.afterQuoted(text, i);
      if (i < 0) return;
    } else if (text.indexOf(QUOTE) === -1) {
      // Fast path: no quotes, so every comma separates cells (and the record starts here: only
      // an open quoted cell carries a record over to the next line).
      this.cells = text.split(',');
      return;
    }
    while (i <= n) {
      if (i < n && text.charCodeAt(i) === 0x22) {
        this.inQuotes = true;
        this.cell = '';
        i = this.scanQuoted(text, i + 1);
        if (i < 0) return;
        i = this.afterQuoted(text, i);
        if (i < 0) return;
      } else {
        let comma = text.indexOf(',', i);
        if (comma === -1) comma = n;
        this.cells.push(text.slice(i, comma));
        i = comma + 1;
      }
    }
  }

  /**
   * Reads the open quoted cell from `from`. Returns the position just past its closing quote, or
   * -1 when the line ends inside it (the cell goes on on the next line).
   */
  private scanQuoted(text: string, from: number): number {
    for (;;) {
      const quote = text.indexOf(QUOTE, from);
      if (quote === -1) {
        this.cell += text.slice(from);
        return -1;
      }
      this.cell += text.slice(from, quote);
      if (text.charCodeAt(quote + 1) === 0x22) {
        this.cell += QUOTE;
        from = quote + 2;
        continue;
      }
      this.inQuotes = false;
      return quote + 1;
    }
  }

  /** After a closing quote: the cell ends at a comma or the end of the line. Returns the next cell's start, n + 1 at the end, or -1 on an error. */
  private afterQuoted(text: string, i: number): number {
    if (this.cell === '') this.quotedEmpty.push(this.cells.length);
    this.cells.push(this.cell);
    this.cell = '';
    if (i === text.length) return i + 1;
    if (text.charCodeAt(i) === 0x2c) return i + 1;
    this.failure = {
      kind: 'not-csv',
      detail: `unexpected ${JSON.stringify(text[i])} after the closing quote of cell ${this.cells.length} (a quote inside a quoted cell is written "")`,
    };
    // Keep track of quotes in the rest of the line so that the record still ends where it should.
    if (countQuotes(text.slice(i)) % 2 === 1) this.inQuotes = !this.inQuotes;
    return -1;
  }

  private finishRecord(): void {
    this.inRecord = false;
    if (this.columns === null) {
      this.readColumns();
      return;
    }
    const index = this.nextIndex++;
    if (this.failure !== null) {
      this.sink.reject(this.failure.kind, this.recordLine, index, this.failure.detail);
      return;
    }
    const columns = this.columns;
    const cells = this.cells;
    if (cells.length > columns.length && cells.slice(columns.length).some((cell, k) => cell !== '' || this.quotedEmpty.includes(columns.length + k))) {
      this.sink.reject('not-csv', this.recordLine, index, `the record has ${cells.length} cells, but the header row names ${columns.length} columns`);
      return;
    }
    const event: Record<string, unknown> = this.needsNullPrototype ? (Object.create(null) as Record<string, unknown>) : {};
    const count = Math.min(cells.length, columns.length);
    for (let c = 0; c < count; c++) {
      const cell = cells[c];
      if (cell === '' && (this.quotedEmpty.length === 0 || !this.quotedEmpty.includes(c))) continue;
      event[columns[c]] = coerceCell(this.coercions[c], cell);
    }
    this.sink.accept(event, this.recordLine, index);
  }

  /** The header row: names the field of each column. Problems with it are fatal. */
  private readColumns(): void {
    const line = this.recordLine;
    if (this.failure !== null) this.sink.fatal('header', line, `invalid header: the header row cannot be read (${this.failure.detail})`);
    const names = this.cells.map((cell) => cell.trim());
    const seen = new Set<string>();
    names.forEach((name, column) => {
      if (name === '') this.sink.fatal('header', line, `invalid header: column ${column + 1} of the header row has no name`);
      if (seen.has(name)) this.sink.fatal('header', line, `invalid header: the header row names the column "${name}" twice`);
      seen.add(name);
    });
    if (!seen.has('op')) {
      this.sink.fatal('header', line, `invalid header: the header row must name an "op" column (it names ${names.map((n) => `"${n}"`).join(', ')})`);
    }
    this.columns = names;
    this.coercions = names.map((name) => COERCION_BY_FIELD.get(name) ?? Coercion.text);
    this.needsNullPrototype = seen.has('__proto__');
    if (this.fastPath) {
      const scanner = new CsvLineScanner(names);
      this.scanRecord = (bytes, start, end, event) => scanner.scan(bytes, start, end, event);
    }
    this.header ??= defaultHeader();
  }
}

/** Converts a cell to the type its field has in the schema, or leaves it as text for ajv to report. */
function coerceCell(coercion: Coercion, cell: string): unknown {
  switch (coercion) {
    case Coercion.text:
      return cell;
    case Coercion.objectId: {
      const asInteger = canonicalIntegerOf(cell);
      return asInteger >= 0 ? asInteger : cell;
    }
    case Coercion.number: {
      if (!JSON_NUMBER.test(cell)) return cell;
      const value = Number(cell);
      return Number.isFinite(value) ? value : cell;
    }
    case Coercion.boolean:
      return cell === 'true' || cell === '1' ? true : cell === 'false' || cell === '0' ? false : cell;
  }
}

function countQuotes(text: string): number {
  let count = 0;
  for (let i = text.indexOf(QUOTE); i !== -1; i = text.indexOf(QUOTE, i + 1)) count++;
  return count;
}
