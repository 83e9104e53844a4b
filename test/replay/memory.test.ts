import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/pool/index.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { ev, replayEvents } from '../helpers/replay.js';

const LIST = 56;
/** pymalloc-3.11 size class of a 56-byte request: (56 - 1) >> 4 = 3, 64-byte blocks. */
const LIST_CLASS = 3;

function lists(start: number, n: number): TraceEvent[] {
  return Array.from({ length: n }, (_, i) => ev.alloc(start + i, 'list', { size: LIST }));
}

describe('replay with an allocator model and free lists', () => {
  it('a list taken from the free list reuses its parked block without asking pymalloc', () => {
    const pool = createPool('pymalloc-3.11');
    const { report } = replayEvents([ev.alloc(1, 'list', { size: LIST }), ev.decref(1), ev.alloc(2, 'list', { size: LIST })], { pool });
    const row = report.pool!.sizeClasses[LIST_CLASS];
    expect(row.requests).toBe(1);
    expect(row.blocksInUse).toBe(1);
    expect(report.freeLists.find((f) => f.type === 'list')).toEqual(expect.objectContaining({ hits: 1, parked: 1, current: 0 }));
  });

  it('parks at most the free list\'s capacity and gives the rest back to the pool', () => {
    const pool = createPool('pymalloc-3.11');
    const trace = [...lists(0, 100), ...Array.from({ length: 100 }, (_, i) => ev.decref(i))];
    const { report } = replayEvents(trace, { pool });
    // 3.12's list free list holds 80: the first 80 deaths are parked (blocks stay in use).
    expect(report.pool!.sizeClasses[LIST_CLASS].blocksInUse).toBe(80);
    expect(report.freeLists.find((f) => f.type === 'list')).toEqual(expect.objectContaining({ parked: 80, overflows: 20, current: 80 }));
    // Each overflowing list ran PyObject_GC_Del: the count went 100 → 80.
    expect(report.gc.count[0]).toBe(80);
  });

  it('a full collection empties the free lists and frees their blocks', () => {
    const pool = createPool('pymalloc-3.11');
    const trace = [...lists(0, 10), ...Array.from({ length: 10 }, (_, i) => ev.decref(i)), ev.collect(1)];
    expect(replayEvents(trace, { pool: createPool('pymalloc-3.11') }).report.pool!.sizeClasses[LIST_CLASS].blocksInUse).toBe(10);
    const { report } = replayEvents([...trace, ev.collect(2)], { pool });
    expect(report.pool!.sizeClasses[LIST_CLASS].blocksInUse).toBe(0);
    expect(report.freeLists.find((f) => f.type === 'list')).toEqual(expect.objectContaining({ cleared: 10, current: 0 }));
  });

  it('plain objects go straight back to their pool, and the freed block is the next one handed out', () => {
    const pool = createPool('pymalloc-3.11');
    const trace = [ev.alloc(1), ev.alloc(2), ev.decref(1), ev.alloc(3)];
    const { report } = replayEvents(trace, { pool });
    const row = report.pool!.sizeClasses[2];
    expect(row).toEqual(expect.objectContaining({ size: 48, blocksInUse: 2, requests: 3, reusedBlocks: 1, freshBlocks: 2 }));
  });

  it('resize moves a block between size classes as pymalloc_realloc does', () => {
    const pool = createPool('pymalloc-3.11');
    const { report } = replayEvents([ev.alloc(1, 'bytearray', { size: 40, tracked: false }), { op: 'resize', id: 1, size: 200 }], { pool });
    expect(report.pool!.sizeClasses[2].blocksInUse).toBe(0);
    expect(report.pool!.sizeClasses[12].blocksInUse).toBe(1);
    expect(report.memory.live.bytes).toBe(200);
  });
});
