import { describe, expect, it } from 'vitest';
import { TraceErrors } from '../../src/errors.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { decodeTraceText } from '../../src/trace/index.js';
import { decodeAll, decodeError } from '../helpers/chunks.js';

describe('trace/decode-jsonl', () => {
  describe('when the first line is a header', () => {
    it('reads it, after blank lines, and does not count it as an event', async () => {
      const decoded = await decodeAll('\n  \n{"format":"memreplay","version":1,"meta":{"python":"3.12.1"}}\n{"op":"freeze"}\n', 't.jsonl');
      expect(decoded.header).toEqual({ format: 'memreplay', version: 1, meta: { python: '3.12.1' } });
      expect(decoded.rows).toEqual([{ index: 0, line: 4, event: { op: 'freeze' } }]);
    });

    it('gives meta {} to a header without meta', async () => {
      const decoded = await decodeAll('{"format":"memreplay","version":1}\n', 't.jsonl');
      expect(decoded.header).toEqual({ format: 'memreplay', version: 1, meta: {} });
    });

    it('is known before any event is read', async () => {
      const diagnostics = new Diagnostics();
      const trace = await decodeTraceText('{"format":"memreplay","version":1,"meta":{"timeUnit":"s"}}\n{"op":"freeze"}\n', 't.jsonl', { diagnostics });
      expect(trace.header.meta.timeUnit).toBe('s');
    });

    it('stops at a bad header, before any event', async () => {
      const error = await decodeError('{"format":"memreplay","version":1,"extra":1}\n{"op":"freeze"}\n', 't.jsonl');
      expect(error).toBeInstanceOf(TraceErrors);
      expect((error as TraceErrors).message).toBe('t.jsonl:1: invalid header: unknown field "extra" in the header');
    });
  });

  describe('when a line is not a header', () => {
    it('reads a first line with an op as an event, header-like fields and all', async () => {
      const decoded = await decodeAll('{"op":"freeze","format":"memreplay"}\n', 't.jsonl', { finish: false });
      expect(decoded.header.meta).toEqual({});
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual(['t.jsonl:1: event 0 (freeze): unknown field "format" for op freeze']);
    });

    it('reads a header-like line after the first event as a bad event', async () => {
      const decoded = await decodeAll('{"op":"freeze"}\n{"format":"memreplay","version":1}\n', 't.jsonl', { finish: false });
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual([
        't.jsonl:2: event 1: missing required field "op" (one of alloc, incref, decref, link, unlink, free, resize, collect, gc, threshold, freeze, unfreeze, mark)',
      ]);
    });
  });

  describe('when lines are blank or broken', () => {
    it('skips blank and whitespace-only lines without counting them', async () => {
      const decoded = await decodeAll('{"op":"freeze"}\n\n \t \n\r\n{"op":"unfreeze"}\n', 't.jsonl');
      expect(decoded.rows.map((r) => [r.index, r.line])).toEqual([
        [0, 1],
        [1, 5],
      ]);
    });

    it('explains where a line stops being JSON', async () => {
      const decoded = await decodeAll('{"op":"freeze",}\n{"op":"free","id":01}\n{"op":"mark","label":"tab\there"}\n{"op":"freeze"} x\n{"op":"freeze"\n', 't.jsonl', { finish: false });
      expect(decoded.diagnostics.errors.map((e) => [e.kind, e.message])).toEqual([
        ['not-json', 't.jsonl:1: event 0: not valid JSON: unexpected "}" at column 16'],
        ['not-json', 't.jsonl:2: event 1: not valid JSON: unexpected "1" at column 20'],
        ['not-json', 't.jsonl:3: event 2: not valid JSON: unexpected "\\t" at column 26'],
        ['not-json', 't.jsonl:4: event 3: not valid JSON: unexpected "x" at column 17 after the JSON value'],
        ['not-json', 't.jsonl:5: event 4: not valid JSON: the line ends before the JSON value does (is it cut off?)'],
      ]);
    });
  });

  describe('when --max-errors is reached', () => {
    it('stops reading and says that more errors follow', async () => {
      const text = '{"op":"nope"}\n'.repeat(10);
      const error = await decodeError(text, 't.jsonl', { diagnostics: new Diagnostics({ maxErrors: 3, lenient: false }) });
      expect(error).toBeInstanceOf(TraceErrors);
      expect((error as TraceErrors).errors.map((e) => e.location.line)).toEqual([1, 2, 3]);
      expect((error as TraceErrors).more).toBe(1);
      expect((error as TraceErrors).message.split('\n').at(-1)).toBe('stopped after 3 errors; more follow (raise --max-errors to list them)');
    });

    it('in lenient mode, skips and counts bad events without stopping', async () => {
      const text = '{"op":"nope"}\n{"op":"freeze"}\n{"op":"freeze","t":2}\n{"op":"freeze","t":1}\n';
      const decoded = await decodeAll(text, 't.jsonl', { diagnostics: new Diagnostics({ maxErrors: 1, lenient: true }) });
      expect(decoded.rows.map((r) => r.index)).toEqual([1, 2]);
      expect(decoded.diagnostics.skippedSummary()).toEqual({ schema: 1, 'time-order': 1 });
    });
  });
});
