import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseDebugMallocStats, sizeClassRow } from '../../src/pool/debugmallocstats.js';
import { defaultPoolFor, poolPolicies } from '../../src/pool/index.js';
import { SizeClassTable, type PymallocParams } from '../../src/pool/size-classes.js';
import { pythonOrSkip } from '../helpers/python.js';

/** Lines of a real capture (CPython 3.11.7), with most size-class rows left out. */
const CAPTURE_311 = `Small block threshold = 512, in 32 size classes.

class   size   num pools   blocks in use  avail blocks
-----   ----   ---------   -------------  ------------
    0     16           1             106           915
    1     32           3            1148           382
   31    512           2              50            12

# arenas allocated total           =                    4
# arenas reclaimed                 =                    0
# arenas highwater mark            =                    4
# arenas allocated current         =                    4
4 arenas * 1048576 bytes/arena     =            4,194,304

# bytes in allocated blocks        =            3,494,240
# bytes in available blocks        =              328,240
17 unused pools * 16384 bytes      =              278,528
# bytes lost to pool headers       =               11,280
# bytes lost to quantization       =               16,480
# bytes lost to arena alignment    =               65,536
Total                              =            4,194,304

arena map counts
# arena map mid nodes              =                    1
# arena map bot nodes              =                    1

# bytes lost to arena map root     =              262,144
# bytes lost to arena map mid      =              262,144
# bytes lost to arena map bot      =              131,072
Total                              =              655,360

            8 free PyDictObjects * 48 bytes each =                  384
   4 free 1-sized PyTupleObjects * 32 bytes each =                  128
`;

function capture(python: string): string {
  const run = spawnSync(python, ['-E', '-S', '-c', 'import sys; sys._debugmallocstats()'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stderr;
}

describe('pool/debugmallocstats', () => {
  it('reads the size-class rows, arena counters, byte lines and free lists', () => {
    const stats = parseDebugMallocStats(CAPTURE_311);
    expect([stats.smallThreshold, stats.sizeClassCount, stats.arenaSize, stats.poolSize, stats.unusedPools]).toEqual([512, 32, 1048576, 16384, 17]);
    expect(stats.sizeClasses).toEqual([
      { index: 0, size: 16, poolsInUse: 1, blocksInUse: 106, availBlocks: 915 },
      { index: 1, size: 32, poolsInUse: 3, blocksInUse: 1148, availBlocks: 382 },
      { index: 31, size: 512, poolsInUse: 2, blocksInUse: 50, availBlocks: 12 },
    ]);
    expect(stats.arenas).toEqual({ allocated: 4, reclaimed: 0, highWater: 4, current: 4 });
    expect(stats.bytes).toEqual({ allocatedBlocks: 3494240, availableBlocks: 328240, poolHeaders: 11280, quantization: 16480, arenaAlignment: 65536, total: 4194304 });
    expect(stats.arenaMap).toEqual({ midNodes: 1, botNodes: 1 });
    expect(stats.freeLists).toEqual([
      { type: 'PyDictObject', count: 8, bytesEach: 48 },
      { type: '1-sized PyTupleObject', count: 4, bytesEach: 32 },
    ]);
    expect(sizeClassRow(stats, 5)).toEqual({ index: 5, size: 96, poolsInUse: 0, blocksInUse: 0, availBlocks: 0 });
  });

  it('rejects text that is not a pymalloc report', () => {
    expect(() => parseDebugMallocStats('mimalloc: ...')).toThrow(UserError);
    expect(() => parseDebugMallocStats(CAPTURE_311.replace(/# arenas reclaimed.*\n/, ''))).toThrow(/"# arenas reclaimed"/);
  });

  // Each interpreter's report must agree with itself, and its rows with the model's layout.
  for (const version of ['3.6.15', '3.7.16', '3.8.18', '3.9.18', '3.10.13', '3.11.7', '3.12.1', '3.13.0']) {
    it(`parses CPython ${version}'s report, whose rows fit the layout of ${defaultPoolFor(version)}`, (context) => {
      const python = pythonOrSkip(version);
      if (python === null) return context.skip();
      const stats = parseDebugMallocStats(capture(python));
      const params = poolPolicies[defaultPoolFor(version)].defaultParams as PymallocParams;
      const table = new SizeClassTable(params);
      expect([stats.smallThreshold, stats.sizeClassCount, stats.poolSize, stats.arenaSize]).toEqual([params.small_threshold, table.count, params.pool_size, params.arena_size]);
      let blockBytes = 0;
      let availBytes = 0;
      let pools = 0;
      let quantization = 0;
      for (const row of stats.sizeClasses) {
        expect(row.size).toBe(table.blockSize[row.index]);
        expect(row.blocksInUse + row.availBlocks, `class ${row.index}`).toBe(row.poolsInUse * table.blocksPerPool[row.index]);
        blockBytes += row.blocksInUse * row.size;
        availBytes += row.availBlocks * row.size;
        pools += row.poolsInUse;
        quantization += row.poolsInUse * table.quantizationLoss[row.index];
      }
      expect(stats.bytes).toEqual({
        allocatedBlocks: blockBytes,
        availableBlocks: availBytes,
        poolHeaders: pools * table.poolOverhead,
        quantization,
        arenaAlignment: stats.bytes.arenaAlignment,
        total: stats.arenas.current * params.arena_size,
      });
      expect(stats.arenas.allocated - stats.arenas.reclaimed).toBe(stats.arenas.current);
      // Every pool of every arena is in use, unused, or lost to alignment.
      expect(pools + stats.unusedPools + stats.bytes.arenaAlignment / params.pool_size).toBe(stats.arenas.current * table.maxPoolsPerArena);
      expect(stats.arenaMap === null).toBe(params.pool_size === 4096);
    });
  }
});
