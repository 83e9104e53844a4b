import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { Op, type OpName, type TraceEvent } from '../../src/trace/types.js';
import { WORKLOAD_NAMES, WORKLOAD_PYTHON_VERSION, workloads, type WorkloadModule, type WorkloadName } from '../../src/workload/index.js';
import { ReferenceModel } from './reference-model.js';
import { isSchemaEvent, isSchemaHeader, schemaFailures } from './schema-check.js';

/** Events checked per workload against the reference model (the brief asks for 200k). */
const LONG_RUN_EVENTS = 200_000;

/**
 * One long run per workload, shared by the tests of this file: generated once, lazily.
 * Memory: 200k small objects per workload, released with the test file.
 */
const longRuns = new Map<WorkloadName, TraceEvent[]>();
function longRun(name: WorkloadName): TraceEvent[] {
  let events = longRuns.get(name);
  if (events === undefined) {
    events = [...workloads[name].generate({ events: LONG_RUN_EVENTS, seed: 1 })];
    longRuns.set(name, events);
  }
  return events;
}

function take(iterable: Iterable<TraceEvent>, count: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const event of iterable) {
    if (out.length === count) break;
    out.push(event);
  }
  return out;
}

function isAlloc(event: TraceEvent): event is Extract<TraceEvent, { op: 'alloc' }> {
  return event.op === 'alloc';
}

describe('workload', () => {
  describe('the registry', () => {
    it('registers every workload module in src/workload under its own name', async () => {
      const registered = new Set<unknown>(Object.values(workloads));
      const files = readdirSync(new URL('../../src/workload/', import.meta.url)).filter((file) => file.endsWith('.ts'));
      let modules = 0;
      for (const file of files) {
        const exports = (await import(`../../src/workload/${file.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
        for (const value of Object.values(exports)) {
          const looksLikeWorkload = typeof value === 'object' && value !== null && 'generate' in value && 'generateHeader' in value && 'name' in value;
          if (!looksLikeWorkload) continue;
          modules++;
          expect(registered.has(value), `${file} exports a workload that is not registered`).toBe(true);
        }
      }
      expect(modules).toBe(WORKLOAD_NAMES.length);
      for (const name of WORKLOAD_NAMES) expect(workloads[name].name).toBe(name);
    });

    it('uses every op of the format somewhere', () => {
      const seen = new Set<string>();
      for (const name of WORKLOAD_NAMES) for (const event of longRun(name)) seen.add(event.op);
      expect([...seen].sort()).toEqual((Object.keys(Op) as OpName[]).sort());
    });
  });

  describe.each(WORKLOAD_NAMES)('%s', (name) => {
    const workload: WorkloadModule = workloads[name];

    it('generates exactly the number of events asked for', () => {
      for (const count of [0, 1, 2, 7, 100, 3_333]) expect([...workload.generate({ events: count, seed: 3 })]).toHaveLength(count);
      fc.assert(
        fc.property(fc.nat({ max: 4_000 }), fc.nat(), (count, seed) => {
          let n = 0;
          for (const _ of workload.generate({ events: count, seed })) n++;
          expect(n).toBe(count);
        }),
        { numRuns: 20 },
      );
    });

    it('is deterministic from the seed, and different seeds differ', () => {
      const a = [...workload.generate({ events: 20_000, seed: 11 })];
      const b = [...workload.generate({ events: 20_000, seed: 11 })];
      const c = [...workload.generate({ events: 20_000, seed: 12 })];
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    });

    it(`breaks no rule of the format over ${LONG_RUN_EVENTS} events`, () => {
      const model = new ReferenceModel().applyAll(longRun(name));
      expect(model.violations).toEqual([]);
      expect(model.count).toBe(LONG_RUN_EVENTS);
    });

    it('breaks no rule of the format for any seed', () => {
      fc.assert(
        fc.property(fc.nat({ max: 0xffffffff }), (seed) => {
          const model = new ReferenceModel().applyAll(workload.generate({ events: 25_000, seed }));
          expect(model.violations).toEqual([]);
        }),
        { numRuns: 4 },
      );
    });

    it('writes events and a header that the JSON schemas accept', () => {
      expect(schemaFailures(isSchemaEvent, take(workload.generate({ events: 30_000, seed: 5 }), 30_000))).toEqual([]);
      const header = workload.generateHeader({ events: 30_000, seed: 5 });
      expect(schemaFailures(isSchemaHeader, [header])).toEqual([]);
      expect(header.meta).toMatchObject({ python: WORKLOAD_PYTHON_VERSION, workload: name, seed: 5, events: 30_000 });
    });

    it('streams: the first events of an enormous trace come at once', () => {
      const started = performance.now();
      expect(take(workload.generate({ events: 2 ** 40, seed: 1 }), 1_000)).toHaveLength(1_000);
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it('rejects impossible options with a UsageError', () => {
      for (const options of [{ events: -1, seed: 1 }, { events: 1.5, seed: 1 }, { events: Number.NaN, seed: 1 }, { events: 10, seed: -1 }, { events: 10, seed: 2 ** 32 }]) {
        expect(() => workload.generate(options)).toThrow(UsageError);
      }
    });
  });

  describe('web', () => {
    it('frees almost everything by reference counting, and leaves some cycles as garbage', () => {
      const events = longRun('web');
      const model = new ReferenceModel().applyAll(events);
      const allocs = events.filter(isAlloc).length;
      expect(model.garbage).toBeGreaterThan(0);
      expect(model.freed / allocs).toBeGreaterThan(0.95);
      const cycleTypes = new Set(events.filter(isAlloc).map((event) => event.type));
      expect(cycleTypes.has('traceback') && cycleTypes.has('Connection')).toBe(true);
    });

    it('reuses the ids of freed objects, as CPython reuses addresses', () => {
      const ids = longRun('web').filter(isAlloc).map((event) => event.id);
      expect(new Set(ids).size).toBeLessThan(ids.length / 10);
    });

    it('writes non-decreasing timestamps in microseconds', () => {
      expect(workloads.web.generateHeader({ events: 1, seed: 1 }).meta.timeUnit).toBe('us');
      const times = longRun('web').map((event) => event.t);
      expect(times.every((t) => typeof t === 'number')).toBe(true);
      expect((times[times.length - 1] as number) > 0).toBe(true);
    });
  });

  describe('cache-leak', () => {
    it('grows its reachable live set all the way, and gc.collect() frees nothing', () => {
      const events = longRun('cache-leak');
      const model = new ReferenceModel();
      const reachableAt: number[] = [];
      events.forEach((event, index) => {
        model.apply(event);
        if ((index + 1) % (LONG_RUN_EVENTS / 5) === 0) reachableAt.push(model.reachable);
      });
      for (let i = 1; i < reachableAt.length; i++) expect(reachableAt[i]).toBeGreaterThan(reachableAt[i - 1] * 1.1);
      expect(model.garbage).toBe(0);
      expect(events.some((event) => event.op === 'collect')).toBe(true);
    });
  });

  describe('orm', () => {
    it('uses address-like string ids and leaves dropped batches as cyclic garbage', () => {
      const events = longRun('orm');
      const allocs = events.filter(isAlloc);
      expect(allocs.every((event) => typeof event.id === 'string' && /^0x[0-9a-f]+$/.test(event.id))).toBe(true);
      const model = new ReferenceModel().applyAll(events);
      expect(model.garbage).toBeGreaterThan(allocs.length / 2);
      expect(events[0]).toEqual({ op: 'threshold', gen: 0, value: 2_000 });
      expect(events.some((event) => event.op === 'unlink')).toBe(true);
    });
  });

  describe('batch', () => {
    it('drops each batch with one decref that frees thousands of objects at once', () => {
      const model = new ReferenceModel();
      let longestCascade = 0;
      let collects = 0;
      for (const event of longRun('batch')) {
        const before = model.freed;
        model.apply(event);
        if (event.op === 'decref') longestCascade = Math.max(longestCascade, model.freed - before);
        if (event.op === 'collect') collects++;
      }
      expect(longestCascade).toBeGreaterThan(2_000);
      expect(collects).toBeGreaterThan(2);
      expect(model.garbage).toBe(0);
    });

    it('turns the collector off and on again around every other build, and frees read buffers with free', () => {
      const events = longRun('batch');
      const switches = events.filter((event): event is Extract<TraceEvent, { op: 'gc' }> => event.op === 'gc').map((event) => event.enabled);
      expect(switches.length).toBeGreaterThan(1);
      switches.forEach((enabled, index) => expect(enabled).toBe(index % 2 === 1));
      expect(events.some((event) => event.op === 'free')).toBe(true);
    });
  });

  describe('freeze', () => {
    it('imports with the collector off, freezes once, then serves with it on, and unfreezes near the end', () => {
      const events = longRun('freeze');
      const indexOf = (predicate: (event: TraceEvent) => boolean): number => events.findIndex(predicate);
      expect(events[0]).toEqual({ op: 'gc', enabled: false, t: 0 });
      const freezeAt = indexOf((event) => event.op === 'freeze');
      const unfreezeAt = indexOf((event) => event.op === 'unfreeze');
      expect(events.filter((event) => event.op === 'freeze')).toHaveLength(1);
      expect(events[freezeAt + 1]).toMatchObject({ op: 'gc', enabled: true });
      expect(freezeAt).toBeGreaterThan(LONG_RUN_EVENTS * 0.25);
      expect(indexOf((event) => isAlloc(event) && event.type === 'Request')).toBeGreaterThan(freezeAt);
      expect(unfreezeAt).toBeGreaterThanOrEqual(LONG_RUN_EVENTS * 0.9);
    });

    it('never reuses an id', () => {
      const ids = longRun('freeze').filter(isAlloc).map((event) => event.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('keeps every start-up object reachable until the end', () => {
      const events = longRun('freeze');
      const model = new ReferenceModel();
      const freezeAt = events.findIndex((event) => event.op === 'freeze');
      events.slice(0, freezeAt).forEach((event) => model.apply(event));
      const startup = events.slice(0, freezeAt).filter(isAlloc).map((event) => event.id);
      const aliveAtFreeze = startup.filter((id) => model.get(id) !== undefined);
      events.slice(freezeAt).forEach((event) => model.apply(event));
      expect(aliveAtFreeze.length).toBeGreaterThan(1_000);
      for (const id of aliveAtFreeze) expect(model.get(id)?.garbage).toBe(false);
    });
  });
});
