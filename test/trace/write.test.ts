import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ByteBatch,
  CSV_COLUMNS,
  canonicalJson,
  csvColumnsOf,
  encodeEventJson,
  formatCsvCell,
  formatEventCsv,
  formatEventJson,
  formatHeaderJson,
  jsonString,
  traceToBuffer,
  traceToString,
  writeTrace,
} from '../../src/trace/write.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { decodeTraceText, readAllChunks } from '../../src/trace/index.js';
import type { TraceEncoding, TraceEvent, TraceHeader } from '../../src/trace/types.js';
import { asDecoded, eventsOfChunks, parseTraceText, readCsv } from '../workload/trace-text.js';

// ── Arbitraries ──────────────────────────────────────────────────────────────────────────────

/** Any UTF-16 string, lone surrogates included. */
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 12 });
/** Strings full of what CSV and JSON must escape. */
const trickyString = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', '\\', 'é', '#', '\u2028'), maxLength: 8 });
const text = fc.oneof(fc.string({ maxLength: 12 }), trickyString);
const nonEmptyText = text.filter((value) => value.length > 0);
const objectId = fc.oneof(fc.nat({ max: 2 ** 40 }), fc.constant(Number.MAX_SAFE_INTEGER), nonEmptyText);
const size = fc.oneof(fc.nat({ max: 1 << 20 }), fc.constant(2 ** 40));
const time = fc.option(fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e9, noNaN: true })), { nil: undefined });
const gen = fc.constantFrom(0, 1, 2);

/** Any valid event of format v1, with optional fields present or absent. */
const traceEvent: fc.Arbitrary<TraceEvent> = fc.oneof(
  fc.record(
    {
      op: fc.constant('alloc' as const),
      id: objectId,
      type: nonEmptyText,
      size,
      tracked: fc.boolean(),
      site: text,
      finalizer: fc.constantFrom('del' as const, 'legacy' as const),
      t: time,
    },
    { requiredKeys: ['op', 'id', 'type', 'size'] },
  ),
  fc.record({ op: fc.constantFrom('incref' as const, 'decref' as const, 'free' as const), id: objectId, t: time }, { requiredKeys: ['op', 'id'] }),
  fc.record({ op: fc.constantFrom('link' as const, 'unlink' as const), src: objectId, dst: objectId, t: time }, { requiredKeys: ['op', 'src', 'dst'] }),
  fc.record({ op: fc.constant('resize' as const), id: objectId, size, t: time }, { requiredKeys: ['op', 'id', 'size'] }),
  fc.record({ op: fc.constant('collect' as const), gen, t: time }, { requiredKeys: ['op'] }),
  fc.record({ op: fc.constant('gc' as const), enabled: fc.boolean(), t: time }, { requiredKeys: ['op', 'enabled'] }),
  fc.record({ op: fc.constant('threshold' as const), gen, value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), t: time }, { requiredKeys: ['op', 'gen', 'value'] }),
  fc.record({ op: fc.constantFrom('freeze' as const, 'unfreeze' as const), t: time }, { requiredKeys: ['op'] }),
  fc.record({ op: fc.constant('mark' as const), label: text, t: time }, { requiredKeys: ['op', 'label'] }),
);

/** The event without `undefined` members: what a reader gives back. */
function present(event: TraceEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined));
}

/**
 * What a CSV reader gives back: every cell is text, so a string id spelling a canonical integer
 * ("12") names object 12, as `src/trace/types.ts` specifies for all encodings.
 */
function presentInCsv(event: TraceEvent): Record<string, unknown> {
  const fields = present(event);
  for (const key of ['id', 'src', 'dst']) {
    const value = fields[key];
    if (typeof value === 'string' && /^(0|[1-9][0-9]*)$/.test(value) && Number.isSafeInteger(Number(value))) fields[key] = Number(value);
  }
  return fields;
}

const HEADER: TraceHeader = { format: 'memreplay', version: 1, meta: { python: '3.12.1', timeUnit: 'us', oldObjects: 12, workload: 'test, "quoted"\nline' } };
const ENCODINGS: TraceEncoding[] = ['jsonl', 'json', 'csv'];

/** A writable that collects what it is given. */
function collector(options: { highWaterMark?: number; slow?: boolean } = {}): { stream: Writable; bytes: () => Buffer; maxBuffered: () => number } {
  const chunks: Buffer[] = [];
  let maxBuffered = 0;
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      maxBuffered = Math.max(maxBuffered, stream.writableLength);
      if (options.slow === true) setImmediate(callback);
      else callback();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks), maxBuffered: () => maxBuffered };
}

describe('trace/write', () => {
  describe('when formatting one event as JSON', () => {
    it('gives back the same event through JSON.parse', () => {
      fc.assert(
        fc.property(traceEvent, (event) => {
          expect(JSON.parse(formatEventJson(event))).toEqual(present(event));
        }),
        { numRuns: 2000 },
      );
    });

    it('writes keys in schema order whatever order the object was built in', () => {
      const built: TraceEvent = { op: 'alloc', id: 7, type: 'list', size: 56, tracked: true, site: 'a.py:1', finalizer: 'del', t: 3 };
      const shuffled = { t: 3, finalizer: 'del', site: 'a.py:1', size: 56, tracked: true, type: 'list', id: 7, op: 'alloc' } as TraceEvent;
      expect(formatEventJson(shuffled)).toBe(formatEventJson(built));
      expect(Object.keys(JSON.parse(formatEventJson(shuffled)))).toEqual(['op', 'id', 'type', 'size', 'tracked', 'site', 'finalizer', 't']);
    });

    it('writes the same bytes on the fast path as the string formatter', () => {
      fc.assert(
        fc.property(traceEvent, (event) => {
          const batch = new ByteBatch();
          encodeEventJson(event, batch);
          expect(batch.take().toString('utf8')).toBe(formatEventJson(event));
        }),
        { numRuns: 2000 },
      );
    });

    it('escapes strings exactly as JSON.stringify does', () => {
      fc.assert(
        fc.property(anyString, (value) => {
          expect(jsonString(value)).toBe(JSON.stringify(value));
        }),
        { numRuns: 2000 },
      );
    });

    it('throws a TypeError for an op that is not in the format', () => {
      expect(() => formatEventJson({ op: 'explode' } as unknown as TraceEvent)).toThrow(TypeError);
      expect(() => encodeEventJson({ op: 'explode' } as unknown as TraceEvent, new ByteBatch())).toThrow(/explode/);
    });
  });

  describe('when formatting CSV', () => {
    it('quotes exactly the cells that need it, and a reader gets them back', () => {
      fc.assert(
        fc.property(fc.array(trickyString, { minLength: 1, maxLength: 6 }), (cells) => {
          const row = cells.map((cell) => formatCsvCell(cell)).join(',');
          const [record] = readCsv(`${row}\n`);
          expect(record).toEqual(cells);
          for (const cell of cells) {
            const needsQuotes = cell === '' || /[",\r\n]/.test(cell) || cell.trim() !== cell;
            expect(formatCsvCell(cell).startsWith('"')).toBe(needsQuotes);
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('leaves an absent field as an empty cell, distinct from an empty string', () => {
      expect(formatEventCsv({ op: 'mark', label: '' }, ['op', 'label', 't'])).toBe('mark,"",');
    });

    it('lists the fields used, in the fixed column order', () => {
      const columns = csvColumnsOf([
        { op: 'mark', label: 'x', t: 1 },
        { op: 'link', src: 1, dst: 2 },
        { op: 'alloc', id: 1, type: 'str', size: 50, tracked: false },
      ]);
      expect(columns).toEqual(['op', 'id', 'type', 'size', 'tracked', 'src', 'dst', 'label', 't']);
      expect(CSV_COLUMNS.filter((column) => columns.includes(column))).toEqual(columns);
    });

    it('refuses columns out of the fixed order, or without "op" first', () => {
      expect(() => traceToString([], null, 'csv', { columns: ['op', 't', 'id'] })).toThrow(/order/);
      expect(() => traceToString([], null, 'csv', { columns: ['id', 'op'] })).toThrow(/order/);
      expect(() => traceToString([], null, 'csv', { columns: ['op', 'id', 'id'] })).toThrow(/order/);
      expect(traceToString([], null, 'csv', { columns: ['op', 'id', 't'] })).toBe('op,id,t\n');
    });

    it('refuses an event with a field outside the chosen columns', () => {
      expect(() => traceToString([{ op: 'alloc', id: 1, type: 'x', size: 1, site: 'a' }], null, 'csv', { columns: ['op', 'id', 'type', 'size'] })).toThrow(/site/);
    });
  });

  describe('when writing a whole trace', () => {
    it.each(ENCODINGS)('round-trips any events through an independent %s reader', (format) => {
      fc.assert(
        fc.property(fc.array(traceEvent, { maxLength: 30 }), fc.boolean(), (events, withHeader) => {
          const parsed = parseTraceText(traceToString(events, withHeader ? HEADER : null, format), format);
          expect(parsed.events).toEqual(events.map(format === 'csv' ? presentInCsv : present));
          // A JSON document always carries its header, empty meta included, before the events.
          const noHeader = format === 'json' ? { format: 'memreplay', version: 1, meta: {} } : null;
          expect(parsed.header).toEqual(withHeader ? HEADER : noHeader);
        }),
        { numRuns: 300 },
      );
    });

    it('writes the header as the first line of JSON Lines and the comment line of CSV', () => {
      const events: TraceEvent[] = [{ op: 'collect', gen: 0 }];
      expect(traceToString(events, HEADER, 'jsonl').split('\n')[0]).toBe(formatHeaderJson(HEADER));
      expect(traceToString(events, HEADER, 'csv').split('\n').slice(0, 2)).toEqual([`# ${formatHeaderJson(HEADER)}`, 'op,gen']);
      expect(JSON.parse(traceToString(events, HEADER, 'json'))).toEqual({ ...HEADER, events });
    });

    it('writes a valid document for an empty trace', () => {
      expect(JSON.parse(traceToString([], HEADER, 'json'))).toEqual({ ...HEADER, events: [] });
      expect(traceToString([], null, 'jsonl')).toBe('');
      expect(traceToString([], null, 'csv')).toBe('op\n');
    });

    it('gives the same bytes for the same header content in any key order', () => {
      const a: TraceHeader = { format: 'memreplay', version: 1, meta: { seed: 1, python: '3.12.1', nested: { b: 1, a: [2, { d: 1, c: 0 }] } } };
      const b: TraceHeader = { format: 'memreplay', version: 1, meta: { nested: { a: [2, { c: 0, d: 1 }], b: 1 }, python: '3.12.1', seed: 1 } };
      expect(formatHeaderJson(a)).toBe(formatHeaderJson(b));
      expect(canonicalJson({ z: 1, a: undefined, m: [undefined] })).toBe('{"m":[null],"z":1}');
    });

    it('rejects header meta that is not plain JSON', () => {
      expect(() => formatHeaderJson({ format: 'memreplay', version: 1, meta: { when: () => 1 } })).toThrow(TypeError);
    });
  });

  describe('when read back by the trace decoders (src/trace/index.ts)', () => {
    /** Decoders reject timestamps that go back in time: make them non-decreasing. */
    const inTimeOrder = (events: TraceEvent[]): TraceEvent[] => {
      let last = 0;
      return events.map((event) => {
        if (event.t === undefined) return event;
        last = Math.max(last, event.t);
        return { ...event, t: last };
      });
    };

    async function decode(bytes: Buffer, file: string): Promise<{ header: TraceHeader; events: TraceEvent[] }> {
      const diagnostics = new Diagnostics();
      const trace = await decodeTraceText(bytes, file, { diagnostics });
      const events = eventsOfChunks(trace, await readAllChunks(trace));
      diagnostics.finish();
      return { header: trace.header, events };
    }

    it.each(ENCODINGS)('gives back any events written as %s', async (format) => {
      await fc.assert(
        fc.asyncProperty(fc.array(traceEvent, { maxLength: 25 }).map(inTimeOrder), async (events) => {
          const decoded = await decode(traceToBuffer(events, HEADER, format), `trace.${format}`);
          expect(decoded.header).toEqual(HEADER);
          expect(decoded.events).toEqual(events.map(asDecoded));
        }),
        { numRuns: 400 },
      );
    });

    it('gives back a gzip-compressed trace', async () => {
      const events: TraceEvent[] = [{ op: 'alloc', id: 'a', type: 'list', size: 56 }, { op: 'mark', label: 'x, "y"' }, { op: 'decref', id: 'a' }];
      const sink = collector();
      await writeTrace(events, HEADER, 'csv', sink.stream, { gzip: true });
      expect((await decode(sink.bytes(), 'trace.csv.gz')).events).toEqual(events.map(asDecoded));
    });
  });

  describe('when streaming to a writable', () => {
    const manyEvents = (count: number): TraceEvent[] =>
      Array.from({ length: count }, (_, i): TraceEvent => (i % 3 === 0 ? { op: 'alloc', id: i, type: 'dict', size: 64, site: `app.py:${i}` } : i % 3 === 1 ? { op: 'link', src: i - 1, dst: i } : { op: 'decref', id: i - 2, t: i }));

    it.each(ENCODINGS)('writes the same bytes as traceToBuffer (%s)', async (format) => {
      const events = manyEvents(50_000);
      const sink = collector();
      await writeTrace(events, HEADER, format, sink.stream);
      expect(sink.bytes().equals(traceToBuffer(events, HEADER, format))).toBe(true);
    });

    it('keeps what the stream buffers bounded when the stream is slow', async () => {
      const events = manyEvents(200_000);
      const sink = collector({ highWaterMark: 16 * 1024, slow: true });
      await writeTrace(events, HEADER, 'jsonl', sink.stream, { end: true });
      expect(sink.bytes().equals(traceToBuffer(events, HEADER, 'jsonl'))).toBe(true);
      expect(sink.bytes().length).toBeGreaterThan(4 * 1024 * 1024);
      // At most the high-water mark plus two batches of about 128 KiB, far below the total.
      expect(sink.maxBuffered()).toBeLessThan(16 * 1024 + 2 * 200 * 1024);
    });

    it('reads async iterables too', async () => {
      const events = manyEvents(1_000);
      async function* slowly(): AsyncGenerator<TraceEvent> {
        for (const event of events) yield event;
      }
      const sink = collector();
      await writeTrace(slowly(), HEADER, 'jsonl', sink.stream);
      expect(sink.bytes().toString('utf8')).toBe(traceToString(events, HEADER, 'jsonl'));
    });

    it('writes all columns for a CSV stream it cannot read ahead', async () => {
      const sink = collector();
      await writeTrace((function* () { yield { op: 'freeze' } as TraceEvent; })(), null, 'csv', sink.stream);
      expect(sink.bytes().toString('utf8')).toBe(`${CSV_COLUMNS.join(',')}\nfreeze${','.repeat(CSV_COLUMNS.length - 1)}\n`);
    });

    it('compresses with gzip, deterministically', async () => {
      const events = manyEvents(20_000);
      const first = collector();
      const second = collector();
      await writeTrace(events, HEADER, 'jsonl', first.stream, { gzip: true });
      await writeTrace(events, HEADER, 'jsonl', second.stream, { gzip: true });
      expect(gunzipSync(first.bytes()).equals(traceToBuffer(events, HEADER, 'jsonl'))).toBe(true);
      expect(first.bytes().equals(second.bytes())).toBe(true);
      expect(first.bytes().length).toBeLessThan(traceToBuffer(events, HEADER, 'jsonl').length / 3);
    });

    it('ends the stream only when asked', async () => {
      const kept = collector();
      await writeTrace([{ op: 'freeze' }], null, 'jsonl', kept.stream);
      expect(kept.stream.writableEnded).toBe(false);
      const ended = collector();
      await writeTrace([{ op: 'freeze' }], null, 'jsonl', ended.stream, { end: true });
      expect(ended.stream.writableFinished).toBe(true);
    });

    it('rejects with the error of a failing stream', async () => {
      const failing = new Writable({
        highWaterMark: 1024,
        write(_chunk, _encoding, callback) {
          callback(new Error('disk full'));
        },
      });
      failing.on('error', () => undefined);
      await expect(writeTrace(manyEvents(100_000), HEADER, 'jsonl', failing)).rejects.toThrow('disk full');
    });

    it('rejects, rather than waiting forever, when the stream under gzip fails', async () => {
      const failing = new Writable({
        highWaterMark: 1024,
        write(_chunk, _encoding, callback) {
          callback(new Error('pipe closed'));
        },
      });
      failing.on('error', () => undefined);
      // Random sizes compress poorly, so gzip has plenty to hand on after the first failure.
      const events = manyEvents(300_000).map((event, i): TraceEvent => (event.op === 'alloc' ? { ...event, size: (i * 2654435761) % 1_000_003 } : event));
      await expect(writeTrace(events, HEADER, 'jsonl', failing, { gzip: true })).rejects.toThrow('pipe closed');
    }, 10_000);
  });
});
