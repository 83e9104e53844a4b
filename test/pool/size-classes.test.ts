import { describe, expect, it } from 'vitest';
import { createPool, poolPolicies } from '../../src/pool/index.js';
import { SizeClassTable, type PymallocParams } from '../../src/pool/size-classes.js';

/** Expectations computed by hand from obmalloc's macros [v3.11.2 Objects/obmalloc.c: INDEX2SIZE, NUMBLOCKS, POOL_OVERHEAD]. */

const DEFAULTS_311 = poolPolicies['pymalloc-3.11'].defaultParams as PymallocParams;
const DEFAULTS_39 = poolPolicies['pymalloc-3.9'].defaultParams as PymallocParams;

function table(params: PymallocParams, overrides: Partial<PymallocParams> = {}): SizeClassTable {
  return new SizeClassTable({ ...params, ...overrides });
}

describe('pool/size-classes', () => {
  it('maps a request of n bytes to class (n - 1) >> 4 and sends 0 and > 512 bytes to malloc', () => {
    const classes = table(DEFAULTS_311);
    expect([0, 1, 16, 17, 32, 33, 511, 512, 513, 100_000].map((n) => classes.classOf(n))).toEqual([-1, 0, 0, 1, 1, 2, 31, 31, -1, -1]);
  });

  it('fits ⌊(16384 − 48) / size⌋ blocks in a 16 KiB pool (3.10+)', () => {
    const { blocksPerPool, quantizationLoss } = table(DEFAULTS_311);
    // 16336 / 16 = 1021; / 32 = 510 r 16; / 48 = 340 r 16; / 112 = 145 r 96; / 256 = 63 r 208; / 512 = 31 r 464.
    expect([0, 1, 2, 6, 15, 31].map((c) => blocksPerPool[c])).toEqual([1021, 510, 340, 145, 63, 31]);
    expect([0, 1, 2, 6, 15, 31].map((c) => quantizationLoss[c])).toEqual([0, 16, 16, 96, 208, 464]);
  });

  it('fits ⌊(4096 − 48) / size⌋ blocks in a 4 KiB pool (3.6–3.9, 2.7)', () => {
    const { blocksPerPool } = table(DEFAULTS_39);
    // 4048 / 16 = 253; / 48 = 84; / 64 = 63; / 512 = 7.
    expect([0, 2, 3, 31].map((c) => blocksPerPool[c])).toEqual([253, 84, 63, 7]);
  });

  it('rounds the 48-byte pool header up to the alignment and spaces classes by the alignment', () => {
    // alignment 8: 64 classes of 8 bytes, header 48 stays 48: (4096 − 48) / 8 = 506.
    const eight = table(DEFAULTS_39, { alignment: 8 });
    expect([eight.count, eight.poolOverhead, eight.blocksPerPool[0], eight.blockSize[63]]).toEqual([64, 48, 506, 512]);
    // alignment 32: header rounds up to 64; (4096 − 64) / 32 = 126.
    const wide = table(DEFAULTS_39, { alignment: 32 });
    expect([wide.count, wide.poolOverhead, wide.blocksPerPool[0]]).toEqual([16, 64, 126]);
  });

  it('refuses arenas beyond 1 GiB, and sizes that are powers of two only in their low 32 bits', () => {
    const refused = (overrides: Partial<PymallocParams>) => () => table(DEFAULTS_311, overrides);
    expect(table(DEFAULTS_311, { arena_size: 2 ** 30 }).maxPoolsPerArena).toBe(2 ** 16);
    expect(refused({ arena_size: 2 ** 31 })).toThrow('at most 1073741824 (1 GiB), got 2147483648');
    expect(refused({ arena_size: 2 ** 35 })).toThrow('at most 1073741824 (1 GiB)');
    // 2^32 + 16384: `n & (n - 1)` sees only 16384.
    expect(refused({ pool_size: 2 ** 32 + 16384, arena_size: 3 * (2 ** 32 + 16384) })).toThrow('pool_size must be a power of two');
    expect(() => createPool('malloc', { chunk_alignment: 2 ** 32 + 16 })).toThrow('chunk_alignment must be a power of two, got 4294967312');
  });
});
