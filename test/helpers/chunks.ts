import { Diagnostics } from '../../src/trace/diagnostics.js';
import { decodeTraceStream, decodeTraceText, readAllChunks } from '../../src/trace/index.js';
import type { DecodeOptions, OpenedTrace } from '../../src/trace/index.js';
import { eventAt } from '../../src/trace/events.js';
import type { EventChunk, ObjectId, StringTable, TraceEncoding, TraceEvent, TraceHeader } from '../../src/trace/types.js';

/**
 * Reading decoded chunks back as plain data, for tests: the replay engine reads columns, tests
 * compare events.
 */

/** One decoded row: the event it encodes (normalized, see `normalizeEvent`) and where it was. */
export interface DecodedRow {
  index: number;
  line: number;
  event: TraceEvent;
}

/** The event a row encodes, with defaults filled in the way `normalizeEvent` fills them. */
export const rowEvent = eventAt;

export function rowsOf(chunks: readonly EventChunk[], types: StringTable, sites: StringTable): DecodedRow[] {
  const rows: DecodedRow[] = [];
  for (const chunk of chunks) {
    for (let row = 0; row < chunk.length; row++) {
      rows.push({ index: chunk.firstIndex + row, line: chunk.line[row], event: rowEvent(chunk, row, types, sites) });
    }
  }
  return rows;
}

/**
 * An event as decoding should give it back: ids that spell canonical integers become integers,
 * `tracked` and `gen` of collect get their defaults, absent optional fields stay absent.
 */
export function normalizeEvent(event: TraceEvent): TraceEvent {
  const id = (value: ObjectId): ObjectId => (typeof value === 'string' && /^(0|[1-9][0-9]*)$/.test(value) && Number(value) <= Number.MAX_SAFE_INTEGER ? Number(value) : value);
  const time = event.t === undefined ? {} : { t: event.t };
  switch (event.op) {
    case 'alloc':
      return {
        op: 'alloc',
        id: id(event.id),
        type: event.type,
        size: event.size,
        tracked: event.tracked ?? true,
        ...(event.site === undefined ? {} : { site: event.site }),
        ...(event.finalizer === undefined ? {} : { finalizer: event.finalizer }),
        ...time,
      };
    case 'incref':
    case 'decref':
    case 'free':
      return { op: event.op, id: id(event.id), ...time };
    case 'link':
    case 'unlink':
      return { op: event.op, src: id(event.src), dst: id(event.dst), ...time };
    case 'resize':
      return { op: 'resize', id: id(event.id), size: event.size, ...time };
    case 'collect':
      return { op: 'collect', gen: event.gen ?? 2, ...time };
    case 'gc':
      return { op: 'gc', enabled: event.enabled, ...time };
    case 'threshold':
      return { op: 'threshold', gen: event.gen, value: event.value, ...time };
    case 'freeze':
    case 'unfreeze':
      return { op: event.op, ...time };
    case 'mark':
      return { op: 'mark', label: event.label, ...time };
  }
}

/** Everything a decoded trace holds, as plain data (for `toEqual` across encodings). */
export interface DecodedTrace {
  header: TraceHeader;
  encoding: TraceEncoding;
  compressed: boolean;
  rows: DecodedRow[];
  types: string[];
  sites: string[];
  chunks: EventChunk[];
  diagnostics: Diagnostics;
}

async function collect(trace: OpenedTrace, diagnostics: Diagnostics, finish: boolean): Promise<DecodedTrace> {
  const chunks = await readAllChunks(trace);
  if (finish) diagnostics.finish();
  return {
    header: trace.header,
    encoding: trace.encoding,
    compressed: trace.compressed,
    rows: rowsOf(chunks, trace.types, trace.sites),
    types: [...trace.types.values],
    sites: [...trace.sites.values],
    chunks,
    diagnostics,
  };
}

export interface DecodeForTestOptions extends Partial<DecodeOptions> {
  /** Feed the bytes in pieces of this size (exercises buffer boundaries). Default: all at once. */
  pieceBytes?: number;
  /** Call `diagnostics.finish()` (throws when errors were recorded). Default: true. */
  finish?: boolean;
}

/** Decodes an in-memory trace completely. */
export async function decodeAll(text: string | Uint8Array, file: string, options: DecodeForTestOptions = {}): Promise<DecodedTrace> {
  const diagnostics = options.diagnostics ?? new Diagnostics();
  const decodeOptions: DecodeOptions = { diagnostics, format: options.format, chunkRows: options.chunkRows };
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  const trace =
    options.pieceBytes === undefined ? await decodeTraceText(bytes, file, decodeOptions) : await decodeTraceStream(piecesOf(bytes, options.pieceBytes), file, decodeOptions);
  return collect(trace, diagnostics, options.finish ?? true);
}

/** Yields `bytes` in pieces of `size` bytes (fresh copies, as a stream would). */
export async function* piecesOf(bytes: Uint8Array, size: number): AsyncGenerator<Buffer> {
  for (let start = 0; start < bytes.length; start += size) yield Buffer.from(bytes.subarray(start, start + size));
}

/** The error thrown while decoding completely, or null when decoding succeeded. */
export async function decodeError(text: string | Uint8Array, file: string, options: DecodeForTestOptions = {}): Promise<unknown> {
  try {
    await decodeAll(text, file, options);
    return null;
  } catch (error) {
    return error;
  }
}
