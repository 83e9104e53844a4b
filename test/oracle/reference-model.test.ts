import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReferenceHeap, objectKey } from '../../src/oracle/reference-model.js';

describe('oracle/reference-model', () => {
  describe('when ids are normalized', () => {
    it('reads canonical integer strings as numbers, like the decoders', () => {
      expect(objectKey('12')).toBe(12);
      expect(objectKey('012')).toBe('012');
      expect(objectKey('a')).toBe('a');
      expect(objectKey(7)).toBe(7);
    });
  });

  describe('when the last reference goes', () => {
    it('frees the object and cascades down a chain', () => {
      const heap = new ReferenceHeap();
      const a = heap.alloc('a', true, 'none');
      const b = heap.alloc('b', true, 'none');
      const c = heap.alloc('c', true, 'none');
      heap.link(a, b);
      heap.link(b, c);
      heap.decref(c);
      heap.decref(b);
      expect([heap.alive[b], heap.alive[c]]).toEqual([true, true]);
      heap.decref(a);
      expect([heap.alive[a], heap.alive[b], heap.alive[c]]).toEqual([false, false, false]);
      expect(heap.lookup('c')).toBe(-1);
    });

    it('keeps a dropped cycle alive but unreachable', () => {
      const heap = new ReferenceHeap();
      const a = heap.alloc('a', true, 'none');
      const b = heap.alloc('b', true, 'none');
      heap.link(a, b);
      heap.link(b, a);
      heap.decref(a);
      heap.decref(b);
      expect(heap.alive[a]).toBe(true);
      expect(heap.isReachable(a)).toBe(false);
      expect(heap.pathTo(b)).toBeNull();
    });

    it('survives a chain deeper than any call stack', () => {
      const heap = new ReferenceHeap();
      const root = heap.alloc(0, true, 'none');
      let tail = root;
      for (let i = 1; i < 20_000; i++) {
        const next = heap.alloc(i, true, 'none');
        heap.link(tail, next);
        heap.decref(next);
        tail = next;
      }
      heap.decref(root);
      expect(heap.alive[tail]).toBe(false);
    });
  });

  describe('when an object is reached through containers', () => {
    it('gives the root slot and the list index of each step', () => {
      const heap = new ReferenceHeap();
      const a = heap.alloc('a', true, 'none');
      const filler = heap.alloc('f', false, 'none');
      const b = heap.alloc('b', true, 'none');
      const c = heap.alloc('c', true, 'none');
      heap.link(a, filler);
      heap.link(a, b);
      heap.link(b, c);
      heap.decref(b);
      heap.decref(c);
      // a holds [filler, b]; b holds [c]: c is R[slot of a][1][0].
      expect(heap.pathTo(c)).toEqual({ rootSlot: heap.lastSlot(a), indexes: [1, 0] });
    });

    it('deletes the last occurrence of a duplicated edge', () => {
      const heap = new ReferenceHeap();
      const a = heap.alloc('a', true, 'none');
      const b = heap.alloc('b', true, 'none');
      const c = heap.alloc('c', true, 'none');
      heap.link(a, b);
      heap.link(a, c);
      heap.link(a, b);
      expect(heap.unlink(a, b)).toBe(2);
      expect(heap.referents[a]).toEqual([b, c]);
      expect(heap.edgeCount(a, b)).toBe(1);
    });
  });

  describe('when slots are reused', () => {
    it('never hands out a slot that still holds a reference', () => {
      fc.assert(
        fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (steps) => {
          const heap = new ReferenceHeap();
          const held: number[] = [];
          for (const take of steps) {
            if (take || held.length === 0) held.push(heap.alloc(held.length, true, 'none'));
            else heap.decref(held.pop() as number);
          }
          const slots = held.map((object) => heap.lastSlot(object));
          expect(new Set(slots).size).toBe(slots.length);
          expect(Math.max(-1, ...slots)).toBeLessThan(heap.slotCount);
        }),
      );
    });
  });
});
