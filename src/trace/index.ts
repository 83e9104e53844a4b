/**
 * Reading a trace: `openTrace(path, options)` → `OpenedTrace` (header now, events as chunks later).
 *
 *   bytes (file | stdin | stream)
 *     │ 1. prepareSource: gunzip if 1f 8b, drop a BOM, refuse binary data        (source.ts)
 *     │ 2. pick the encoding: option > extension > sniffed content              (source.ts)
 *     ▼
 *   decoder (decode-jsonl.ts | decode-json.ts | decode-csv.ts)
 *     │ 3. cut the bytes into events; read the header before the first event. Common JSON
 *     │    Lines and CSV lines take the fast path (scanned-event.ts), scanned here or, for large
 *     │    files, ahead of time by a worker thread (scan-service.ts); the rest is parsed
 *     ▼
 *   EventSink (encode.ts)
 *     │ 4. validate (schema.ts, one ajv call), check time order, write a chunk row;
 *     │    bad events go to `Diagnostics` and are skipped
 *     ▼
 *   EventChunk[] — pulled by the consumer one at a time: bytes are read only as fast as chunks
 *   are consumed, so memory stays bounded for any trace length (and, for a consumer that keeps
 *   no chunk, `ChunkReadOptions.recycle`, constant: chunks and file buffers are reused).
 *
 * The caller owns the `Diagnostics` and calls `diagnostics.finish()` once it is done with the
 * trace (the replay engine records its own problems in the same sink).
 */
import { fstatSync, readFileSync, statSync } from 'node:fs';
import type { Diagnostics } from './diagnostics.js';
import { CsvDecoder } from './decode-csv.js';
import { JsonDocumentDecoder } from './decode-json.js';
import { JsonLinesDecoder } from './decode-jsonl.js';
import { ChunkWriter, EventSink } from './encode.js';
import type { PrescannedLines } from './prescanned.js';
import { READ_AHEAD_BUFFERS, ScanService, worthAWorker } from './scan-service.js';
import type { PrescannedBuffer } from './scan-service.js';
import { FileChunks, encodingOfPath, openFileStream, prepareSource, sniffEncoding } from './source.js';
import type { ByteReader, TraceDecoder } from './source.js';
import { CHUNK_ROWS, StringTable, createChunk } from './types.js';
import type { EventChunk, TraceEncoding, TraceHeader } from './types.js';

export { MAX_EVENT_BYTES, encodingOfPath } from './source.js';
export { MAX_EVENT_DEPTH } from './decode-json.js';
export { canonicalIntegerOf } from './encode.js';

export interface DecodeOptions {
  /** The encoding; overrides the extension and sniffing. */
  format?: TraceEncoding;
  /** Where bad events are reported. */
  diagnostics: Diagnostics;
  /** Rows per chunk. Default: CHUNK_ROWS (16384). */
  chunkRows?: number;
  /**
   * Read the common line shapes of JSON Lines and CSV on the fast path (scanned-event.ts).
   * Default: true. The output is the same either way; false exists to check exactly that.
   */
  fastPath?: boolean;
}

/** How a consumer reads the chunks of a trace. */
export interface ChunkReadOptions {
  /**
   * The consumer keeps no chunk, nor any of its typed arrays, once it asks for the next one
   * (the replay engine). A chunk's memory may then be reused for a later chunk, so that a long
   * trace is read without allocating (and garbage-collecting) memory per chunk. Default: false.
   */
  recycle?: boolean;
}

export interface OpenTraceOptions extends DecodeOptions {
  /** The stream read for the path "-". Default: process.stdin. */
  stdin?: NodeJS.ReadableStream;
  /**
   * Scan lines ahead in a worker thread while this thread decodes and the caller consumes chunks
   * (scan-service.ts): 'auto' does for JSON Lines and CSV files of at least
   * `WORKER_MIN_FILE_BYTES`, scanning here until the worker has started; 'always' does for any
   * such file and waits for the worker; 'never' does not. Stdin and gzip are always decoded in
   * this thread alone. Default: 'auto'. Chunks and errors are the same either way.
   */
  decodeInWorker?: 'auto' | 'always' | 'never';
  /**
   * Read the bytes from this file instead: a copy of a trace that can be read only once (stdin,
   * a pipe). `path` still names the trace in messages and reports.
   */
  copy?: string;
}

export interface OpenedTrace {
  /** The file as the user named it, "-" for stdin. */
  file: string;
  encoding: TraceEncoding;
  /** The data was gzip-compressed. */
  compressed: boolean;
  /** `{format, version, meta}`; `meta` is `{}` when the trace has no header. */
  header: TraceHeader;
  /** Interned `alloc` types; grows while chunks are read. */
  types: StringTable;
  /** Interned `alloc` sites; grows while chunks are read. */
  sites: StringTable;
  /** The events, in order. May be called once. */
  chunks(options?: ChunkReadOptions): AsyncIterable<EventChunk>;
  /**
   * Lets go of the file (and the scan worker) when the events will not be read after all; does
   * nothing once `chunks()` was called, whose iteration closes them at its end.
   */
  close(): Promise<void>;
}

/** How a decoder is made for one pass over the bytes. */
interface DecoderContext {
  /** The bytes can be read again from the start (a file, not stdin). */
  rereadable: boolean;
  /** The header, when a first pass found it. */
  knownHeader?: TraceHeader;
  fastPath: boolean;
}

/** The decoder of each encoding. */
const DECODERS = {
  jsonl: (sink, context) => new JsonLinesDecoder(sink, context.fastPath),
  json: (sink, context) => new JsonDocumentDecoder(sink, { eventsBeforeHeader: context.rereadable ? 'rescan' : 'buffer', knownHeader: context.knownHeader, fastPath: context.fastPath }),
  csv: (sink, context) => new CsvDecoder(sink, context.fastPath),
} satisfies Record<TraceEncoding, (sink: EventSink, context: DecoderContext) => TraceDecoder>;

/** Opens a trace file ("-" for stdin) and reads its header. */
export async function openTrace(path: string, options: OpenTraceOptions): Promise<OpenedTrace> {
  const inWorker = options.decodeInWorker ?? 'auto';
  // Stdin redirected from a file (`memreplay replay - < trace.jsonl`) is read as that file: in
  // large pieces, with the scan worker, and again if a JSON document needs it.
  const bytesFrom = options.copy ?? (path === '-' && stdinIsFile(options.stdin) ? '/dev/stdin' : path);
  const scanWorker = bytesFrom === '-' ? 'never' : inWorker === 'auto' ? ((await worthAWorker(bytesFrom)) ? 'auto' : 'never') : inWorker;
  const open = (): Promise<AsyncIterable<Uint8Array | string>> => openFileStream(bytesFrom, options.stdin);
  return decodeSource(await open(), readableOnce(bytesFrom) ? null : open, path, options, scanWorker);
}

/**
 * Whether `stdin` is the process's own, a regular file (not a terminal or a pipe), and not read
 * yet: opening /dev/stdin starts at the file's beginning, which is where stdin starts only when
 * nothing read it before (`{ head -1; memreplay replay -; } < trace` must read on from line 2).
 * Linux's /proc/self/fdinfo tells the offset; elsewhere stdin is read as a stream.
 */
function stdinIsFile(stdin: NodeJS.ReadableStream | undefined): boolean {
  if (stdin !== undefined && stdin !== process.stdin) return false;
  try {
    return fstatSync(0).isFile() && /^pos:\s*0$/m.test(readFileSync('/proc/self/fdinfo/0', 'latin1'));
  } catch {
    return false;
  }
}

/**
 * Stdin ("-"), a pipe (`<(zcat trace.json.gz)`), a socket or a character device: bytes that are
 * gone once read, so that a second pass over them needs a copy. A path that cannot be examined
 * is not one: opening it reports what is wrong with it.
 */
export function readableOnce(path: string): boolean {
  if (path === '-') return true;
  try {
    const stat = statSync(path);
    return stat.isFIFO() || stat.isSocket() || stat.isCharacterDevice();
  } catch {
    return false;
  }
}

/**
 * Decodes a trace from any byte stream; `file` names it in messages and its extension (if any)
 * picks the encoding. The stream is read once.
 */
export async function decodeTraceStream(stream: AsyncIterable<Uint8Array | string>, file: string, options: DecodeOptions): Promise<OpenedTrace> {
  return decodeSource(stream, null, file, options);
}

/**
 * `reopen` gives the same bytes again from the start, or is null when they cannot be re-read.
 * `scanWorker`: scan ahead in a worker thread (scan-service.ts) when the encoding allows it;
 * 'auto' scans here until the worker has started, 'always' waits for it.
 */
async function decodeSource(
  stream: AsyncIterable<Uint8Array | string>,
  reopen: (() => Promise<AsyncIterable<Uint8Array | string>>) | null,
  file: string,
  options: DecodeOptions,
  scanWorker: 'auto' | 'always' | 'never' = 'never',
): Promise<OpenedTrace> {
  const types = new StringTable();
  const sites = new StringTable();
  const pool = new ChunkPool();
  const writer = new ChunkWriter(types, sites, options.chunkRows ?? CHUNK_ROWS, (capacity, firstIndex) => pool.take(capacity, firstIndex));
  const sink = new EventSink(file, options.diagnostics, writer);
  const fatal = (kind: 'encoding', line: number, detail: string): never => sink.fatal(kind, line, detail);
  const fastPath = options.fastPath ?? true;

  // 1-2. Bytes ready for a decoder, and which decoder.
  let { reader, compressed } = await prepareSource(file, stream, fatal);
  let decoder: TraceDecoder;
  let encoding: TraceEncoding;
  try {
    encoding = options.format ?? encodingOfPath(file) ?? (await sniffEncoding(reader));
    decoder = DECODERS[encoding](sink, { rereadable: reopen !== null, fastPath });
  } catch (error) {
    await reader.close();
    throw error;
  }

  // The worker starts now, so that it is ready by the time the header is read. Only line-based
  // encodings have lines to scan; a gzip stream arrives too slowly to need it.
  const scanEncoding = ScanService.encodingFor(encoding);
  const service = scanWorker !== 'never' && fastPath && scanEncoding !== null && !compressed ? new ScanService(scanEncoding) : null;

  // 3. Read until the header is known (events read on the way wait in `writer.ready`).
  let ended = false;
  let atLineStart = true;
  try {
    ({ ended, atLineStart } = await readHeader(reader, decoder));
    if (decoder.needsSecondPass && reopen !== null && decoder.header !== null) {
      // The first pass only found the header (see JsonDocumentOptions): read the events again.
      await reader.close();
      ({ reader, compressed } = await prepareSource(file, await reopen(), fatal));
      decoder = DECODERS[encoding](sink, { rereadable: false, knownHeader: decoder.header, fastPath });
      ended = false;
    }
  } catch (error) {
    await service?.close();
    await reader.close();
    throw error;
  }

  const header = decoder.header;
  if (header === null) throw new Error('a decoder ended without a header');
  let iterated = false;
  return {
    file,
    encoding,
    compressed,
    header,
    types,
    sites,
    chunks: (readOptions?: ChunkReadOptions) => {
      if (iterated) throw new Error(`the events of ${file} were already read; OpenedTrace.chunks() may be called once`);
      iterated = true;
      // JSON Lines and CSV decoders copy what they keep of a buffer, so a file's buffers can be read into again.
      const reuse = stream instanceof FileChunks && !compressed && scanEncoding !== null ? stream : null;
      return pumpChunks(reader, decoder, writer, ended, service, scanWorker === 'always', atLineStart, readOptions?.recycle === true ? pool : null, reuse);
    },
    close: async () => {
      if (iterated) return;
      iterated = true;
      await service?.close();
      await reader.close();
    },
  };
}

/** Decodes a trace held in memory (tests, small inputs). */
export async function decodeTraceText(text: string | Uint8Array, file: string, options: DecodeOptions): Promise<OpenedTrace> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  async function* once(): AsyncGenerator<Uint8Array> {
    yield bytes;
  }
  return decodeTraceStream(once(), file, options);
}

/**
 * Feeds bytes to the decoder until it knows the header. `ended`: the data ended;
 * `atLineStart`: the last bytes pushed ended with a newline (or none were).
 */
async function readHeader(reader: ByteReader, decoder: TraceDecoder): Promise<{ ended: boolean; atLineStart: boolean }> {
  let atLineStart = true;
  while (decoder.header === null) {
    const bytes = await reader.read();
    if (bytes === null) {
      decoder.end();
      return { ended: true, atLineStart };
    }
    decoder.push(bytes);
    atLineStart = bytes[bytes.length - 1] === NEWLINE;
  }
  return { ended: false, atLineStart };
}

const NEWLINE = 0x0a;

/** All chunks of a trace, in order. For tests and small traces: this holds the whole trace. */
export async function readAllChunks(trace: OpenedTrace): Promise<EventChunk[]> {
  const chunks: EventChunk[] = [];
  for await (const chunk of trace.chunks()) chunks.push(chunk);
  return chunks;
}

/**
 * 4. Pulls bytes only when the consumer wants the next chunk. With a scan worker, up to
 * `READ_AHEAD_BUFFERS` buffers are read ahead and scanned there, and each is pushed with its
 * results; the pushes, and so everything the decoder records, are the same and in the same order.
 */
async function* pumpChunks(
  reader: ByteReader,
  decoder: TraceDecoder,
  writer: ChunkWriter,
  ended: boolean,
  service: ScanService | null,
  /** Send every buffer to the worker, even before it has started (else: scan here until then). */
  waitForWorker: boolean,
  atLineStart: boolean,
  /** Where chunks the consumer is done with go (`ChunkReadOptions.recycle`), or null. */
  recycle: ChunkPool | null,
  /** Where buffers go once pushed, to be read into again (or null). */
  files: FileChunks | null,
): AsyncGenerator<EventChunk> {
  /** The chunk the consumer has: it is done with it once it asks for the next. */
  let lent: EventChunk | null = null;
  function* takeReady(ready: EventChunk[]): Generator<EventChunk> {
    for (let chunk = ready.shift(); chunk !== undefined; chunk = ready.shift()) {
      if (recycle !== null && lent !== null) recycle.giveBack(lent);
      lent = chunk;
      yield chunk;
    }
  }
  try {
    yield* takeReady(writer.ready);
    if (!ended) {
      const ahead = new ReadAhead(reader, service, waitForWorker, atLineStart, () => decoder.scanColumns ?? null);
      for (let next = await ahead.next(); next !== null; next = await ahead.next()) {
        decoder.push(next.bytes, next.lines ?? undefined);
        if (next.lines !== null) service?.recycle(next.lines);
        files?.recycle(next.bytes);
        yield* takeReady(writer.ready);
      }
      decoder.end();
    }
    writer.flush();
    yield* takeReady(writer.ready);
  } finally {
    await service?.close();
    await reader.close();
  }
}

/**
 * The buffers of a trace in order, each with the scan worker's results when there is a worker
 * and it has started (until then, and without one, the decoder scans as it goes). With a worker,
 * each call first reads up to `READ_AHEAD_BUFFERS` buffers ahead and sends them to be scanned,
 * so that the worker scans while this thread decodes and replays.
 */
class ReadAhead {
  /** Buffers read and sent to the worker, oldest first; a read that failed or ended stays in its place. */
  private readonly queue: ({ kind: 'scanned'; result: Promise<PrescannedBuffer> } | { kind: 'end' } | { kind: 'failed'; error: unknown })[] = [];
  private reading = true;

  constructor(
    private readonly reader: ByteReader,
    private readonly service: ScanService | null,
    private readonly waitForWorker: boolean,
    /** The bytes read so far ended with a newline (the next buffer starts a line). */
    private atLineStart: boolean,
    private readonly scanColumns: () => readonly string[] | null,
  ) {}

  async next(): Promise<{ bytes: Buffer; lines: PrescannedLines | null } | null> {
    const service = this.service;
    if (service !== null && (service.ready || this.waitForWorker || this.queue.length > 0)) {
      while (this.reading && this.queue.length < READ_AHEAD_BUFFERS) {
        let bytes: Buffer | null;
        try {
          bytes = await this.reader.read();
        } catch (error) {
          // Thrown in its turn, after the buffers read before the failure.
          this.queue.push({ kind: 'failed', error });
          this.reading = false;
          break;
        }
        if (bytes === null) {
          this.queue.push({ kind: 'end' });
          this.reading = false;
          break;
        }
        const atLineStart = this.atLineStart;
        this.atLineStart = bytes[bytes.length - 1] === NEWLINE;
        const result = service.scan(bytes, atLineStart, this.scanColumns());
        // Awaited in its turn; one left unawaited by a consumer that stopped early is no error.
        result.catch(() => {});
        this.queue.push({ kind: 'scanned', result });
      }
      const item = this.queue.shift();
      if (item === undefined || item.kind === 'end') return null;
      if (item.kind === 'failed') throw item.error;
      return item.result;
    }
    if (!this.reading) return null;
    const bytes = await this.reader.read();
    if (bytes === null) return null;
    this.atLineStart = bytes[bytes.length - 1] === NEWLINE;
    return { bytes, lines: null };
  }
}

/**
 * Chunks whose memory serves again (`ChunkReadOptions.recycle`): a consumer that keeps no chunk
 * gives back each one when it asks for the next, and the writer's next backing chunk reuses its
 * columns, zeroed. A long trace is then read in constant memory, without garbage per chunk.
 */
class ChunkPool {
  private readonly free: EventChunk[] = [];

  /** A backing chunk of `capacity` zeroed rows (the writer leaves columns an op does not use at 0). */
  take(capacity: number, firstIndex: number): EventChunk {
    const chunk = this.free.pop();
    if (chunk === undefined || chunk.op.length !== capacity) return createChunk(capacity, firstIndex);
    for (const column of [chunk.op, chunk.obj, chunk.arg, chunk.aux, chunk.site, chunk.flags, chunk.time, chunk.line]) column.fill(0);
    chunk.firstIndex = firstIndex;
    chunk.length = 0;
    chunk.strings = [];
    return chunk;
  }

  /** Keeps the columns of `chunk` when they are whole buffers (a full chunk, not a part of one). */
  giveBack(chunk: EventChunk): void {
    if (this.free.length >= 2) return;
    const whole = [chunk.op, chunk.obj, chunk.arg, chunk.aux, chunk.site, chunk.flags, chunk.time, chunk.line].every((column) => column.byteOffset === 0 && column.byteLength === column.buffer.byteLength && column.length === chunk.length);
    if (!whole) return;
    this.free.push({ ...chunk, strings: [] });
  }
}
