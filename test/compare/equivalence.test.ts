/**
 * The contract: each run of a comparison is exactly a single `replay` with that
 * configuration, whether it ran in this thread or on a worker, and the same inputs give
 * byte-identical JSON. Workers run the build (dist/compare/worker.js; npm test builds first).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../src/analyze.js';
import { completeEntry, expandSweep, replayOptionsOf, type ConfigurationEntry } from '../../src/compare/configurations.js';
import { MIN_EVENTS_PER_WORKER, runCompare, serializeCompareReport, workerCount } from '../../src/compare/index.js';
import { TraceErrors, UsageError, UserError } from '../../src/errors.js';
import { MAX_RUNS_PER_PASS } from '../../src/compare/lockstep.js';
import { runConfigurations } from '../../src/compare/runners.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { openTrace } from '../../src/trace/index.js';
import { ensureWorkerBuilt } from './helpers.js';
import { ROOT } from '../helpers/cli.js';

const WEB = join(ROOT, 'traces', 'web.jsonl');
const tmp = mkdtempSync(join(tmpdir(), 'memreplay-compare-'));

beforeAll(() => ensureWorkerBuilt(), 180_000);

/** A spread of options: policies, thresholds, gc off, another pool, free lists, old objects. */
const CONFIGURATIONS: ConfigurationEntry[] = [
  ...expandSweep({ policies: ['cpython-3.12', 'cpython-3.9'], thresholds: [[700, 10, 10], [20], [50, 2, 2]] }),
  completeEntry({ policy: 'refcount-only' }),
  completeEntry({ thresholds: [20], gc: 'off' }),
  completeEntry({ thresholds: [30, null, 1], pool: 'malloc', freeLists: 'none', oldObjects: 0 }),
  completeEntry({ policy: 'cpython-3.13', pool: 'pymalloc-3.11', poolParams: { pool_size: 4096 }, freeLists: '3.14' }),
  // The incremental model, whose budget --marked-objects sets (at threshold 5 these two differ).
  completeEntry({ policy: 'cpython-3.14.2', thresholds: [5], markedObjects: 0 }),
  completeEntry({ policy: 'cpython-3.14.2', thresholds: [5], markedObjects: 1000 }),
];

async function singleReplay(trace: string, entry: ConfigurationEntry, extra: { lenient?: boolean } = {}): Promise<string> {
  const { report } = await runReplay({ trace, ...replayOptionsOf(entry), ...extra });
  return JSON.stringify(report, null, 2);
}

const compareJson = async (jobs: number) =>
  [...serializeCompareReport(await runCompare({ trace: WEB, configurations: CONFIGURATIONS, objectives: ['examined', 'peak-bytes'], jobs, minEventsPerWorker: 0 }))].join('');

describe('compare: each run equals a single replay', () => {
  it('in this thread (--jobs 1) and on worker threads, byte for byte', async () => {
    const expected = await Promise.all(CONFIGURATIONS.map((entry) => singleReplay(WEB, entry)));
    // The configurations really differ, or the test would prove little.
    expect(new Set(expected.map((text) => JSON.parse(text).gc.totals.collections)).size).toBeGreaterThan(2);
    const [marked0, marked1000] = expected.slice(-2).map((text) => JSON.parse(text));
    expect(marked0.config.markedObjects).toBe(0);
    expect(marked0.gc.totals.collections).not.toBe(marked1000.gc.totals.collections);
    for (const jobs of [1, 3]) {
      const report = await runCompare({ trace: WEB, configurations: CONFIGURATIONS, objectives: ['examined', 'peak-bytes'], jobs, minEventsPerWorker: 0 });
      expect(report.runs).toHaveLength(CONFIGURATIONS.length);
      // (With workers, a mismatch can also mean a stale build: run npm run build.)
      report.runs.forEach((run, i) => expect(JSON.stringify(run, null, 2), `jobs ${jobs}, ${CONFIGURATIONS[i].label}`).toBe(expected[i]));
    }
  });

  it('gives byte-identical JSON for the same inputs, however the runs were scheduled', async () => {
    const [inProcess, twoWorkers, fourWorkers] = [await compareJson(1), await compareJson(2), await compareJson(4)];
    expect(twoWorkers).toBe(inProcess);
    expect(fourWorkers).toBe(inProcess);
    expect(JSON.parse(inProcess).pareto.length).toBeGreaterThan(0);
  });

  it('counts the events --lenient skipped in every run, as replay does', async () => {
    const path = join(tmp, 'lenient.jsonl');
    const events = ['{"op":"alloc","id":1,"type":"Node","size":48}', '{"op":"alloc","id":2,"type":"Node","size":"big"}', '{"op":"decref","id":9}', '{"op":"link","src":1,"dst":1}', '{"op":"decref","id":1}'];
    writeFileSync(path, `${events.join('\n')}\n`);
    const entries = [completeEntry({ thresholds: [1] }), completeEntry({ policy: 'refcount-only' })];
    const report = await runCompare({ trace: path, configurations: entries, objectives: ['examined', 'peak-bytes'], jobs: 2, minEventsPerWorker: 0, lenient: true });
    for (const [i, entry] of entries.entries()) {
      const single = JSON.parse(await singleReplay(path, entry, { lenient: true }));
      expect(report.runs[i].trace.skippedEvents).toBe(2);
      expect(report.runs[i].trace.skippedEvents).toBe(single.trace.skippedEvents);
      // Key order may differ (decoder kinds first); the counts may not.
      expect(Object.entries(report.runs[i].trace.skippedByKind).sort()).toEqual(Object.entries(single.trace.skippedByKind).sort());
      const run = JSON.parse(JSON.stringify(report.runs[i])) as Record<string, unknown>;
      expect({ ...run, trace: null }).toEqual({ ...single, trace: null });
    }
  });
});

describe('compare: threads', () => {
  it('runs on worker threads what it runs in this thread, in configuration order', async () => {
    const context = { toolVersion: 'test', maxErrors: 20, lenient: false };
    const entries = CONFIGURATIONS.map((entry, index) => ({ index, entry }));
    const run = async (threads: number, onRunDone?: (done: number) => void) => {
      const diagnostics = new Diagnostics();
      const trace = await openTrace(WEB, { diagnostics });
      return runConfigurations({ path: WEB }, { trace, diagnostics }, entries, entries.length, context, threads, { digest: true, onRunDone });
    };
    const finished: number[] = [];
    const onThreads = await run(3, (done) => finished.push(done));
    expect(finished).toEqual(CONFIGURATIONS.map((_, i) => i + 1));
    const here = await run(1);
    expect(onThreads.events).toBe(6000);
    expect(JSON.stringify(onThreads.reports)).toBe(JSON.stringify(here.reports));
    expect(onThreads.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(onThreads.digest).toBe(here.digest);
  });

  it(`replays more configurations than a pass holds (${MAX_RUNS_PER_PASS}) in several passes, with the same reports`, async () => {
    const many = expandSweep({ policies: ['cpython-3.12', 'mark-sweep'], thresholds: Array.from({ length: 10 }, (_, k) => [10 + 7 * k]) });
    expect(many.length).toBeGreaterThan(MAX_RUNS_PER_PASS);
    const report = await runCompare({ trace: WEB, configurations: many, objectives: ['examined', 'peak-bytes'], jobs: 1 });
    for (const i of [0, MAX_RUNS_PER_PASS - 1, MAX_RUNS_PER_PASS, many.length - 1]) expect(JSON.stringify(report.runs[i], null, 2)).toBe(await singleReplay(WEB, many[i]));
  });

  it('reads a trace on stdin once, through a copy that every thread reads, and removes the copy', async () => {
    const fromFile = await compareJson(1);
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith('memreplay-stdin-')).length;
    for (const jobs of [1, 2]) {
      const report = await runCompare({ trace: '-', stdin: Readable.from([readFileSync(WEB)]), configurations: CONFIGURATIONS, objectives: ['examined', 'peak-bytes'], jobs, minEventsPerWorker: 0 });
      expect(report.trace.file).toBe('-');
      expect([...serializeCompareReport(report)].join('').replaceAll('"file": "-"', `"file": ${JSON.stringify(WEB)}`)).toBe(fromFile);
    }
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('memreplay-stdin-')).length).toBe(before);
  });

  it('reads a named pipe once too, through a copy', async () => {
    const fifo = join(tmp, 'trace.fifo');
    execFileSync('mkfifo', [fifo]);
    const writing = writeFile(fifo, readFileSync(WEB));
    const report = await runCompare({ trace: fifo, configurations: CONFIGURATIONS, objectives: ['examined', 'peak-bytes'], jobs: 2, minEventsPerWorker: 0 });
    await writing;
    expect([...serializeCompareReport(report)].join('').replaceAll(JSON.stringify(fifo), JSON.stringify(WEB))).toBe(await compareJson(1));
  });

  it('uses workers only when each gets a million events to replay', () => {
    expect(workerCount(8, 8, 1_000_000, MIN_EVENTS_PER_WORKER)).toBe(8);
    expect(workerCount(2, 8, 1_000_000, MIN_EVENTS_PER_WORKER)).toBe(2);
    expect(workerCount(4, 8, 300_000, MIN_EVENTS_PER_WORKER)).toBe(2);
    expect(workerCount(4, 8, 6_000, MIN_EVENTS_PER_WORKER)).toBe(1);
    expect(workerCount(4, 3, 6_000, 0)).toBe(3);
    expect(workerCount(1, 100, 1e9, MIN_EVENTS_PER_WORKER)).toBe(1);
  });
});

describe('compare: failures', () => {
  it('fails on an invalid trace once, before replaying, with replay\'s messages', async () => {
    const path = join(tmp, 'invalid.jsonl');
    writeFileSync(path, '{"op":"alloc","id":1,"type":"Node","size":"big"}\n');
    const error = await runCompare({ trace: path, configurations: CONFIGURATIONS, objectives: ['examined', 'peak-bytes'], jobs: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TraceErrors);
    expect((error as Error).message).toContain('invalid.jsonl:1: event 0 (alloc): "size" must be an integer >= 0, got "big"');
  });

  it('reports the lowest-numbered failing configuration, wherever it ran', async () => {
    const path = join(tmp, 'heap-error.jsonl');
    writeFileSync(path, '{"op":"alloc","id":1,"type":"Node","size":48}\n{"op":"decref","id":2}\n');
    for (const jobs of [1, 2]) {
      const error = await runCompare({ trace: path, configurations: CONFIGURATIONS.slice(0, 4), objectives: ['examined', 'peak-bytes'], jobs, minEventsPerWorker: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toContain('heap-error.jsonl:2: event 1 (decref)');
      expect((error as Error).message).toContain(`(replaying configuration 1 of 4: ${CONFIGURATIONS[0].label})`);
    }
  });

  it('checks every configuration against the header before replaying any', async () => {
    const entries = [completeEntry({}), completeEntry({ pool: 'pymalloc-3.11', poolParams: JSON.parse('{"__proto__": 1}') as Record<string, number> })];
    const error = await runCompare({ trace: WEB, configurations: entries, objectives: ['examined', 'peak-bytes'], jobs: 1, onRunDone: () => expect.fail('a run started') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain('unknown parameter "__proto__" for pool policy pymalloc-3.11');
    expect(({} as Record<string, unknown>).pool_size).toBeUndefined();
  });
});
