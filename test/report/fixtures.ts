/**
 * Reports for the report tests: the sample traces replayed in-process, and a hostile trace whose
 * types, sites, labels and header hold markup, quotes, formulas and prototype names, shaped so
 * that every section of every report has something to show (cyclic garbage, an uncollectable
 * cycle, a growing reachable group, collections, marks).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReplay, type ReplayRequest } from '../../src/analyze.js';
import type { ReplayReport } from '../../src/report/json.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { ROOT } from '../helpers/cli.js';
import { toJsonLines } from '../helpers/trace-text.js';

/** Strings that would do harm if any renderer let them through unescaped. */
export const HOSTILE = {
  scriptClose: '</script><script>alert("type")</script>',
  img: '<img src=x onerror=alert(1)>',
  amp: 'Tom & "Jerry" \'quoted\'',
  proto: '__proto__',
  formula: '=HYPERLINK("http://evil.example/","click")',
  markdown: '|cell|**bold** [link](http://evil.example)',
  siteAttr: 'x" onmouseover="alert(2)',
  siteSvg: '<svg onload=alert(3)>:1',
  label: '</script><img src=x onerror=alert(4)> & done',
  bidi: 'safe\u202Eevil',
} as const;

/** Events of the hostile trace: every kind of leak, collections, marks, with hostile names. */
export function hostileEvents(): TraceEvent[] {
  const events: TraceEvent[] = [];
  let id = 1;
  const registry = id++;
  events.push({ op: 'mark', label: HOSTILE.label });
  events.push({ op: 'alloc', id: registry, type: HOSTILE.img, size: 56, site: HOSTILE.siteSvg });
  events.push({ op: 'mark', label: HOSTILE.proto });
  const types = [HOSTILE.scriptClose, HOSTILE.amp, HOSTILE.formula, HOSTILE.markdown, HOSTILE.bidi];
  for (let round = 0; round < 60; round++) {
    // A registry that only grows: a reachable group that keeps growing.
    const kept = id++;
    events.push({ op: 'alloc', id: kept, type: HOSTILE.proto, size: 64, site: HOSTILE.siteAttr });
    events.push({ op: 'link', src: registry, dst: kept });
    events.push({ op: 'decref', id: kept });
    if (round % 10 === 0) {
      const formula = id++;
      events.push({ op: 'alloc', id: formula, type: HOSTILE.formula, size: 80, site: HOSTILE.markdown });
      events.push({ op: 'link', src: registry, dst: formula });
      events.push({ op: 'decref', id: formula });
    }
    // Churn freed by reference counting.
    for (let k = 0; k < 4; k++) {
      const temp = id++;
      events.push({ op: 'alloc', id: temp, type: types[(round + k) % types.length], size: 32 + 16 * k, site: HOSTILE.formula });
      events.push({ op: 'decref', id: temp });
    }
    // A two-object cycle left behind now and then: cyclic garbage.
    if (round % 6 === 0) {
      const a = id++;
      const b = id++;
      events.push({ op: 'alloc', id: a, type: HOSTILE.scriptClose, size: 48, site: HOSTILE.siteSvg });
      events.push({ op: 'alloc', id: b, type: HOSTILE.proto, size: 48, site: HOSTILE.markdown });
      events.push({ op: 'link', src: a, dst: b });
      events.push({ op: 'link', src: b, dst: a });
      events.push({ op: 'decref', id: a });
      events.push({ op: 'decref', id: b });
    }
    if (round % 20 === 19) events.push({ op: 'mark', label: `${HOSTILE.label} ${round}` });
  }
  // A cycle with a legacy finalizer, then a full collection: uncollectable.
  const legacy = id++;
  const partner = id++;
  events.push({ op: 'alloc', id: legacy, type: HOSTILE.amp, size: 48, site: HOSTILE.siteAttr, finalizer: 'legacy' });
  events.push({ op: 'alloc', id: partner, type: 'list', size: 56, site: HOSTILE.siteAttr });
  events.push({ op: 'link', src: legacy, dst: partner });
  events.push({ op: 'link', src: partner, dst: legacy });
  events.push({ op: 'decref', id: legacy });
  events.push({ op: 'decref', id: partner });
  events.push({ op: 'collect', gen: 2 });
  // More garbage after the collection, left at the end.
  const a = id++;
  const b = id++;
  events.push({ op: 'alloc', id: a, type: HOSTILE.scriptClose, size: 48, site: HOSTILE.siteSvg });
  events.push({ op: 'alloc', id: b, type: HOSTILE.img, size: 48, site: HOSTILE.siteSvg });
  events.push({ op: 'link', src: a, dst: b });
  events.push({ op: 'link', src: b, dst: a });
  events.push({ op: 'decref', id: a });
  events.push({ op: 'decref', id: b });
  return events;
}

const tmp = mkdtempSync(join(tmpdir(), 'memreplay-report-'));

/** Writes the hostile trace as JSON Lines (header meta included) and returns its path. */
export function writeHostileTrace(directory = tmp): string {
  const path = join(directory, 'hostile.jsonl');
  const header = { format: 'memreplay' as const, version: 1 as const, meta: { python: '3.12.1', description: HOSTILE.scriptClose, owner: HOSTILE.amp } };
  writeFileSync(path, toJsonLines(hostileEvents(), header));
  return path;
}

/** The report of a replay, in-process (the same pipeline as the CLI). */
export async function reportOf(request: ReplayRequest): Promise<ReplayReport> {
  return (await runReplay(request)).report;
}

/** A sample trace's report (`traces/NAME.jsonl`), with the file named as the CLI would show it. */
export async function sampleReport(name: string, request: Omit<ReplayRequest, 'trace'> = {}): Promise<ReplayReport> {
  const report = await reportOf({ trace: join(ROOT, 'traces', `${name}.jsonl`), ...request });
  report.trace.file = `traces/${name}.jsonl`;
  return report;
}

/** The hostile trace's report, replayed with collections small enough to run. */
export async function hostileReport(): Promise<ReplayReport> {
  return reportOf({ trace: writeHostileTrace(), thresholds: [25] });
}

/**
 * A report stretched to the limits of the JSON contract, without replaying a long trace: 20,000
 * listed collections, 5,000 marks, 20 group series and 100 listed arenas on top of a real
 * report's 2,048-sample timeline. It checks that charts and tables stay bounded.
 */
export function stretchedReport(base: ReplayReport): ReplayReport {
  const report = structuredClone(base);
  const events = 100_000_000;
  const samples = 2048;
  report.trace.events = events;
  report.events.total = events;
  const series: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(base.timeline.series)) {
    series[name] = Array.from({ length: samples }, (_, i) => (name === 'event' ? Math.round((i * events) / (samples - 1)) : (values[i % values.length] ?? 0) * (1 + i / samples)));
  }
  report.timeline.series = series;
  report.timeline.samples = samples;
  report.timeline.stride = events / samples;
  report.timeline.groups = Array.from({ length: 20 }, (_, g) => ({ type: `Type${g}`, site: `app/module${g}.py:${g}`, liveBytes: Array.from({ length: samples }, (_, i) => (g + 1) * i) }));
  report.timeline.marks = Array.from({ length: 5000 }, (_, i) => ({ event: i * 20_000, time: null, label: `phase ${i}` }));
  report.timeline.marksOmitted = 123;
  report.gc.collections.list = Array.from({ length: 20_000 }, (_, i) => ({
    event: i * 5000,
    generation: i % 100 === 0 ? 2 : i % 10 === 0 ? 1 : 0,
    reason: 'automatic' as const,
    examined: 100 + (i % 700),
    collected: i % 7,
    promoted: i % 11,
    uncollectable: 0,
    finalizers: 0,
  }));
  report.gc.collections.total = 25_000;
  report.gc.collections.omitted = 5_000;
  if (report.pool !== null) {
    report.pool.arenaUsage = {
      arenaBytes: 1 << 20,
      arenas: Array.from({ length: 100 }, (_, a) => ({ arena: a, pools: 63, poolsInUse: 1 + (a % 63), blocksInUse: 10 * a, blockBytes: a * 10_000 })),
      omitted: 400,
    };
  }
  return report;
}
