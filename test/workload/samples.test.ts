import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { openTrace, readAllChunks } from '../../src/trace/index.js';
import type { TraceEncoding, TraceEvent } from '../../src/trace/types.js';
import { traceToBuffer } from '../../src/trace/write.js';
import { CHAIN_NODES, RING_NODES, sampleTraces, type SampleTraceName } from '../../src/workload/samples.js';
import { ReferenceModel } from './reference-model.js';
import { isSchemaEvent, isSchemaHeader, schemaFailures } from './schema-check.js';
import { asDecoded, eventsOfChunks, parseTraceText } from './trace-text.js';

const ENCODINGS: TraceEncoding[] = ['jsonl', 'json', 'csv'];
const NAMES = Object.keys(sampleTraces) as SampleTraceName[];

function tracePath(name: string, format: TraceEncoding): string {
  return fileURLToPath(new URL(`../../traces/${name}.${format}`, import.meta.url));
}

function labelIndex(events: readonly TraceEvent[], prefix: string): number {
  const index = events.findIndex((event) => event.op === 'mark' && event.label.startsWith(prefix));
  expect(index, `a mark starting with "${prefix}"`).toBeGreaterThanOrEqual(0);
  return index;
}

/** The reference model after the first `count` events. */
function modelAfter(events: readonly TraceEvent[], count: number): ReferenceModel {
  return new ReferenceModel().applyAll(events.slice(0, count));
}

describe('traces (the bundled samples)', () => {
  describe.each(NAMES)('%s', (name) => {
    const sample = sampleTraces[name];

    it.each(ENCODINGS)(`is what the generator gives, byte for byte, in traces/${name}.%s`, (format) => {
      const committed = readFileSync(tracePath(name, format));
      const regenerated = traceToBuffer(sample.events(), sample.header, format);
      expect(regenerated.equals(committed), `traces/${name}.${format} is stale: run npm run build && node scripts/make-traces.mjs`).toBe(true);
    });

    it('holds the same header and events in its three encodings', () => {
      const expected = { header: sample.header, events: sample.events().map((event) => Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined))) };
      for (const format of ENCODINGS) expect(parseTraceText(readFileSync(tracePath(name, format), 'utf8'), format)).toEqual(expected);
    });

    it.each(ENCODINGS)('decodes through openTrace from its .%s file to the same events', async (format) => {
      const diagnostics = new Diagnostics();
      const trace = await openTrace(tracePath(name, format), { diagnostics });
      const events = eventsOfChunks(trace, await readAllChunks(trace));
      diagnostics.finish();
      expect(trace.header).toEqual(sample.header);
      expect(events).toEqual(sample.events().map(asDecoded));
    });

    it('follows the schemas and breaks no rule of the format', () => {
      const events = sample.events();
      expect(schemaFailures(isSchemaHeader, [sample.header])).toEqual([]);
      expect(schemaFailures(isSchemaEvent, events)).toEqual([]);
      expect(new ReferenceModel().applyAll(events).violations).toEqual([]);
      expect(sample.header.meta.python).toBe('3.12.1');
    });

    it('is explained in traces/README.md', () => {
      const readme = readFileSync(fileURLToPath(new URL('../../traces/README.md', import.meta.url)), 'utf8');
      expect(readme).toContain(`\`${name}\``);
      expect(readme).toContain('node scripts/make-traces.mjs');
    });
  });

  describe('refcount-frees', () => {
    const events = sampleTraces['refcount-frees'].events();

    it('frees every object by reference counting, leaving nothing', () => {
      const model = new ReferenceModel().applyAll(events);
      expect(model.freed).toBe(events.filter((event) => event.op === 'alloc').length);
      expect(model.alive).toBe(0);
      expect(model.garbage).toBe(0);
      expect(events.some((event) => event.op === 'collect')).toBe(false);
    });

    it('frees the list, its str, its tuple and the tuple\'s floats at the decref of the last name', () => {
      const mark = labelIndex(events, 'del alias');
      const before = modelAfter(events, mark + 1);
      const after = modelAfter(events, mark + 2);
      expect(events[mark + 1]).toEqual({ op: 'decref', id: 1 });
      expect(before.get(1)?.program).toBe(1);
      expect(after.freed - before.freed).toBe(5);
    });

    it('reuses the id of a freed object', () => {
      const ids = events.filter((event): event is Extract<TraceEvent, { op: 'alloc' }> => event.op === 'alloc').map((event) => event.id);
      expect(ids.filter((id) => id === 1)).toHaveLength(2);
    });
  });

  describe('cycle', () => {
    const events = sampleTraces.cycle.events();

    it('frees the chain by reference counting at its head\'s decref', () => {
      const mark = labelIndex(events, 'del head: a chain');
      expect(modelAfter(events, mark + 2).freed - modelAfter(events, mark + 1).freed).toBe(2 * CHAIN_NODES);
    });

    it('leaves the ring, the self-referencing list and both finalizer cycles as garbage until gc.collect()', () => {
      const ring = labelIndex(events, 'del head: a ring');
      expect(modelAfter(events, ring + 2).garbage).toBe(2 * RING_NODES);
      const collectAt = events.findIndex((event) => event.op === 'collect');
      const beforeCollect = modelAfter(events, collectAt);
      // Ring nodes and their names, the list, Resource + Owner, LegacyHandle + its list.
      expect(beforeCollect.garbage).toBe(2 * RING_NODES + 1 + 2 + 2);
      expect(beforeCollect.reachable).toBe(0);
      expect(events[collectAt]).toEqual({ op: 'collect', gen: 2 });
      expect(events[0]).toEqual({ op: 'gc', enabled: false });
    });

    it('has one cycle through a __del__ and one through a legacy finalizer', () => {
      const finalizers = events.flatMap((event) => (event.op === 'alloc' && event.finalizer !== undefined ? [event.finalizer] : []));
      expect(finalizers.sort()).toEqual(['del', 'legacy']);
    });
  });

  describe('web', () => {
    it('is the main sample: 3.12.1, a few thousand events, with cycles of both kinds left as garbage', () => {
      const sample = sampleTraces.web;
      const events = sample.events();
      expect(events.length).toBeGreaterThanOrEqual(2_000);
      expect(events.length).toBeLessThanOrEqual(10_000);
      const types = new Set(events.flatMap((event) => (event.op === 'alloc' ? [event.type] : [])));
      expect(types.has('traceback') && types.has('Connection')).toBe(true);
      const model = new ReferenceModel().applyAll(events);
      expect(model.garbage).toBeGreaterThan(0);
      expect(events.some((event) => event.op === 'mark')).toBe(true);
    });
  });

  describe('cache-leak', () => {
    it('grows its reachable objects from quarter to quarter, and has gc.collect() calls that cannot help', () => {
      const events = sampleTraces['cache-leak'].events();
      const quarters = [1, 2, 3, 4].map((q) => modelAfter(events, Math.floor((events.length * q) / 4)).reachable);
      for (let i = 1; i < quarters.length; i++) expect(quarters[i]).toBeGreaterThan(quarters[i - 1]);
      expect(events.some((event) => event.op === 'collect')).toBe(true);
      expect(new ReferenceModel().applyAll(events).garbage).toBe(0);
    });
  });

  describe('freeze', () => {
    it('freezes after start-up and unfreezes near the end', () => {
      const events = sampleTraces.freeze.events();
      const freezeAt = events.findIndex((event) => event.op === 'freeze');
      const unfreezeAt = events.findIndex((event) => event.op === 'unfreeze');
      expect(events[0]).toMatchObject({ op: 'gc', enabled: false });
      expect(freezeAt).toBeGreaterThan(events.length / 4);
      expect(unfreezeAt).toBeGreaterThan(freezeAt);
      expect(modelAfter(events, freezeAt).reachable).toBeGreaterThan(100);
    });
  });
});
