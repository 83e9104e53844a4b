import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/pool/index.js';
import { MAX_LISTED_ARENAS } from '../../src/pool/pool.js';
import { PymallocPolicy, type PymallocParams } from '../../src/pool/pymalloc.js';

/** 1 KiB pools, 4 pools per 4 KiB arena: a 128-byte pool holds ⌊(1024 − 48) / 128⌋ = 7 blocks. */
const TINY: PymallocParams = { alignment: 16, small_threshold: 128, pool_size: 1024, pool_header: 48, arena_size: 4096, unaligned_arenas: 0, keep_free_arena: 0 };

describe('pool/arena usage in snapshots', () => {
  it('gives each live arena its pools and blocks in use, the least used first', () => {
    const policy = new PymallocPolicy('test', TINY);
    const first = Array.from({ length: 28 }, () => policy.allocate(128)); // arena 0: 4 full pools
    policy.allocate(128); // arena 1
    policy.allocate(16); // arena 1, another pool
    for (const handle of first.slice(1)) policy.release(handle); // arena 0 keeps one block
    expect(policy.snapshot().arenaUsage).toEqual({
      arenaBytes: 4096,
      arenas: [
        { arena: 0, pools: 4, poolsInUse: 1, blocksInUse: 1, blockBytes: 128 },
        { arena: 1, pools: 4, poolsInUse: 2, blocksInUse: 2, blockBytes: 144 },
      ],
      omitted: 0,
    });
  });

  it('leaves out arenas given back to the system', () => {
    const policy = new PymallocPolicy('test', TINY);
    const kept = policy.allocate(128);
    const second = Array.from({ length: 28 }, () => policy.allocate(128)); // fills arena 0, then arena 1
    for (const handle of second) policy.release(handle);
    const usage = policy.snapshot().arenaUsage;
    expect(policy.snapshot().arenas.current).toBe(1);
    expect(usage.arenas).toEqual([{ arena: 0, pools: 4, poolsInUse: 1, blocksInUse: 1, blockBytes: 128 }]);
    policy.release(kept);
  });

  it(`lists at most ${MAX_LISTED_ARENAS} arenas and counts the rest`, () => {
    const policy = new PymallocPolicy('test', TINY);
    const handles = Array.from({ length: 28 * (MAX_LISTED_ARENAS + 2) }, () => policy.allocate(128));
    // Arena 5 keeps only one block: it is listed first.
    handles.slice(5 * 28 + 1, 6 * 28).forEach((handle) => policy.release(handle));
    const usage = policy.snapshot().arenaUsage;
    expect(usage.arenas).toHaveLength(MAX_LISTED_ARENAS);
    expect(usage.omitted).toBe(2);
    expect(usage.arenas[0]).toEqual({ arena: 5, pools: 4, poolsInUse: 1, blocksInUse: 1, blockBytes: 128 });
    expect(usage.arenas[1].arena).toBe(0);
  });

  it('is empty for the malloc policy, which has no arenas', () => {
    const policy = createPool('malloc');
    policy.allocate(100);
    expect(policy.snapshot().arenaUsage).toEqual({ arenaBytes: 0, arenas: [], omitted: 0 });
  });
});
