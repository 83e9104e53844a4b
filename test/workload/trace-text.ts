/**
 * Tiny, independent readers of the three trace encodings, for the writer's and the samples'
 * round-trip tests. They know nothing of `src/trace` (whose decoders are tested on their own), so
 * a writer bug cannot hide behind the same bug in a shared reader.
 */
import { AllocFlag, Finalizer, OP_NAMES, objectIdOf, type EventChunk, type ObjectId, type TraceEvent, type TraceHeader } from '../../src/trace/types.js';

/**
 * RFC 4180 records. A cell is its text, or `null` when it was empty and unquoted (the format's
 * "absent"), so that `""` (an empty string) and an empty cell stay different. Records end with LF
 * or CRLF; quoted cells may hold commas, doubled quotes and line breaks.
 */
export function readCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let i = 0;
  const endRecord = (): void => {
    records.push(record);
    record = [];
  };
  while (i < text.length) {
    let cell: string | null;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted cell');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      cell = value;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r') end++;
      cell = end === i ? null : text.slice(i, end);
      i = end;
    }
    record.push(cell);
    if (text[i] === ',') {
      i++;
      if (i === text.length) {
        record.push(null);
        endRecord();
      }
    } else if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      endRecord();
    } else if (text[i] === '\n') {
      i++;
      endRecord();
    } else if (i >= text.length) {
      endRecord();
    } else {
      throw new Error(`unexpected character ${JSON.stringify(text[i])} after a quoted cell`);
    }
  }
  return records;
}

/** An id cell: a canonical non-negative integer is a number, anything else a string. */
function csvId(cell: string): ObjectId {
  return /^(0|[1-9][0-9]*)$/.test(cell) && Number.isSafeInteger(Number(cell)) ? Number(cell) : cell;
}

const NUMBER_COLUMNS = new Set(['size', 'gen', 'value', 't']);
const BOOLEAN_COLUMNS = new Set(['tracked', 'enabled']);
const ID_COLUMNS = new Set(['id', 'src', 'dst']);

export interface ParsedTrace {
  header: TraceHeader | null;
  events: TraceEvent[];
}

/** Reads a whole trace written in one of the three encodings. */
export function parseTraceText(text: string, format: 'jsonl' | 'json' | 'csv'): ParsedTrace {
  if (format === 'json') {
    const document = JSON.parse(text) as { format: 'memreplay'; version: 1; meta?: Record<string, unknown>; events: TraceEvent[] };
    const { events, ...header } = document;
    return { header: header.meta === undefined ? null : (header as TraceHeader), events };
  }
  if (format === 'jsonl') {
    const lines = text.split('\n');
    if (lines.pop() !== '') throw new Error('a JSON Lines trace must end with a newline');
    const values = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const header = values.length > 0 && values[0].format === 'memreplay' ? (values.shift() as unknown as TraceHeader) : null;
    return { header, events: values as unknown as TraceEvent[] };
  }
  let body = text;
  let header: TraceHeader | null = null;
  if (body.startsWith('# ')) {
    const end = body.indexOf('\n');
    header = JSON.parse(body.slice(2, end)) as TraceHeader;
    body = body.slice(end + 1);
  }
  const [columns, ...rows] = readCsv(body);
  const events = rows.map((row) => {
    if (row.length !== columns.length) throw new Error(`a row has ${row.length} cells, the header ${columns.length}`);
    const event: Record<string, unknown> = {};
    columns.forEach((column, index) => {
      const cell = row[index];
      if (cell === null || column === null) return;
      if (NUMBER_COLUMNS.has(column)) event[column] = Number(cell);
      else if (BOOLEAN_COLUMNS.has(column)) event[column] = cell === 'true';
      else if (ID_COLUMNS.has(column)) event[column] = csvId(cell);
      else event[column] = cell;
    });
    return event as unknown as TraceEvent;
  });
  return { header, events };
}

/** What an `alloc` row's flags and columns say, read back by hand from the documented layout. */
export interface ChunkTables {
  types: { get(index: number): string };
  sites: { get(index: number): string };
}

/**
 * Events back from decoded chunks (the layout documented on `EventChunk` in src/trace/types.ts).
 * The decoder does not keep what the format defines as defaults, so compare with
 * `asDecoded(event)`: no `tracked: true`, `collect` with its default generation 2, and string
 * ids that spell an integer as that integer.
 */
export function eventsOfChunks(tables: ChunkTables, chunks: readonly EventChunk[]): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const chunk of chunks) {
    for (let row = 0; row < chunk.length; row++) {
      const op = OP_NAMES[chunk.op[row]];
      const id = (column: Float64Array): ObjectId => objectIdOf(chunk, column[row]);
      let event: TraceEvent;
      switch (op) {
        case 'alloc': {
          const flags = chunk.flags[row];
          const finalizer = (flags >> AllocFlag.finalizerShift) & 3;
          event = { op, id: id(chunk.obj), type: tables.types.get(chunk.aux[row]), size: chunk.arg[row] };
          if ((flags & AllocFlag.untracked) !== 0) event.tracked = false;
          if (chunk.site[row] >= 0) event.site = tables.sites.get(chunk.site[row]);
          if (finalizer !== 0) event.finalizer = finalizer === Finalizer.del ? 'del' : 'legacy';
          break;
        }
        case 'incref':
        case 'decref':
        case 'free':
          event = { op, id: id(chunk.obj) };
          break;
        case 'link':
        case 'unlink':
          event = { op, src: id(chunk.obj), dst: id(chunk.arg) };
          break;
        case 'resize':
          event = { op, id: id(chunk.obj), size: chunk.arg[row] };
          break;
        case 'collect':
          event = { op, gen: chunk.arg[row] };
          break;
        case 'gc':
          event = { op, enabled: chunk.arg[row] === 1 };
          break;
        case 'threshold':
          event = { op, gen: chunk.aux[row], value: chunk.arg[row] };
          break;
        case 'freeze':
        case 'unfreeze':
          event = { op };
          break;
        case 'mark':
          event = { op, label: chunk.strings[chunk.arg[row]] };
          break;
        default:
          throw new Error(`unknown op code ${chunk.op[row]}`);
      }
      if (!Number.isNaN(chunk.time[row])) event.t = chunk.time[row];
      events.push(event);
    }
  }
  return events;
}

/** An event as the decoders give it back (see `eventsOfChunks`). */
export function asDecoded(event: TraceEvent): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined));
  if (fields.tracked === true) delete fields.tracked;
  if (event.op === 'collect' && fields.gen === undefined) fields.gen = 2;
  for (const key of ['id', 'src', 'dst']) {
    const value = fields[key];
    if (typeof value === 'string' && /^(0|[1-9][0-9]*)$/.test(value) && Number.isSafeInteger(Number(value))) fields[key] = Number(value);
  }
  return fields;
}
