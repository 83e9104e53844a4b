import { describe, expect, it } from 'vitest';
import { completeEntry, type ConfigurationEntry } from '../../src/compare/configurations.js';
import { replayInLockstep } from '../../src/compare/lockstep.js';
import { startConfiguration } from '../../src/compare/run-configuration.js';
import { TraceErrors } from '../../src/errors.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { decodeTraceStream, decodeTraceText, readAllChunks, type OpenedTrace } from '../../src/trace/index.js';
import { randomGcTrace } from '../helpers/random-trace.js';
import { toJsonLines } from '../helpers/trace-text.js';

const CONTEXT = { toolVersion: 'test', maxErrors: 20, lenient: false };
const ENTRIES: ConfigurationEntry[] = [
  completeEntry({ thresholds: [5] }),
  completeEntry({ policy: 'refcount-only' }),
  completeEntry({ policy: 'mark-sweep', thresholds: [7] }),
  completeEntry({ policy: 'cpython-3.11', thresholds: [3, 2, 2], pool: 'malloc' }),
];
const TEXT = toJsonLines(randomGcTrace(7, { events: 3000 }), { format: 'memreplay', version: 1, meta: { python: '3.12.1' } });

/** The bytes of `text` in pieces of 2 KiB, as a file arrives a read at a time. */
async function* pieces(text: string): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += 2048) yield bytes.subarray(at, at + 2048);
}

/** Replays `entries` over the trace in chunks of 50 rows, so that a pass meets dozens of them. */
async function pass(entries: readonly ConfigurationEntry[], options: { text?: string; digest?: boolean; watch?: (trace: OpenedTrace) => void } = {}) {
  const diagnostics = new Diagnostics();
  const trace = await decodeTraceStream(pieces(options.text ?? TEXT), 't.jsonl', { diagnostics, chunkRows: 50 });
  options.watch?.(trace);
  return replayInLockstep(trace, diagnostics, entries.map((entry, index) => ({ index, entry })), CONTEXT, { digest: options.digest });
}

describe('compare/lockstep', () => {
  it('gives each configuration the report of a replay of its own', async () => {
    const { outcomes, events } = await pass(ENTRIES);
    expect(events).toBe(3000);
    for (const [index, entry] of ENTRIES.entries()) {
      const alone = await decodeTraceText(TEXT, 't.jsonl', { diagnostics: new Diagnostics() });
      const chunks = await readAllChunks(alone);
      const run = startConfiguration(alone, entry, CONTEXT);
      chunks.forEach((chunk) => run.feed(chunk));
      const outcome = outcomes[index];
      expect(outcome.ok && JSON.stringify(outcome.report)).toBe(JSON.stringify(run.finish({})));
    }
    // The configurations differ, or the comparison above would prove little.
    expect(new Set(outcomes.map((o) => o.ok && JSON.stringify(o.report.gc.generations))).size).toBeGreaterThan(2);
  });

  it('holds a few chunks at a time, whatever the length of the trace', async () => {
    // The decoder recycles the memory of the chunks it is given back: count the distinct
    // buffers the chunks' columns live in.
    const buffers = new Set<ArrayBufferLike>();
    const watch = (trace: OpenedTrace) => {
      const chunks = trace.chunks.bind(trace);
      trace.chunks = (options) => {
        expect(options?.recycle).toBe(true);
        const iterable = chunks(options);
        return {
          async *[Symbol.asyncIterator]() {
            for await (const chunk of iterable) {
              buffers.add(chunk.op.buffer);
              yield chunk;
            }
          },
        };
      };
    };
    const { events } = await pass(ENTRIES, { watch });
    expect(events / 50).toBeGreaterThan(50);
    expect(buffers.size).toBeLessThanOrEqual(4);
  });

  it('fails the whole pass on an invalid event, as replay does, and one run on its own problem', async () => {
    const invalid = `${TEXT}{"op":"alloc","id":1,"type":"Node","size":"big"}\n`;
    await expect(pass([ENTRIES[0]], { text: invalid })).rejects.toBeInstanceOf(TraceErrors);

    // Object 1 is collected garbage under a collector, a live cycle under refcount-only.
    const heapText = ['{"op":"alloc","id":1,"type":"Node","size":48}', '{"op":"alloc","id":2,"type":"Node","size":48}', '{"op":"link","src":1,"dst":2}', '{"op":"link","src":2,"dst":1}', '{"op":"decref","id":1}', '{"op":"decref","id":2}', '{"op":"collect"}', '{"op":"incref","id":1}', ''].join('\n');
    const { outcomes } = await pass([ENTRIES[0], ENTRIES[1]], { text: heapText });
    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
  });

  it('digests the decoded trace: the same for the same trace, another for another', async () => {
    const digest = async (text: string) => (await pass([ENTRIES[1]], { text, digest: true })).digest;
    const first = await digest(TEXT);
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await digest(TEXT)).toBe(first);
    expect(await digest(TEXT.replace('"size":48', '"size":49'))).not.toBe(first);
    expect((await pass([])).digest).toBeNull();
  });
});
