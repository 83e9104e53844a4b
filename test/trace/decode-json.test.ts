import { describe, expect, it } from 'vitest';
import { TraceErrors } from '../../src/errors.js';
import { explainJsonSyntax, exceedsDepth } from '../../src/trace/decode-json.js';
import { decodeAll, decodeError } from '../helpers/chunks.js';

function fatal(error: unknown): string {
  expect(error).toBeInstanceOf(TraceErrors);
  return (error as TraceErrors).message;
}

describe('trace/decode-json', () => {
  describe('when the document is well formed', () => {
    it('reads header keys in any order, before or after the events', async () => {
      for (const text of [
        '{"format":"memreplay","version":1,"meta":{"timeUnit":"ns"},"events":[{"op":"freeze"}]}',
        '{"meta":{"timeUnit":"ns"},"events":[{"op":"freeze"}],"version":1,"format":"memreplay"}',
        '{"events":[{"op":"freeze"}],"format":"memreplay","version":1,"meta":{"timeUnit":"ns"}}',
      ]) {
        const decoded = await decodeAll(text, 't.json', { pieceBytes: 3 });
        expect(decoded.header, text).toEqual({ format: 'memreplay', version: 1, meta: { timeUnit: 'ns' } });
        expect(decoded.rows.map((r) => r.event)).toEqual([{ op: 'freeze' }]);
      }
    });

    it('reads a bare array as events without a header', async () => {
      const decoded = await decodeAll(' \n[ ]\n', 't.json');
      expect(decoded.header).toEqual({ format: 'memreplay', version: 1, meta: {} });
      expect(decoded.rows).toEqual([]);
    });

    it('finds the end of strings with escapes, even when a piece ends inside an escape', async () => {
      const labels = ['a\\"b', 'back\\\\', '\\\\\\"', 'brace } and ] and , inside', 'unicode \\u00e9 \\ud83d\\ude00'];
      const text = `[${labels.map((l) => `{"op":"mark","label":"${l}"}`).join(',')}]`;
      for (const pieceBytes of [1, 2, 3]) {
        const decoded = await decodeAll(text, 't.json', { pieceBytes });
        expect(decoded.rows.map((r) => r.event)).toEqual(labels.map((l) => ({ op: 'mark', label: JSON.parse(`"${l}"`) as string })));
      }
    });

    it('reports scalar elements as events that are not objects, and reads on', async () => {
      const decoded = await decodeAll('[1, "x", true, null, -2.5e3, {"op":"freeze"}]', 't.json', { finish: false });
      expect(decoded.rows.map((r) => r.index)).toEqual([5]);
      expect(decoded.diagnostics.errors.map((e) => e.detail)).toEqual([
        'an event must be a JSON object, got 1',
        'an event must be a JSON object, got "x"',
        'an event must be a JSON object, got true',
        'an event must be a JSON object, got null',
        'an event must be a JSON object, got -2500',
      ]);
    });

    it('reports an element that is not JSON and reads on', async () => {
      const decoded = await decodeAll('[\n{"op":"freeze",},\n@oops,\n{"op":"unfreeze"}\n]', 't.json', { finish: false });
      expect(decoded.rows.map((r) => [r.index, r.line])).toEqual([[2, 4]]);
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual([
        't.json:2: event 0: not valid JSON: unexpected "}" at character 16 of the event',
        't.json:3: event 1: not valid JSON: unexpected "@" at character 1 of the event',
      ]);
    });

    it('reads an element of garbage with spaces in it as one bad event, up to "," "]" or its line\'s end', async () => {
      const decoded = await decodeAll('[\n{"op":"freeze"},\n@@ not : an } event!!,\n{"op":"unfreeze"},\n5 x\n]', 't.json', { finish: false });
      expect(decoded.rows.map((r) => [r.index, r.line])).toEqual([[0, 2], [2, 4]]);
      expect(decoded.diagnostics.errors.map((e) => e.message)).toEqual([
        't.json:3: event 1: not valid JSON: unexpected "@" at character 1 of the event',
        't.json:5: event 3: not valid JSON: unexpected "x" at character 3 of the event after the JSON value',
      ]);
    });
  });

  describe('when the document structure is broken', () => {
    it.each([
      ['', 't.json:1: the file is empty; expected a JSON document ([…] or {…})'],
      ['x', 't.json:1: malformed JSON document: expected "[" or "{" at the start of the document, got "x"'],
      ['[{"op":"freeze"} {"op":"freeze"}]', 't.json:1: malformed JSON document: expected "," or "]" after event 0, got "{"'],
      ['[,]', 't.json:1: malformed JSON document: expected an event or "]", got ","'],
      ['[{"op":"freeze"}]\n]', 't.json:2: malformed JSON document: unexpected "]" after the end of the JSON document'],
      ['{"format" "memreplay"}', 't.json:1: malformed JSON document: expected ":" after the key "format", got "\\""'],
      ['{"format":"memreplay",}', 't.json:1: malformed JSON document: expected a key after ",", got "}"'],
      ['{"format":"memreplay","version":1,"events":{}}', 't.json:1: invalid header: "events" must be an array (starting with "["), got "{"'],
      ['{"format":"memreplay","version":1,"events":[],"events":[]}', 't.json:1: invalid header: the key "events" appears twice'],
      ['{"format":"memreplay","version":1}', 't.json:1: invalid header: the JSON document has no "events" array'],
      ['{"events":[]}', 't.json:1: invalid header: missing required field "format" ("memreplay"); missing required field "version" (1)'],
      ['{"format":"memreplay","version":1,"meta":{"a":tru},"events":[]}', 't.json:1: invalid header: the value of "meta" is not valid JSON: unexpected "}" at character 9 of the value'],
      ['[\n{"op":"freeze"},\n{"op":"fre', 't.json:3: the JSON document ends inside the event that starts on this line (is the file truncated?)'],
      ['[\n[[{"op":"freeze"},\n{"op":"freeze"}\n]', 't.json:2: the JSON document ends inside the event that starts on this line (is the file truncated?)'],
      ['{"format":"memreplay",\n"meta":{"a":[1,\n', 't.json:2: the JSON document ends inside the value of "meta" (is the file truncated?)'],
      ['{"format":"memreplay","version":1,"events":[]', 't.json:1: the JSON document ends early (is the file truncated?)'],
    ])('fails on %j', async (text, expected) => {
      expect(fatal(await decodeError(text, 't.json'))).toBe(expected);
    });
  });

  describe('explainJsonSyntax', () => {
    it.each([
      ['{"a":1', 'the line ends before the JSON value does (is it cut off?)'],
      ['{"a":"b', 'the line ends before the JSON value does (is it cut off?)'],
      ['{"a":tr', 'the line ends before the JSON value does (is it cut off?)'],
      ['{"a":-', 'the line ends before the JSON value does (is it cut off?)'],
      ['{"a":"\\x"}', 'unexpected "x" at column 8'],
      ['{"a":"\\u12g4"}', 'unexpected "g" at column 11'],
      ['{"a" 1}', 'unexpected "1" at column 6'],
      ['{"a":[1,]}', 'unexpected "]" at column 9'],
      ['{"a":[1}', 'unexpected "}" at column 8'],
      ['{a:1}', 'unexpected "a" at column 2'],
      ['{"a":nul}', 'unexpected "}" at column 9'],
      ['{} {}', 'unexpected "{" at column 4 after the JSON value'],
    ])('explains %j', (text, expected) => {
      expect(() => JSON.parse(text)).toThrow();
      expect(explainJsonSyntax(text, 'line')).toBe(expected);
    });
  });

  describe('exceedsDepth', () => {
    it('counts brackets outside strings only', () => {
      expect(exceedsDepth('{"op":"mark","label":"[[[[[[[[[[[[{{{{{{{{"}', 2)).toBe(false);
      expect(exceedsDepth('{"a":"\\"[[[[","b":[[1]]}', 3)).toBe(false);
      expect(exceedsDepth('{"a":"\\"[[[[","b":[[[1]]]}', 3)).toBe(true);
      expect(exceedsDepth('[[[', 2)).toBe(true);
    });
  });
});
