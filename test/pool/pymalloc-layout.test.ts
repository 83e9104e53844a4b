import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultPoolFor, defaultPoolParamsFor, poolPolicies } from '../../src/pool/index.js';
import { SizeClassTable, type PymallocParams } from '../../src/pool/size-classes.js';
import { pythonOrSkip } from '../helpers/python.js';

/**
 * The layout of each interpreter, read from the addresses `PyObject_Malloc` returns (ctypes): a
 * block of class c sits at `pool + header + k × size` for k below the blocks a pool holds, so the
 * offsets of three pools' worth of blocks within their pool must be exactly that set. This checks
 * alignment, threshold, pool size and header where `sys._debugmallocstats()` does not exist
 * (2.7), and independently of it elsewhere. The script runs on Python 2 and 3.
 */
const PROBE = `
import ctypes, json, sys
api = ctypes.pythonapi
api.PyObject_Malloc.restype = ctypes.c_void_p
api.PyObject_Malloc.argtypes = [ctypes.c_size_t]
spec = json.loads(sys.argv[1])
out = []
for size, count in spec['probes']:
    offsets = set()
    for _ in range(count):
        offsets.add(api.PyObject_Malloc(size) % spec['pool'])
    out.append(sorted(offsets))
sys.stdout.write(json.dumps(out))
`;

function probe(python: string, poolSize: number, probes: [number, number][]): number[][] {
  const run = spawnSync(python, ['-E', '-S', '-c', PROBE, JSON.stringify({ pool: poolSize, probes })], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as number[][];
}

describe('pool/pymalloc layout against CPython block addresses', () => {
  for (const version of ['2.7.18', '3.6.15', '3.7.16', '3.8.18', '3.9.18', '3.10.13', '3.11.7', '3.12.1', '3.13.0']) {
    const name = defaultPoolFor(version);
    it(`places blocks where ${name} says, in CPython ${version}`, (context) => {
      const python = pythonOrSkip(version);
      if (python === null) return context.skip();
      const params = { ...poolPolicies[name].defaultParams, ...defaultPoolParamsFor(version) } as PymallocParams;
      const table = new SizeClassTable(params);
      const classes = [0, 1, 2, 6, 15, 16, 30, 31];
      const probes: [number, number][] = [];
      for (const c of classes) {
        probes.push([c * table.alignment + 1, 3 * table.blocksPerPool[c]]);
        probes.push([(c + 1) * table.alignment, 3 * table.blocksPerPool[c]]);
      }
      probes.push([table.smallThreshold + 1, 3 * table.blocksPerPool[31]]);
      const offsets = probe(python, params.pool_size, probes);
      classes.forEach((c, i) => {
        const grid = Array.from({ length: table.blocksPerPool[c] }, (_, k) => table.poolOverhead + k * table.blockSize[c]);
        expect(offsets[2 * i], `smallest request of class ${c}`).toEqual(grid);
        expect(offsets[2 * i + 1], `largest request of class ${c}`).toEqual(grid);
      });
      // One byte over the threshold goes to malloc: its blocks do not sit on the last class's grid.
      const lastGrid = new Set(Array.from({ length: table.blocksPerPool[31] }, (_, k) => table.poolOverhead + k * 512));
      expect(offsets[offsets.length - 1].some((offset) => !lastGrid.has(offset))).toBe(true);
    });
  }
});
