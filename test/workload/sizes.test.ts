import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  CLASS_BYTES,
  CODE_BYTES,
  DictShape,
  EXCEPTION_BYTES,
  FLOAT_BYTES,
  FRAME_BYTES,
  FUNCTION_BYTES,
  INSTANCE_BYTES,
  MODULE_BYTES,
  TRACEBACK_BYTES,
  bytesBytes,
  dictBytes,
  intBytes,
  listBytes,
  listCapacityAfterAppend,
  strBytes,
  tupleBytes,
} from '../../src/workload/sizes.js';
import { SeededRandom } from '../../src/workload/random.js';
import { pythonOrSkip } from '../helpers/python.js';

/**
 * Differential test: every size the workloads write is what `sys.getsizeof` says on a real
 * CPython 3.12 (the version the workloads' headers name).
 */
const python = pythonOrSkip('3.12');

/** Runs a Python script that reads JSON on stdin and prints JSON. */
function runPython<T>(script: string, input: unknown): T {
  const result = spawnSync(python as string, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

const CONSTANTS_SCRIPT = String.raw`
import json, sys, types
class C: pass
def view(request):
    try:
        raise ValueError('boom')
    except ValueError as e:
        return e
def f(a, b):
    x = a + b
    return x
e = view(None)
print(json.dumps({
  'instance': sys.getsizeof(C()),
  'float': sys.getsizeof(1.5),
  'exception': sys.getsizeof(ValueError('x')),
  'traceback': sys.getsizeof(e.__traceback__),
  'frame': sys.getsizeof(e.__traceback__.tb_frame),
  'function': sys.getsizeof(f),
  'code': sys.getsizeof(f.__code__),
  'module': sys.getsizeof(types.ModuleType('m')),
  'class': sys.getsizeof(C),
}))
`;

const SCALARS_SCRIPT = String.raw`
import json, sys
cases = json.load(sys.stdin)
print(json.dumps({
  'int': [sys.getsizeof(v) for v in cases['ints']],
  'str': [sys.getsizeof('a' * n) for n in cases['lengths']],
  'bytes': [sys.getsizeof(b'a' * n) for n in cases['lengths']],
  'tuple': [sys.getsizeof(tuple(range(1000, 1000 + n))) for n in cases['items']],
}))
`;

const CONTAINERS_SCRIPT = String.raw`
import json, sys
n = json.load(sys.stdin)
lst, strd, intd = [], {}, {}
lists, strdicts, intdicts = [sys.getsizeof(lst)], [sys.getsizeof(strd)], [sys.getsizeof(intd)]
for i in range(n):
    lst.append(None); lists.append(sys.getsizeof(lst))
    strd['k%d' % i] = None; strdicts.append(sys.getsizeof(strd))
    intd[100000 + i] = None; intdicts.append(sys.getsizeof(intd))
print(json.dumps({'list': lists, 'strdict': strdicts, 'intdict': intdicts}))
`;

const DICT_OPS_SCRIPT = String.raw`
import json, sys
ops = json.load(sys.stdin)
d, sizes, counter = {}, [], 0
for op in ops:
    if op < 0:
        counter += 1
        d['key%d' % counter] = None
    else:
        del d[list(d)[op]]
    sizes.append(sys.getsizeof(d))
print(json.dumps(sizes))
`;

describe.skipIf(python === null)('workload/sizes', () => {
  describe('when compared with sys.getsizeof on CPython 3.12', () => {
    it('gives the fixed sizes of instances, floats, exceptions, frames, functions, modules and classes', () => {
      const actual = runPython<Record<string, number>>(CONSTANTS_SCRIPT, null);
      expect({
        instance: INSTANCE_BYTES,
        float: FLOAT_BYTES,
        exception: EXCEPTION_BYTES,
        traceback: TRACEBACK_BYTES,
        frame: FRAME_BYTES,
        function: FUNCTION_BYTES,
        code: CODE_BYTES,
        module: MODULE_BYTES,
        class: CLASS_BYTES,
      }).toEqual(actual);
    });

    it('gives the sizes of ints, strs, bytes and tuples', () => {
      const cases = { ints: [257, 1000, 2 ** 30 - 1, 2 ** 30, 2 ** 45, 2 ** 53, -(2 ** 31)], lengths: [2, 3, 17, 100, 1000], items: [1, 2, 3, 10, 40] };
      const actual = runPython<Record<string, number[]>>(SCALARS_SCRIPT, cases);
      expect(cases.ints.map(intBytes)).toEqual(actual.int);
      expect(cases.lengths.map(strBytes)).toEqual(actual.str);
      expect(cases.lengths.map(bytesBytes)).toEqual(actual.bytes);
      expect(cases.items.map(tupleBytes)).toEqual(actual.tuple);
    });

    it('grows lists and dicts as append and insertion do', () => {
      const count = 400;
      const actual = runPython<{ list: number[]; strdict: number[]; intdict: number[] }>(CONTAINERS_SCRIPT, count);
      const lists = [listBytes(0)];
      let capacity = 0;
      const shape = new DictShape(true);
      const shapeSizes = [shape.bytes];
      for (let size = 1; size <= count; size++) {
        capacity = listCapacityAfterAppend(capacity, size);
        lists.push(listBytes(capacity));
        shape.insert();
        shapeSizes.push(shape.bytes);
      }
      expect(lists).toEqual(actual.list);
      expect(Array.from({ length: count + 1 }, (_, n) => dictBytes(n, true))).toEqual(actual.strdict);
      expect(shapeSizes).toEqual(actual.strdict);
      expect(Array.from({ length: count + 1 }, (_, n) => dictBytes(n, false))).toEqual(actual.intdict);
    });

    it('follows a dict through insertions and deletions, shrinking on a rebuild', () => {
      for (const seed of [1, 2, 3]) {
        const rng = new SeededRandom(seed);
        // Insert-heavy, then delete-heavy, then mixed: entries pile up as dummies and force rebuilds.
        const ops: number[] = [];
        let size = 0;
        for (let i = 0; i < 600; i++) {
          const deleteShare = i < 200 ? 0.2 : i < 400 ? 0.8 : 0.5;
          if (size > 0 && rng.chance(deleteShare)) ops.push(rng.below(size--));
          else {
            ops.push(-1);
            size++;
          }
        }
        const actual = runPython<number[]>(DICT_OPS_SCRIPT, ops);
        const shape = new DictShape(true);
        const expected = ops.map((op) => {
          if (op < 0) shape.insert();
          else shape.delete();
          return shape.bytes;
        });
        expect(expected).toEqual(actual);
        expect(new Set(actual).size).toBeGreaterThan(3);
      }
    });
  });
});
