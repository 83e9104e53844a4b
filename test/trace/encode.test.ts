import { describe, expect, it } from 'vitest';
import { TraceErrors } from '../../src/errors.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { ChunkWriter, EventSink, canonicalIntegerOf } from '../../src/trace/encode.js';
import { AllocFlag, Finalizer, Op, StringTable, objectIdOf } from '../../src/trace/types.js';
import type { EventChunk, TraceEvent } from '../../src/trace/types.js';

function writer(chunkRows = 8): ChunkWriter {
  return new ChunkWriter(new StringTable(), new StringTable(), chunkRows);
}

/** Writes events with consecutive indices and returns every chunk. */
function encode(events: TraceEvent[], chunkRows = 8): { chunks: EventChunk[]; w: ChunkWriter } {
  const w = writer(chunkRows);
  events.forEach((event, index) => expect(w.write(event, index, index + 1)).toBeNull());
  w.flush();
  return { chunks: w.ready.splice(0), w };
}

describe('trace/encode', () => {
  describe('canonicalIntegerOf', () => {
    it.each([
      ['0', 0],
      ['12', 12],
      ['9007199254740991', 9007199254740991],
      ['012', -1],
      ['00', -1],
      ['', -1],
      ['-1', -1],
      ['+1', -1],
      ['1e3', -1],
      [' 1', -1],
      ['1.0', -1],
      ['9007199254740992', -1],
      ['99999999999999999', -1],
      ['１２', -1],
    ])('reads %j as %d', (text, expected) => {
      expect(canonicalIntegerOf(text)).toBe(expected);
    });
  });

  describe('when events are written to columns', () => {
    it('fills the columns of an alloc row as the EventChunk table says', () => {
      const { chunks, w } = encode([
        { op: 'alloc', id: 7, type: 'list', size: 56, t: 1.5 },
        { op: 'alloc', id: 'key', type: 'dict', size: 232, tracked: false, site: 'a.py:3', finalizer: 'legacy' },
        { op: 'alloc', id: '12', type: 'list', size: 0, site: 'a.py:3', finalizer: 'del' },
      ]);
      const [chunk] = chunks;
      expect(chunk.length).toBe(3);
      expect([...chunk.op]).toEqual([Op.alloc, Op.alloc, Op.alloc]);
      expect(chunk.obj[0]).toBe(7);
      expect(chunk.obj[1]).toBe(-1);
      expect(chunk.strings).toEqual(['key']);
      expect(chunk.obj[2]).toBe(12);
      expect([...chunk.arg]).toEqual([56, 232, 0]);
      expect([...chunk.aux]).toEqual([0, 1, 0]);
      expect(w.types.values).toEqual(['list', 'dict']);
      expect([...chunk.site]).toEqual([-1, 0, 0]);
      expect(w.sites.values).toEqual(['a.py:3']);
      expect(chunk.flags[0]).toBe(0);
      expect(chunk.flags[1]).toBe(AllocFlag.untracked | (Finalizer.legacy << AllocFlag.finalizerShift));
      expect(chunk.flags[2]).toBe(Finalizer.del << AllocFlag.finalizerShift);
      expect(chunk.time[0]).toBe(1.5);
      expect(chunk.time[1]).toBeNaN();
      expect([...chunk.line]).toEqual([1, 2, 3]);
    });

    it('fills the columns of every other op', () => {
      const { chunks } = encode(
        [
          { op: 'incref', id: 'a' },
          { op: 'decref', id: 3 },
          { op: 'free', id: 'a' },
          { op: 'link', src: 'a', dst: 'b' },
          { op: 'unlink', src: 4, dst: '5' },
          { op: 'resize', id: 4, size: 99 },
          { op: 'collect' },
          { op: 'collect', gen: 1 },
          { op: 'gc', enabled: true },
          { op: 'gc', enabled: false },
          { op: 'threshold', gen: 2, value: -5 },
          { op: 'freeze' },
          { op: 'unfreeze' },
          { op: 'mark', label: 'b' },
          { op: 'mark', label: 'start' },
        ],
        32,
      );
      const [chunk] = chunks;
      const rows = Array.from({ length: chunk.length }, (_, i) => [chunk.op[i], chunk.obj[i], chunk.arg[i], chunk.aux[i]]);
      expect(chunk.strings).toEqual(['a', 'b', 'start']);
      expect(rows).toEqual([
        [Op.incref, -1, 0, 0],
        [Op.decref, 3, 0, 0],
        [Op.free, -1, 0, 0],
        [Op.link, -1, -2, 0],
        [Op.unlink, 4, 5, 0],
        [Op.resize, 4, 99, 0],
        [Op.collect, 0, 2, 0],
        [Op.collect, 0, 1, 0],
        [Op.gc, 0, 1, 0],
        [Op.gc, 0, 0, 0],
        [Op.threshold, 0, -5, 2],
        [Op.freeze, 0, 0, 0],
        [Op.unfreeze, 0, 0, 0],
        // A mark's arg indexes `strings` directly; the label "b" is the string id "b" above.
        [Op.mark, 0, 1, 0],
        [Op.mark, 0, 2, 0],
      ]);
      expect(objectIdOf(chunk, chunk.arg[3])).toBe('b');
    });

    it('keeps type and site indices across chunks, and strings per chunk', () => {
      const events: TraceEvent[] = [
        { op: 'alloc', id: 's1', type: 'list', size: 1, site: 'x' },
        { op: 'alloc', id: 's2', type: 'tuple', size: 1 },
        { op: 'alloc', id: 's2', type: 'list', size: 1, site: 'x' },
      ];
      const { chunks } = encode(events, 2);
      expect(chunks.map((c) => c.length)).toEqual([2, 1]);
      expect([...chunks[1].aux]).toEqual([0]);
      expect([...chunks[1].site]).toEqual([0]);
      expect(chunks[0].strings).toEqual(['s1', 's2']);
      expect(chunks[1].strings).toEqual(['s2']);
      expect(objectIdOf(chunks[1], chunks[1].obj[0])).toBe('s2');
    });
  });

  describe('when chunks fill up', () => {
    it('hands out chunks of chunkRows rows with the index of their first event', () => {
      const events: TraceEvent[] = Array.from({ length: 7 }, (_, i) => ({ op: 'incref', id: i }));
      const { chunks } = encode(events, 3);
      expect(chunks.map((c) => [c.firstIndex, c.length, [...c.obj]])).toEqual([
        [0, 3, [0, 1, 2]],
        [3, 3, [3, 4, 5]],
        [6, 1, [6]],
      ]);
      for (const chunk of chunks) expect(chunk.op.length).toBe(chunk.length);
    });
  });

  describe('when an event is skipped', () => {
    it('ends the chunk, so that row i is still event firstIndex + i', () => {
      const w = writer(8);
      for (const index of [0, 1, 3, 4, 8]) expect(w.write({ op: 'incref', id: index }, index, index + 1)).toBeNull();
      w.flush();
      expect(w.ready.map((c) => [c.firstIndex, [...c.obj]])).toEqual([
        [0, [0, 1]],
        [3, [3, 4]],
        [8, [8]],
      ]);
    });

    it('shares the string table of the backing chunk between its pieces', () => {
      const w = writer(8);
      w.write({ op: 'incref', id: 'a' }, 0, 1);
      w.write({ op: 'incref', id: 'b' }, 2, 3);
      w.flush();
      const [first, second] = w.ready;
      expect(objectIdOf(first, first.obj[0])).toBe('a');
      expect(objectIdOf(second, second.obj[0])).toBe('b');
    });
  });

  describe('when timestamps go back', () => {
    it('refuses the event, keeps the last good time, and ignores events without t', () => {
      const w = writer();
      expect(w.write({ op: 'freeze', t: 5 }, 0, 1)).toBeNull();
      expect(w.write({ op: 'freeze' }, 1, 2)).toBeNull();
      expect(w.write({ op: 'freeze', t: 5 }, 2, 3)).toBeNull();
      expect(w.write({ op: 'freeze', t: 4.5 }, 3, 4)).toBe('"t" must be non-decreasing, got 4.5 after 5');
      expect(w.write({ op: 'freeze', t: 5 }, 4, 5)).toBeNull();
      w.flush();
      expect(w.ready.flatMap((c) => [...c.line])).toEqual([1, 2, 3, 5]);
    });
  });

  describe('EventSink', () => {
    it('reports schema and time-order problems with their location, and skips the event', () => {
      const diagnostics = new Diagnostics({ maxErrors: 5, lenient: false });
      const sink = new EventSink('t.jsonl', diagnostics, writer());
      sink.accept({ op: 'freeze', t: 3 }, 1, 0);
      sink.accept({ op: 'free' }, 2, 1);
      sink.accept({ op: 'unfreeze', t: 2 }, 3, 2);
      sink.writer.flush();
      expect(diagnostics.errors.map((e) => [e.kind, e.message])).toEqual([
        ['schema', 't.jsonl:2: event 1 (free): missing required field "id" (an integer >= 0 or a non-empty string)'],
        ['time-order', 't.jsonl:3: event 2 (unfreeze): "t" must be non-decreasing, got 2 after 3'],
      ]);
      expect(sink.writer.ready.map((c) => c.length)).toEqual([1]);
      expect(() => diagnostics.finish()).toThrow(TraceErrors);
    });
  });
});
