import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceError, TraceErrors } from '../../src/errors.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import type { EventChunk, TraceEvent, TraceHeader } from '../../src/trace/types.js';
import { decodeAll, normalizeEvent } from '../helpers/chunks.js';
import { toCsv, toJsonDocument, toJsonLines } from '../helpers/trace-text.js';

/**
 * Property tests: random valid traces decode identically from every encoding and give back their
 * events; random corruptions are rejected at the right line, with nothing thrown but TraceErrors.
 */

// Strings: printable ASCII, CSV/JSON metacharacters (CR and CR LF among them), non-ASCII, any code
// point. NUL is left out: a text trace holds none (the decoder refuses it as binary data).
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(',', '"', '\n', '\r', '\r\n', ' ', '\\', '#', '{', '[', '\t', '\u0001', 'é', '中', '😀', '\u2028', '\uFEFF') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc
    .string({ unit, minLength, maxLength })
    .map((s) => s.replace(/\0/g, '_'))
    .filter((s) => s.length >= minLength);
const dangerous = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');

const objectId: fc.Arbitrary<number | string> = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.maxSafeNat(),
  dangerous,
  fc.constantFrom('0', '12', '012', '9007199254740991', '9007199254740992', '-1', '1e3'),
  // Hex addresses, canonical (held as numbers) and not (held as strings): leading zeros,
  // uppercase, more than 13 digits, no digits.
  fc.bigInt({ min: 0n, max: 2n ** 56n }).map((n) => `0x${n.toString(16)}`),
  fc.constantFrom('0x0', '0x00', '0x010', '0x7F3A', '0x', '0xfffffffffffff', '0x10000000000000', '0x7f3a00000010 ', 'x7f'),
  text(1, 12),
);
const label = fc.oneof(dangerous, text(0, 16));
const size = fc.oneof(fc.nat({ max: 4096 }), fc.integer({ min: 0, max: 2 ** 40 }));
const generation = fc.integer({ min: 0, max: 2 });

const eventArbitrary: fc.Arbitrary<TraceEvent> = fc.oneof(
  fc.record(
    {
      op: fc.constant('alloc' as const),
      id: objectId,
      type: fc.oneof(dangerous, fc.constantFrom('list', 'dict', 'tuple'), text(1, 12)),
      size,
      tracked: fc.boolean(),
      site: label,
      finalizer: fc.constantFrom('del' as const, 'legacy' as const),
    },
    { requiredKeys: ['op', 'id', 'type', 'size'] },
  ),
  fc.record({ op: fc.constantFrom('incref' as const, 'decref' as const, 'free' as const), id: objectId }),
  fc.record({ op: fc.constantFrom('link' as const, 'unlink' as const), src: objectId, dst: objectId }),
  fc.record({ op: fc.constant('resize' as const), id: objectId, size }),
  fc.record({ op: fc.constant('collect' as const), gen: generation }, { requiredKeys: ['op'] }),
  fc.record({ op: fc.constant('gc' as const), enabled: fc.boolean() }),
  fc.record({ op: fc.constant('threshold' as const), gen: generation, value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
  fc.record({ op: fc.constantFrom('freeze' as const, 'unfreeze' as const) }),
  fc.record({ op: fc.constant('mark' as const), label }),
);

/** A step forward in time; +0 only (a -0 would print as 0 and come back as +0). */
const timeStep = fc.oneof(fc.constant(0), fc.nat({ max: 1000 }), fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((d) => d + 0));

/** Events with non-decreasing timestamps on some of them. */
const eventsArbitrary: fc.Arbitrary<TraceEvent[]> = fc.array(fc.tuple(eventArbitrary, fc.option(timeStep, { nil: undefined })), { maxLength: 30 }).map((pairs) => {
  let time = 0;
  return pairs.map(([event, step]) => {
    if (step === undefined) return event;
    time += step;
    return { ...event, t: time };
  });
});

const headerArbitrary: fc.Arbitrary<TraceHeader | null> = fc.option(
  fc.record({
    format: fc.constant('memreplay' as const),
    version: fc.constant(1 as const),
    meta: fc.record({ timeUnit: fc.constantFrom('ns', 'us', 'ms', 's', 'events'), oldObjects: fc.nat(), python: fc.constantFrom('3.11.7', '3.14.0rc1') }, { requiredKeys: [] }),
  }),
  { nil: null },
);

/** Columns of a chunk except `line`. */
function columnsOf(chunk: EventChunk): unknown {
  const { op, obj, arg, aux, site, flags, time, length, firstIndex, strings } = chunk;
  return { op, obj, arg, aux, site, flags, time, length, firstIndex, strings };
}

describe('trace/properties', () => {
  it('a valid trace decodes to its events, identically from JSON Lines, JSON and CSV', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArbitrary, headerArbitrary, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 64 }), async (events, header, chunkRows, pieceBytes) => {
        const expected = events.map(normalizeEvent);
        const decoded = [];
        for (const [file, text] of [
          ['t.jsonl', toJsonLines(events, header)],
          ['t.json', toJsonDocument(events, header)],
          ['t.csv', toCsv(events, header)],
        ] as const) {
          const trace = await decodeAll(text, file, { chunkRows, pieceBytes });
          expect(trace.rows.map((r) => r.event), file).toEqual(expected);
          expect(trace.header).toEqual(header ?? { format: 'memreplay', version: 1, meta: {} });
          decoded.push(trace);
        }
        const [first, ...rest] = decoded;
        for (const other of rest) {
          expect(other.chunks.map(columnsOf)).toEqual(first.chunks.map(columnsOf));
          expect(other.types).toEqual(first.types);
          expect(other.sites).toEqual(first.sites);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  describe('when a valid trace is corrupted', () => {
    /** Field values that are wrong in every encoding (CSV can only write text). */
    const WRONG_VALUE: Readonly<Record<string, unknown>> = {
      op: 'nop',
      id: '',
      src: '',
      dst: '',
      type: '',
      size: 'x',
      gen: 'x',
      value: 'x',
      t: 'x',
      tracked: 'maybe',
      enabled: 'maybe',
      finalizer: 'none',
    };
    const REQUIRED: Readonly<Record<string, readonly string[]>> = {
      alloc: ['op', 'id', 'type', 'size'],
      incref: ['op', 'id'],
      decref: ['op', 'id'],
      free: ['op', 'id'],
      link: ['op', 'src', 'dst'],
      unlink: ['op', 'src', 'dst'],
      resize: ['op', 'id', 'size'],
      collect: ['op'],
      gc: ['op', 'enabled'],
      threshold: ['op', 'gen', 'value'],
      freeze: ['op'],
      unfreeze: ['op'],
      mark: ['op', 'label'],
    };

    type Corruption = { kind: 'delete-field' | 'wrong-type'; pick: number } | { kind: 'garbage'; bytes: readonly number[] } | { kind: 'truncate'; at: number };
    const corruption: fc.Arbitrary<Corruption> = fc.oneof(
      fc.record({ kind: fc.constantFrom('delete-field' as const, 'wrong-type' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('garbage' as const), bytes: fc.constantFrom([0x40], [0x01], [0xff, 0xfe], [0x7d], [0x22], [0x2c], [0x5b, 0x5b], [0xc3]) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0.01, max: 0.99, noNaN: true }) }),
    );

    /** Applies an object-level corruption to event `k`. */
    function corruptEvent(event: TraceEvent, c: Corruption): Record<string, unknown> {
      const copy: Record<string, unknown> = { ...event };
      if (c.kind === 'delete-field') {
        const required = REQUIRED[event.op];
        delete copy[required[c.pick % required.length]];
      } else if (c.kind === 'wrong-type') {
        const fields = Object.keys(copy).filter((f) => f in WRONG_VALUE);
        const field = fields[c.pick % fields.length];
        copy[field] = WRONG_VALUE[field];
      }
      return copy;
    }

    /** The 1-based line where event `k` starts in each writer's output (one event per line). */
    function lineOfEvent(file: string, header: TraceHeader | null, events: TraceEvent[], k: number): number {
      if (file === 't.json') return k + 2;
      const headerLines = header ? 1 : 0;
      if (file === 't.jsonl') return k + 1 + headerLines;
      // CSV: the header row, and the line breaks inside quoted cells of earlier records.
      const breaks = toCsv(events.slice(0, k), null).split('\n').length - 2 - k;
      return k + 2 + headerLines + breaks;
    }

    it('rejects it at the line of the corrupted event, with nothing thrown but TraceErrors', async () => {
      await fc.assert(
        fc.asyncProperty(
          eventsArbitrary.filter((events) => events.length > 0),
          headerArbitrary,
          fc.nat(),
          corruption,
          fc.constantFrom('t.jsonl', 't.json', 't.csv'),
          async (events, header, pick, c, file) => {
            fc.pre(!(c.kind === 'truncate' && file === 't.csv')); // a cut CSV record can still be a valid one
            const k = pick % events.length;
            const write = (list: TraceEvent[]): string =>
              file === 't.jsonl' ? toJsonLines(list, header) : file === 't.json' ? toJsonDocument(list, header) : toCsv(list, header);
            let bytes = Buffer.alloc(0);
            if (c.kind === 'delete-field' || c.kind === 'wrong-type') {
              const corrupted = events.map((e, i) => (i === k ? (corruptEvent(e, c) as TraceEvent) : e));
              bytes = Buffer.from(write(corrupted));
            } else {
              // Where event k starts: after the text written for the events before it.
              const whole = Buffer.from(write(events));
              const eventStart = file === 't.json' ? jsonElementStart(whole, k) : Buffer.byteLength(write(events.slice(0, k)));
              if (c.kind === 'garbage') {
                bytes = Buffer.concat([whole.subarray(0, eventStart), Buffer.from(c.bytes), whole.subarray(eventStart)]);
              } else if (c.kind === 'truncate') {
                const lineEnd = whole.indexOf(0x0a, eventStart);
                const length = (lineEnd === -1 ? whole.length : lineEnd) - eventStart;
                fc.pre(length > 2);
                bytes = whole.subarray(0, eventStart + 1 + Math.floor(c.at * (length - 2)));
              }
            }
            const expectedLine = lineOfEvent(file, header, events, k);
            let thrown: unknown = null;
            try {
              await decodeAll(bytes, file, { diagnostics: new Diagnostics({ maxErrors: 1000, lenient: false }), pieceBytes: 17 });
            } catch (error) {
              thrown = error;
            }
            expect(thrown).toBeInstanceOf(TraceErrors);
            const errors = (thrown as TraceErrors).errors;
            expect(errors.length).toBeGreaterThan(0);
            for (const error of errors) {
              expect(error).toBeInstanceOf(TraceError);
              expect(error.location.file).toBe(file);
            }
            expect(errors[0].location.line, errors[0].message).toBe(expectedLine);
          },
        ),
        { numRuns: 300 },
      );
    });

    /** Byte offset of element `k` of the events array as `toJsonDocument` writes it: one per line, two spaces in. */
    function jsonElementStart(whole: Buffer, k: number): number {
      let offset = whole.indexOf(0x0a) + 1;
      for (let i = 0; i < k; i++) offset = whole.indexOf(0x0a, offset) + 1;
      return offset + 2;
    }
  });

  it('--max-errors limits the list, and says when more were left out', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 10 }), async (bad, maxErrors) => {
        const lines = bad.map((isBad, i) => (isBad ? `{"op":"nope","i":${i}}` : `{"op":"incref","id":${i}}`));
        const badLines = bad.flatMap((isBad, i) => (isBad ? [i + 1] : []));
        let thrown: unknown = null;
        try {
          await decodeAll(`${lines.join('\n')}\n`, 't.jsonl', { diagnostics: new Diagnostics({ maxErrors, lenient: false }) });
        } catch (error) {
          thrown = error;
        }
        if (badLines.length === 0) {
          expect(thrown).toBeNull();
          return;
        }
        expect(thrown).toBeInstanceOf(TraceErrors);
        const error = thrown as TraceErrors;
        expect(error.errors.map((e) => e.location.line)).toEqual(badLines.slice(0, maxErrors));
        expect(error.more).toBe(badLines.length > maxErrors ? 1 : 0);

        const lenient = await decodeAll(`${lines.join('\n')}\n`, 't.jsonl', { diagnostics: new Diagnostics({ maxErrors, lenient: true }) });
        expect(lenient.rows.length).toBe(bad.length - badLines.length);
        expect(lenient.diagnostics.skipped).toBe(badLines.length);
      }),
      { numRuns: 100 },
    );
  });
});
