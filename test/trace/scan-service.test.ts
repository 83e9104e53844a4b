import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { resolvePolicy } from '../../src/gc/index.js';
import { freeListConfig } from '../../src/pool/free-list.js';
import { replay } from '../../src/replay/index.js';
import { buildReport } from '../../src/report/json.js';
import { scanWorkerEntry } from '../../src/trace/scan-service.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { ChunkWriter } from '../../src/trace/encode.js';
import { openTrace, readAllChunks } from '../../src/trace/index.js';
import type { EventChunk } from '../../src/trace/types.js';

/**
 * Scanning in a worker thread (src/trace/scan-service.ts) must change nothing but the speed: the
 * same chunks, tables and header, and — with the replay recording its own errors in the same
 * `Diagnostics` — the same errors in the same order, the same `--max-errors` cut and the same
 * `--lenient` counts. Each case runs once with the worker and once without, and compares.
 *
 * The worker thread runs the build (dist/trace/scan-worker.js): `npm test` builds first.
 */

const dir = mkdtempSync(join(tmpdir(), 'memreplay-scan-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Mode = 'never' | 'always';

function columnsOf(chunk: EventChunk): unknown {
  const { op, obj, arg, aux, site, flags, time, line, length, firstIndex, strings } = chunk;
  return { op: [...op], obj: [...obj], arg: [...arg], aux: [...aux], site: [...site], flags: [...flags], time: [...time], line: [...line], length, firstIndex, strings: [...strings] };
}

/** Everything observable about decoding `path`, as plain data. */
async function decodeObservably(path: string, mode: Mode, options: { lenient: boolean; maxErrors: number; chunkRows?: number }): Promise<unknown> {
  const diagnostics = new Diagnostics({ lenient: options.lenient, maxErrors: options.maxErrors });
  try {
    const trace = await openTrace(path, { diagnostics, chunkRows: options.chunkRows, decodeInWorker: mode });
    const chunks = await readAllChunks(trace);
    diagnostics.finish();
    return {
      encoding: trace.encoding,
      compressed: trace.compressed,
      header: trace.header,
      chunks: chunks.map(columnsOf),
      types: trace.types.values,
      sites: trace.sites.values,
      skipped: diagnostics.skippedSummary(),
    };
  } catch (error) {
    return { thrown: error instanceof Error ? `${error.name}: ${error.message}` : String(error), skipped: diagnostics.skippedSummary() };
  }
}

/** Everything observable about replaying `path` (decode and replay errors share one sink). */
async function replayObservably(path: string, mode: Mode, options: { lenient: boolean; maxErrors: number; chunkRows: number }): Promise<unknown> {
  const diagnostics = new Diagnostics({ lenient: options.lenient, maxErrors: options.maxErrors });
  const policy = resolvePolicy('cpython-3.12');
  try {
    const trace = await openTrace(path, { diagnostics, chunkRows: options.chunkRows, decodeInWorker: mode });
    const result = await replay(trace, { policy, oldObjects: 0, automaticCollection: true, freeLists: freeListConfig(policy.release.freeLists), pool: null, diagnostics });
    // The whole report: every count, collection, leak group and reference chain.
    const config = { thresholds: [], oldObjects: 0, automaticCollection: true, freeLists: policy.release.freeLists, pool: null, poolParams: {} };
    return { report: JSON.stringify(buildReport(result, { toolVersion: 'test', skippedByKind: diagnostics.skippedSummary(), config })) };
  } catch (error) {
    return { thrown: error instanceof Error ? `${error.name}: ${error.message}` : String(error), skipped: diagnostics.skippedSummary() };
  }
}

describe('trace/scan-service', () => {
  it('has a built worker to run (npm run build)', () => {
    expect(existsSync(fileURLToPath(scanWorkerEntry()))).toBe(true);
  });

  describe('when the worker decodes the sample traces', () => {
    const samples = readdirSync('traces').filter((file) => /\.(jsonl|json|csv)$/.test(file));

    it.each(samples)('%s: gives the chunks, tables and header of decoding in this thread', async (file) => {
      const path = join('traces', file);
      const options = { lenient: false, maxErrors: 20, chunkRows: 97 };
      const inThread = await decodeObservably(path, 'never', options);
      expect(inThread).toHaveProperty('chunks');
      expect(await decodeObservably(path, 'always', options)).toEqual(inThread);
    });
  });

  describe('when the worker decodes the invalid corpus', () => {
    const cases = readdirSync('traces/_invalid_').filter((file) => !file.endsWith('.txt') && !file.endsWith('.md'));

    it.each(cases)('%s: fails with the same messages, strict and lenient', async (file) => {
      const path = join('traces/_invalid_', file);
      for (const options of [
        { lenient: false, maxErrors: 1 },
        { lenient: true, maxErrors: 20, chunkRows: 2 },
      ]) {
        const inThread = await decodeObservably(path, 'never', options);
        expect(await decodeObservably(path, 'always', options), JSON.stringify(options)).toEqual(inThread);
      }
    });
  });

  it('reports a file it cannot read as decoding in this thread does', async () => {
    const path = join(dir, 'no-such-trace.jsonl');
    const inThread = await decodeObservably(path, 'never', { lenient: false, maxErrors: 20 });
    expect(inThread).toHaveProperty('thrown');
    expect(await decodeObservably(path, 'always', { lenient: false, maxErrors: 20 })).toEqual(inThread);
  });

  describe('on a trace of many buffers', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it("refuses timestamps that go backwards inside a run of the worker's lines, as decoding alone does", async () => {
      const path = join(dir, 'time-order.jsonl');
      // Times rise by 2; every 997th line goes back by 3, far from any buffer's end.
      const lines = Array.from({ length: 30000 }, (_, k) => `{"op":"alloc","id":${k},"type":"dict","size":64,"t":${2 * k - (k % 997 === 500 ? 3 : 0)}}`);
      writeFileSync(path, `${lines.join('\n')}\n`);
      for (const options of [
        { lenient: true, maxErrors: 20, chunkRows: 16384 },
        { lenient: true, maxErrors: 20, chunkRows: 7 },
        { lenient: false, maxErrors: 5 },
      ]) {
        const inThread = await decodeObservably(path, 'never', options);
        expect(JSON.stringify(inThread)).toContain('time-order');
        expect(await decodeObservably(path, 'always', options), JSON.stringify(options)).toEqual(inThread);
      }
    });

    it("decodes most lines from the worker's results, and gives what decoding alone gives", async () => {
      const path = join(dir, 'many-buffers.jsonl');
      // Objects with integer and string ids, linked both ways, every op the fast path takes.
      const lines = Array.from({ length: 25_000 }, (_, k) => [
        `{"op":"alloc","id":${k},"type":"T${k % 7}","size":${k % 500},"site":"s.py:${k % 13}","t":${k}}`,
        `{"op":"alloc","id":"s${k}","type":"str","size":49,"tracked":false,"t":${k}}`,
        `{"op":"link","src":${k},"dst":"s${k}"}`,
        `{"op":"decref","id":"s${k}"}`,
        `{"op":"resize","id":${k},"size":${(k % 500) + 8}}`,
        `{"op":"incref","id":${k}}`,
        `{"op":"unlink","src":${k},"dst":"s${k}"}`,
        `{"op":"decref","id":${k}}${k % 3 === 0 ? '' : `\n{"op":"free","id":${k}}`}`,
      ].join('\n')).flatMap((group) => group.split('\n'));
      writeFileSync(path, `${lines.join('\n')}\n`);
      const inThread = await replayObservably(path, 'never', { lenient: false, maxErrors: 20, chunkRows: 16384 });
      expect(inThread).toHaveProperty('report');
      const prescanned = vi.spyOn(ChunkWriter.prototype, 'writePrescannedRun');
      expect(await replayObservably(path, 'always', { lenient: false, maxErrors: 20, chunkRows: 16384 })).toEqual(inThread);
      expect(await decodeObservably(path, 'always', { lenient: false, maxErrors: 20 })).toEqual(await decodeObservably(path, 'never', { lenient: false, maxErrors: 20 }));
      // 'always' sends every buffer after the header to the worker; lines cut by a buffer end are scanned here.
      const rowsFromWorker = prescanned.mock.results.reduce((sum, result) => sum + (result.type === 'return' ? (result.value as number) : 0), 0);
      expect(rowsFromWorker).toBeGreaterThan(lines.length / 2);
    });
  });

  describe('when the replay records errors in the same sink', () => {
    /** A line: a valid event on the objects 0..9, or a line that is invalid for the decoder or for the heap. */
    const line = fc.oneof(
      { weight: 6, arbitrary: fc.nat({ max: 9 }).map((id) => `{"op":"alloc","id":${id},"type":"list","size":56}`) },
      { weight: 6, arbitrary: fc.nat({ max: 9 }).map((id) => `{"op":"decref","id":${id}}`) },
      { weight: 3, arbitrary: fc.tuple(fc.nat({ max: 9 }), fc.nat({ max: 9 })).map(([a, b]) => `{"op":"link","src":${a},"dst":${b}}`) },
      { weight: 2, arbitrary: fc.nat({ max: 9 }).map((id) => `{"op":"incref","id":${id}}`) },
      { weight: 2, arbitrary: fc.nat({ max: 3 }).map((id) => `{"op":"alloc","id":"o${id}","type":"dict","size":64}`) },
      { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 9 }), fc.nat({ max: 3 })).map(([a, b]) => `{"op":"link","src":${a},"dst":"o${b}"}`) },
      { weight: 1, arbitrary: fc.nat({ max: 3 }).map((id) => `{"op":"decref","id":"o${id}"}`) },
      { weight: 1, arbitrary: fc.constantFrom('{"op":"collect"}', '{"op":"mark","label":"m"}') },
      { weight: 1, arbitrary: fc.constantFrom('{"op":"alloc","id":1}', 'not json', '{"op":"nop"}', '{"op":"free","id":"x","t":-1}') },
      // Timestamps: the first sets the clock; a smaller one later goes backwards (a decode error).
      { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 9 }), fc.nat({ max: 50 })).map(([id, t]) => `{"op":"incref","id":${id},"t":${t}}`) },
    );

    /**
     * Valid events on objects of their own, between the random lines: they spread the random lines
     * over many of the decoder's read buffers (256 KiB), where decode and replay errors interleave.
     */
    const filler = (count: number, first: number): string[] =>
      Array.from({ length: count }, (_, k) => (k % 2 === 0 ? `{"op":"alloc","id":${first + k},"type":"dict","size":64,"site":"pad.py:1"}` : `{"op":"decref","id":${first + k - 1}}`));

    it('records decode and replay errors in the same order, and stops at the same one', async () => {
      let runs = 0;
      const randomLines = fc.array(fc.tuple(line, fc.nat({ max: 2000 })), { minLength: 1, maxLength: 60 });
      await fc.assert(
        fc.asyncProperty(randomLines, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4000 }), fc.boolean(), async (pairs, maxErrors, chunkRows, lenient) => {
          const path = join(dir, `trace-${runs++}.jsonl`);
          const lines = pairs.flatMap(([text, gap], i) => [...filler(gap & ~1, 1000 + 10000 * i), text]);
          writeFileSync(path, `${lines.join('\n')}\n`);
          const options = { lenient, maxErrors, chunkRows };
          const inThread = await replayObservably(path, 'never', options);
          expect(await replayObservably(path, 'always', options)).toEqual(inThread);
        }),
        { numRuns: 15 },
      );
    });

    /** A CSV record: valid on objects 0..9 (some with string ids), or bad for the decoder or the heap. */
    const record = fc.oneof(
      { weight: 6, arbitrary: fc.nat({ max: 9 }).map((id) => `alloc,${id},list,56,,a.py:1,,,,`) },
      { weight: 6, arbitrary: fc.nat({ max: 9 }).map((id) => `decref,${id},,,,,,,,`) },
      { weight: 3, arbitrary: fc.tuple(fc.nat({ max: 9 }), fc.nat({ max: 9 })).map(([a, b]) => `link,,,,,,,${a},${b},`) },
      { weight: 2, arbitrary: fc.nat({ max: 3 }).map((id) => `alloc,o${id},str,49,false,,,,,`) },
      { weight: 1, arbitrary: fc.constantFrom('alloc,1,list,big,,,,,,', 'nop,,,,,,,,,', '"mark",,,,,,,,,', 'free,x,,,,,,,,-1', 'incref,1,,,,,,,,,extra') },
    );

    it('CSV: records decode and replay errors in the same order, and stops at the same one', async () => {
      let runs = 0;
      const filler = (count: number, first: number): string[] => Array.from({ length: count }, (_, k) => (k % 2 === 0 ? `alloc,${first + k},dict,64,,pad.py:1,,,,` : `decref,${first + k - 1},,,,,,,,`));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(record, fc.nat({ max: 3000 })), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 12 }), fc.boolean(), async (pairs, maxErrors, lenient) => {
          const path = join(dir, `trace-${runs++}.csv`);
          const lines = pairs.flatMap(([text, gap], i) => [...filler(gap & ~1, 1000 + 10000 * i), text]);
          writeFileSync(path, `op,id,type,size,tracked,site,finalizer,src,dst,t\n${lines.join('\n')}\n`);
          const options = { lenient, maxErrors, chunkRows: 1000 };
          const inThread = await replayObservably(path, 'never', options);
          expect(await replayObservably(path, 'always', options)).toEqual(inThread);
        }),
        { numRuns: 10 },
      );
    });
  });
});
