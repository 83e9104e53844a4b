import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mutator, type Handle } from '../../src/workload/mutator.js';
import { runWorkload } from '../../src/workload/workload.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { ReferenceModel } from './reference-model.js';

/** The events a mutator recorded so far, taken out of it. */
function drain(m: Mutator): TraceEvent[] {
  return m.pending.splice(0);
}

describe('workload/mutator', () => {
  describe('when the program drops the last reference', () => {
    it('frees the object and everything only it held, and hands their ids out again, most recent first', () => {
      const m = new Mutator();
      const list = m.allocContainer('list', 56);
      const item = m.allocAtom('str', 50);
      m.store(list, item);
      m.decref(list);
      expect(m.isAlive(list)).toBe(false);
      expect(m.isAlive(item)).toBe(false);
      expect(m.liveObjects).toBe(0);
      // The cascade freed the list, then the str: the str's id is the most recent.
      expect(m.allocAtom('float', 24)).toBe(item);
      expect(m.allocAtom('float', 24)).toBe(list);
    });

    it('keeps ids unique forever when reuse is off', () => {
      const m = new Mutator({ reuseIds: false });
      const first = m.allocAtom('int', 28);
      m.decref(first);
      expect(m.allocAtom('int', 28)).not.toBe(first);
    });

    it('frees what an unlink leaves unreferenced', () => {
      const m = new Mutator();
      const dict = m.allocContainer('dict', 64);
      const value = m.allocAtom('str', 50);
      m.store(dict, value);
      m.unlink(dict, value);
      expect(m.isAlive(value)).toBe(false);
      expect(m.isAlive(dict)).toBe(true);
    });
  });

  describe('when recording events', () => {
    it('writes exactly one event per call, with tracked: false for atoms and the clock when enabled', () => {
      const m = new Mutator({ clock: true });
      m.advanceClock(5);
      const list = m.allocContainer('list', 56, 'a.py:1');
      const str = m.allocAtom('str', 50);
      m.advanceClock(2);
      m.link(list, str);
      m.collect(0);
      m.mark('done');
      expect(drain(m)).toEqual([
        { op: 'alloc', id: list, type: 'list', size: 56, site: 'a.py:1', t: 5 },
        { op: 'alloc', id: str, type: 'str', size: 50, tracked: false, t: 5 },
        { op: 'link', src: list, dst: str, t: 7 },
        { op: 'collect', gen: 0, t: 7 },
        { op: 'mark', label: 'done', t: 7 },
      ]);
      expect(m.recorded).toBe(5);
    });

    it('spells address ids as distinct hexadecimal addresses', () => {
      const m = new Mutator({ ids: 'address' });
      const handles = Array.from({ length: 100 }, () => m.allocAtom('int', 28));
      const ids = handles.map((handle) => m.idOf(handle));
      expect(new Set(ids).size).toBe(100);
      for (const id of ids) expect(id).toMatch(/^0x7f3a[0-9a-f]{8}$/);
    });
  });

  describe('when a workload breaks a rule', () => {
    it('throws instead of writing an invalid event', () => {
      const m = new Mutator();
      const atom = m.allocAtom('str', 50);
      const list = m.allocContainer('list', 56);
      expect(() => m.link(atom, list)).toThrow(/not a GC container/);
      expect(() => m.unlink(list, atom)).toThrow(/does not exist/);
      m.link(list, atom);
      expect(() => m.free(atom)).toThrow(/still point/);
      m.decref(atom);
      expect(() => m.decref(atom)).toThrow(/does not hold/);
      m.decref(list);
      expect(() => m.incref(list)).toThrow(/not alive/);
    });
  });

  describe('when forgetting garbage', () => {
    it('forgets an unreachable cycle and never reuses its ids', () => {
      const m = new Mutator();
      const a = m.allocContainer('Node', 48);
      const b = m.allocContainer('Node', 48);
      m.link(a, b);
      m.link(b, a);
      m.decref(a);
      m.decref(b);
      expect(m.forgetGarbage([a])).toBe(2);
      expect(m.isAlive(a)).toBe(false);
      expect(m.forgottenObjects).toBe(2);
      const fresh = [m.allocAtom('int', 28), m.allocAtom('int', 28)];
      expect(fresh).not.toContain(a);
      expect(fresh).not.toContain(b);
    });

    it('keeps a cycle that a held object still references', () => {
      const m = new Mutator();
      const holder = m.allocContainer('list', 56);
      const a = m.allocContainer('Node', 48);
      const b = m.allocContainer('Node', 48);
      m.link(a, b);
      m.link(b, a);
      m.link(holder, b);
      m.decref(a);
      m.decref(b);
      expect(m.forgetGarbage([a])).toBe(0);
      expect(m.isAlive(a) && m.isAlive(b)).toBe(true);
    });

    it('keeps what garbage points to alive, without reusing its id later', () => {
      const m = new Mutator();
      const shared = m.allocAtom('str', 50);
      const a = m.allocContainer('Node', 48);
      m.link(a, a);
      m.link(a, shared);
      m.decref(a);
      expect(m.forgetGarbage([a])).toBe(1);
      // The program drops its name: the garbage cycle still references the str (until a collector
      // frees the cycle, which the model cannot know), so its id stays taken.
      m.decref(shared);
      expect(m.isAlive(shared)).toBe(true);
      expect(m.allocAtom('int', 28)).not.toBe(shared);
    });

    /**
     * Random programs: after every event, `forgetGarbage` over everything alive must forget
     * exactly what the independent reference model says just became unreachable.
     */
    it('agrees with an exact reachability model on random programs', () => {
      // Kinds: 0 alloc container, 1 alloc atom, 2 incref, 3 decref, 4 link, 5 unlink; decref and
      // link weighted up so that cycles form and become garbage often.
      const step = fc.tuple(fc.constantFrom(0, 0, 1, 2, 3, 3, 3, 4, 4, 4, 4, 5), fc.nat(), fc.nat());
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), (steps) => {
          const m = new Mutator();
          const model = new ReferenceModel();
          const handles: Handle[] = [];
          const reachable = (): Handle[] => handles.filter((h) => m.isAlive(h) && model.get(h) !== undefined && !model.get(h)?.garbage);
          for (const [kind, x, y] of steps) {
            const live = reachable();
            const held = live.filter((h) => m.heldBy(h) > 0);
            const containers = live.filter((h) => model.get(h)?.tracked === true);
            if (kind === 0 || live.length === 0) handles.push(m.allocContainer('Node', 48));
            else if (kind === 1) handles.push(m.allocAtom('str', 50));
            else if (kind === 2) m.incref(live[x % live.length]);
            else if (kind === 3 && held.length > 0) m.decref(held[x % held.length]);
            else if (kind === 4 && containers.length > 0) m.link(containers[x % containers.length], live[y % live.length]);
            else if (kind === 5) {
              const withEdges = live.filter((h) => m.edgesOf(h).length > 0);
              if (withEdges.length > 0) {
                const src = withEdges[x % withEdges.length];
                const edges = m.edgesOf(src);
                m.unlink(src, edges[y % edges.length]);
              }
            }
            for (const event of drain(m)) model.apply(event);
            m.forgetGarbage(handles.filter((h) => m.isAlive(h)));
            expect(model.violations).toEqual([]);
            expect(m.forgottenObjects).toBe(model.garbage);
            expect(m.liveObjects).toBe(model.reachable);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('when run by the workload driver', () => {
    it('hands out exactly the number of events asked for, cutting a step short', () => {
      const m = new Mutator();
      function* program(): Generator<void> {
        for (;;) {
          for (let i = 0; i < 7; i++) m.mark(`${i}`);
          yield;
        }
      }
      for (const count of [0, 1, 6, 7, 8, 100]) expect([...runWorkload(count, m, program())]).toHaveLength(count);
    });

    it('throws when a program ends before the events asked for', () => {
      const m = new Mutator();
      function* short(): Generator<void> {
        m.mark('only');
        yield;
      }
      expect(() => [...runWorkload(5, m, short())]).toThrow(/stopped producing events/);
    });
  });
});
