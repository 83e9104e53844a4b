/**
 * Reading a trace: `openTrace(path, options)` → `OpenedTrace` (header now, events as chunks later).
 *
 *   bytes (file | stdin | stream)
 *     │ 1. prepareSource: gunzip if 1f 8b, drop a BOM, refuse binary data        (source.ts)
 *     │ 2. pick the encoding: option > extension > sniffed content              (source.ts)
 *     ▼
 *   decoder (decode-jsonl.ts | decode-json.ts | decode-csv.ts)
 *     │ 3. cut the bytes into events; read the header before the first event
 *     ▼
 *   EventSink (encode.ts)
 *     │ 4. validate (schema.ts, one ajv call), check time order, write a chunk row;
 *     │    bad events go to `Diagnostics` and are skipped
 *     ▼
 *   EventChunk[] — pulled by the consumer one at a time: bytes are read only as fast as chunks
 *   are consumed, so memory stays bounded for any trace length.
 *
 * The caller owns the `Diagnostics` and calls `diagnostics.finish()` once it is done with the
 * trace (the replay engine records its own problems in the same sink).
 */
import type { Diagnostics } from './diagnostics.js';
import { CsvDecoder } from './decode-csv.js';
import { JsonDocumentDecoder } from './decode-json.js';
import { JsonLinesDecoder } from './decode-jsonl.js';
import { ChunkWriter, EventSink } from './encode.js';
import { encodingOfPath, openFileStream, prepareSource, sniffEncoding } from './source.js';
import type { ByteReader, TraceDecoder } from './source.js';
import { CHUNK_ROWS, StringTable } from './types.js';
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
}

export interface OpenTraceOptions extends DecodeOptions {
  /** The stream read for the path "-". Default: process.stdin. */
  stdin?: NodeJS.ReadableStream;
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
  /** The events, in order. May be iterated once. */
  chunks(): AsyncIterable<EventChunk>;
}

/** How a decoder is made for one pass over the bytes. */
interface DecoderContext {
  /** The bytes can be read again from the start (a file, not stdin). */
  rereadable: boolean;
  /** The header, when a first pass found it. */
  knownHeader?: TraceHeader;
}

/** The decoder of each encoding. */
const DECODERS = {
  jsonl: (sink) => new JsonLinesDecoder(sink),
  json: (sink, context) => new JsonDocumentDecoder(sink, { eventsBeforeHeader: context.rereadable ? 'rescan' : 'buffer', knownHeader: context.knownHeader }),
  csv: (sink) => new CsvDecoder(sink),
} satisfies Record<TraceEncoding, (sink: EventSink, context: DecoderContext) => TraceDecoder>;

/** Opens a trace file ("-" for stdin) and reads its header. */
export async function openTrace(path: string, options: OpenTraceOptions): Promise<OpenedTrace> {
  const open = (): Promise<AsyncIterable<Uint8Array | string>> => openFileStream(path, options.stdin);
  return decodeSource(await open(), path === '-' ? null : open, path, options);
}

/**
 * Decodes a trace from any byte stream; `file` names it in messages and its extension (if any)
 * picks the encoding. The stream is read once.
 */
export async function decodeTraceStream(stream: AsyncIterable<Uint8Array | string>, file: string, options: DecodeOptions): Promise<OpenedTrace> {
  return decodeSource(stream, null, file, options);
}

/** `reopen` gives the same bytes again from the start, or is null when they cannot be re-read. */
async function decodeSource(
  stream: AsyncIterable<Uint8Array | string>,
  reopen: (() => Promise<AsyncIterable<Uint8Array | string>>) | null,
  file: string,
  options: DecodeOptions,
): Promise<OpenedTrace> {
  const types = new StringTable();
  const sites = new StringTable();
  const writer = new ChunkWriter(types, sites, options.chunkRows ?? CHUNK_ROWS);
  const sink = new EventSink(file, options.diagnostics, writer);
  const fatal = (kind: 'encoding', line: number, detail: string): never => sink.fatal(kind, line, detail);

  // 1-2. Bytes ready for a decoder, and which decoder.
  let { reader, compressed } = await prepareSource(file, stream, fatal);
  let decoder: TraceDecoder;
  let encoding: TraceEncoding;
  try {
    encoding = options.format ?? encodingOfPath(file) ?? (await sniffEncoding(reader));
    decoder = DECODERS[encoding](sink, { rereadable: reopen !== null });
  } catch (error) {
    await reader.close();
    throw error;
  }

  // 3. Read until the header is known (events read on the way wait in `writer.ready`).
  let ended = false;
  try {
    ended = await readHeader(reader, decoder);
    if (decoder.needsSecondPass && reopen !== null && decoder.header !== null) {
      // The first pass only found the header (see JsonDocumentOptions): read the events again.
      await reader.close();
      ({ reader, compressed } = await prepareSource(file, await reopen(), fatal));
      decoder = DECODERS[encoding](sink, { rereadable: false, knownHeader: decoder.header });
      ended = false;
    }
  } catch (error) {
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
    chunks: () => {
      if (iterated) throw new Error(`the events of ${file} were already read; OpenedTrace.chunks() may be called once`);
      iterated = true;
      return pumpChunks(reader, decoder, writer, ended);
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

/** Feeds bytes to the decoder until it knows the header. Returns true when the data ended. */
async function readHeader(reader: ByteReader, decoder: TraceDecoder): Promise<boolean> {
  while (decoder.header === null) {
    const bytes = await reader.read();
    if (bytes === null) {
      decoder.end();
      return true;
    }
    decoder.push(bytes);
  }
  return false;
}

/** All chunks of a trace, in order. For tests and small traces: this holds the whole trace. */
export async function readAllChunks(trace: OpenedTrace): Promise<EventChunk[]> {
  const chunks: EventChunk[] = [];
  for await (const chunk of trace.chunks()) chunks.push(chunk);
  return chunks;
}

/** 4. Pulls bytes only when the consumer wants the next chunk. */
async function* pumpChunks(reader: ByteReader, decoder: TraceDecoder, writer: ChunkWriter, ended: boolean): AsyncGenerator<EventChunk> {
  try {
    yield* takeReady(writer.ready);
    if (!ended) {
      for (let bytes = await reader.read(); bytes !== null; bytes = await reader.read()) {
        decoder.push(bytes);
        yield* takeReady(writer.ready);
      }
      decoder.end();
    }
    writer.flush();
    yield* takeReady(writer.ready);
  } finally {
    await reader.close();
  }
}

function* takeReady(ready: EventChunk[]): Generator<EventChunk> {
  while (ready.length > 0) yield ready.shift() as EventChunk;
}
