import { describe, expect, it } from 'vitest';
import { TraceErrors } from '../../src/errors.js';
import { resolvePolicy } from '../../src/gc/index.js';
import { FREE_LIST_CONFIGS } from '../../src/pool/free-list.js';
import { replayChunks } from '../../src/replay/index.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { createChunk, Op, StringTable, type EventChunk } from '../../src/trace/types.js';
import { ev, replayEvents } from '../helpers/replay.js';

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof TraceErrors) return error.errors.map((e) => e.message);
    throw error;
  }
  return [];
}

describe('replay/engine', () => {
  describe('reference counting', () => {
    it('frees an object the moment its last reference goes, and what it alone kept alive', () => {
      const trace = [ev.alloc(1), ev.alloc(2), ev.alloc(3), ev.link(1, 2), ev.link(2, 3), ev.decref(2), ev.decref(3)];
      expect(replayEvents(trace).report.memory.live.objects).toBe(3);
      const { report } = replayEvents([...trace, ev.decref(1)]);
      expect(report.memory.live.objects).toBe(0);
      expect(report.memory.freedByRefcount).toBe(3);
    });

    it('counts duplicate links as separate references', () => {
      const trace = [ev.alloc(1), ev.alloc(2), ev.link(1, 2), ev.link(1, 2), ev.decref(2), ev.unlink(1, 2)];
      expect(replayEvents(trace).report.memory.live.objects).toBe(2);
      expect(replayEvents([...trace, ev.unlink(1, 2)]).report.memory.live.objects).toBe(1);
    });

    it('lets ids be reused once their object is gone', () => {
      const { report } = replayEvents([ev.alloc(1), ev.decref(1), ev.alloc(1, 'Other'), ev.alloc('x'), ev.decref('x'), ev.alloc('x')]);
      expect(report.memory.live.objects).toBe(2);
      expect(report.memory.allocated.objects).toBe(4);
    });

    it('keeps hex address ids apart from integers and from other spellings, and names them as written', () => {
      // "0x10" is held as a number (see EventChunk), but it is not object 16, nor "0x010".
      const trace = [ev.alloc('0x10'), ev.alloc(16), ev.alloc('0x010'), ev.alloc('0X10'), ev.link('0x10', 16), ev.decref(16)];
      const { report } = replayEvents(trace);
      expect(report.memory.live.objects).toBe(4);
      expect(errorsOf(() => replayEvents([...trace, ev.decref(16)]))).toEqual([
        'test.jsonl:7: event 6 (decref): "id": the program holds no reference to object 16 ("Node") (its 1 reference comes from other objects)',
      ]);
      expect(errorsOf(() => replayEvents([ev.alloc('0x7f3a00000010'), ev.decref('0x7f3a00000010'), ev.incref('0x7f3a00000010')]))[0]).toContain('object "0x7f3a00000010" is not alive');
      // Freed by the collector: the message names the id as the trace wrote it, and the collection.
      const cycle = [ev.alloc('0xa0'), ev.alloc('0xb0'), ev.link('0xa0', '0xb0'), ev.link('0xb0', '0xa0'), ev.decref('0xa0'), ev.decref('0xb0'), ev.collect(), ev.incref('0xa0')];
      expect(errorsOf(() => replayEvents(cycle))[0]).toContain('object "0xa0" was freed as unreachable cyclic garbage by the collection at event 6');
    });

    it('frees a ten-million-long chain iteratively, without overflowing the stack', () => {
      // alloc 0; then for each i: alloc i, link i-1 → i, decref i; finally decref 0.
      const n = 10_000_000;
      const types = new StringTable();
      const sites = new StringTable();
      types.intern('Node');
      const rowsPerChunk = 1 << 20;
      const total = 1 + 3 * (n - 1) + 1;
      const chunks: EventChunk[] = [];
      let row = 0;
      let chunk = createChunk(rowsPerChunk, 0);
      const push = (op: number, obj: number, arg: number) => {
        if (row === rowsPerChunk) {
          chunk.length = row;
          chunks.push(chunk);
          chunk = createChunk(rowsPerChunk, chunk.firstIndex + row);
          row = 0;
        }
        chunk.op[row] = op;
        chunk.obj[row] = obj;
        chunk.arg[row] = arg;
        chunk.aux[row] = 0;
        chunk.site[row] = -1;
        chunk.time[row] = NaN;
        row++;
      };
      push(Op.alloc, 0, 48);
      for (let i = 1; i < n; i++) {
        push(Op.alloc, i, 48);
        push(Op.link, i - 1, i);
        push(Op.decref, i, 0);
      }
      push(Op.decref, 0, 0);
      chunk.length = row;
      chunks.push(chunk);
      const result = replayChunks(
        { file: 'chain', header: { format: 'memreplay', version: 1, meta: {} }, types, sites, chunks: () => chunks },
        {
          policy: resolvePolicy('cpython-3.12'),
          thresholds: [0],
          oldObjects: 0,
          automaticCollection: true,
          freeLists: FREE_LIST_CONFIGS['3.12'],
          pool: null,
          diagnostics: new Diagnostics(),
        },
      );
      expect(result.events).toBe(total);
      expect(result.liveObjects).toBe(0);
      expect(result.stats.peakLiveObjects).toBe(n);
      expect(result.stats.freedByRefcount).toBe(n);
    }, 120_000);
  });

  describe('semantic validation', () => {
    it('names the file, line, event, op and field of each problem', () => {
      const errors = errorsOf(() =>
        replayEvents(
          [
            ev.alloc(1),
            ev.alloc(1),
            ev.incref(7),
            ev.alloc(2, 'int', { tracked: false }),
            ev.link(2, 1),
            ev.unlink(1, 2),
            ev.decref(1),
            ev.decref(1),
            ev.alloc(3),
            ev.alloc(4),
            ev.link(3, 4),
            ev.free(4),
          ],
          { file: 't.jsonl' },
        ),
      );
      expect(errors).toEqual([
        't.jsonl:2: event 1 (alloc): "id": object 1 ("Node") is already alive; an id can be reused only once its object is gone',
        't.jsonl:3: event 2 (incref): "id": object 7 is not alive (never allocated, or already freed)',
        't.jsonl:5: event 4 (link): "src": object 2 ("int") was allocated with "tracked": false (not a GC container), so it cannot reference other objects',
        't.jsonl:6: event 5 (unlink): "dst": object 1 ("Node") has no reference to object 2 ("int") to remove',
        't.jsonl:8: event 7 (decref): "id": object 1 is not alive (never allocated, or already freed)',
        't.jsonl:12: event 11 (free): "id": object 4 ("Node") is still referenced by 1 link from other objects; unlink them first',
      ]);
    });

    it('reports a decref the program cannot make', () => {
      const errors = errorsOf(() => replayEvents([ev.alloc(1), ev.alloc(2), ev.link(1, 2), ev.decref(2), ev.decref(2)]));
      expect(errors).toEqual([
        'test.jsonl:5: event 4 (decref): "id": the program holds no reference to object 2 ("Node") (its 1 reference comes from other objects)',
      ]);
    });

    it('names both events when the trace touches an object the collector freed as garbage', () => {
      const trace = [ev.alloc('a'), ev.alloc('b'), ev.link('a', 'b'), ev.link('b', 'a'), ev.decref('a'), ev.decref('b'), ev.collect(), ev.incref('a')];
      expect(errorsOf(() => replayEvents(trace, { file: 'x.jsonl' }))).toEqual([
        'x.jsonl:8: event 7 (incref): "id": object "a" was freed as unreachable cyclic garbage by the collection at event 6 (x.jsonl:7); the trace contradicts itself under cpython-3.12',
      ]);
      // Under plain reference counting the same trace is consistent.
      expect(replayEvents(trace, { policy: 'refcount-only' }).report.memory.live.objects).toBe(2);
    });

    it('skips bad events and counts them by kind in lenient mode', () => {
      const { report } = replayEvents([ev.alloc(1), ev.decref(5), ev.decref(6), ev.alloc(1), ev.decref(1)], { lenient: true });
      expect(report.trace.skippedByKind).toEqual({ 'unknown-object': 2, 'duplicate-id': 1 });
      expect(report.trace.skippedEvents).toBe(3);
      expect(report.memory.live.objects).toBe(0);
      // The events by op are those applied: with the skipped ones they add up to the trace's events.
      expect(report.events.byOp).toMatchObject({ alloc: 1, decref: 1 });
      expect(Object.values(report.events.byOp).reduce((sum, n) => sum + n, 0) + report.trace.skippedEvents).toBe(report.events.total);
    });

    it('stops after --max-errors problems and says more follow', () => {
      const trace = Array.from({ length: 10 }, (_, i) => ev.decref(i));
      try {
        replayEvents(trace, { maxErrors: 3 });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(TraceErrors);
        const e = error as TraceErrors;
        expect(e.errors).toHaveLength(3);
        expect(e.message.split('\n').at(-1)).toMatch(/^stopped after 3 errors; more follow/);
      }
    });
  });
});
