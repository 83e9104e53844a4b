import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { checkOracleTrace, compileOracleProgram, encodeOracleProgram, runInCPython } from '../../src/oracle/cpython.js';
import { DRIVER_OP, OBJECT_KIND, ORACLE_DATA_MAGIC } from '../../src/oracle/driver.js';
import type { TraceEvent } from '../../src/trace/types.js';

const alloc = (id: string | number, extra: Partial<Extract<TraceEvent, { op: 'alloc' }>> = {}): TraceEvent => ({ op: 'alloc', id, type: 'Node', size: 56, ...extra });
const decref = (id: string | number): TraceEvent => ({ op: 'decref', id });
const link = (src: string | number, dst: string | number): TraceEvent => ({ op: 'link', src, dst });

function rejection(events: TraceEvent[]): UserError {
  try {
    checkOracleTrace(events);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected checkOracleTrace to throw');
}

describe('oracle/cpython (compiler)', () => {
  describe('when an event touches an object the program cannot reach', () => {
    it('rejects a link from a member of a dropped cycle', () => {
      const error = rejection([alloc('a'), alloc('b'), link('a', 'b'), link('b', 'a'), decref('a'), decref('b'), alloc('c'), link('a', 'c')]);
      expect(error.code).toBe('ORACLE_TRACE_NOT_RUNNABLE');
      expect(error.message).toMatch(/^event 7 \(link\): object "a" is not reachable/);
    });

    it('rejects an object that died', () => {
      expect(rejection([alloc(1), decref(1), { op: 'incref', id: 1 }]).message).toMatch(/event 2 \(incref\): object 1 is not alive/);
    });
  });

  describe('when an event breaks the trace semantics', () => {
    it.each<[string, TraceEvent[], RegExp]>([
      ['a decref without a program reference', [alloc('a'), alloc('b'), link('a', 'b'), decref('b'), decref('b')], /holds no reference to object "b"/],
      ['an unlink of a missing edge', [alloc('a'), alloc('b'), { op: 'unlink', src: 'a', dst: 'b' }], /does not reference object "b"/],
      ['a link from an untracked object', [alloc('a', { tracked: false }), alloc('b'), link('a', 'b')], /untracked and cannot reference/],
      ['a free of a referenced object', [alloc('a'), alloc('b'), link('a', 'b'), { op: 'free', id: 'b' }], /still referenced by 1 edge/],
      ['a reused id while its object is alive', [alloc('a'), alloc('a')], /still alive/],
      ['a tracked dict', [alloc('d', { type: 'dict' })], /CPython's own dict treatment/],
      ['a finalizer on an untracked object', [alloc('a', { tracked: false, finalizer: 'del' })], /untracked object cannot have a del finalizer/],
    ])('rejects %s', (_name, events, message) => {
      expect(rejection(events).message).toMatch(message);
    });
  });

  describe('when a trace is valid', () => {
    it('accepts an id reused after its object became unreachable garbage', () => {
      expect(() => checkOracleTrace([alloc('a'), link('a', 'a'), decref('a'), alloc('a'), decref('a')])).not.toThrow();
    });

    it('reaches a held-by-nobody object through its holder and list index', () => {
      const program = compileOracleProgram([alloc('a'), alloc('x', { tracked: false }), alloc('b'), link('a', 'x'), link('a', 'b'), decref('b'), { op: 'incref', id: 'b' }]);
      const [op, arg, slot1, pathStart1, pathLength1] = program.columns;
      const row = program.rows - 1;
      expect(op[row]).toBe(DRIVER_OP.hold);
      // a is in slot 0; b is a[1]; b's own slot (2) was freed by the decref, so the incref reuses it.
      expect(slot1[row]).toBe(0);
      expect([...program.path.subarray(pathStart1[row], pathStart1[row] + pathLength1[row])]).toEqual([1]);
      expect(arg[row]).toBe(2);
      expect(program.columns[2][1]).toBe(OBJECT_KIND.untracked);
    });

    it('turns free into one drop per program reference', () => {
      const program = compileOracleProgram([alloc('a'), { op: 'incref', id: 'a' }, { op: 'free', id: 'a' }]);
      expect([...program.columns[0]]).toEqual([DRIVER_OP.alloc, DRIVER_OP.hold, DRIVER_OP.drop, DRIVER_OP.drop]);
      expect(new Set(program.columns[1].subarray(2))).toEqual(new Set([0, 1]));
    });

    it('passes threshold changes in order and skips resize and mark', () => {
      const program = compileOracleProgram([
        { op: 'threshold', gen: 0, value: 5 },
        { op: 'mark', label: 'x' },
        { op: 'threshold', gen: 2, value: -1 },
      ]);
      expect(program.rows).toBe(2);
      expect([...program.columns[1]]).toEqual([0, 1]);
      expect([...program.thresholdChanges]).toEqual([0, 5, 2, -1]);
    });
  });

  describe('when the program is encoded', () => {
    it('starts with the magic and the sizes the driver reads', () => {
      const program = compileOracleProgram([alloc('a', { finalizer: 'legacy' }), { op: 'threshold', gen: 1, value: 3 }]);
      const words = new Int32Array(encodeOracleProgram(program).buffer);
      expect([...words.subarray(0, 6)]).toEqual([ORACLE_DATA_MAGIC, 2, 0, 1, 1, 1]);
      expect(words.length).toBe(6 + 2 + 8 * 2);
    });
  });

  describe('when the interpreter cannot be started', () => {
    it('throws a UserError naming it', async () => {
      await expect(runInCPython([], { python: '/nonexistent/python3.99' })).rejects.toMatchObject({ code: 'ORACLE_PYTHON_NOT_FOUND' });
    });
  });
});
