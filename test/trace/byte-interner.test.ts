import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteInterner } from '../../src/trace/byte-interner.js';
import { StringTable } from '../../src/trace/types.js';

/**
 * The fast path's interner must give every spelling the id `StringTable.intern` gives its string,
 * wherever its bytes sit in whatever buffer. The spellings are built to collide: the hash samples
 * only the first, middle and last four bytes of long ones, so spellings that differ elsewhere,
 * or only in their length, must still be told apart by the full comparison.
 */
const alphabet = fc.constantFrom('a', 'b', 'p', '/', '.', ':', '1', '2');
const spelling: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: alphabet, minLength: 1, maxLength: 40 }),
  // app/views.py:NN with the differing digit in the unsampled middle or not at all.
  fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 })).map(([a, b]) => `app/views_${a}_module_${b}_handlers.py:12`),
  fc.nat({ max: 5 }).map((n) => `${'x'.repeat(13 + n)}`),
);

describe('trace/byte-interner', () => {
  it('gives each spelling the id of its string, at any offset of any buffer', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(spelling, fc.nat({ max: 7 }), fc.boolean()), { minLength: 1, maxLength: 200 }), (uses) => {
        const viaBytes = new ByteInterner(new StringTable());
        const viaStrings = new StringTable();
        for (const [text, offset, ownBuffer] of uses) {
          // A buffer of its own, or a shared pool slice (Buffer.from of a short string).
          const padded = `${'#'.repeat(offset)}${text}${'#'.repeat(offset)}`;
          const bytes = ownBuffer ? Buffer.concat([Buffer.from(padded, 'latin1'), Buffer.alloc(0)]) : Buffer.from(padded, 'latin1');
          expect(viaBytes.intern(bytes, offset, offset + text.length), text).toBe(viaStrings.intern(text));
        }
        expect(viaBytes.table.values).toEqual(viaStrings.values);
      }),
      { numRuns: 300 },
    );
  });
});
