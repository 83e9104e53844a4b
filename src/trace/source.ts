/**
 * Bytes in: where a trace comes from and how its bytes are prepared for a decoder.
 *
 *   file | stdin | any byte stream
 *     → ByteReader (pull, with push-back so the first bytes can be inspected)
 *     → gunzip when the data starts with the gzip magic bytes 1f 8b (whatever the file is named)
 *     → skip a UTF-8 byte-order mark; refuse binary data (a NUL or invalid UTF-8 in the first bytes)
 *     → pick the encoding: the `format` option, else the extension, else sniff the content
 *     → LineSplitter (JSON Lines, CSV) or the JSON document scanner (decode-json.ts)
 *
 * Memory stays bounded by the read size plus one event: nothing here holds the file.
 */
import { isUtf8 } from 'node:buffer';
import { fstatSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors.js';
import type { PrescannedLines } from './prescanned.js';
import type { TraceEncoding, TraceHeader } from './types.js';

/**
 * The longest event accepted, in bytes (1 MiB). An event is a flat object of a dozen short fields;
 * anything longer is a broken line (a missing newline, a runaway quote), and refusing it early is
 * what keeps memory bounded when a multi-gigabyte "line" arrives.
 */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** Bytes read per `read()` from a file. */
const READ_BYTES = 256 * 1024;

/** How many leading bytes are checked for binary content (NUL, invalid UTF-8). */
const BINARY_CHECK_BYTES = 4096;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Whether `bytes` start with gzip's magic number (how a compressed trace is told from its content). */
export function startsWithGzipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= GZIP_MAGIC.length && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** Bytes of a buffer after the scan limit given to `LineSink.takeLines` (the longest key read unchecked, and then some). */
export const SCAN_SLACK_BYTES = 32;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;

/** Reports a problem with the file as a whole and stops reading. */
export type FatalReporter = (kind: 'encoding', line: number, detail: string) => never;

/**
 * Pulls buffers from a byte stream, one `read()` at a time, so the consumer sets the pace
 * (backpressure). Bytes can be pushed back after being looked at.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array | string>;
  private readonly pushedBack: Buffer[] = [];
  private done = false;

  constructor(
    stream: AsyncIterable<Uint8Array | string>,
    /** Turns a stream error (I/O, corrupt gzip) into the error the user sees. */
    private readonly onError: (error: unknown) => never,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next buffer, or null at the end of the data. Never returns an empty buffer. */
  async read(): Promise<Buffer | null> {
    const back = this.pushedBack.pop();
    if (back !== undefined) return back;
    while (!this.done) {
      let result: IteratorResult<Uint8Array | string>;
      try {
        result = await this.iterator.next();
      } catch (error) {
        this.done = true;
        return this.onError(error);
      }
      if (result.done) {
        this.done = true;
        break;
      }
      const value = result.value;
      const buffer = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (buffer.length > 0) return buffer;
    }
    return null;
  }

  /** Makes `buffer` the next one `read()` returns. */
  unread(buffer: Buffer): void {
    if (buffer.length > 0) this.pushedBack.push(buffer);
  }

  /**
   * Reads until `enough(prefix)` holds or the data ends, and pushes everything back.
   * Returns the prefix read (all of it, concatenated).
   */
  async peek(enough: (prefix: Buffer) => boolean): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let prefix: Buffer = Buffer.alloc(0);
    let total = 0;
    let ended = false;
    while (!ended && !enough(prefix)) {
      // Read until the prefix has doubled before looking again: tiny pieces (a slow pipe) then
      // cost a few concatenations, not one per piece.
      const goal = Math.max(1, total * 2);
      while (total < goal) {
        const next = await this.read();
        if (next === null) {
          ended = true;
          break;
        }
        pieces.push(next);
        total += next.length;
      }
      prefix = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, total);
    }
    if (prefix.length > 0) this.unread(prefix);
    return prefix;
  }

  /** Stops the underlying stream (when the consumer stops early). */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.iterator.return?.();
  }
}

/** A byte stream ready for a decoder. */
export interface PreparedSource {
  /** The decompressed bytes, BOM removed, first bytes checked. */
  reader: ByteReader;
  /** The data was gzip-compressed. */
  compressed: boolean;
}

/** Opens a file, or stdin for "-", as a byte stream. File-system errors become `UserError`s. */
export async function openFileStream(path: string, stdin: NodeJS.ReadableStream | undefined): Promise<AsyncIterable<Uint8Array | string>> {
  // Only the CLI decides what stdin is; `process.stdin` is the fallback for library callers.
  if (path === '-') {
    const stream = stdin ?? process.stdin;
    // Node reads a directory on descriptor 0 (`< /tmp`) as an empty stream, which would pass
    // for an empty trace.
    if (stream === process.stdin && isDirectoryDescriptor(0)) throw unreadable('stdin (-)', { code: 'EISDIR' });
    return stream as unknown as AsyncIterable<Uint8Array | string>;
  }
  try {
    return new FileChunks(await open(path, 'r'));
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** Buffers a `FileChunks` keeps for reuse. */
const MAX_SPARE_BUFFERS = 8;

/**
 * A file read in `READ_BYTES` pieces, in order. A consumer done with a piece may give it back
 * (`recycle`) to be read into again: a long trace is then read without allocating (and
 * garbage-collecting) a buffer per piece, which cost a tenth of a replay's time.
 *
 * NOTE: pieces are read with a blocking `readSync`. A read of 256 KiB from the page cache takes
 * ~40 µs; through the thread pool (`FileHandle.read`) the same read cost twice the CPU time, on
 * a machine whose second core is busy scanning (scan-service.ts). Nothing else waits on this
 * thread meanwhile: it is the one decoding.
 */
export class FileChunks implements AsyncIterable<Buffer> {
  private readonly spare: Buffer[] = [];

  constructor(private readonly handle: FileHandle) {}

  /** Takes back a piece this reader returned, once nothing refers to its bytes any more. */
  recycle(buffer: Buffer): void {
    if (this.spare.length < MAX_SPARE_BUFFERS && buffer.byteOffset === 0 && buffer.length === READ_BYTES && buffer.buffer.byteLength === READ_BYTES) this.spare.push(buffer);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        const buffer = this.spare.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
        const bytesRead = readSync(this.handle.fd, buffer, 0, READ_BYTES, null);
        if (bytesRead === 0) return;
        yield bytesRead === READ_BYTES ? buffer : buffer.subarray(0, bytesRead);
      }
    } finally {
      await this.handle.close();
    }
  }
}

function isDirectoryDescriptor(fd: number): boolean {
  try {
    return fstatSync(fd).isDirectory();
  } catch {
    return false;
  }
}

function unreadable(path: string, error: unknown): UserError {
  const code = (error as { code?: unknown }).code;
  const reason =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : error instanceof Error ? error.message : String(error);
  return new UserError('TRACE_UNREADABLE', `cannot read trace ${path}: ${reason}`);
}

/**
 * Wraps a byte stream: gunzips it when it starts with the gzip magic bytes, drops a UTF-8 BOM, and
 * refuses binary data in the first `BINARY_CHECK_BYTES` bytes (a clear error instead of a flood of
 * "not valid JSON" lines, or a hang on a multi-gigabyte line with no newline).
 */
export async function prepareSource(file: string, stream: AsyncIterable<Uint8Array | string>, fatal: FatalReporter): Promise<PreparedSource> {
  const onStreamError = (error: unknown): never => {
    if (isZlibError(error)) return fatal('encoding', 0, `the gzip data is corrupt or truncated (${(error as Error).message})`);
    throw unreadable(file, error);
  };
  const raw = new ByteReader(stream, onStreamError);
  const magic = await raw.peek((prefix) => prefix.length >= GZIP_MAGIC.length);
  const compressed = startsWithGzipMagic(magic);
  const reader = compressed ? new ByteReader(gunzip(raw), onStreamError) : raw;
  try {
    await checkStart(reader, fatal);
  } catch (error) {
    await reader.close();
    await raw.close();
    throw error;
  }
  return { reader, compressed };
}

/** Drops a UTF-8 BOM and refuses binary data at the start of the (decompressed) bytes. */
async function checkStart(reader: ByteReader, fatal: FatalReporter): Promise<void> {
  const start = await reader.peek((prefix) => prefix.length >= BINARY_CHECK_BYTES);
  let skip = 0;
  if (start.length >= 3 && start[0] === UTF8_BOM[0] && start[1] === UTF8_BOM[1] && start[2] === UTF8_BOM[2]) skip = 3;
  if (skip > 0) {
    await reader.read();
    reader.unread(start.subarray(skip));
  }
  const head = start.subarray(skip, Math.min(start.length, skip + BINARY_CHECK_BYTES));
  const problem = findBinaryContent(head, head.length < BINARY_CHECK_BYTES);
  if (problem !== null) {
    const line = countNewlines(head, problem.offset) + 1;
    fatal('encoding', line, `not a UTF-8 text trace: ${problem.what} at byte ${problem.offset + skip}; expected JSON Lines, JSON or CSV, optionally gzip-compressed`);
  }
}

function gunzip(raw: ByteReader): AsyncIterable<Uint8Array> {
  async function* rawBytes(): AsyncGenerator<Buffer> {
    try {
      for (let buffer = await raw.read(); buffer !== null; buffer = await raw.read()) yield buffer;
    } finally {
      await raw.close();
    }
  }
  // Inflated pieces as large as a file's reads (READ_BYTES): with zlib's default of 16 KiB, a
  // 10M-event trace took 20% longer, in per-piece work of the line splitter and the decoder.
  const inflater = createGunzip({ chunkSize: READ_BYTES });
  // pipeline forwards an error of either side to the other and destroys both.
  pipeline(Readable.from(rawBytes()), inflater, () => {});
  return inflater;
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * The first NUL byte or invalid UTF-8 sequence in `bytes`. When `complete` is false, `bytes` is a
 * prefix and a multi-byte sequence cut off at its end is not an error.
 */
export function findBinaryContent(bytes: Uint8Array, complete: boolean): { offset: number; what: string } | null {
  const nul = bytes.indexOf(0);
  const checkedEnd = nul === -1 ? bytes.length : nul;
  if (!isUtf8(bytes.subarray(0, checkedEnd))) {
    const bad = firstInvalidUtf8(bytes, checkedEnd);
    if (bad < checkedEnd && (complete || nul !== -1 || bad < bytes.length - 3)) return { offset: bad, what: 'invalid UTF-8' };
  }
  if (nul !== -1) return { offset: nul, what: 'a NUL byte' };
  return null;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (RFC 3629), or `end`. */
function firstInvalidUtf8(bytes: Uint8Array, end: number): number {
  let i = 0;
  while (i < end) {
    const b = bytes[i];
    let length: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + length > end) return i;
    let codePoint = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if ((next & 0xc0) !== 0x80) return i;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i;
    i += length;
  }
  return end;
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let count = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1 && i < end; i = bytes.indexOf(NEWLINE, i + 1)) count++;
  return count;
}

/** The encoding named by a file's extension (after stripping `.gz`), or null. */
export function encodingOfPath(path: string): TraceEncoding | null {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.csv')) return 'csv';
  return null;
}

/**
 * Guesses the encoding from the first bytes (stdin, unknown extensions):
 * `[` → a JSON array of events; a first line that is a complete JSON object (other than a whole
 * document with "events") → JSON Lines; any other `{` → a JSON document; otherwise CSV.
 * Empty input is an empty JSON Lines trace.
 */
export async function sniffEncoding(reader: ByteReader): Promise<TraceEncoding> {
  const prefix = await reader.peek((bytes) => {
    const first = firstNonSpace(bytes);
    if (first === -1) return bytes.length > MAX_EVENT_BYTES;
    return bytes[first] !== 0x7b /* { */ || bytes.indexOf(NEWLINE, first) !== -1 || bytes.length > MAX_EVENT_BYTES + first;
  });
  const first = firstNonSpace(prefix);
  if (first === -1) return 'jsonl';
  if (prefix[first] === 0x5b /* [ */) return 'json';
  if (prefix[first] !== 0x7b) return 'csv';
  const newline = prefix.indexOf(NEWLINE, first);
  if (newline === -1 && prefix.length > MAX_EVENT_BYTES + first) return 'json';
  const firstLine = prefix.toString('utf8', first, newline === -1 ? prefix.length : newline);
  try {
    const value: unknown = JSON.parse(firstLine);
    const isWholeDocument = typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'events');
    return isWholeDocument ? 'json' : 'jsonl';
  } catch {
    return 'json';
  }
}

function firstNonSpace(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== NEWLINE && b !== CARRIAGE_RETURN) return i;
  }
  return -1;
}

/**
 * A decoder for one encoding. It is pushed bytes in order and passes events to its `EventSink`;
 * the driver in index.ts pulls bytes only as fast as chunks are consumed.
 */
export interface TraceDecoder {
  /**
   * Decodes the next bytes of the (decompressed, BOM-less) trace. `prescanned`: the fast-path
   * scanners' results for these bytes, computed by the scan worker (scan-service.ts).
   */
  push(bytes: Buffer, prescanned?: PrescannedLines): void;
  /** CSV: the header row's names once read, for the scan worker; null before (and for the other encodings). */
  readonly scanColumns?: readonly string[] | null;
  /** The data ended. */
  end(): void;
  /** The header once it is known; null before. Known at the latest after `end()`. */
  readonly header: TraceHeader | null;
  /**
   * True once the decoder has only scanned the data for its header and the events must be read
   * again from the start (a JSON document whose events come first, see decode-json.ts).
   */
  readonly needsSecondPass?: boolean;
}

/** What a `LineSplitter` hands on, line by line. */
export interface LineSink {
  /**
   * One physical line without its line ending (LF or CRLF). `byteLength` is its UTF-8 size.
   * `lineNumber` is 1-based. `crlf`: the line ended with CR LF (a CSV cell that spans lines keeps
   * the line break as written).
   */
  line(text: string, lineNumber: number, byteLength: number, crlf: boolean): void;
  /**
   * A line that was not decoded: longer than the limit (its bytes were counted, not kept), or not
   * valid UTF-8. `quoteCount` is the number of `"` bytes in it, which lets a CSV reader keep track
   * of quoted cells across a line it could not read.
   */
  unreadableLine(lineNumber: number, reason: 'too-long' | 'encoding', byteLength: number, quoteCount: number): void;
  /**
   * The fast path (optional; see scanned-event.ts): decodes the run of lines from `start` on
   * straight from the bytes, without a string per line, as lines `lineNumber, …`. Returns how
   * many it took and sets `takenEnd` to the position after the last one's LF; 0 when the line at
   * `start` must take the general path (`line()`), which then sees it exactly as if this method
   * did not exist. Each line's LF must come before its limit `min(scanLimit, its start +
   * scanReach)`, which the splitter sets so that a line taken is within the length limit and so
   * that at least `SCAN_SLACK_BYTES` bytes of `bytes` follow the limit: a scanner may read that
   * far past it without a bounds check (reading past a typed array's end deoptimizes V8's code
   * for the loop).
   */
  takeLines?(bytes: Buffer, start: number, scanLimit: number, scanReach: number, lineNumber: number): number;
  readonly takenEnd?: number;
}

/**
 * Splits bytes into lines without holding more than one line (at most `maxLineBytes`) beyond the
 * buffer being split. State: the partial line carried over from the previous buffer (`pending`),
 * or, once it grew past the limit, only its byte and quote counts (`skipping`).
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  private skippedBytes = 0;
  private skippedQuotes = 0;
  /** Number of the line being assembled. */
  private lineNumber = 1;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes: number = MAX_EVENT_BYTES,
  ) {}

  push(buffer: Buffer): void {
    const length = buffer.length;
    let start = 0;
    if (this.pendingBytes > 0 || this.skipping) {
      const newline = buffer.indexOf(NEWLINE);
      if (newline === -1) {
        this.carry(buffer, 0, length);
        return;
      }
      this.carry(buffer, 0, newline);
      this.finishCarried();
      start = newline + 1;
    }
    const sink = this.sink;
    const takes = sink.takeLines !== undefined;
    // A line the fast path accepts ends with its LF at most `maxLineBytes` after its start, and
    // at least `SCAN_SLACK_BYTES` before the end of the buffer (see `LineSink.takeLines`).
    const scanReach = this.maxLineBytes + 1;
    const scanLimit = length - SCAN_SLACK_BYTES;
    /** Start of the region known to be valid UTF-8 up to `lastNewline`, or -1 before it is checked. */
    let validFrom = -1;
    let lastNewline = -1;
    while (start < length) {
      // A line that starts within `SCAN_SLACK_BYTES` of the end cannot end before the scan limit:
      // it is not offered to the fast path (which would refuse it, after reading past the buffer).
      if (takes && start < scanLimit) {
        const taken = (sink.takeLines as NonNullable<LineSink['takeLines']>)(buffer, start, scanLimit, scanReach, this.lineNumber);
        if (taken > 0) {
          this.lineNumber += taken;
          start = sink.takenEnd as number;
          continue;
        }
      }
      const newline = buffer.indexOf(NEWLINE, start);
      if (newline === -1) break;
      if (validFrom < 0) {
        // One UTF-8 check for the rest of the complete lines of this buffer, made when the first
        // line needs it: a newline byte never occurs inside a multi-byte sequence, so lines are
        // valid iff the region is. Lines the fast path takes are ASCII.
        lastNewline = buffer.lastIndexOf(NEWLINE);
        validFrom = isUtf8(buffer.subarray(start, lastNewline)) ? start : length;
      }
      this.emit(buffer, start, newline, start >= validFrom);
      start = newline + 1;
    }
    if (start < length) this.carry(buffer, start, length);
  }

  /** The data ended: a last line without a newline is still a line. */
  end(): void {
    if (this.pendingBytes > 0 || this.skipping) this.finishCarried();
  }

  private carry(buffer: Buffer, start: number, end: number): void {
    const bytes = end - start;
    if (bytes === 0) return;
    if (!this.skipping && this.pendingBytes + bytes > this.maxLineBytes + 1 /* a CR */) {
      this.skipping = true;
      this.skippedBytes = this.pendingBytes;
      for (const piece of this.pending) this.skippedQuotes += countByte(piece, QUOTE, 0, piece.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    if (this.skipping) {
      this.skippedBytes += bytes;
      this.skippedQuotes += countByte(buffer, QUOTE, start, end);
      return;
    }
    // A copy: the caller may reuse its buffer.
    this.pending.push(Buffer.from(buffer.subarray(start, end)));
    this.pendingBytes += bytes;
  }

  private finishCarried(): void {
    if (this.skipping) {
      const ending = this.skippedBytes;
      this.sink.unreadableLine(this.lineNumber, 'too-long', ending, this.skippedQuotes);
      this.skipping = false;
      this.skippedBytes = 0;
      this.skippedQuotes = 0;
      this.lineNumber++;
      return;
    }
    const line = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.emit(line, 0, line.length, false);
  }

  private emit(buffer: Buffer, start: number, newline: number, knownValid: boolean): void {
    let end = newline;
    if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end--;
    const bytes = end - start;
    const lineNumber = this.lineNumber++;
    if (bytes > this.maxLineBytes) {
      this.sink.unreadableLine(lineNumber, 'too-long', bytes, countByte(buffer, QUOTE, start, end));
    } else if (!knownValid && !isUtf8(buffer.subarray(start, end))) {
      this.sink.unreadableLine(lineNumber, 'encoding', bytes, countByte(buffer, QUOTE, start, end));
    } else {
      this.sink.line(buffer.toString('utf8', start, end), lineNumber, bytes, end < newline);
    }
  }
}

function countByte(buffer: Uint8Array, byte: number, start: number, end: number): number {
  let count = 0;
  for (let i = buffer.indexOf(byte, start); i !== -1 && i < end; i = buffer.indexOf(byte, i + 1)) count++;
  return count;
}

/** "1.5 MiB" style size for messages. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
}
