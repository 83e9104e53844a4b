import { describe, expect, it } from 'vitest';
import { chunkView, shareChunk, sourceOf, traceDigest, type SharedTrace } from '../../src/compare/shared-trace.js';
import { resolvePolicy } from '../../src/gc/index.js';
import { FREE_LIST_CONFIGS } from '../../src/pool/free-list.js';
import { replayChunks } from '../../src/replay/index.js';
import { buildReport } from '../../src/report/json.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { decodeTraceText, readAllChunks } from '../../src/trace/index.js';
import type { EventChunk } from '../../src/trace/types.js';

/** String ids (one with a lone surrogate, which UTF-8 could not carry), marks, cycles, sites. */
const TRACE = [
  '{"format":"memreplay","version":1,"meta":{"python":"3.12.1"}}',
  '{"op":"mark","label":"start ✓"}',
  '{"op":"alloc","id":"a\\ud800","type":"Node","size":48,"site":"x.py:1"}',
  '{"op":"alloc","id":"b","type":"Node","size":48,"site":"x.py:2"}',
  '{"op":"link","src":"a\\ud800","dst":"b"}',
  '{"op":"link","src":"b","dst":"a\\ud800"}',
  '{"op":"decref","id":"b"}',
  '{"op":"alloc","id":7,"type":"list","size":56,"t":3.5}',
  '{"op":"decref","id":"a\\ud800"}',
  '{"op":"collect"}',
  '{"op":"mark","label":"end"}',
].join('\n');

async function decode(): Promise<{ chunks: EventChunk[]; shared: SharedTrace }> {
  const opened = await decodeTraceText(TRACE, 't.jsonl', { diagnostics: new Diagnostics(), chunkRows: 3 });
  const chunks = await readAllChunks(opened);
  return {
    chunks,
    shared: { file: 't.jsonl', header: opened.header, types: [...opened.types.values], sites: [...opened.sites.values], events: 10, chunks: chunks.map(shareChunk) },
  };
}

describe('compare/shared-trace', () => {
  it('gives back every field of every chunk, strings exactly', async () => {
    const { chunks, shared } = await decode();
    expect(chunks.length).toBeGreaterThan(2);
    chunks.forEach((chunk, i) => {
      const view = chunkView(shared.chunks[i]);
      expect(Object.keys(view).sort()).toEqual(Object.keys(chunk).sort());
      for (const [name, value] of Object.entries(chunk) as [string, unknown][]) {
        // Columns carry the chunk's rows; capacity past `length` is not part of the trace.
        const expected = ArrayBuffer.isView(value) ? (value as unknown as { subarray(start: number, end: number): unknown }).subarray(0, chunk.length) : value;
        expect((view as unknown as Record<string, unknown>)[name], name).toEqual(expected);
      }
    });
    const strings = chunks.flatMap((c) => c.strings);
    expect(strings).toContain('a\ud800');
    expect(strings).toContain('start ✓');
  });

  it('shares the columns instead of copying them', async () => {
    const { shared } = await decode();
    const first = chunkView(shared.chunks[0]);
    const second = chunkView(shared.chunks[0]);
    expect(first.obj.buffer).toBeInstanceOf(SharedArrayBuffer);
    second.arg[0] = 12345;
    expect(first.arg[0]).toBe(12345);
  });

  it('replays to the same report as the decoder\'s own chunks', async () => {
    const { chunks, shared } = await decode();
    const run = (source: Parameters<typeof replayChunks>[0]) => {
      const policy = resolvePolicy('cpython-3.12');
      const result = replayChunks(source, { policy, oldObjects: 0, automaticCollection: true, freeLists: FREE_LIST_CONFIGS['3.12'], pool: null, diagnostics: new Diagnostics() });
      const config = { thresholds: [700, 10, 10], oldObjects: 0, automaticCollection: true, freeLists: '3.12', pool: null, poolParams: {} };
      return JSON.stringify(buildReport(result, { toolVersion: 'test', skippedByKind: {}, config }));
    };
    const viaViews = run(sourceOf(shared));
    const direct = run({ ...sourceOf(shared), chunks: () => chunks });
    expect(viaViews).toBe(direct);
    expect(JSON.parse(viaViews).gc.totals.collected).toBe(2);
  });

  it('digests the decoded events: equal traces agree, a changed event does not', async () => {
    const one = await decode();
    const two = await decode();
    expect(traceDigest(one.shared)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(traceDigest(one.shared)).toBe(traceDigest(two.shared));
    chunkView(two.shared.chunks[1]).arg[0] += 8;
    expect(traceDigest(two.shared)).not.toBe(traceDigest(one.shared));
  });
});
