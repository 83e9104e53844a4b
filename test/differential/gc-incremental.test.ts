/**
 * The incremental collector's model (src/gc/incremental.ts, `cpython-3.14.2`) against CPython
 * 3.14.2 running in pyodide: the same random traces as gc-exactness.test.ts, run by the same
 * driver, must give the same `gc.get_stats()` deltas and `gc.get_count()`.
 *
 * pyodide is a development dependency, so it is there wherever `npm ci` ran; the tests fail
 * rather than skip when it is missing under CI=true.
 */
import { describe, expect, it } from 'vitest';
import { runOracle, type OracleResult } from '../../src/oracle/cpython.js';
import { loadPyodideOnce, pyodideRunner } from '../../src/oracle/pyodide.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { randomGcTrace } from '../helpers/random-trace.js';
import { ev, replayEvents } from '../helpers/replay.js';

const pyodide = await loadPyodideOnce();
if (pyodide === null && process.env.CI === 'true') throw new Error('pyodide is not installed (it is a devDependency: run npm ci)');
const run = pyodide === null ? null : pyodideRunner(pyodide);

function modelOf(policy: string, events: TraceEvent[], oracle: OracleResult) {
  const { report } = replayEvents(events, { policy, oldObjects: oracle.oldObjects, markedObjects: oracle.markedObjects });
  return { generations: report.gc.generations, count: report.gc.count };
}

function interpreterOf(oracle: OracleResult) {
  return { generations: oracle.generations, count: oracle.count };
}

/** The traces of gc-exactness.test.ts. */
function traceFor(seed: number): TraceEvent[] {
  return randomGcTrace(seed, { events: 4000, legacyFinalizers: seed % 3 === 0, ...(seed % 2 === 0 ? {} : { collectWeight: 0.2, freeze: false }) });
}

/** Dropped 2-cycles only: the budget alone decides when an increment collects. */
function droppedCycles(threshold0: number, cycles: number): TraceEvent[] {
  const events: TraceEvent[] = [ev.threshold(0, threshold0)];
  for (let i = 0; i < cycles; i++) {
    const [a, b] = [2 * i, 2 * i + 1];
    events.push(ev.alloc(a), ev.alloc(b), ev.link(a, b), ev.link(b, a), ev.decref(a), ev.decref(b));
  }
  return events;
}

describe.skipIf(run === null)('cpython-3.14.2 (incremental) against CPython 3.14.2 in pyodide', () => {
  it('the driver runs 3.14.2 and measures the objects its roots reach', async () => {
    const oracle = await runOracle(droppedCycles(2000, 10), run!);
    expect(oracle.python).toBe('3.14.2');
    expect(oracle.markedObjects).toBeGreaterThan(1000);
    expect(oracle.markedObjects).toBeLessThanOrEqual(oracle.oldObjects);
  });

  it.each([50, 500, 2000])('dropped 2-cycles, threshold %i: increments wait for the budget, then collect young', async (threshold0) => {
    const events = droppedCycles(threshold0, 20000);
    const oracle = await runOracle(events, run!);
    expect(oracle.generations[1].collections).toBeGreaterThan(0);
    expect(modelOf('cpython-3.14.2', events, oracle)).toEqual(interpreterOf(oracle));
  });

  // Seed 6 (legacy finalizers, freeze) diverges: the model's increments find 6 objects
  // uncollectable that 3.14.2 finds only in a later full collection. Not understood yet; the
  // test fails if the divergence goes away, so that this note is removed with it.
  it.each([1, 2, 3, 4, 5, 7, 8, 9, 10])('seed %i: gc.get_stats() deltas and gc.get_count() match exactly', async (seed) => {
    const events = traceFor(seed);
    const oracle = await runOracle(events, run!);
    expect(oracle.generations.reduce((n, g) => n + g.collections, 0)).toBeGreaterThan(0);
    expect(modelOf('cpython-3.14.2', events, oracle)).toEqual(interpreterOf(oracle));
  });

  it.fails('seed 6: known divergence (uncollectable objects found by an increment)', async () => {
    const events = traceFor(6);
    const oracle = await runOracle(events, run!);
    expect(modelOf('cpython-3.14.2', events, oracle)).toEqual(interpreterOf(oracle));
  });

  it('the traces tell the incremental collector from 3.14.5+ (the test has the power to fail)', async () => {
    let differing = 0;
    for (const events of [droppedCycles(500, 20000), traceFor(1), traceFor(2), traceFor(4)]) {
      const oracle = await runOracle(events, run!);
      if (JSON.stringify(modelOf('cpython-3.14', events, oracle)) !== JSON.stringify(interpreterOf(oracle))) differing++;
    }
    expect(differing).toBeGreaterThanOrEqual(3);
  });
});
