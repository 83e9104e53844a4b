import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TraceErrors } from '../../src/errors.js';
import { ByteReader, LineSplitter, encodingOfPath, findBinaryContent, sniffEncoding } from '../../src/trace/source.js';
import type { LineSink } from '../../src/trace/source.js';
import { decodeAll, decodeError, piecesOf } from '../helpers/chunks.js';

function readerOf(text: string | Buffer, pieceBytes = 3): ByteReader {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return new ByteReader(piecesOf(bytes, pieceBytes), (error) => {
    throw error;
  });
}

/** Runs a LineSplitter over `pieces` and records what it reports. */
function split(pieces: (string | Buffer)[], maxLineBytes = 16): string[] {
  const seen: string[] = [];
  const sink: LineSink = {
    line: (text, lineNumber, byteLength) => seen.push(`${lineNumber}:${JSON.stringify(text)}:${byteLength}`),
    unreadableLine: (lineNumber, reason, byteLength, quotes) => seen.push(`${lineNumber}:${reason}:${byteLength}:${quotes}`),
  };
  const splitter = new LineSplitter(sink, maxLineBytes);
  for (const piece of pieces) splitter.push(typeof piece === 'string' ? Buffer.from(piece) : piece);
  splitter.end();
  return seen;
}

describe('trace/source', () => {
  describe('encodingOfPath', () => {
    it.each([
      ['t.jsonl', 'jsonl'],
      ['t.ndjson', 'jsonl'],
      ['T.JSONL.GZ', 'jsonl'],
      ['t.json', 'json'],
      ['t.json.gz', 'json'],
      ['dir.csv/t.csv', 'csv'],
      ['t.csv.gz', 'csv'],
      ['t.gz', null],
      ['t.txt', null],
      ['-', null],
    ])('names %s as %s', (path, expected) => {
      expect(encodingOfPath(path)).toBe(expected);
    });
  });

  describe('sniffEncoding', () => {
    it.each([
      ['[{"op":"collect"}]', 'json'],
      ['  \n [', 'json'],
      ['{"op":"collect"}\n{"op":"freeze"}\n', 'jsonl'],
      ['{"format":"memreplay","version":1}\n', 'jsonl'],
      ['{"op":"collect"}', 'jsonl'],
      ['{\n  "format": "memreplay",\n  "events": []\n}\n', 'json'],
      ['{"format":"memreplay","version":1,"events":[]}', 'json'],
      ['{"op":"alloc", "id": 1,\n "type":"x","size":1}', 'json'],
      ['op,id\nfree,1\n', 'csv'],
      ['# {"format":"memreplay","version":1}\nop\n', 'csv'],
      ['', 'jsonl'],
    ])('takes %j for %s', async (text, expected) => {
      expect(await sniffEncoding(readerOf(text))).toBe(expected);
    });

    it('leaves every byte for the decoder', async () => {
      const reader = readerOf('{"op":"collect"}\n{"op":"freeze"}\n');
      await sniffEncoding(reader);
      const pieces: Buffer[] = [];
      for (let b = await reader.read(); b !== null; b = await reader.read()) pieces.push(b);
      expect(Buffer.concat(pieces).toString()).toBe('{"op":"collect"}\n{"op":"freeze"}\n');
    });
  });

  describe('findBinaryContent', () => {
    it('finds NUL bytes and invalid UTF-8', () => {
      expect(findBinaryContent(Buffer.from('ab\0c'), true)).toEqual({ offset: 2, what: 'a NUL byte' });
      expect(findBinaryContent(Buffer.from([0x61, 0xc0, 0x80]), true)).toEqual({ offset: 1, what: 'invalid UTF-8' });
      expect(findBinaryContent(Buffer.from([0x61, 0xed, 0xa0, 0x80]), true)).toEqual({ offset: 1, what: 'invalid UTF-8' });
      expect(findBinaryContent(Buffer.from([0x61, 0xf5, 0x80, 0x80, 0x80]), true)).toEqual({ offset: 1, what: 'invalid UTF-8' });
      expect(findBinaryContent(Buffer.from([0xff, 0x00]), false)).toEqual({ offset: 0, what: 'invalid UTF-8' });
    });

    it('accepts text, and a multi-byte character cut off at the end of a prefix', () => {
      expect(findBinaryContent(Buffer.from('é中😀 ok'), true)).toBeNull();
      const euro = Buffer.from('ab€');
      expect(findBinaryContent(euro.subarray(0, 3), false)).toBeNull();
      expect(findBinaryContent(euro.subarray(0, 3), true)).toEqual({ offset: 2, what: 'invalid UTF-8' });
    });
  });

  describe('LineSplitter', () => {
    it('splits lines across pieces, strips CR, and numbers them', () => {
      expect(split(['a\r', '\nbc', '', 'd\n\n', 'é\r\n', 'last'])).toEqual(['1:"a":1', '2:"bcd":3', '3:"":0', '4:"é":2', '5:"last":4']);
    });

    it('does not invent a line after a final newline', () => {
      expect(split(['a\n'])).toEqual(['1:"a":1']);
      expect(split([])).toEqual([]);
    });

    it('reports a line over the limit with its size and quotes, without keeping it', () => {
      expect(split(['ok\n"' + 'x'.repeat(10), 'x'.repeat(10), '"y\nafter\n'])).toEqual(['1:"ok":2', '2:too-long:23:2', '3:"after":5']);
      expect(split(['z'.repeat(40) + '\n'])).toEqual(['1:too-long:40:0']);
      expect(split(['z'.repeat(16) + '\r\n'])).toEqual([`1:${JSON.stringify('z'.repeat(16))}:16`]);
    });

    it('reports a line that is not UTF-8, and only that line', () => {
      expect(split([Buffer.from('a\n'), Buffer.from([0x22, 0xff, 0x0a]), Buffer.from('b\n')])).toEqual(['1:"a":1', '2:encoding:2:1', '3:"b":1']);
      expect(split([Buffer.from([0x63, 0x61, 0x66, 0xc3]), Buffer.from([0xa9, 0x0a])])).toEqual(['1:"café":5']);
    });
  });

  describe('gzip', () => {
    it('reports corrupt compressed data as one fatal encoding error', async () => {
      const gz = gzipSync(Buffer.from('{"op":"collect"}\n'.repeat(100)));
      gz.fill(0x55, 12, 30);
      const error = await decodeError(gz, 't.jsonl.gz');
      expect(error).toBeInstanceOf(TraceErrors);
      const [only, ...rest] = (error as TraceErrors).errors;
      expect(rest).toEqual([]);
      expect(only.kind).toBe('encoding');
      expect(only.message).toMatch(/^t\.jsonl\.gz: the gzip data is corrupt or truncated \(.+\)$/);
    });

    it('decompresses several concatenated gzip members', async () => {
      const bytes = Buffer.concat([gzipSync('{"op":"collect"}\n'), gzipSync('{"op":"freeze"}\n')]);
      const decoded = await decodeAll(bytes, 't.jsonl');
      expect(decoded.rows.map((r) => r.event.op)).toEqual(['collect', 'freeze']);
    });
  });
});
