import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TraceErrors } from '../../src/errors.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { MAX_EVENT_BYTES, decodeTraceStream, openTrace } from '../../src/trace/index.js';
import type { TraceEncoding } from '../../src/trace/types.js';
import { decodeAll, decodeError } from '../helpers/chunks.js';

/** Reads a generated stream to the end; returns the events decoded, the bytes fed, and the error. */
async function drain(
  pieces: AsyncIterable<Buffer>,
  file: string,
  options: { format?: TraceEncoding; onChunk?: (eventsSoFar: number) => void } = {},
): Promise<{ events: number; error: unknown; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics({ maxErrors: 20, lenient: false });
  let events = 0;
  try {
    const trace = await decodeTraceStream(pieces, file, { diagnostics, format: options.format });
    for await (const chunk of trace.chunks()) {
      events += chunk.length;
      options.onChunk?.(events);
    }
    diagnostics.finish();
    return { events, error: null, diagnostics };
  } catch (error) {
    return { events, error, diagnostics };
  }
}

/** `count` pieces of `piece`, as a stream would deliver them (a fresh buffer each time). */
async function* repeat(piece: Buffer, count: number, before?: Buffer, after?: Buffer): AsyncGenerator<Buffer> {
  if (before) yield before;
  for (let i = 0; i < count; i++) yield Buffer.from(piece);
  if (after) yield after;
}

/** Complete lines of `line` filling about `bytes` bytes. */
function block(line: string, bytes: number): Buffer {
  return Buffer.from(line.repeat(Math.max(1, Math.floor(bytes / line.length))));
}

const MiB = 1024 * 1024;

function messagesOf(error: unknown): string[] {
  expect(error).toBeInstanceOf(TraceErrors);
  return (error as TraceErrors).errors.map((e) => e.message);
}

describe('trace/robustness', () => {
  describe('binary garbage', () => {
    it('stops at once with a clear error, for every encoding', async () => {
      // A fixed pseudo-random megabyte without a single newline.
      const garbage = Buffer.alloc(MiB);
      let state = 12345;
      for (let i = 0; i < garbage.length; i++) {
        state = (state * 1103515245 + 12345) >>> 0;
        garbage[i] = (state >>> 16) & 0xff;
      }
      for (const file of ['g.jsonl', 'g.json', 'g.csv', '-']) {
        const error = await decodeError(garbage, file);
        const [message, ...more] = messagesOf(error);
        expect(message).toMatch(new RegExp(`^${file === '-' ? '-' : file}:1: not a UTF-8 text trace: (invalid UTF-8|a NUL byte) at byte \\d+; expected JSON Lines, JSON or CSV`));
        expect(more).toEqual([]);
      }
    });

    it('refuses UTF-16 text', async () => {
      const utf16 = Buffer.from('\uFEFF{"op":"collect"}\n', 'utf16le');
      expect(messagesOf(await decodeError(utf16, 't.jsonl'))[0]).toMatch(/^t\.jsonl:1: not a UTF-8 text trace: invalid UTF-8 at byte 0/);
    });

    it('reports a bad line after the first bytes as one bad event and goes on', async () => {
      const good = '{"op":"collect"}\n'.repeat(400);
      const text = Buffer.concat([Buffer.from(good), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), Buffer.from('{"op":"freeze"}\n')]);
      const decoded = await decodeAll(text, 't.jsonl', { finish: false });
      expect(decoded.rows.length).toBe(401);
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual(['t.jsonl:401: event 400: the line is not valid UTF-8']);
    });
  });

  describe('an 8 MiB line', () => {
    const huge = `{"op":"mark","label":"${'x'.repeat(8 * MiB - 24)}"}`;

    it('is rejected as too long, with its line, and the events after it are decoded', async () => {
      expect(Buffer.byteLength(huge)).toBe(8 * MiB);
      const text = `{"op":"collect"}\n${huge}\n{"op":"freeze"}\n`;
      const decoded = await decodeAll(text, 't.jsonl', { pieceBytes: 64 * 1024, finish: false });
      expect(decoded.rows.map((r) => [r.index, r.line, r.event.op])).toEqual([
        [0, 1, 'collect'],
        [2, 3, 'freeze'],
      ]);
      expect(decoded.diagnostics.errors.map((e) => [e.kind, e.message])).toEqual([
        ['too-long', 't.jsonl:2: event 1: the line is 8 MiB long; an event may be at most 1 MiB (is a newline missing?)'],
      ]);
    });

    it('is rejected in a JSON document and in CSV too', async () => {
      const json = await decodeAll(`[{"op":"collect"},\n${huge},\n{"op":"freeze"}]`, 't.json', { pieceBytes: 64 * 1024, finish: false });
      expect(json.rows.map((r) => r.event.op)).toEqual(['collect', 'freeze']);
      expect(json.diagnostics.errors.map((e) => e.message)).toEqual(['t.json:2: event 1: the event is 8 MiB long; an event may be at most 1 MiB']);

      const cell = 'x'.repeat(8 * MiB);
      const csv = await decodeAll(`op,label\nmark,"a\n${cell}\nb"\nfreeze,\n`, 't.csv', { pieceBytes: 64 * 1024, finish: false });
      expect(csv.rows.map((r) => [r.line, r.event.op])).toEqual([[5, 'freeze']]);
      expect(csv.diagnostics.errors.map((e) => e.message)).toEqual(['t.csv:2: event 0: the record is 8 MiB long; an event may be at most 1 MiB']);
    });

    it('is never held in memory: a 256 MiB line streams through with bounded memory', async () => {
      const piece = Buffer.alloc(MiB, 'x'.charCodeAt(0));
      const before = process.memoryUsage().rss;
      let peak = before;
      const { events, error } = await drain(repeat(piece, 256, Buffer.from('{"op":"collect"}\n{"op":"mark","label":"'), Buffer.from('"}\n{"op":"freeze"}\n')), 'big-line.jsonl', {
        onChunk: () => (peak = Math.max(peak, process.memoryUsage().rss)),
      });
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(events).toBe(2);
      expect(messagesOf(error)).toEqual(['big-line.jsonl:2: event 1: the line is 256 MiB long; an event may be at most 1 MiB (is a newline missing?)']);
      expect(peak - before).toBeLessThan(64 * MiB);
    });

    it('in a sniffed stream without any newline fails fast instead of hanging', async () => {
      const { error } = await drain(repeat(Buffer.alloc(MiB, 'a'.charCodeAt(0)), 64), '-');
      expect(messagesOf(error)).toEqual(['-:1: invalid header: the line is 64 MiB long; an event may be at most 1 MiB (is a newline missing?)']);
    });
  });

  describe('a 100 MB trace', () => {
    /** A long but realistic allocation site: ~1M events per 100 MB. */
    const LONG_SITE = 'site-packages/numpy/core/_methods.py:'.padEnd(60, '0');

    /** Feeds ~100 MB of one event line repeated, and samples RSS as chunks are consumed. */
    async function stream100MB(format: TraceEncoding, line: string, before = '', after = '', eventsAfter = 0): Promise<void> {
      const piece = block(line, 256 * 1024);
      const pieces = Math.ceil((100 * 1e6) / piece.length);
      const linesPerPiece = piece.length / line.length;
      const eventsIn10MB = Math.floor(10e6 / line.length);
      let rssAfterWarmUp = 0;
      let peak = 0;
      const { events, error } = await drain(repeat(piece, pieces, Buffer.from(before), Buffer.from(after)), '-', {
        format,
        onChunk: (n) => {
          const rss = process.memoryUsage().rss;
          if (rssAfterWarmUp === 0 && n > eventsIn10MB) rssAfterWarmUp = rss;
          peak = Math.max(peak, rss);
        },
      });
      expect(error).toBeNull();
      expect(events).toBe(pieces * linesPerPiece + eventsAfter);
      // Memory does not grow with the trace: after the first ~10 MB, RSS stays within a
      // margin far below the 100 MB fed through.
      expect(peak - rssAfterWarmUp).toBeLessThan(48 * MiB);
    }

    it('streams as JSON Lines with bounded memory', async () => {
      // Short lines: 3.6 million events, so holding on to decoded chunks would show too.
      await stream100MB('jsonl', '{"op":"incref","id":123456}\n');
    });

    it('streams as a JSON document with bounded memory', async () => {
      await stream100MB('json', `{"op":"alloc","id":123456,"type":"list","size":56,"site":"${LONG_SITE}"},\n`, '{"format":"memreplay","version":1,"meta":{},"events":[\n', '{"op":"freeze"}]}', 1);
    });

    it('streams as CSV with bounded memory', async () => {
      await stream100MB('csv', `alloc,123456,list,56,${LONG_SITE}\n`, 'op,id,type,size,site\n');
    });
  });

  describe('deep nesting', () => {
    const deep = 1_000_000;

    it('rejects [[[[… a million deep in a JSON document without overflowing the stack', async () => {
      const text = `[${'['.repeat(deep)}${']'.repeat(deep)}, {"op":"collect"}]`;
      const decoded = await decodeAll(text, 'deep.json', { finish: false });
      expect(decoded.rows.map((r) => r.event.op)).toEqual(['collect']);
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual(['deep.json:1: event 0: an event must be a flat JSON object, but this one nests more than 8 levels deep']);
      expect(decoded.diagnostics.errors[0].kind).toBe('schema');
    });

    it('rejects deep nesting on a JSON Lines line, and an unclosed one', async () => {
      const half = 500_000; // 1 MB of brackets: under the line limit, so the depth check decides.
      const text = `${'['.repeat(half)}${']'.repeat(half)}\n${'{"a":'.repeat(100_000)}\n{"op":"collect"}\n${'['.repeat(half)}\n`;
      const decoded = await decodeAll(text, 'deep.jsonl', { finish: false });
      expect(decoded.rows.map((r) => [r.line, r.event.op])).toEqual([[3, 'collect']]);
      const detail = 'an event must be a flat JSON object, but this one nests more than 8 levels deep';
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual([`deep.jsonl:1: event 0: ${detail}`, `deep.jsonl:2: event 1: ${detail}`, `deep.jsonl:4: event 3: ${detail}`]);
    });

    it('fails on an unclosed deep document with "ends early"', async () => {
      const error = await decodeError(`[${'{"a":['.repeat(deep)}`, 'deep.json');
      expect(messagesOf(error)).toEqual(['deep.json:1: the JSON document ends inside the event that starts on this line (is the file truncated?)']);
    });

    it('refuses metadata nested deeper than 31 levels in every encoding, which reports could not copy', async () => {
      const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
      const texts = (meta: string): [string, string][] => [
        ['deep.jsonl', `{"format":"memreplay","version":1,"meta":${meta}}\n{"op":"gc","enabled":true}\n`],
        ['deep.json', `{"format":"memreplay","version":1,"meta":${meta},"events":[]}`],
        ['deep.csv', `# {"format":"memreplay","version":1,"meta":${meta}}\nop,id\n`],
      ];
      for (const [file, text] of texts(nested(31))) expect((await decodeAll(text, file)).header.meta, file).toHaveProperty('a');
      for (const levels of [32, 5000]) {
        for (const [file, text] of texts(nested(levels))) {
          expect(messagesOf(await decodeError(text, file)), file).toEqual([`${file}:1: invalid header: "meta" nests more than 31 levels deep`]);
        }
      }
    });

    it('survives a deeply nested header value', async () => {
      const levels = Math.floor((MAX_EVENT_BYTES - 10) / 2);
      const error = await decodeError(`{"format":"memreplay","version":1,"meta":${'['.repeat(levels)}${']'.repeat(levels)},"events":[]}`, 'deep.json');
      expect(messagesOf(error)).toEqual(['deep.json:1: invalid header: "meta" must be a JSON object, got […]']);
    });
  });

  describe('a field given twice', () => {
    it('is refused by name in JSON Lines and JSON documents, however it is spelled or spaced', async () => {
      const lines = [
        '{"op":"alloc","id":1,"id":2,"type":"A","size":8}',
        '{"op": "alloc", "id": 3, "type": "A", "size": 8, "size": 16}',
        '{"op":"alloc","\\u0069d":4,"id":5,"type":"A","size":8}',
        '{"op":"alloc","id":6,"type":"A","size":8,"site":"a,\\"id\\":7"}',
      ];
      for (const [file, text] of [
        ['dup.jsonl', `${lines.join('\n')}\n`],
        ['dup.json', `{"format":"memreplay","version":1,"events":[${lines.join(',\n')}]}`],
      ]) {
        const decoded = await decodeAll(text, file, { finish: false });
        expect(decoded.diagnostics.errors.map((e) => e.detail), file).toEqual([
          'the field "id" is given twice; give each field once',
          'the field "size" is given twice; give each field once',
          'the field "id" is given twice; give each field once',
        ]);
        // A key's name inside a string value is no key.
        expect(decoded.rows.map((r) => r.event)).toEqual([expect.objectContaining({ op: 'alloc', id: 6 })]);
      }
    });
  });

  describe('a header key given twice', () => {
    it('is refused by name in every encoding, as a JSON document always did', async () => {
      for (const [file, text] of [
        ['h.jsonl', '{"format":"memreplay","version":1,"meta":{"python":"3.12.1"},"meta":{}}\n{"op":"gc","enabled":true}\n'],
        ['h.csv', '# {"format":"memreplay","version":1,"meta":{},"meta":{"python":"3.12.1"}}\nop,id\n'],
        ['h.json', '{"format":"memreplay","version":1,"meta":{},"meta":{"python":"3.12.1"},"events":[]}'],
      ]) {
        expect(messagesOf(await decodeError(text, file)), file).toEqual([`${file}:1: invalid header: the key "meta" appears twice`]);
      }
    });
  });

  describe('keys named __proto__ and constructor', () => {
    const pollute = [
      '{"op":"free","id":1,"__proto__":{"polluted":"yes"}}',
      '{"op":"incref","id":1,"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"op":"alloc","id":"__proto__","type":"constructor","size":1,"site":"__proto__"}',
    ];

    it('are reported as unknown fields and pollute nothing (JSON Lines, JSON)', async () => {
      for (const [file, text] of [
        ['p.jsonl', `{"format":"memreplay","version":1,"meta":{"__proto__":{"polluted":"yes"}}}\n${pollute.join('\n')}\n`],
        ['p.json', `{"format":"memreplay","version":1,"meta":{"__proto__":{"polluted":"yes"}},"events":[${pollute.join(',\n')}]}`],
      ]) {
        const decoded = await decodeAll(text, file, { finish: false });
        expect(decoded.diagnostics.errors.map((e) => e.detail)).toEqual(['unknown field "__proto__" for op free', 'unknown field "constructor" for op incref']);
        expect(decoded.rows.map((r) => r.event)).toEqual([{ op: 'alloc', id: '__proto__', type: 'constructor', size: 1, tracked: true, site: '__proto__' }]);
        expect(Object.prototype.hasOwnProperty.call(decoded.header.meta, '__proto__')).toBe(true);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.getPrototypeOf(decoded.header.meta)).toBe(Object.prototype);
      }
    });

    it('are reported as unknown fields in CSV columns', async () => {
      const decoded = await decodeAll('op,id,__proto__,constructor\nfree,1,x,\nfree,2,,y\nfree,3,,\n', 'p.csv', { finish: false });
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual(['p.csv:2: event 0 (free): unknown field "__proto__" for op free', 'p.csv:3: event 1 (free): unknown field "constructor" for op free']);
      expect(decoded.rows.map((r) => r.event)).toEqual([{ op: 'free', id: 3 }]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('are unknown fields of a document header', async () => {
      const error = await decodeError('{"format":"memreplay","version":1,"__proto__":{"polluted":1},"events":[]}', 'p.json');
      expect(messagesOf(error)).toEqual(['p.json:1: invalid header: unknown field "__proto__" in the header']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  it('reads stdin through openTrace("-")', async () => {
    const diagnostics = new Diagnostics();
    const trace = await openTrace('-', { diagnostics, stdin: Readable.from(['{"op":"col', 'lect"}\n']) });
    let events = 0;
    for await (const chunk of trace.chunks()) events += chunk.length;
    expect(trace.encoding).toBe('jsonl');
    expect(events).toBe(1);
  });

  it('lets chunks() be iterated once only', async () => {
    const diagnostics = new Diagnostics();
    const trace = await openTrace('-', { diagnostics, stdin: Readable.from(['{"op":"collect"}\n']) });
    trace.chunks();
    expect(() => trace.chunks()).toThrow(/may be called once/);
  });
});
