/**
 * Trace writers: the inverse of the decoders. They turn `TraceEvent`s back into one of the three
 * encodings of trace format v1 (see `schemas/trace-event.schema.json`). Read `writeTrace()` first,
 * then `formatEventJson` and `formatEventCsv`, the readable definition of each line; the JSON
 * hot path (`encodeEventJson`) writes the same bytes without building strings.
 *
 * Output is canonical, so that the same events always give the same bytes whoever built them:
 * - an event's keys are written in the schema's order (`op` first, `t` last), whatever order the
 *   object was built in; absent (`undefined`) fields are left out;
 * - header `meta` keys are sorted (recursively), so two headers with the same content match;
 * - numbers are written as JavaScript prints them (integers as digits);
 * - lines end with `\n` (CSV too: RFC 4180 asks for CRLF, but every CSV reader we know accepts
 *   LF, and LF keeps the JSON Lines and CSV twins of a trace diffable line by line).
 *
 * The writers trust their input: they do not validate events against the schema (the decoders do
 * that on the way in). An unknown `op` is a bug in the caller and throws a `TypeError`.
 *
 * Memory stays bounded whatever the trace length: events are consumed one at a time and bytes are
 * handed to the stream in batches of about `BATCH_FLUSH_BYTES`; when the stream says its buffer
 * is full, the writer waits for the previous batch to be written (see `BackpressureSink`).
 */
import { createGzip } from 'node:zlib';
import type { TraceEncoding, TraceEvent, TraceHeader } from './types.js';

/**
 * Every CSV column, in the fixed order the format prescribes. A CSV trace's header row names a
 * subset of these, in this order.
 */
export const CSV_COLUMNS = ['op', 'id', 'type', 'size', 'tracked', 'site', 'finalizer', 'src', 'dst', 'gen', 'value', 'enabled', 'label', 't'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

export interface WriteTraceOptions {
  /** Compress the output with gzip (deterministic: no file name, mtime 0). Default: false. */
  gzip?: boolean;
  /**
   * CSV only: the columns of the header row. Every field used by an event must be one of them.
   * Default: the union of the fields used, when `events` is an array (read twice); otherwise
   * all of `CSV_COLUMNS`, since a stream cannot be read ahead.
   */
  columns?: readonly CsvColumn[];
  /** End `out` when done and wait for its `'finish'`. Default: false (stdout must stay open). */
  end?: boolean;
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Formatting one value, one event, one header
// ──────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A string as JSON text. Most strings in a trace (ids, type names, sites) need no escaping, and
 * checking that is several times cheaper than `JSON.stringify`; anything else (quotes,
 * backslashes, control characters, surrogates, which must be escaped when unpaired) goes to
 * `JSON.stringify`.
 */
export function jsonString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return JSON.stringify(value);
  }
  return `"${value}"`;
}

function jsonId(id: number | string): string {
  return typeof id === 'number' ? String(id) : jsonString(id);
}

/** `,"t":…` when the event has a timestamp, else nothing. */
function jsonTime(t: number | undefined): string {
  return t === undefined ? '' : `,"t":${t}`;
}

/**
 * One event as canonical JSON text (no newline): keys in schema order, absent fields left out.
 * This is what a JSON Lines line and a JSON array element hold.
 */
export function formatEventJson(event: TraceEvent): string {
  switch (event.op) {
    case 'alloc': {
      let text = `{"op":"alloc","id":${jsonId(event.id)},"type":${jsonString(event.type)},"size":${event.size}`;
      if (event.tracked !== undefined) text += `,"tracked":${event.tracked}`;
      if (event.site !== undefined) text += `,"site":${jsonString(event.site)}`;
      if (event.finalizer !== undefined) text += `,"finalizer":${JSON.stringify(event.finalizer)}`;
      return `${text}${jsonTime(event.t)}}`;
    }
    case 'incref':
    case 'decref':
    case 'free':
      return `{"op":"${event.op}","id":${jsonId(event.id)}${jsonTime(event.t)}}`;
    case 'link':
    case 'unlink':
      return `{"op":"${event.op}","src":${jsonId(event.src)},"dst":${jsonId(event.dst)}${jsonTime(event.t)}}`;
    case 'resize':
      return `{"op":"resize","id":${jsonId(event.id)},"size":${event.size}${jsonTime(event.t)}}`;
    case 'collect':
      return event.gen === undefined ? `{"op":"collect"${jsonTime(event.t)}}` : `{"op":"collect","gen":${event.gen}${jsonTime(event.t)}}`;
    case 'gc':
      return `{"op":"gc","enabled":${event.enabled}${jsonTime(event.t)}}`;
    case 'threshold':
      return `{"op":"threshold","gen":${event.gen},"value":${event.value}${jsonTime(event.t)}}`;
    case 'freeze':
    case 'unfreeze':
      return `{"op":"${event.op}"${jsonTime(event.t)}}`;
    case 'mark':
      return `{"op":"mark","label":${jsonString(event.label)}${jsonTime(event.t)}}`;
    default:
      throw unknownOp(event);
  }
}

function unknownOp(event: never): TypeError {
  return new TypeError(`cannot write event with op ${JSON.stringify((event as { op?: unknown }).op)}; this is a bug in the caller of writeTrace`);
}

/**
 * JSON text of a value with object keys sorted at every depth, so equal content gives equal
 * bytes. `undefined` object members are left out, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    }
    return `{${members.join(',')}}`;
  }
  throw new TypeError(`cannot write ${typeof value} in a trace header; header meta must be plain JSON`);
}

/** The header object as one line of JSON: `{"format":"memreplay","version":1,"meta":{…}}`. */
export function formatHeaderJson(header: TraceHeader): string {
  return `{"format":"memreplay","version":1,"meta":${canonicalJson(header.meta ?? {})}}`;
}

/**
 * One CSV cell, quoted per RFC 4180 when it holds a comma, a quote or a line break (quotes are
 * doubled). Also quoted: the empty string, because an empty cell means "absent"; and text with
 * spaces at either end, which some readers trim.
 */
export function formatCsvCell(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  if (value === '' || NEEDS_QUOTES.test(value) || value.trim() !== value) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One event as a CSV row (no newline) under the given columns. */
export function formatEventCsv(event: TraceEvent, columns: readonly CsvColumn[]): string {
  const fields = event as unknown as Readonly<Record<string, string | number | boolean | undefined>>;
  let row = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) row += ',';
    row += formatCsvCell(fields[columns[i]]);
  }
  return row;
}

const COLUMN_ORDER: ReadonlyMap<string, number> = new Map(CSV_COLUMNS.map((column, index) => [column, index]));

/** The columns a set of events uses, in `CSV_COLUMNS` order (`op` always). */
export function csvColumnsOf(events: Iterable<TraceEvent>): CsvColumn[] {
  const used = new Array<boolean>(CSV_COLUMNS.length).fill(false);
  used[0] = true;
  for (const event of events) {
    for (const key of Object.keys(event)) {
      const index = COLUMN_ORDER.get(key);
      if (index === undefined) throw new TypeError(`event field ${JSON.stringify(key)} is not part of trace format v1; this is a bug in the caller of writeTrace`);
      if ((event as unknown as Record<string, unknown>)[key] !== undefined) used[index] = true;
    }
  }
  return CSV_COLUMNS.filter((_, index) => used[index]);
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Bytes: the hot path of JSON and JSON Lines
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** Bytes collected before one `write()` call. */
const BATCH_FLUSH_BYTES = 128 * 1024;
const BATCH_CAPACITY_BYTES = 256 * 1024;

/**
 * The bytes of the batch being built. Writing events straight into a buffer (instead of joining
 * strings and letting the stream encode them as UTF-8) is what makes the writer fast: no
 * per-event strings, no rope flattening, no second pass to encode.
 *
 * Invariant: `encodeEventJson` writes exactly the UTF-8 bytes of `formatEventJson` (checked by
 * a property test), so the string functions stay the readable reference of the format.
 */
export class ByteBatch {
  private bytes = Buffer.allocUnsafe(BATCH_CAPACITY_BYTES);
  /** Bytes used. */
  length = 0;

  /** Hands out the bytes written so far and starts a new, empty batch. */
  take(): Buffer {
    const full = this.bytes.subarray(0, this.length);
    this.bytes = Buffer.allocUnsafe(Math.max(BATCH_CAPACITY_BYTES, this.bytes.length));
    this.length = 0;
    return full;
  }

  /** Makes room for `extra` more bytes. */
  private reserve(extra: number): Buffer {
    if (this.length + extra > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + extra));
      this.bytes.copy(bigger, 0, 0, this.length);
      this.bytes = bigger;
    }
    return this.bytes;
  }

  /** Text known to be ASCII (keys, punctuation, `String(number)`). */
  ascii(text: string): void {
    const bytes = this.reserve(text.length);
    let at = this.length;
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Any text, as UTF-8. */
  text(text: string): void {
    const bytes = this.reserve(Buffer.byteLength(text, 'utf8'));
    this.length += bytes.write(text, this.length, 'utf8');
  }

  /** A JSON string literal: the bytes of `jsonString(value)`. */
  jsonString(value: string): void {
    const bytes = this.reserve(value.length + 2);
    let at = this.length;
    bytes[at++] = 0x22;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      // Escapes and non-ASCII take the general path; trace strings rarely need it.
      if (code < 0x20 || code === 0x22 || code === 0x5c || code >= 0x80) {
        this.text(JSON.stringify(value));
        return;
      }
      bytes[at++] = code;
    }
    bytes[at++] = 0x22;
    this.length = at;
  }

  /** A number as JSON writes it; whole numbers ≥ 0 (ids, sizes) without a detour through strings. */
  number(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value))) {
      this.ascii(String(value));
      return;
    }
    let digits = 1;
    for (let power = 10; power <= value; power *= 10) digits++;
    const bytes = this.reserve(digits);
    let at = this.length + digits;
    this.length = at;
    let rest = value;
    do {
      const next = Math.floor(rest / 10);
      bytes[--at] = 0x30 + (rest - next * 10);
      rest = next;
    } while (rest > 0);
  }

  id(id: number | string): void {
    if (typeof id === 'number') this.number(id);
    else this.jsonString(id);
  }

  byte(code: number): void {
    const bytes = this.reserve(1);
    bytes[this.length++] = code;
  }
}

/** Appends the bytes of `formatEventJson(event)` to a batch. */
export function encodeEventJson(event: TraceEvent, batch: ByteBatch): void {
  switch (event.op) {
    case 'alloc':
      batch.ascii('{"op":"alloc","id":');
      batch.id(event.id);
      batch.ascii(',"type":');
      batch.jsonString(event.type);
      batch.ascii(',"size":');
      batch.number(event.size);
      if (event.tracked !== undefined) batch.ascii(event.tracked ? ',"tracked":true' : ',"tracked":false');
      if (event.site !== undefined) {
        batch.ascii(',"site":');
        batch.jsonString(event.site);
      }
      if (event.finalizer !== undefined) {
        batch.ascii(',"finalizer":');
        batch.jsonString(event.finalizer);
      }
      break;
    case 'incref':
      batch.ascii('{"op":"incref","id":');
      batch.id(event.id);
      break;
    case 'decref':
      batch.ascii('{"op":"decref","id":');
      batch.id(event.id);
      break;
    case 'free':
      batch.ascii('{"op":"free","id":');
      batch.id(event.id);
      break;
    case 'link':
    case 'unlink':
      batch.ascii(event.op === 'link' ? '{"op":"link","src":' : '{"op":"unlink","src":');
      batch.id(event.src);
      batch.ascii(',"dst":');
      batch.id(event.dst);
      break;
    case 'resize':
      batch.ascii('{"op":"resize","id":');
      batch.id(event.id);
      batch.ascii(',"size":');
      batch.number(event.size);
      break;
    case 'collect':
      batch.ascii('{"op":"collect"');
      if (event.gen !== undefined) {
        batch.ascii(',"gen":');
        batch.number(event.gen);
      }
      break;
    case 'gc':
      batch.ascii(event.enabled ? '{"op":"gc","enabled":true' : '{"op":"gc","enabled":false');
      break;
    case 'threshold':
      batch.ascii('{"op":"threshold","gen":');
      batch.number(event.gen);
      batch.ascii(',"value":');
      batch.number(event.value);
      break;
    case 'freeze':
      batch.ascii('{"op":"freeze"');
      break;
    case 'unfreeze':
      batch.ascii('{"op":"unfreeze"');
      break;
    case 'mark':
      batch.ascii('{"op":"mark","label":');
      batch.jsonString(event.label);
      break;
    default:
      throw unknownOp(event);
  }
  if (event.t !== undefined) {
    batch.ascii(',"t":');
    batch.number(event.t);
  }
  batch.byte(0x7d);
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Encoders: the text before, for and after the events of one encoding
// ──────────────────────────────────────────────────────────────────────────────────────────────

/** Produces a whole trace: `begin()`, then `event()` per event, then `end()`, into a batch. */
export interface TraceEncoder {
  begin(batch: ByteBatch): void;
  event(event: TraceEvent, batch: ByteBatch): void;
  end(batch: ByteBatch): void;
}

/**
 * An encoder for one encoding. `header` null means "no header": JSON Lines and CSV then start
 * directly with events (CSV with its column row); a JSON document still writes an empty `meta`
 * before `events`, so that a reader knows the whole header before the first event and can stream
 * the document (from stdin too).
 */
export function createEncoder(format: TraceEncoding, header: TraceHeader | null, columns: readonly CsvColumn[] = CSV_COLUMNS): TraceEncoder {
  switch (format) {
    case 'jsonl':
      return {
        begin: (batch) => {
          if (header !== null) batch.text(`${formatHeaderJson(header)}\n`);
        },
        event: (event, batch) => {
          encodeEventJson(event, batch);
          batch.byte(0x0a);
        },
        end: () => undefined,
      };
    case 'json': {
      let first = true;
      const opening = formatHeaderJson(header ?? { format: 'memreplay', version: 1, meta: {} }).slice(0, -1);
      return {
        begin: (batch) => batch.text(`${opening},"events":[\n`),
        event: (event, batch) => {
          if (!first) batch.ascii(',\n');
          first = false;
          encodeEventJson(event, batch);
        },
        end: (batch) => batch.ascii(first ? ']}\n' : '\n]}\n'),
      };
    }
    case 'csv': {
      const allowed = new Set<string>(columns);
      const positions = columns.map((column) => COLUMN_ORDER.get(column) ?? -1);
      if (columns[0] !== 'op' || positions.some((position, i) => position < 0 || (i > 0 && position <= positions[i - 1]))) {
        throw new TypeError(`CSV columns must start with "op" and follow the order ${CSV_COLUMNS.join(',')}; got ${columns.join(',')}`);
      }
      return {
        begin: (batch) => batch.text(`${header === null ? '' : `# ${formatHeaderJson(header)}\n`}${columns.join(',')}\n`),
        event: (event, batch) => {
          checkColumns(event, allowed);
          batch.text(`${formatEventCsv(event, columns)}\n`);
        },
        end: () => undefined,
      };
    }
    default:
      throw new TypeError(`unknown trace encoding ${JSON.stringify(format)}; expected jsonl, json or csv`);
  }
}

/** A field outside the chosen columns would be lost silently: refuse instead. */
function checkColumns(event: TraceEvent, allowed: ReadonlySet<string>): void {
  for (const key in event) {
    if (!allowed.has(key) && (event as unknown as Record<string, unknown>)[key] !== undefined) {
      throw new TypeError(`event field ${JSON.stringify(key)} has no CSV column; pass it in options.columns`);
    }
  }
}

/** The CSV columns `writeTrace` uses for these events and options. */
function resolveColumns(events: Iterable<TraceEvent> | AsyncIterable<TraceEvent>, options: WriteTraceOptions): readonly CsvColumn[] {
  if (options.columns !== undefined) return options.columns;
  return Array.isArray(events) ? csvColumnsOf(events as TraceEvent[]) : CSV_COLUMNS;
}

/** A whole (small) trace as bytes: what `writeTrace` writes without gzip. */
export function traceToBuffer(events: Iterable<TraceEvent>, header: TraceHeader | null, format: TraceEncoding, options: Pick<WriteTraceOptions, 'columns'> = {}): Buffer {
  const encoder = createEncoder(format, header, resolveColumns(events, options));
  const batch = new ByteBatch();
  encoder.begin(batch);
  for (const event of events) encoder.event(event, batch);
  encoder.end(batch);
  return batch.take();
}

/** A whole (small) trace as a string: what `writeTrace` writes without gzip. */
export function traceToString(events: Iterable<TraceEvent>, header: TraceHeader | null, format: TraceEncoding, options: Pick<WriteTraceOptions, 'columns'> = {}): string {
  return traceToBuffer(events, header, format, options).toString('utf8');
}

// ──────────────────────────────────────────────────────────────────────────────────────────────
// Streaming
// ──────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Writes to a stream with backpressure, keeping the stream busy while the next batch is built.
 *
 * NOTE: the usual protocol, waiting for `'drain'` whenever `write()` returns false, waits until
 * the stream's buffer is *empty*: the disk then idles while the next batch is computed, and the
 * generator idles while the disk writes (measured: a fifth of the run idle). Instead, when the
 * stream is over its high-water mark, we wait for the *previous* batch to be written (its write
 * callback). The stream then still holds the current batch to work on, and the memory held stays
 * bounded: at most the high-water mark plus two batches.
 *
 * The first `'error'` the stream emits (even between two writes) makes the next call reject.
 */
class BackpressureSink {
  private failure: { error: unknown } | null = null;
  /** Settles when the most recent write has been handed on by the stream. */
  private previous: Promise<void> | null = null;
  private readonly onError = (error: unknown): void => {
    this.failure ??= { error };
  };

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', this.onError);
  }

  async write(bytes: Buffer): Promise<void> {
    this.throwIfFailed();
    const before = this.previous;
    let markWritten: () => void = () => undefined;
    this.previous = new Promise<void>((resolve) => {
      markWritten = resolve;
    });
    const accepted = this.out.write(bytes, (error?: Error | null) => {
      if (error) this.onError(error);
      markWritten();
    });
    if (!accepted && before !== null) await before;
    this.throwIfFailed();
  }

  /** Ends the stream and waits until everything is flushed. */
  async finish(): Promise<void> {
    this.throwIfFailed();
    await new Promise<void>((resolve, reject) => {
      const onFinish = (): void => {
        this.out.removeListener('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.out.removeListener('finish', onFinish);
        reject(this.failure?.error ?? new Error('the output stream closed before the trace was written'));
      };
      this.out.once('finish', onFinish);
      this.out.once('close', onClose);
      this.out.end();
    });
  }

  dispose(): void {
    this.out.removeListener('error', this.onError);
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure.error;
    if ((this.out as { destroyed?: boolean }).destroyed === true) throw new Error('the output stream closed before the trace was written');
  }
}

/**
 * Writes a trace to a stream in one of the three encodings.
 *
 *   events ──► encoder (bytes per event) ──► batch of ~128 KiB ──► [gzip] ──► out
 *
 * Synchronous iterables (arrays, generators such as a workload's `generate()`) are read without
 * an `await` per event, which keeps the writer at millions of events per second; async iterables
 * work too. Resolves when the last byte has been handed to `out` (and, with `end`, flushed).
 * `header` null writes no header (JSON: an empty `meta`).
 */
export async function writeTrace(
  events: Iterable<TraceEvent> | AsyncIterable<TraceEvent>,
  header: TraceHeader | null,
  format: TraceEncoding,
  out: NodeJS.WritableStream,
  options: WriteTraceOptions = {},
): Promise<void> {
  // 1. The encoder, with the CSV columns decided before the first row.
  const encoder = createEncoder(format, header, format === 'csv' ? resolveColumns(events, options) : CSV_COLUMNS);

  // 2. Where bytes go: straight to `out`, or into a gzip stream piped to `out`. If `out` fails,
  //    the gzip stream is destroyed with its error, so that writes waiting on it fail too
  //    instead of waiting forever for a reader that is gone.
  const gzip = options.gzip === true ? createGzip() : null;
  const target = new BackpressureSink(gzip ?? out);
  const outSink = gzip === null ? target : new BackpressureSink(out);
  const stopGzip = (error: unknown): void => {
    gzip?.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  let gzipDone: Promise<void> | null = null;
  if (gzip !== null) {
    out.on('error', stopGzip);
    gzip.pipe(out, { end: false });
    gzipDone = new Promise<void>((resolve, reject) => {
      gzip.once('end', resolve);
      gzip.once('error', reject);
    });
    // Awaited in step 4; until then a failure is reported by the next write.
    gzipDone.catch(() => undefined);
  }

  try {
    // 3. Events, batched into about BATCH_FLUSH_BYTES per write.
    const batch = new ByteBatch();
    encoder.begin(batch);
    if (Symbol.iterator in events) {
      for (const event of events) {
        encoder.event(event, batch);
        if (batch.length >= BATCH_FLUSH_BYTES) await target.write(batch.take());
      }
    } else {
      for await (const event of events) {
        encoder.event(event, batch);
        if (batch.length >= BATCH_FLUSH_BYTES) await target.write(batch.take());
      }
    }
    encoder.end(batch);
    if (batch.length > 0) await target.write(batch.take());

    // 4. Flush: gzip's trailer must reach `out` before we return; `out` itself only if asked.
    if (gzip !== null && gzipDone !== null) {
      gzip.end();
      await gzipDone;
    }
    if (options.end === true) await outSink.finish();
  } finally {
    target.dispose();
    if (outSink !== target) outSink.dispose();
    if (gzip !== null) {
      gzip.unpipe(out);
      out.removeListener('error', stopGzip);
    }
  }
}
