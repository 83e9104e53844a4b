import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { ChunkWriter } from '../../src/trace/encode.js';
import { decodeTraceStream, readAllChunks } from '../../src/trace/index.js';
import { NOT_COMPACT, scanCompactLine, scanJsonLine, scanJsonMembers, scanSpacedLine } from '../../src/trace/scan-json.js';
import { CsvLineScanner } from '../../src/trace/scan-csv.js';
import { FAST_PATH_LIMITS, ScannedEvent } from '../../src/trace/scanned-event.js';
import { eventValidators } from '../../src/trace/schema.js';
import { SCAN_SLACK_BYTES } from '../../src/trace/source.js';
import { StringTable } from '../../src/trace/types.js';
import type { EventChunk, TraceEvent } from '../../src/trace/types.js';
import { piecesOf } from '../helpers/chunks.js';

/**
 * The decoders' fast path (src/trace/scanned-event.ts) must be invisible: for any input, decoding
 * with it gives the same chunks, string tables, header, errors and messages as decoding without
 * it. The inputs are random lines built to sit on the fast path's edges: every field with valid,
 * boundary and wrong values, numbers and strings in every JSON spelling, escapes, non-ASCII,
 * whitespace, duplicate and unknown keys, timestamps that go backwards, CSV cells of every kind.
 */

const schema = JSON.parse(readFileSync(new URL('../../schemas/trace-event.schema.json', import.meta.url), 'utf8')) as {
  definitions: Record<string, { maximum?: number; maxLength?: number; minLength?: number }>;
  oneOf: { title: string; properties: Record<string, { maxLength?: number; minLength?: number }> }[];
};

// -------------------------------------------------------------------------------------------------
// Random JSON Lines lines

const plainText = (minLength: number, maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'grapheme-ascii', minLength, maxLength });
const longText = (length: number): fc.Arbitrary<string> => fc.constantFrom('a', 'Z', '/', ':').map((c) => c.repeat(length));

/** JSON string literals: plain, at the length limits, with escapes, non-ASCII, raw control characters (invalid JSON). */
const jsonString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: plainText(0, 12).map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.constantFrom('del', 'legacy', 'Del', 'alloc', 'incref', 'decref', 'link', 'unlink', 'free', 'resize', 'collect', 'mark', 'allocx', 'lin').map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.constantFrom('12', '0', '012', '9007199254740991', '9007199254740992', '123456789012345', '1234567890123456', ' 12', '-1', '1e3').map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 255, 256, 257, 1023, 1024, 1025).chain((n) => longText(n)).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom('"\\n"', '"a\\"b"', '"\\u0061"', '"\\\\"', '"é"', '"中"', '"a\tb"', '"\u0001"', '"\u007f"', '"\\u00e9"', '"\\/"') },
);

/** JSON number literals, valid and not: boundaries of the schema and of exact float64 integers. */
const jsonNumber: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 100000 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom(2 ** 40, 2 ** 40 + 1, 2 ** 53 - 1, 2 ** 53, 999999999999999, 1000000000000000, 2 ** 31, 2 ** 31 - 1, -(2 ** 31)).map(String) },
  { weight: 2, arbitrary: fc.constantFrom('-0', '-1', '01', '00', '1.0', '1.5', '0.25', '1e2', '1E+2', '1e-2', '2.5e3', '1e400', '-1e400', '.5', '1.', '1e', '+1', '0x10', '12345678901234567890', '123456789012345.5') },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1e22, noNaN: true, noDefaultInfinity: true }).map(String) },
);

const jsonOther: fc.Arbitrary<string> = fc.constantFrom('true', 'false', 'null', '[]', '[1]', '{}', '{"a":1}', 'tru', 'True', '"true"');

const jsonValue: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: jsonNumber }, { weight: 4, arbitrary: jsonString }, { weight: 1, arbitrary: jsonOther });

/** What each field usually holds, so that most lines are valid events (the fast path's main diet). */
const fieldValue: Record<string, fc.Arbitrary<string>> = {
  id: fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 1000 }).map(String) }, { weight: 1, arbitrary: jsonValue }),
  src: fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 1000 }).map(String) }, { weight: 1, arbitrary: jsonValue }),
  dst: fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 1000 }).map(String) }, { weight: 1, arbitrary: jsonValue }),
  type: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom('"list"', '"dict"', '"str"', '"Request"', '"__proto__"') },
    { weight: 2, arbitrary: fc.constantFrom('""', `"${'t'.repeat(256)}"`, `"${'t'.repeat(257)}"`) },
    { weight: 1, arbitrary: jsonValue },
  ),
  size: fc.oneof(
    { weight: 20, arbitrary: fc.nat({ max: 4096 }).map(String) },
    { weight: 2, arbitrary: fc.constantFrom(String(2 ** 40), String(2 ** 40 + 1), '999999999999999', '1000000000000000') },
    { weight: 1, arbitrary: jsonValue },
  ),
  site: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom('"app.py:1"', '"app/views.py:12"', '""', '"constructor"') },
    { weight: 2, arbitrary: fc.constantFrom(`"${'s'.repeat(1024)}"`, `"${'s'.repeat(1025)}"`) },
    { weight: 1, arbitrary: jsonValue },
  ),
  tracked: fc.oneof({ weight: 20, arbitrary: fc.constantFrom('true', 'false') }, { weight: 1, arbitrary: jsonValue }),
  finalizer: fc.oneof({ weight: 20, arbitrary: fc.constantFrom('"del"', '"legacy"') }, { weight: 1, arbitrary: jsonValue }),
  t: fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 50 }).map(String) }, { weight: 3, arbitrary: jsonNumber }),
};
const OTHER_KEYS = ['gen', 'value', 'enabled', 'label', 'szie', '__proto__', 'constructor', 'ID', 'op ', ''];

const FIELDS_OF_OP: Record<string, readonly string[]> = {
  alloc: ['id', 'type', 'size', 'tracked', 'site', 'finalizer', 't'],
  incref: ['id', 't'],
  decref: ['id', 't'],
  free: ['id', 't'],
  link: ['src', 'dst', 't'],
  unlink: ['src', 'dst', 't'],
  resize: ['id', 'size', 't'],
};

/** How many of the first `FIELDS_OF_OP` fields are required. */
const REQUIRED_COUNT: Record<string, number> = { alloc: 3, incref: 1, decref: 1, free: 1, link: 2, unlink: 2, resize: 2 };

/** A key as written: usually plain, sometimes escaped (the same key to JSON.parse, different bytes). */
const keyText = (key: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant(JSON.stringify(key)) },
    { weight: 1, arbitrary: fc.constant(key.length > 0 ? `"\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}"` : '""') },
  );

const space = fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(' ', '  ', '\t', '\r', ' \t ') });

/** One member `"key":value`, as text. */
type Member = [key: string, value: string];

/** The members of a line: an op, the op's fields (some left out), sometimes an extra or repeated key. */
const membersArbitrary: fc.Arbitrary<Member[]> = fc
  .tuple(
    fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...Object.keys(FIELDS_OF_OP)) }, { weight: 1, arbitrary: fc.constantFrom('collect', 'mark', 'gc', 'freeze', 'nop', '') }),
    fc.oneof({ weight: 30, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: jsonValue }),
    fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...OTHER_KEYS, ...Object.keys(fieldValue), 'op'), jsonValue) },
    ),
    fc.nat(),
  )
  .chain(([op, opOverride, keep, extra, seed]) => {
    // Required fields are left out now and then, optional ones half of the time.
    const required = REQUIRED_COUNT[op] ?? 1;
    const fields = (FIELDS_OF_OP[op] ?? ['id', 't']).filter((_, i) => keep[i] || (i < required && (seed >> i) % 13 !== 0));
    // Now and then a field appears twice, both times with a plausible value (JSON.parse keeps the last).
    const repeated = seed % 9 === 0 && fields.length > 0 ? [fields[seed % fields.length]] : [];
    return fc.tuple(...[...fields, ...repeated].map((field) => fieldValue[field])).map((values) => {
      const members: Member[] = [['op', opOverride ?? JSON.stringify(op)], ...[...fields, ...repeated].map((field, i): Member => [field, values[i]])];
      if (extra !== null) members.splice(seed % (members.length + 1), 0, extra);
      // Any key order.
      const rotation = seed % members.length;
      return [...members.slice(rotation), ...members.slice(0, rotation)];
    });
  });

/** A JSON Lines line (no LF): mostly an object of members, sometimes something else entirely. */
const jsonLine: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 20,
    arbitrary: membersArbitrary.chain((members) =>
      fc
        .tuple(
          fc.tuple(...members.map(([key]) => keyText(key))),
          fc.array(space, { minLength: members.length * 4 + 4, maxLength: members.length * 4 + 4 }),
          fc.oneof({ weight: 15, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('x', ',', '}', '{}', ']', ' x') }),
        )
        .map(([keys, spaces, trailing]) => {
          let k = 0;
          const s = (): string => spaces[k++];
          const body = members.map(([, value], i) => `${s()}${keys[i]}${s()}:${s()}${value}${s()}`).join(',');
          return `${s()}{${body}}${s()}${trailing}`;
        }),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '{}', '{', '[]', '{"op":"incref","id":1', 'null', '"op"', '{"op":"incref","id":1}{"op":"incref","id":2}') },
);

/**
 * Compact lines: no whitespace, keys in the order `memreplay generate` writes them (what
 * `scanCompactLine` reads word by word), values of every kind, and then now and then one byte
 * changed or the line cut short, so that every word comparison meets a near miss.
 */
const orderedLine = (colon: string, comma: string): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...Object.keys(FIELDS_OF_OP)), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }))
    .chain(([op, keep]) => {
      const fields = FIELDS_OF_OP[op].filter((_, i) => i < REQUIRED_COUNT[op] || keep[i]);
      return fc
        .tuple(...fields.map((field) => fieldValue[field]))
        .map((values) => `{"op"${colon}${JSON.stringify(op)}${comma}${fields.map((field, i) => `"${field}"${colon}${values[i]}`).join(comma)}}`);
    })
    .chain((line) =>
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(line) },
        { weight: 2, arbitrary: fc.tuple(fc.nat({ max: line.length - 1 }), fc.constantFrom(',', '"', ' ', '}', '{', ':', 'x', '1', '\\', 'e')).map(([at, c]) => line.slice(0, at) + c + line.slice(at + 1)) },
        { weight: 1, arbitrary: fc.nat({ max: line.length - 1 }).map((at) => line.slice(0, at)) },
      ),
    );

const compactLine = orderedLine(':', ',');

/** The same lines with Python's `json.dumps` default separators (`scanSpacedLine`). */
const spacedLine = orderedLine(': ', ', ');

// -------------------------------------------------------------------------------------------------
// Random CSV

const CSV_FIELDS = ['op', 'id', 'type', 'size', 'tracked', 'site', 'finalizer', 'src', 'dst', 't', 'gen', 'enabled', 'value', 'label', 'note', '__proto__'];

const csvCellText: Record<string, fc.Arbitrary<string>> = {
  op: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...Object.keys(FIELDS_OF_OP)) }, { weight: 1, arbitrary: fc.constantFrom('collect', 'mark', 'nop', 'Alloc', ' alloc') }),
  id: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 1000 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('012', '9007199254740991', '9007199254740992', '1234567890123456', 'obj-1', ' 12', '-1', 'a'.repeat(256), 'a'.repeat(257)) }),
  src: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 1000 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('012', 'obj-1', '1234567890123456') }),
  dst: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 1000 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('0', 'obj-1', '99999999999999999999') }),
  type: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('list', 'dict', 'Request') }, { weight: 1, arbitrary: fc.constantFrom('a'.repeat(256), 'a'.repeat(257), 'é', 'x\\y') }),
  size: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 4096 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('1.0', '1e2', '01', '-1', String(2 ** 40), String(2 ** 40 + 1), 'big', '0x10') }),
  tracked: fc.constantFrom('true', 'false', '1', '0', 'yes', 'TRUE'),
  site: fc.oneof({ weight: 2, arbitrary: fc.constantFrom('app.py:1', 'app/views.py:12') }, { weight: 1, arbitrary: fc.constantFrom('a'.repeat(1024), 'a'.repeat(1025), 'ü:1') }),
  finalizer: fc.constantFrom('del', 'legacy', 'none', 'Del'),
  t: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 50 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('1.5', '1e2', '1e400', '-1', '-0', '01', 'x', '123456789012345678') }),
  gen: fc.constantFrom('0', '2', 'x'),
  enabled: fc.constantFrom('true', '0'),
  value: fc.constantFrom('700', 'x'),
  label: fc.constantFrom('phase', 'x'),
  note: fc.constantFrom('hello', 'x'),
  // A computed key: `__proto__:` in an object literal would set the prototype.
  ['__proto__']: fc.constantFrom('x', '1'),
};

/** The cells of one record: an event's fields, mostly valid, and now and then a cell where none belongs. */
const csvRecord = (columns: readonly string[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...Object.keys(FIELDS_OF_OP)) }, { weight: 1, arbitrary: fc.constantFrom('collect', 'mark', 'nop', 'Alloc', ' alloc') }),
      fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
      fc.array(fc.oneof({ weight: 30, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('""', '"x,y"', '"1"', 'x') }), { minLength: columns.length, maxLength: columns.length }),
      fc.oneof({ weight: 30, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(',', ',x', ',,', '\r') }),
    )
    .chain(([op, keep, junk, extra]) => {
      const fields = new Set((FIELDS_OF_OP[op] ?? ['id']).filter((_, i) => keep[i] || (i < (REQUIRED_COUNT[op] ?? 1) && junk.length % 13 !== i)));
      return fc
        .tuple(...columns.map((name) => (name === 'op' ? fc.constant(op) : fields.has(name) ? cellOf(name) : fc.constant(''))))
        .map((cells) => cells.map((cell, i) => junk[i] ?? cell).join(',') + extra);
    });

/** A cell for a field: valid most of the time. */
function cellOf(name: string): fc.Arbitrary<string> {
  const arbitrary = Object.getOwnPropertyDescriptor(csvCellText, name)?.value as fc.Arbitrary<string>;
  return fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary }).chain((choice) => (choice === null ? VALID_CELL[name] ?? arbitrary : fc.constant(choice)));
}

const VALID_CELL: Record<string, fc.Arbitrary<string>> = {
  id: fc.nat({ max: 1000 }).map(String),
  src: fc.nat({ max: 1000 }).map(String),
  dst: fc.nat({ max: 1000 }).map(String),
  type: fc.constantFrom('list', 'dict', 'Request'),
  size: fc.nat({ max: 4096 }).map(String),
  tracked: fc.constantFrom('true', 'false', '1', '0'),
  site: fc.constantFrom('app.py:1', 'app/views.py:12'),
  finalizer: fc.constantFrom('del', 'legacy'),
  t: fc.nat({ max: 3 }).map(String),
};

/** CSV texts: a header row (the writer's columns, a shuffled superset, or any subset) and records. */
const csvArbitrary: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(CSV_FIELDS.slice(0, 14)) },
      { weight: 2, arbitrary: fc.shuffledSubarray(CSV_FIELDS.slice(0, 10), { minLength: 10 }).chain((all) => fc.subarray(CSV_FIELDS.slice(10)).map((more) => [...all, ...more])) },
      { weight: 1, arbitrary: fc.shuffledSubarray(CSV_FIELDS, { minLength: 1 }) },
    ),
    fc.constantFrom('\n', '\r\n'),
  )
  .chain(([columns, newline]) => {
    const line = fc.oneof({ weight: 20, arbitrary: csvRecord(columns) }, { weight: 1, arbitrary: fc.constantFrom('', ' ', '# comment', 'incref') });
    return fc.array(line, { maxLength: 25 }).map((lines) => [columns.join(','), ...lines].join(newline) + newline);
  });

// -------------------------------------------------------------------------------------------------
// Decoding with and without the fast path

/** Everything observable about decoding a text, as plain data. */
async function decodeObservably(bytes: Buffer, file: string, fastPath: boolean, mode: { lenient: boolean; maxErrors: number; chunkRows: number; pieceBytes: number }): Promise<unknown> {
  const diagnostics = new Diagnostics({ lenient: mode.lenient, maxErrors: mode.maxErrors });
  try {
    const trace = await decodeTraceStream(piecesOf(bytes, mode.pieceBytes), file, { diagnostics, chunkRows: mode.chunkRows, fastPath });
    const chunks = await readAllChunks(trace);
    diagnostics.finish();
    return {
      header: trace.header,
      chunks: chunks.map(columnsOf),
      types: trace.types.values,
      sites: trace.sites.values,
      skipped: diagnostics.skippedSummary(),
      errors: diagnostics.errors.map((e) => e.message),
    };
  } catch (error) {
    return { thrown: error instanceof Error ? `${error.name}: ${error.message}` : String(error), skipped: diagnostics.skippedSummary() };
  }
}

/** Decodes `bytes` with the fast path and without it, and expects everything observable to agree. */
async function expectSameWithoutFastPath(bytes: Buffer, file: string, mode: { lenient: boolean; maxErrors: number; chunkRows: number; pieceBytes: number }): Promise<void> {
  const fast = await decodeObservably(bytes, file, true, mode);
  expect(fast).toEqual(await decodeObservably(bytes, file, false, mode));
}

function columnsOf(chunk: EventChunk): unknown {
  const { op, obj, arg, aux, site, flags, time, line, length, firstIndex, strings } = chunk;
  return { op: [...op], obj: [...obj], arg: [...arg], aux: [...aux], site: [...site], flags: [...flags], time: [...time], line: [...line], length, firstIndex, strings: [...strings] };
}

const decodeMode = fc.record({
  lenient: fc.boolean(),
  maxErrors: fc.integer({ min: 1, max: 6 }),
  chunkRows: fc.integer({ min: 1, max: 5 }),
  // Small pieces put line ends near buffer ends, where the splitter carries lines over and the
  // fast path must leave `SCAN_SLACK_BYTES` unread.
  pieceBytes: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.constant(1 << 16)),
});

/** Events with non-decreasing timestamps on some, and now and then one that goes back in time. */
const timeSteps = fc.array(fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 5 }) }, { weight: 1, arbitrary: fc.constant(-3) }), { minLength: 30, maxLength: 30 });

/**
 * Gives the events that carry no `t` of their own a timestamp now and then, going back in time
 * sometimes, so that the time-order check is exercised on both paths.
 */
function withTimes(eventLines: string[], steps: number[]): string[] {
  let time = 100;
  return eventLines.map((line, i) => {
    time += steps[i];
    return steps[i] % 2 === 0 && line.endsWith('}') && !line.includes('"t"') ? `${line.slice(0, -1)},"t":${time}}` : line;
  });
}

/** Byte arrays for single-line checks: the line, its LF, and the slack the splitter guarantees. */
function lineBuffer(line: string): { bytes: Buffer; end: number } {
  const text = Buffer.from(`${line}\n`, 'utf8');
  return { bytes: Buffer.concat([text, Buffer.alloc(SCAN_SLACK_BYTES, 0x20)]), end: text.length };
}

/** Writes one validated event with the general path's writer and returns the row as plain data. */
function generalRow(event: TraceEvent): unknown {
  const writer = new ChunkWriter(new StringTable(), new StringTable());
  expect(writer.write(event, 0, 1)).toBeNull();
  writer.flush();
  return { chunk: columnsOf(writer.ready[0]), types: writer.types.values, sites: writer.sites.values };
}

/** Writes the JSON line of `bytes[0, end)` with the fast path's writer and returns the row as plain data. */
function scannedRow(bytes: Buffer, end: number): unknown {
  const writer = new ChunkWriter(new StringTable(), new StringTable());
  expect(writer.writeLines(scanJsonLine, new ScannedEvent(), null, bytes, 0, end, Infinity, 0, 1)).toBe(1);
  writer.flush();
  return { chunk: columnsOf(writer.ready[0]), types: writer.types.values, sites: writer.sites.values };
}

describe('trace/fast path', () => {
  describe('its limits', () => {
    it('restate the event schema', () => {
      const alloc = schema.oneOf.find((branch) => branch.title === 'alloc');
      expect(FAST_PATH_LIMITS.idMaxLength).toBe(schema.definitions.objectId.maxLength);
      expect(schema.definitions.objectId.minLength).toBe(1);
      expect(FAST_PATH_LIMITS.sizeMaximum).toBe(schema.definitions.size.maximum);
      expect(FAST_PATH_LIMITS.typeMaxLength).toBe(alloc?.properties.type.maxLength);
      expect(alloc?.properties.type.minLength).toBe(1);
      expect(FAST_PATH_LIMITS.siteMaxLength).toBe(alloc?.properties.site.maxLength);
      // Integers of up to integerMaxDigits digits are exact in a float64 and valid ids.
      expect(10 ** FAST_PATH_LIMITS.integerMaxDigits - 1).toBeLessThanOrEqual(schema.definitions.objectId.maximum ?? 0);
      expect(10 ** FAST_PATH_LIMITS.integerMaxDigits - 1).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    });
  });

  describe('when one JSON Lines line is read', () => {
    const validators = eventValidators();

    it('accepts only events the general path accepts, and writes the same row', () => {
      let accepted = 0;
      let runs = 0;
      fc.assert(
        fc.property(jsonLine, (line) => {
          runs++;
          const { bytes, end } = lineBuffer(line);
          const event = new ScannedEvent();
          const newline = scanJsonLine(bytes, 0, end, event);
          if (newline < 0) return;
          accepted++;
          expect(newline).toBe(end - 1);
          const parsed: unknown = JSON.parse(line);
          expect(validators.isEvent(parsed), line).toBe(true);
          expect(scannedRow(bytes, end), line).toEqual(generalRow(parsed as TraceEvent));
        }),
        { numRuns: 3000 },
      );
      // The property says nothing unless the fast path takes a good share of the lines.
      expect(accepted / runs).toBeGreaterThan(0.2);
    });

    it('reads a compact line word by word exactly as the member loop reads it', () => {
      let compact = 0;
      const runs = 5000;
      fc.assert(
        fc.property(compactLine, (line) => {
          const { bytes, end } = lineBuffer(line);
          const byWords = new ScannedEvent();
          const byMembers = new ScannedEvent();
          const result = scanCompactLine(bytes, 0, end, byWords);
          const expected = scanJsonMembers(bytes, 0, end, byMembers);
          if (result !== NOT_COMPACT) {
            compact++;
            expect(result, line).toBe(expected);
            expect({ ...byWords }, line).toEqual({ ...byMembers });
          }
          expect(scanJsonLine(bytes, 0, end, new ScannedEvent()), line).toBe(expected);
        }),
        { numRuns: runs },
      );
      // Most unmutated lines are compact, and the property needs them.
      expect(compact / runs).toBeGreaterThan(0.3);
    });

    it("reads a line with Python's default separators word by word exactly as the member loop reads it", () => {
      let spaced = 0;
      const runs = 5000;
      fc.assert(
        fc.property(spacedLine, (line) => {
          const { bytes, end } = lineBuffer(line);
          const byWords = new ScannedEvent();
          const byMembers = new ScannedEvent();
          const result = scanSpacedLine(bytes, 0, end, byWords);
          const expected = scanJsonMembers(bytes, 0, end, byMembers);
          if (result !== NOT_COMPACT) {
            spaced++;
            expect(result, line).toBe(expected);
            expect({ ...byWords }, line).toEqual({ ...byMembers });
          }
          expect(scanCompactLine(bytes, 0, end, new ScannedEvent()), line).toBe(NOT_COMPACT);
          expect(scanJsonLine(bytes, 0, end, new ScannedEvent()), line).toBe(expected);
        }),
        { numRuns: runs },
      );
      expect(spaced / runs).toBeGreaterThan(0.3);
    });

    it('reads any byte where an op name starts, as the member loop does (a non-ASCII one crashed the spaced scanner)', () => {
      for (const [prefix, suffix] of [['{"op": "', 'lloc", "id": 1, "type": "A", "size": 8}'], ['{"op":"', 'lloc","id":1,"type":"A","size":8}']]) {
        for (let byte = 0; byte < 256; byte++) {
          const head = Buffer.from(prefix, 'latin1');
          const text = Buffer.concat([head, Buffer.from([byte]), Buffer.from(`${suffix}\n`, 'latin1'), Buffer.alloc(SCAN_SLACK_BYTES, 0x20)]);
          const end = text.length - SCAN_SLACK_BYTES;
          const expected = scanJsonMembers(text, 0, end, new ScannedEvent());
          expect(scanJsonLine(text, 0, end, new ScannedEvent()), `byte ${byte}`).toBe(expected);
        }
      }
    });

    it("accepts the lines JSON.stringify and Python's json.dumps write for plain events", () => {
      const lines: TraceEvent[] = [
        { op: 'alloc', id: 1, type: 'list', size: 56, site: 'app.py:3', t: 0 },
        { op: 'alloc', id: 'obj', type: 'str', size: 49, tracked: false, finalizer: 'del', t: 1.5 },
        { op: 'incref', id: 123456789012345 },
        { op: 'decref', id: '12', t: 2 },
        { op: 'link', src: 1, dst: 'obj' },
        { op: 'unlink', src: 'a', dst: 2, t: 3e21 },
        { op: 'free', id: 0 },
        { op: 'resize', id: 1, size: 2 ** 40 },
      ];
      // json.dumps' default separators: `{"op": "alloc", "id": 1, …}`.
      const pythonSpaced = (event: TraceEvent): string => `{${Object.entries(event).map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ')}}`;
      for (const event of lines) {
        for (const text of [JSON.stringify(event), pythonSpaced(event)]) {
          const { bytes, end } = lineBuffer(text);
          const scanned = new ScannedEvent();
          expect(scanJsonLine(bytes, 0, end, scanned), text).toBe(end - 1);
          expect(scannedRow(bytes, end)).toEqual(generalRow(event));
        }
      }
    });

    it('never reads past the slack after `end`', () => {
      fc.assert(
        fc.property(fc.oneof(jsonLine, compactLine, spacedLine), fc.nat({ max: 90 }), (line, cut) => {
          // A line cut anywhere, followed by exactly the slack: every read must stay inside.
          const text = Buffer.from(`${line}\n`).subarray(0, cut);
          const bytes = Buffer.concat([text, Buffer.alloc(SCAN_SLACK_BYTES, 0x22)]);
          const guarded = new Proxy(bytes, {
            get(target, key) {
              if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) >= bytes.length) throw new Error(`read at ${key} past ${bytes.length}`);
              const value: unknown = Reflect.get(target, key, target);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
          scanJsonLine(guarded, 0, text.length, new ScannedEvent());
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('when one CSV record is read', () => {
    it('never reads past `end`', () => {
      fc.assert(
        fc.property(csvArbitrary, fc.nat({ max: 200 }), (text, cut) => {
          const lines = text.split('\n');
          const scanner = new CsvLineScanner(lines[0].split(','));
          const body = Buffer.from(lines.slice(1).join('\n')).subarray(0, cut);
          const guarded = new Proxy(body, {
            get(target, key) {
              if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) >= body.length) throw new Error(`read at ${key} past ${body.length}`);
              const value: unknown = Reflect.get(target, key, target);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
          scanner.scan(guarded, 0, body.length, new ScannedEvent());
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when whole traces are decoded', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** Counts the rows the fast path writes (the properties below say nothing if it writes none). */
    function countFastRows(): { rows: number } {
      const counter = { rows: 0 };
      const original = ChunkWriter.prototype.writeLines;
      vi.spyOn(ChunkWriter.prototype, 'writeLines').mockImplementation(function (this: ChunkWriter, ...args: Parameters<ChunkWriter['writeLines']>) {
        const written = original.apply(this, args);
        counter.rows += written;
        return written;
      });
      return counter;
    }

    it('JSON Lines: gives the same chunks, tables, header, errors and messages with and without it', async () => {
      const fastRows = countFastRows();
      const lines = { total: 0 };
      await fc.assert(
        fc.asyncProperty(fc.array(jsonLine, { maxLength: 30 }), timeSteps, fc.boolean(), decodeMode, async (eventLines, steps, withHeader, mode) => {
          const timed = withTimes(eventLines, steps);
          const header = withHeader ? ['{"format":"memreplay","version":1,"meta":{"python":"3.12.1"}}'] : [];
          const bytes = Buffer.from(`${[...header, ...timed].join('\n')}\n`);
          await expectSameWithoutFastPath(bytes, 't.jsonl', mode);
          lines.total += timed.length;
        }),
        { numRuns: 400 },
      );
      expect(fastRows.rows / lines.total).toBeGreaterThan(0.2);
    });

    it('JSON documents: gives the same chunks, tables, header, errors and messages with and without it', async () => {
      const scanned = { rows: 0 };
      const original = ChunkWriter.prototype.writeScanned;
      vi.spyOn(ChunkWriter.prototype, 'writeScanned').mockImplementation(function (this: ChunkWriter, ...args: Parameters<ChunkWriter['writeScanned']>) {
        const written = original.apply(this, args);
        if (written) scanned.rows++;
        return written;
      });
      const elements = { total: 0 };
      await fc.assert(
        fc.asyncProperty(fc.array(jsonLine, { maxLength: 30 }), timeSteps, fc.constantFrom(',\n', ',', ', ', '\n,'), fc.boolean(), decodeMode, async (eventLines, steps, separator, bare, mode) => {
          // The events of the JSON Lines property, as the elements of a document's events array,
          // separated in several ways.
          const timed = withTimes(eventLines, steps);
          const events = `[\n${timed.join(separator)}\n]`;
          const text = bare ? events : `{"format":"memreplay","version":1,"meta":{"python":"3.12.1"},"events":${events}}`;
          const bytes = Buffer.from(text);
          await expectSameWithoutFastPath(bytes, 't.json', mode);
          elements.total += timed.length;
        }),
        { numRuns: 400 },
      );
      expect(scanned.rows / elements.total).toBeGreaterThan(0.1);
    });

    it('CSV: gives the same chunks, tables, header, errors and messages with and without it', async () => {
      const fastRows = countFastRows();
      const records = { total: 0 };
      await fc.assert(
        fc.asyncProperty(csvArbitrary, decodeMode, async (text, mode) => {
          const bytes = Buffer.from(text);
          await expectSameWithoutFastPath(bytes, 't.csv', mode);
          records.total += text.split('\n').length - 2;
        }),
        { numRuns: 400 },
      );
      expect(fastRows.rows / records.total).toBeGreaterThan(0.05);
    });

    it('CSV: takes the fast path for the records memreplay writes', () => {
      const scanner = new CsvLineScanner(['op', 'id', 'type', 'size', 'tracked', 'site', 'finalizer', 'src', 'dst', 'gen', 'value', 'enabled', 'label', 't']);
      for (const record of ['alloc,1,Flask,48,,app/__init__.py:12,,,,,,,,0', 'alloc,3,str,66,false,app.py:15,del,,,,,,,1.5', 'link,,,,,,,2,3,,,,,7', 'decref,obj-9,,,,,,,,,,,,', 'resize,2,,184,,,,,,,,,,0']) {
        const { bytes, end } = lineBuffer(record);
        expect(scanner.scan(bytes, 0, end, new ScannedEvent()), record).toBe(end - 1);
      }
    });
  });
});
