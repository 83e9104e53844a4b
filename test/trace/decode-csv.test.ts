import { describe, expect, it } from 'vitest';
import { TraceErrors } from '../../src/errors.js';
import { decodeAll, decodeError } from '../helpers/chunks.js';

/** Decodes CSV text without throwing on bad events; returns the events and the error messages. */
async function csv(text: string): Promise<{ events: unknown[]; errors: string[]; lines: number[] }> {
  const decoded = await decodeAll(text, 't.csv', { finish: false, pieceBytes: 5 });
  return { events: decoded.rows.map((r) => r.event), errors: decoded.diagnostics.errors.map((e) => e.message), lines: decoded.rows.map((r) => r.line) };
}

async function jsonl(text: string): Promise<string[]> {
  const decoded = await decodeAll(text, 't.jsonl', { finish: false });
  return decoded.diagnostics.errors.map((e) => e.detail);
}

function fatalMessages(error: unknown): string[] {
  expect(error).toBeInstanceOf(TraceErrors);
  return (error as TraceErrors).errors.map((e) => e.message);
}

describe('trace/decode-csv', () => {
  describe('when cells are coerced to the schema types', () => {
    it('reads canonical integers as integer ids and anything else as string ids', async () => {
      const { events } = await csv('op,id\nfree,12\nfree,012\nfree,-1\nfree,1e3\nfree,x y\n');
      expect(events).toEqual([
        { op: 'free', id: 12 },
        { op: 'free', id: '012' },
        { op: 'free', id: '-1' },
        { op: 'free', id: '1e3' },
        { op: 'free', id: 'x y' },
      ]);
    });

    it('reads JSON numbers as numbers and leaves other text for the schema to report', async () => {
      const { events, errors } = await csv('op,id,size,t\nresize,1,64,1e3\nresize,1,0x10,\nresize,1, 5,\nresize,1,5.5,\nresize,1,8,1e400\n');
      expect(events).toEqual([{ op: 'resize', id: 1, size: 64, t: 1000 }]);
      expect(errors).toEqual([
        't.csv:3: event 1 (resize): "size" must be an integer >= 0, got "0x10"',
        't.csv:4: event 2 (resize): "size" must be an integer >= 0, got " 5"',
        't.csv:5: event 3 (resize): "size" must be an integer >= 0, got 5.5',
        't.csv:6: event 4 (resize): "t" must be a number >= 0, got "1e400"',
      ]);
    });

    it('reads true/false/1/0 as booleans', async () => {
      const { events, errors } = await csv('op,enabled\ngc,true\ngc,0\ngc,1\ngc,false\ngc,TRUE\n');
      expect(events).toEqual([
        { op: 'gc', enabled: true },
        { op: 'gc', enabled: false },
        { op: 'gc', enabled: true },
        { op: 'gc', enabled: false },
      ]);
      expect(errors).toEqual(['t.csv:6: event 4 (gc): "enabled" must be a boolean, got "TRUE"']);
    });

    it('gives the same messages as JSON Lines for the same bad events', async () => {
      const bad = [
        ['alloc,1,list,big,,', '{"op":"alloc","id":1,"type":"list","size":"big"}'],
        ['alloc,1,,56,,', '{"op":"alloc","id":1,"size":56}'],
        ['alloc,1,list,56,maybe,', '{"op":"alloc","id":1,"type":"list","size":56,"tracked":"maybe"}'],
        ['alloc,1,list,56,,final', '{"op":"alloc","id":1,"type":"list","size":56,"finalizer":"final"}'],
        ['allocate,1,list,56,,', '{"op":"allocate","id":1,"type":"list","size":56}'],
        [',1,,,,', '{"id":1}'],
        ['collect,,,,,', '{"op":"collect"}'],
        ['free,"",,,,', '{"op":"free","id":""}'],
      ];
      const fromCsv = await csv(`op,id,type,size,tracked,finalizer\n${bad.map(([row]) => row).join('\n')}\n`);
      const fromJsonl = await jsonl(`${bad.map(([, line]) => line).join('\n')}\n`);
      expect(fromJsonl.length).toBe(bad.length - 1);
      expect(fromCsv.errors.map((m) => m.replace(/^t\.csv:\d+: event \d+( \(\w+\))?: /, ''))).toEqual(fromJsonl);
    });
  });

  describe('when cells are quoted', () => {
    it('reads commas, doubled quotes and line breaks inside quotes (LF or CR LF, kept as written), and counts physical lines', async () => {
      const { events, lines } = await csv('op,label\nmark,"a, ""b"""\nmark,"two\nlines"\r\nmark,"x\r\n\ny\r"\nmark,plain\n');
      expect(events).toEqual([
        { op: 'mark', label: 'a, "b"' },
        { op: 'mark', label: 'two\nlines' },
        { op: 'mark', label: 'x\r\n\ny\r' },
        { op: 'mark', label: 'plain' },
      ]);
      expect(lines).toEqual([2, 3, 5, 8]);
    });

    it('treats an unquoted empty cell as absent and "" as the empty string', async () => {
      const { events, errors } = await csv('op,label\nmark,""\nmark,\n');
      expect(events).toEqual([{ op: 'mark', label: '' }]);
      expect(errors).toEqual(['t.csv:3: event 1 (mark): missing required field "label" (a string)']);
    });

    it('coerces quoted cells like unquoted ones', async () => {
      const { events } = await csv('"op","id","size"\n"resize","7","64"\n');
      expect(events).toEqual([{ op: 'resize', id: 7, size: 64 }]);
    });
  });

  describe('when reading the lines before the header row', () => {
    it('reads a "# {…}" first line as the header and skips # comments and blank lines', async () => {
      const decoded = await decodeAll('# {"format":"memreplay","version":1,"meta":{"timeUnit":"ms"}}\n# recorded by hand\n\n#op,x\n id , op \n1,free\n', 't.csv');
      expect(decoded.header).toEqual({ format: 'memreplay', version: 1, meta: { timeUnit: 'ms' } });
      expect(decoded.rows.map((r) => [r.line, r.event])).toEqual([[6, { op: 'free', id: 1 }]]);
    });

    it('reads "# {…}" after the first line as a comment', async () => {
      const decoded = await decodeAll('# comment\n# {"format":"memreplay","version":7}\nop\nfreeze\n', 't.csv');
      expect(decoded.header.meta).toEqual({});
      expect(decoded.rows.length).toBe(1);
    });

    it('reads a line starting with # after the header row as a record', async () => {
      const { errors } = await csv('op\n#freeze\n');
      expect(errors).toEqual([`t.csv:2: event 0: "op" must be one of alloc, incref, decref, link, unlink, free, resize, collect, gc, threshold, freeze, unfreeze, mark, got "#freeze"`]);
    });

    it('rejects a bad header line, a header row without op, and repeated or empty column names', async () => {
      expect(fatalMessages(await decodeError('# {"format":"memreplay","version":1,\nop\n', 't.csv'))).toEqual(['t.csv:1: invalid header: the "# {…}" line is not valid JSON']);
      expect(fatalMessages(await decodeError('# {"format":"memreplay"}\nop\n', 't.csv'))).toEqual(['t.csv:1: invalid header: missing required field "version" (1)']);
      expect(fatalMessages(await decodeError('op,id,op\n', 't.csv'))).toEqual(['t.csv:1: invalid header: the header row names the column "op" twice']);
      expect(fatalMessages(await decodeError('op,,id\n', 't.csv'))).toEqual(['t.csv:1: invalid header: column 2 of the header row has no name']);
      expect(fatalMessages(await decodeError('\n\nid\n', 't.csv'))).toEqual(['t.csv:3: invalid header: the header row must name an "op" column (it names "id")']);
    });

    it('decodes an empty file, or one with only a header row, as a trace without events', async () => {
      expect((await decodeAll('', 't.csv')).rows).toEqual([]);
      expect((await decodeAll('op,id\n', 't.csv')).rows).toEqual([]);
    });
  });

  describe('when a record is malformed', () => {
    it('skips it, reports it on its first line, and reads on', async () => {
      const { events, errors } = await csv('op,label\nmark,"a"b\nmark,"x\ny"z\nmark,ok\nmark,1,2\nmark,3,\n');
      expect(events).toEqual([
        { op: 'mark', label: 'ok' },
        { op: 'mark', label: '3' },
      ]);
      expect(errors).toEqual([
        't.csv:2: event 0: unexpected "b" after the closing quote of cell 2 (a quote inside a quoted cell is written "")',
        't.csv:3: event 1: unexpected "z" after the closing quote of cell 2 (a quote inside a quoted cell is written "")',
        't.csv:6: event 3: the record has 3 cells, but the header row names 2 columns',
      ]);
    });
  });
});
