import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { openTrace, readAllChunks } from '../../src/trace/index.js';
import type { OpenedTrace } from '../../src/trace/index.js';
import type { EventChunk, TraceEncoding, TraceEvent, TraceHeader } from '../../src/trace/types.js';
import { decodeAll, normalizeEvent, rowsOf } from '../helpers/chunks.js';
import type { DecodedTrace } from '../helpers/chunks.js';
import { toCsv, toJsonDocument, toJsonLines } from '../helpers/trace-text.js';

/** A trace that uses every op, every optional field, and the strings that are easy to get wrong. */
const EVENTS: TraceEvent[] = [
  { op: 'threshold', gen: 0, value: 700, t: 0 },
  { op: 'alloc', id: 1, type: 'list', size: 56, t: 1 },
  { op: 'alloc', id: '__proto__', type: '__proto__', size: 64, site: 'constructor', finalizer: 'del', t: 1 },
  { op: 'alloc', id: 'obj, "quoted"', type: 'dict', size: 232, tracked: true, site: 'app.py:12', t: 2.5 },
  { op: 'alloc', id: '12', type: 'int', size: 28, tracked: false, site: 'app.py:12' },
  { op: 'alloc', id: '012', type: 'объект', size: 0, finalizer: 'legacy', t: 3 },
  { op: 'link', src: 1, dst: '__proto__' },
  { op: 'link', src: 'obj, "quoted"', dst: 12, t: 3 },
  { op: 'incref', id: 12 },
  { op: 'decref', id: '12' },
  { op: 'resize', id: 1, size: 120, t: 4 },
  { op: 'mark', label: 'phase\nwith a line break, a comma and "quotes"' },
  { op: 'mark', label: '' },
  { op: 'mark', label: '__proto__' },
  { op: 'gc', enabled: false },
  { op: 'collect', gen: 0, t: 5 },
  { op: 'collect' },
  { op: 'gc', enabled: true },
  { op: 'freeze' },
  { op: 'unlink', src: 1, dst: '__proto__', t: 1e21 },
  { op: 'unfreeze' },
  { op: 'free', id: '012' },
  { op: 'free', id: 9007199254740991 },
];

const HEADER: TraceHeader = { format: 'memreplay', version: 1, meta: { timeUnit: 'us', python: '3.12.4', oldObjects: 1000, custom: { nested: [1, 2] } } };

/** Columns of a chunk except `line`, which differs between encodings by design. */
function columnsOf(chunk: EventChunk): unknown {
  const { op, obj, arg, aux, site, flags, time, length, firstIndex, strings } = chunk;
  return { op, obj, arg, aux, site, flags, time, length, firstIndex, strings };
}

function texts(header: TraceHeader | null): Record<string, { text: string; encoding: TraceEncoding }> {
  return {
    'trace.jsonl': { text: toJsonLines(EVENTS, header), encoding: 'jsonl' },
    'trace.json': { text: toJsonDocument(EVENTS, header), encoding: 'json' },
    'trace.csv': { text: toCsv(EVENTS, header), encoding: 'csv' },
  };
}

const CHUNK_ROWS = 4;

describe('trace/decoding the same trace from every encoding', () => {
  describe.each([
    { label: 'with a header', header: HEADER },
    { label: 'without a header', header: null },
  ])('$label', ({ header }) => {
    const variants = texts(header);

    it('gives back the events that were written, in order, with their index', async () => {
      for (const [file, { text }] of Object.entries(variants)) {
        const decoded = await decodeAll(text, file, { chunkRows: CHUNK_ROWS });
        expect(decoded.rows.map((r) => r.event), file).toEqual(EVENTS.map(normalizeEvent));
        expect(decoded.rows.map((r) => r.index), file).toEqual(EVENTS.map((_, i) => i));
        expect(decoded.header, file).toEqual(header ?? { format: 'memreplay', version: 1, meta: {} });
      }
    });

    it('gives identical chunk columns and string tables', async () => {
      const decoded: DecodedTrace[] = [];
      for (const [file, { text, encoding }] of Object.entries(variants)) {
        const trace = await decodeAll(text, file, { chunkRows: CHUNK_ROWS });
        expect(trace.encoding).toBe(encoding);
        decoded.push(trace);
      }
      const [first, ...rest] = decoded;
      expect(first.chunks.length).toBe(Math.ceil(EVENTS.length / CHUNK_ROWS));
      for (const other of rest) {
        expect(other.chunks.map(columnsOf)).toEqual(first.chunks.map(columnsOf));
        expect(other.types).toEqual(first.types);
        expect(other.sites).toEqual(first.sites);
      }
      expect(first.types).toEqual(['list', '__proto__', 'dict', 'int', 'объект']);
      expect(first.sites).toEqual(['constructor', 'app.py:12']);
    });

    it('records the physical line of each event', async () => {
      const headerLines = header ? 1 : 0;
      const jsonl = await decodeAll(variants['trace.jsonl'].text, 'trace.jsonl');
      expect(jsonl.rows.map((r) => r.line)).toEqual(EVENTS.map((_, i) => i + 1 + headerLines));
      const json = await decodeAll(variants['trace.json'].text, 'trace.json');
      expect(json.rows.map((r) => r.line)).toEqual(EVENTS.map((_, i) => i + 2));
      // CSV: the "# {header}" line and the header row, and the label with a line break takes two lines.
      const csv = await decodeAll(variants['trace.csv'].text, 'trace.csv');
      const breakAt = EVENTS.findIndex((e) => e.op === 'mark' && e.label.includes('\n'));
      expect(csv.rows.map((r) => r.line)).toEqual(EVENTS.map((_, i) => i + 2 + headerLines + (i > breakAt ? 1 : 0)));
    });

    it('decodes the same when the bytes arrive one at a time, or in odd pieces', async () => {
      for (const [file, { text }] of Object.entries(variants)) {
        const whole = await decodeAll(text, file, { chunkRows: CHUNK_ROWS });
        for (const pieceBytes of [1, 7, 4096]) {
          const pieces = await decodeAll(text, file, { chunkRows: CHUNK_ROWS, pieceBytes });
          expect(pieces.rows, `${file} in ${pieceBytes}-byte pieces`).toEqual(whole.rows);
        }
      }
    });

    it('decodes gzip-compressed traces, whether or not they are named .gz', async () => {
      for (const [file, { text }] of Object.entries(variants)) {
        const plain = await decodeAll(text, file);
        const compressed = gzipSync(Buffer.from(text));
        for (const name of [`${file}.gz`, file]) {
          const gunzipped = await decodeAll(compressed, name, { pieceBytes: 13 });
          expect(gunzipped.compressed).toBe(true);
          expect(gunzipped.rows, name).toEqual(plain.rows);
        }
        expect(plain.compressed).toBe(false);
      }
    });

    it('detects the encoding of stdin from its content, compressed or not', async () => {
      for (const [file, { text, encoding }] of Object.entries(variants)) {
        const plain = await decodeAll(text, file);
        for (const bytes of [Buffer.from(text), gzipSync(Buffer.from(text))]) {
          const diagnostics = new Diagnostics();
          const trace = await openTrace('-', { diagnostics, stdin: Readable.from([bytes]) });
          const chunks = await readAllChunks(trace);
          diagnostics.finish();
          expect(trace.file).toBe('-');
          expect(trace.encoding, file).toBe(encoding);
          expect(rowsOf(chunks, trace.types, trace.sites)).toEqual(plain.rows);
        }
      }
    });
  });

  it('decodes CRLF line endings and a UTF-8 byte-order mark', async () => {
    const plain = await decodeAll(toJsonLines(EVENTS, HEADER), 'trace.jsonl');
    const layouts = [{ newline: '\r\n' as const }, { bom: true }, { newline: '\r\n' as const, bom: true, blankLines: true }];
    for (const layout of layouts) {
      for (const [file, text] of [
        ['trace.jsonl', toJsonLines(EVENTS, HEADER, layout)],
        ['trace.json', toJsonDocument(EVENTS, HEADER, layout)],
        ['trace.csv', toCsv(EVENTS, HEADER, layout)],
      ] as const) {
        const decoded = await decodeAll(text, file, { pieceBytes: 5 });
        expect(decoded.rows.map((r) => r.event), `${file} ${JSON.stringify(layout)}`).toEqual(plain.rows.map((r) => r.event));
        expect(decoded.header).toEqual(HEADER);
      }
    }
  });

  it('accepts a last line without a newline when it is complete', async () => {
    for (const [file, text] of [
      ['trace.jsonl', toJsonLines(EVENTS, HEADER, { finalNewline: false })],
      ['trace.json', toJsonDocument(EVENTS, HEADER, { finalNewline: false })],
      ['trace.csv', toCsv(EVENTS, HEADER, { finalNewline: false })],
    ] as const) {
      const decoded = await decodeAll(text, file);
      expect(decoded.rows.map((r) => r.event), file).toEqual(EVENTS.map(normalizeEvent));
    }
  });
});

describe('trace/openTrace on files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'memreplay-trace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function openFile(name: string, bytes: string | Buffer, format?: TraceEncoding): Promise<{ trace: OpenedTrace; rows: ReturnType<typeof rowsOf> }> {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const diagnostics = new Diagnostics();
    const trace = await openTrace(path, { diagnostics, format });
    const rows = rowsOf(await readAllChunks(trace), trace.types, trace.sites);
    diagnostics.finish();
    return { trace, rows };
  }

  it('reads each encoding by its extension, .gz included', async () => {
    for (const [file, { text, encoding }] of Object.entries(texts(HEADER))) {
      for (const [name, bytes] of [
        [file, text],
        [`${file}.gz`, gzipSync(Buffer.from(text))],
      ] as const) {
        const { trace, rows } = await openFile(name, bytes);
        expect(trace.encoding).toBe(encoding);
        expect(trace.compressed).toBe(name.endsWith('.gz'));
        expect(trace.header).toEqual(HEADER);
        expect(rows.map((r) => r.event)).toEqual(EVENTS.map(normalizeEvent));
      }
    }
  });

  it('accepts .ndjson as JSON Lines', async () => {
    const { trace } = await openFile('trace.ndjson', toJsonLines(EVENTS, HEADER));
    expect(trace.encoding).toBe('jsonl');
  });

  it('sniffs the content of files with an unknown extension', async () => {
    for (const [file, { text, encoding }] of Object.entries(texts(null))) {
      const { trace, rows } = await openFile(`${file}.trace`, text);
      expect(trace.encoding, file).toBe(encoding);
      expect(rows.map((r) => r.event)).toEqual(EVENTS.map(normalizeEvent));
    }
    // A one-line JSON document ("events" on the first line) is a document, not JSON Lines.
    const { trace } = await openFile('minified.trace', JSON.stringify({ ...HEADER, events: EVENTS }));
    expect(trace.encoding).toBe('json');
  });

  describe('when a JSON document has its events before its header keys', () => {
    // Sorted keys, as json.dump(sort_keys=True) writes them: events, format, meta, version.
    const events = [{ op: 'freeze' }, { op: 'nope' }, { op: 'unfreeze' }];
    const sorted = `{"events":[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n],"format":"memreplay","meta":{"timeUnit":"ms"},"version":1}\n`;
    const expectedHeader = { format: 'memreplay', version: 1, meta: { timeUnit: 'ms' } };

    it('reads a file twice: the header first, then the events as a stream', async () => {
      for (const [name, bytes] of [
        ['sorted.json', Buffer.from(sorted)],
        ['sorted.json.gz', gzipSync(sorted)],
      ] as const) {
        const path = join(dir, name);
        writeFileSync(path, bytes);
        const diagnostics = new Diagnostics({ maxErrors: 20, lenient: false });
        const trace = await openTrace(path, { diagnostics });
        expect(trace.header).toEqual(expectedHeader);
        // Nothing was decoded to find the header: the bad event is not reported yet.
        expect(diagnostics.errors).toEqual([]);
        const rows = rowsOf(await readAllChunks(trace), trace.types, trace.sites);
        expect(rows.map((r) => [r.index, r.line, r.event])).toEqual([
          [0, 2, { op: 'freeze' }],
          [2, 4, { op: 'unfreeze' }],
        ]);
        expect(diagnostics.errors.map((e) => e.message)).toEqual([`${path}:3: event 1: "op" must be one of alloc, incref, decref, link, unlink, free, resize, collect, gc, threshold, freeze, unfreeze, mark, got "nope"`]);
      }
    });

    it('streams a document without meta, as written for a trace without header', async () => {
      const path = join(dir, 'no-meta.json');
      writeFileSync(path, '{"format":"memreplay","version":1,"events":[\n{"op":"nope"},\n{"op":"freeze"}\n]}\n');
      const diagnostics = new Diagnostics();
      const trace = await openTrace(path, { diagnostics });
      expect(trace.header).toEqual({ format: 'memreplay', version: 1, meta: {} });
      expect(diagnostics.errors).toEqual([]);
      expect((await readAllChunks(trace)).map((c) => c.length)).toEqual([1]);
      expect(diagnostics.errors.length).toBe(1);
    });

    it('keeps the decoded events of stdin until the header is complete', async () => {
      const diagnostics = new Diagnostics({ maxErrors: 20, lenient: false });
      const trace = await openTrace('-', { diagnostics, stdin: Readable.from([Buffer.from(sorted)]) });
      expect(trace.header).toEqual(expectedHeader);
      // Decoded while looking for the header: the bad event is already known.
      expect(diagnostics.errors.map((e) => e.location.line)).toEqual([3]);
      const rows = rowsOf(await readAllChunks(trace), trace.types, trace.sites);
      expect(rows.map((r) => r.event)).toEqual([{ op: 'freeze' }, { op: 'unfreeze' }]);
    });

    it('keeps them from a named pipe too, which cannot be read twice', async () => {
      const source = join(dir, 'sorted-source.json');
      writeFileSync(source, sorted);
      const fifo = join(dir, 'sorted.fifo');
      execFileSync('mkfifo', [fifo]);
      // The writer is another process, as `<(zcat …)` is: the decoder's reads block this thread.
      const writer = spawn('sh', ['-c', 'cat "$0" > "$1"', source, fifo], { stdio: 'ignore' });
      const written = new Promise((resolve) => writer.once('exit', resolve));
      const trace = await openTrace(fifo, { diagnostics: new Diagnostics({ maxErrors: 20, lenient: true }), format: 'json' });
      expect(trace.header).toEqual(expectedHeader);
      const rows = rowsOf(await readAllChunks(trace), trace.types, trace.sites);
      expect(await written).toBe(0);
      expect(rows.map((r) => r.event)).toEqual([{ op: 'freeze' }, { op: 'unfreeze' }]);
    }, 15_000);
  });

  it('lets the format option override the extension', async () => {
    const { trace, rows } = await openFile('really-csv.json', toCsv(EVENTS, null), 'csv');
    expect(trace.encoding).toBe('csv');
    expect(rows.length).toBe(EVENTS.length);
  });

  it('reports a missing file as one clear user error', async () => {
    await expect(openTrace(join(dir, 'missing.jsonl'), { diagnostics: new Diagnostics() })).rejects.toThrow(/^cannot read trace .*missing\.jsonl: no such file$/);
  });

  it('reports a directory as one clear user error', async () => {
    const error = await openTrace(dir, { diagnostics: new Diagnostics(), format: 'jsonl' }).then(
      (trace) => readAllChunks(trace),
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(/cannot read trace .*: it is a directory/);
  });
});
