import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { poolPolicies } from '../../src/pool/index.js';
import { PymallocPolicy, type BlockLocation, type PymallocParams } from '../../src/pool/pymalloc.js';
import { ReferenceObmalloc, type RefBlock } from './reference-obmalloc.js';

/**
 * Unit tests with expectations computed by hand from obmalloc's rules
 * [v3.11.2 Objects/obmalloc.c], plus a property test against a plain reference implementation.
 */

const DEFAULTS_311 = poolPolicies['pymalloc-3.11'].defaultParams;
const DEFAULTS_39 = poolPolicies['pymalloc-3.9'].defaultParams;

/**
 * A miniature layout whose numbers are easy to follow by hand: 8 classes of 16 bytes up to 128,
 * 1 KiB pools (class 7 holds ⌊(1024 − 48) / 128⌋ = 7 blocks), 4 pools per 4 KiB arena.
 */
const TINY: PymallocParams = { alignment: 16, small_threshold: 128, pool_size: 1024, pool_header: 48, arena_size: 4096, unaligned_arenas: 0, keep_free_arena: 1 };

function pymalloc(params: PymallocParams, overrides: Partial<PymallocParams> = {}): PymallocPolicy {
  return new PymallocPolicy('test', { ...params, ...overrides });
}

function at(policy: PymallocPolicy, handle: number): BlockLocation {
  return policy.locate(handle);
}

function where(policy: PymallocPolicy, handle: number): [number, number, number] {
  const location = policy.locate(handle);
  if (location.owner !== 'pymalloc') throw new Error('expected a pymalloc block');
  return [location.arena, location.pool, location.block];
}

function allocateMany(policy: PymallocPolicy, size: number, count: number): number[] {
  return Array.from({ length: count }, () => policy.allocate(size));
}

describe('pool/pymalloc', () => {
  describe('when a pool fills up', () => {
    it('hands out the never-used blocks in address order, then opens a second pool', () => {
      const policy = pymalloc(DEFAULTS_311);
      const handles = allocateMany(policy, 512, 31);
      expect(handles.map((h) => where(policy, h))).toEqual(Array.from({ length: 31 }, (_, i) => [0, 0, i]));
      const row = policy.snapshot().sizeClasses[31];
      expect([row.poolsInUse, row.blocksInUse, row.availBlocks, row.freshBlocks, row.reusedBlocks]).toEqual([1, 31, 0, 31, 0]);
      expect(where(policy, policy.allocate(500))).toEqual([0, 1, 0]);
      expect(policy.snapshot().sizeClasses[31].poolsInUse).toBe(2);
    });
  });

  describe('when blocks are freed inside a pool', () => {
    it('reuses the most recently freed block first, then continues with never-used blocks', () => {
      const policy = pymalloc(DEFAULTS_311);
      const handles = allocateMany(policy, 64, 10);
      for (const i of [3, 7, 5]) policy.release(handles[i]);
      const next = allocateMany(policy, 64, 4).map((h) => where(policy, h)[2]);
      expect(next).toEqual([5, 7, 3, 10]);
      const snapshot = policy.snapshot();
      expect([snapshot.blocksFresh, snapshot.blocksReused]).toEqual([11, 3]);
    });

    it('puts a full pool that gets a free block at the front of usedpools', () => {
      const policy = pymalloc(TINY);
      const first = allocateMany(policy, 128, 7); // pool 0, now full
      allocateMany(policy, 128, 2); // pool 1, partially used: the head of usedpools[7]
      policy.release(first[4]); // pool 0 was full: it goes in front of pool 1
      expect(where(policy, policy.allocate(128))).toEqual([0, 0, 4]);
      // Pool 0 is full again and left the list; pool 1 serves.
      expect(where(policy, policy.allocate(128))).toEqual([0, 1, 2]);
    });
  });

  describe('when a pool empties and is reused', () => {
    it('returns the empty pool to its arena, and the next pool of the same class is that pool with its free list', () => {
      const policy = pymalloc(TINY);
      const handles = allocateMany(policy, 100, 5); // class 6 (112 bytes): 8 blocks per pool
      for (const h of handles) policy.release(h);
      let snapshot = policy.snapshot();
      expect([snapshot.pools.inUse, snapshot.pools.empty, snapshot.pools.neverUsed]).toEqual([0, 1, 3]);
      // Same class: the cached pool keeps its list, whose head is the last block freed (4).
      const again = policy.allocate(112);
      expect(where(policy, again)).toEqual([0, 0, 4]);
      snapshot = policy.snapshot();
      expect([snapshot.pools.inUse, snapshot.pools.empty, snapshot.sizeClasses[6].reusedBlocks]).toEqual([1, 0, 1]);
    });

    it('re-initialises a cached pool taken by another class, starting again at block 0', () => {
      const policy = pymalloc(TINY);
      policy.release(policy.allocate(100));
      const other = policy.allocate(20); // class 1
      expect(at(policy, other)).toEqual({ owner: 'pymalloc', arena: 0, pool: 0, block: 0, sizeClass: 1 });
      expect(policy.snapshot().blocksFresh).toBe(2);
    });
  });

  describe('arenas', () => {
    it('releases an arena only when its last pool becomes free', () => {
      const policy = pymalloc(TINY);
      const handles = allocateMany(policy, 128, 5 * 7); // 4 pools fill arena 0, the 5th opens arena 1
      expect(policy.snapshot().arenas).toEqual({ allocated: 2, reclaimed: 0, highWater: 2, current: 2 });
      for (const h of handles.slice(0, 27)) policy.release(h);
      expect(policy.snapshot().arenas.current).toBe(2);
      policy.release(handles[27]);
      // Arena 0 is wholly free and not the last of usable_arenas (arena 1 has 3 free pools).
      expect(policy.snapshot().arenas).toEqual({ allocated: 2, reclaimed: 1, highWater: 2, current: 1 });
    });

    it('keeps the last wholly free arena (3.9+) and releases it with keep_free_arena=0 (3.8 and older)', () => {
      for (const [keep, current] of [
        [1, 1],
        [0, 0],
      ]) {
        const policy = pymalloc(TINY, { keep_free_arena: keep });
        for (const h of allocateMany(policy, 128, 7)) policy.release(h);
        expect(policy.snapshot().arenas.current).toBe(current);
        policy.allocate(128);
        expect(policy.snapshot().arenas.allocated).toBe(2 - keep);
      }
    });

    it('keeps usable_arenas sorted by free pools and serves new pools from the most used arena', () => {
      const policy = pymalloc(TINY);
      const handles = allocateMany(policy, 128, 12 * 7); // pools 0..11: arenas 0, 1, 2 full
      const freePool = (pool: number) => {
        for (const h of handles.slice(pool * 7, pool * 7 + 7)) policy.release(h);
      };
      freePool(0);
      freePool(1); // arena 0: 2 free pools
      freePool(4); // arena 1: 1 free pool
      freePool(8);
      freePool(9);
      freePool(10); // arena 2: 3 free pools
      expect(policy.usableArenaOrder()).toEqual([
        { arena: 1, freePools: 1 },
        { arena: 0, freePools: 2 },
        { arena: 2, freePools: 3 },
      ]);
      // A class with no used pool takes a pool from the head: arena 1, which then is full.
      expect(where(policy, policy.allocate(16))).toEqual([1, 0, 0]);
      expect(policy.usableArenaOrder().map((a) => a.arena)).toEqual([0, 2]);
      expect(where(policy, policy.allocate(32))[0]).toBe(0);
    });

    it('moves an arena that gains a free pool just after the rightmost arena with its old count', () => {
      const policy = pymalloc(TINY);
      const handles = allocateMany(policy, 128, 12 * 7);
      const freePool = (pool: number) => {
        for (const h of handles.slice(pool * 7, pool * 7 + 7)) policy.release(h);
      };
      freePool(0); // [0(1)]
      freePool(4); // [1(1), 0(1)]: a formerly full arena goes to the head
      freePool(8); // [2(1), 1(1), 0(1)]
      freePool(9); // arena 2 now has 2: it moves after arena 0, the rightmost with 1
      expect(policy.usableArenaOrder()).toEqual([
        { arena: 1, freePools: 1 },
        { arena: 0, freePools: 1 },
        { arena: 2, freePools: 2 },
      ]);
      freePool(5); // arena 1 has 2: after arena 0 (the rightmost with 1), before arena 2
      expect(policy.usableArenaOrder().map((a) => a.arena)).toEqual([0, 1, 2]);
    });

    it('reuses arena slots last-in first-out', () => {
      const policy = pymalloc(TINY, { keep_free_arena: 0 });
      const handles = allocateMany(policy, 128, 3 * 4 * 7); // arenas 0, 1, 2
      for (const h of handles.slice(0, 28)) policy.release(h); // arena 0 released
      for (const h of handles.slice(28, 56)) policy.release(h); // then arena 1
      expect(where(policy, policy.allocate(16))[0]).toBe(1);
      expect(where(policy, allocateMany(policy, 128, 4 * 7 + 1).pop() as number)[0]).toBe(0);
    });

    it('counts one pool fewer per arena when arenas are unaligned', () => {
      const policy = pymalloc(DEFAULTS_311);
      allocateMany(policy, 512, 63 * 31 + 1);
      const snapshot = policy.snapshot();
      expect([snapshot.arenas.current, snapshot.pools.inUse, snapshot.pools.neverUsed]).toEqual([2, 64, 62]);
      // The lost head of each arena shows as arena fragmentation: 2 × 16 KiB, plus 62 unused pools.
      expect(snapshot.fragmentation.arena).toBe(2 * 16384 + 62 * 16384);
    });
  });

  describe('realloc', () => {
    it('stays in place when the new size fits the block and is more than 3/4 of it', () => {
      const policy = pymalloc(DEFAULTS_311);
      const h = policy.allocate(64); // class 3, 64-byte block
      expect(policy.resize(h, 49)).toBe(h); // 4·49 = 196 > 192
      expect(policy.resize(h, 64)).toBe(h);
      const moved = policy.resize(h, 48); // 192 is not > 192: copy into class 2
      expect(at(policy, moved)).toMatchObject({ owner: 'pymalloc', sizeClass: 2 });
      const grown = policy.resize(moved, 65);
      expect(at(policy, grown)).toMatchObject({ owner: 'pymalloc', sizeClass: 4 });
      expect(policy.snapshot().sizeClasses.map((row) => row.blocksInUse).reduce((a, b) => a + b)).toBe(1);
    });

    it('allocates the new block before freeing the old one when shrinking within the same class', () => {
      const policy = pymalloc(DEFAULTS_311);
      const h = policy.allocate(16);
      const moved = policy.resize(h, 12); // 48 is not > 48: moves, to class 0 again
      expect([where(policy, h), where(policy, moved)]).toEqual([
        [0, 0, 0],
        [0, 0, 1],
      ]);
    });

    it('moves between pymalloc and malloc across the threshold, and a malloc block stays with malloc', () => {
      const policy = pymalloc(DEFAULTS_311);
      const big = policy.resize(policy.allocate(500), 600);
      expect(at(policy, big).owner).toBe('malloc');
      expect(policy.resize(big, 16)).toBe(big);
      const snapshot = policy.snapshot();
      expect(snapshot.sizeClasses[31].blocksInUse).toBe(0);
      expect([snapshot.malloc.allocations, snapshot.malloc.reallocs, snapshot.malloc.blocksInUse, snapshot.malloc.bytesRequested]).toEqual([1, 1, 1, 16]);
      // A 16-byte request in malloc: max(32, (16 + 8 + 15) & ~15) = 32 bytes.
      expect(snapshot.malloc.bytesReserved).toBe(32);
    });

    it('sends size 0 to malloc as a 1-byte request', () => {
      const policy = pymalloc(DEFAULTS_311);
      const h = policy.allocate(0);
      expect(at(policy, h).owner).toBe('malloc');
      expect(policy.snapshot().malloc.bytesRequested).toBe(1);
    });
  });

  describe('snapshot', () => {
    it('accounts for every byte of the arenas: requested + internal + pool + arena fragmentation', () => {
      const policy = pymalloc(DEFAULTS_311);
      const handles = [allocateMany(policy, 20, 700), allocateMany(policy, 300, 90), allocateMany(policy, 1000, 3)].flat();
      for (let i = 0; i < handles.length; i += 3) policy.release(handles[i]);
      const s = policy.snapshot();
      const small = s.bytesRequested - s.malloc.bytesRequested;
      expect(small + s.fragmentation.internal + s.fragmentation.pool + s.fragmentation.arena).toBe(s.arenas.current * 1048576);
      expect(s.bytesReserved).toBe(s.arenas.current * 1048576 + s.malloc.bytesReserved);
      // 466 blocks of 32 bytes requested as 20: 12 bytes each of internal fragmentation; 60 of 304 as 300: 4 each.
      expect(s.fragmentation.internal).toBe(466 * 12 + 60 * 4);
    });
  });

  describe('when compared with a plain reference implementation (3.6-style list walk)', () => {
    const layouts: [string, PymallocParams][] = [
      ['tiny, keep_free_arena=1', TINY],
      ['tiny, keep_free_arena=0, unaligned', { ...TINY, keep_free_arena: 0, unaligned_arenas: 1 }],
      ['3.9 defaults', DEFAULTS_39],
    ];
    const op = fc.record({ kind: fc.constantFrom('alloc', 'alloc', 'alloc', 'free', 'free', 'resize'), size: fc.oneof(fc.integer({ min: 1, max: 128 }), fc.integer({ min: 0, max: 600 })), pick: fc.nat() });
    for (const [label, params] of layouts) {
      it(`places every block where the reference does (${label})`, () => {
        fc.assert(
          fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
            const policy = pymalloc(params);
            const reference = new ReferenceObmalloc(params);
            const live: [number, RefBlock][] = [];
            const sameLocation = ([h, r]: [number, RefBlock]) => {
              const location = policy.locate(h);
              const mine = location.owner === 'malloc' ? { owner: 'malloc' } : { owner: 'pymalloc', arena: location.arena, pool: location.pool, block: location.block };
              expect(mine).toEqual(reference.locate(r));
            };
            for (const { kind, size, pick } of ops) {
              if (kind === 'alloc' || live.length === 0) {
                live.push([policy.allocate(size), reference.allocate(size)]);
                sameLocation(live[live.length - 1]);
              } else {
                const k = pick % live.length;
                const [h, r] = live[k];
                if (kind === 'free') {
                  policy.release(h);
                  reference.release(r);
                  live.splice(k, 1);
                } else {
                  live[k] = [policy.resize(h, size), reference.resize(r, size)];
                  sameLocation(live[k]);
                }
              }
            }
            expect(policy.usableArenaOrder()).toEqual(reference.usableOrder());
            const { arenas } = policy.snapshot();
            expect([arenas.allocated, arenas.current]).toEqual([reference.arenasAllocated, reference.arenasCurrent]);
          }),
          { numRuns: 150 },
        );
      });
    }

    it('keeps its totals consistent with the per-class rows and with sample()', () => {
      fc.assert(
        fc.property(fc.array(fc.record({ size: fc.integer({ min: 0, max: 700 }), free: fc.boolean(), pick: fc.nat() }), { maxLength: 300 }), (ops) => {
          const policy = pymalloc(TINY);
          const live: number[] = [];
          for (const { size, free, pick } of ops) {
            if (free && live.length > 0) policy.release(live.splice(pick % live.length, 1)[0]);
            else live.push(policy.allocate(size));
          }
          const s = policy.snapshot();
          const sample = policy.sample();
          const poolsFromRows = s.sizeClasses.reduce((n, row) => n + row.poolsInUse, 0);
          expect(poolsFromRows).toBe(s.pools.inUse);
          expect(s.pools.inUse + s.pools.empty + s.pools.neverUsed).toBe(s.arenas.current * 4);
          expect(sample).toEqual({ arenas: s.arenas.current, poolsInUse: s.pools.inUse, bytesRequested: s.bytesRequested, bytesReserved: s.bytesReserved, blocksFresh: s.blocksFresh, blocksReused: s.blocksReused });
          const small = s.bytesRequested - s.malloc.bytesRequested;
          expect(small + s.fragmentation.internal + s.fragmentation.pool + s.fragmentation.arena).toBe(s.arenas.current * 4096);
          expect(s.peakBytesReserved).toBeGreaterThanOrEqual(s.bytesReserved);
          for (const row of s.sizeClasses) expect(row.freshBlocks + row.reusedBlocks).toBe(row.requests);
        }),
        { numRuns: 200 },
      );
    });
  });
});
