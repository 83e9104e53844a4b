import { describe, expect, it } from 'vitest';
import { describeSchema, eventValidators, renderValue } from '../../src/trace/schema.js';

const OPS = 'alloc, incref, decref, link, unlink, free, resize, collect, gc, threshold, freeze, unfreeze, mark';

describe('trace/schema', () => {
  const { isEvent, explainEvent, checkHeader } = eventValidators();

  describe('when an event breaks the event schema', () => {
    it.each([
      ['a field of the wrong type', '{"op":"alloc","id":1,"type":"list","size":"big"}', '"size" must be an integer >= 0, got "big"'],
      ['a missing field', '{"op":"alloc","id":1,"type":"list"}', 'missing required field "size" (an integer >= 0)'],
      ['a misspelt field (reported before the field it hides)', '{"op":"alloc","id":1,"type":"list","szie":56}', 'unknown field "szie" for op alloc'],
      ['an unknown op', '{"op":"allocate","id":1}', `"op" must be one of ${OPS}, got "allocate"`],
      ['an op that is not a string', '{"op":5}', `"op" must be one of ${OPS}, got 5`],
      ['no op', '{"id":1}', `missing required field "op" (one of ${OPS})`],
      ['an array', '[1,2]', 'an event must be a JSON object, got [1,2]'],
      ['null', 'null', 'an event must be a JSON object, got null'],
      ['a string', '"alloc"', 'an event must be a JSON object, got "alloc"'],
      ['a negative id', '{"op":"alloc","id":-1,"type":"list","size":1}', '"id" must be an integer >= 0 or a non-empty string, got -1'],
      ['an empty string id', '{"op":"free","id":""}', '"id" must be an integer >= 0 or a non-empty string, got ""'],
      ['a fractional id', '{"op":"incref","id":1.5}', '"id" must be an integer >= 0 or a non-empty string, got 1.5'],
      ['a size beyond the representation limit', '{"op":"resize","id":1,"size":2000000000000}', '"size" must be <= 1099511627776, got 2000000000000'],
      ['a generation out of range', '{"op":"collect","gen":3}', '"gen" must be an integer from 0 to 2, got 3'],
      ['a negative generation', '{"op":"threshold","gen":-1,"value":10}', '"gen" must be an integer from 0 to 2, got -1'],
      ['a threshold that is not an integer', '{"op":"threshold","gen":0,"value":"x"}', '"value" must be an integer, got "x"'],
      ['a threshold beyond a C int', '{"op":"threshold","gen":0,"value":2147483648}', '"value" must be <= 2147483647, got 2147483648'],
      ['an unknown finalizer', '{"op":"alloc","id":1,"type":"T","size":1,"finalizer":"none"}', '"finalizer" must be one of del, legacy, got "none"'],
      ['a non-boolean tracked', '{"op":"alloc","id":1,"type":"T","size":1,"tracked":"yes"}', '"tracked" must be a boolean, got "yes"'],
      ['an empty type', '{"op":"alloc","id":1,"type":"","size":1}', '"type" must be a non-empty string, got ""'],
      ['a negative timestamp', '{"op":"freeze","t":-1}', '"t" must be a number >= 0, got -1'],
      ['an infinite timestamp', '{"op":"freeze","t":1e400}', '"t" must be a number >= 0, got Infinity'],
      ['a missing boolean', '{"op":"gc"}', 'missing required field "enabled" (a boolean)'],
      ['a missing link end', '{"op":"link","src":1}', 'missing required field "dst" (an integer >= 0 or a non-empty string)'],
      ['a nested value', '{"op":"resize","id":1,"size":{"bytes":1}}', '"size" must be an integer >= 0, got {"bytes":1}'],
      ['a field for another op', '{"op":"free","id":1,"size":16}', 'unknown field "size" for op free'],
    ])('reports %s', (_, json, expected) => {
      const value: unknown = JSON.parse(json);
      expect(isEvent(value)).toBe(false);
      expect(explainEvent(value)).toBe(expected);
    });

    it('says how long a too-long label is', () => {
      const event = { op: 'mark', label: 'x'.repeat(5000) };
      expect(isEvent(event)).toBe(false);
      expect(explainEvent(event)).toBe('"label" must be at most 4096 characters long, got 5000 characters');
    });

    it('shortens a long offending value', () => {
      const message = explainEvent({ op: 'alloc', id: 1, type: 'T', size: 'y'.repeat(100) });
      // 60 characters: the opening quote, 58 of the value, and the ellipsis (the cut drops the closing quote).
      expect(message).toBe(`"size" must be an integer >= 0, got "${'y'.repeat(58)}…`);
    });

    it('reports a missing field before a bad value of another field', () => {
      expect(explainEvent({ op: 'alloc', id: true, type: 'list' })).toBe('missing required field "size" (an integer >= 0)');
    });

    it('accepts every op with its required fields', () => {
      const valid = [
        { op: 'alloc', id: 0, type: 'list', size: 0 },
        { op: 'alloc', id: 'a', type: 'list', size: 1099511627776, tracked: false, site: '', finalizer: 'legacy', t: 0 },
        { op: 'incref', id: 9007199254740991 },
        { op: 'decref', id: 'x' },
        { op: 'link', src: 1, dst: 'y' },
        { op: 'unlink', src: 'x', dst: 2 },
        { op: 'free', id: 1 },
        { op: 'resize', id: 1, size: 8 },
        { op: 'collect' },
        { op: 'collect', gen: 0 },
        { op: 'gc', enabled: true },
        { op: 'threshold', gen: 2, value: -2147483648 },
        { op: 'freeze' },
        { op: 'unfreeze', t: 1.5 },
        { op: 'mark', label: '' },
      ];
      for (const event of valid) expect(isEvent(event), JSON.stringify(event)).toBe(true);
    });
  });

  describe('when a header breaks the header schema', () => {
    it.each([
      ['a wrong version', { format: 'memreplay', version: 2 }, [{ key: 'version', message: '"version" must be 1, got 2' }]],
      ['a wrong format', { format: 'mem', version: 1 }, [{ key: 'format', message: '"format" must be "memreplay", got "mem"' }]],
      ['no format', { version: 1 }, [{ key: 'format', message: 'missing required field "format" ("memreplay")' }]],
      ['an unknown time unit', { format: 'memreplay', version: 1, meta: { timeUnit: 'sec' } }, [{ key: 'meta', message: '"meta.timeUnit" must be one of ns, us, ms, s, events, got "sec"' }]],
      ['a meta that is not an object', { format: 'memreplay', version: 1, meta: 'x' }, [{ key: 'meta', message: '"meta" must be a JSON object, got "x"' }]],
      ['an unknown key', { format: 'memreplay', version: 1, extra: true }, [{ key: 'extra', message: 'unknown field "extra" in the header' }]],
      [
        'several problems at once',
        { format: 'memreplay', version: 1, meta: { oldObjects: -1, python: 'three' } },
        [
          { key: 'meta', message: '"meta.oldObjects" must be an integer >= 0, got -1' },
          { key: 'meta', message: '"meta.python" must be a string matching /^[0-9]+\\.[0-9]+(\\.[0-9]+)?([a-z+][0-9a-z+.-]*)?$/, got "three"' },
        ],
      ],
    ])('reports %s', (_, header, expected) => {
      expect(checkHeader(header)).toEqual(expected);
    });

    it('accepts a valid header with free-form meta', () => {
      expect(checkHeader({ format: 'memreplay', version: 1, meta: { timeUnit: 'ns', python: '3.13.0rc1', oldObjects: 5, anything: [1] } })).toEqual([]);
      expect(checkHeader({ format: 'memreplay', version: 1 })).toEqual([]);
    });
  });

  describe('describeSchema', () => {
    const root = { definitions: { size: { type: 'integer', minimum: 0, maximum: 2 ** 40 } } };
    it.each([
      [{ type: 'integer', minimum: 0, maximum: 2 }, 'an integer from 0 to 2'],
      [{ type: 'number', exclusiveMinimum: 0 }, 'a number > 0'],
      [{ type: 'integer', maximum: 10 }, 'an integer <= 10'],
      [{ type: 'integer', minimum: -2147483648, maximum: 2147483647 }, 'an integer'],
      [{ type: ['integer', 'string'] }, 'an integer or a string'],
      [{ type: 'string', minLength: 3 }, 'a string of at least 3 characters'],
      [{ enum: [1, 'a'] }, 'one of 1, a'],
      [{ const: 'x' }, '"x"'],
      [{ $ref: '#/definitions/size' }, 'an integer >= 0'],
      [{}, 'a valid value'],
    ])('describes %j as "%s"', (schema, expected) => {
      expect(describeSchema(schema, root)).toBe(expected);
    });
  });

  describe('renderValue', () => {
    it('renders values as JSON, non-finite numbers by name', () => {
      expect(renderValue('a"b')).toBe('"a\\"b"');
      expect(renderValue(-Infinity)).toBe('-Infinity');
      expect(renderValue(undefined)).toBe('nothing');
      expect(renderValue({ a: [1] })).toBe('{"a":[1]}');
    });
  });
});
