/**
 * The replay report as JSON: the machine-readable contract (`schemas/replay-report.schema.json`)
 * that `--json` writes, that `memreplay report` re-renders, and that budgets and diffs read.
 *
 * Pure: `buildReport` turns a `ReplayResult` into plain data, with no IO, no clock and no
 * randomness, so the same trace and settings give byte-identical JSON.
 */
import type { ReplayResult } from '../replay/index.js';
import type { ChainLink, GarbageCluster, LeakSection, ReachableGroup, ReachableSection } from '../replay/leaks.js';
import type { FreeListStats } from '../pool/free-list.js';
import type { PoolSnapshot } from '../pool/pool.js';
import type { CollectionRecord, GenerationStats } from '../gc/collector.js';
import type { TraceMeta } from '../trace/types.js';

export const REPORT_FORMAT = 'memreplay-report';
export const REPORT_VERSION = 1;
/** Collections listed one by one; totals always cover all of them. */
export const MAX_LISTED_COLLECTIONS = 20000;
/** Leak groups given a live-bytes series in the timeline. */
export const MAX_GROUP_SERIES = 20;

/** One collection as the report lists it: the collector's record and the event it ran at. */
export interface CollectionEntry extends CollectionRecord {
  event: number;
}

export interface ReplayReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  tool: { name: 'memreplay'; version: string };
  trace: {
    file: string;
    events: number;
    meta: TraceMeta;
    /** Events skipped by `--lenient`, by kind of problem. */
    skippedEvents: number;
    skippedByKind: Record<string, number>;
  };
  config: {
    policy: string;
    policyRequested: string;
    covers: string;
    tracesCycles: boolean;
    /** The collector is incremental (3.14.1–3.14.4): generation 1 is its increments and visited space, 2 its full collections and pending space. */
    incremental?: boolean;
    thresholds: number[];
    oldObjects: number;
    /** `--marked-objects` / `meta.markedObjects`, when given (the 3.14.1–3.14.4 model reads it). */
    markedObjects?: number;
    automaticCollection: boolean;
    freeLists: string;
    pool: string | null;
    poolParams: Record<string, number>;
  };
  events: { total: number; byOp: Record<string, number> };
  gc: {
    /** Mirrors `gc.get_stats()`: the changes over the trace. */
    generations: GenerationStats[];
    /** Mirrors `gc.get_count()` at the end of the trace. */
    count: number[];
    thresholds: number[];
    enabled: boolean;
    /** Objects of the trace on each generation's list at the end. */
    generationSizes: number[];
    frozen: number;
    promotedInto: number[];
    longLived: { pending: number; total: number };
    totals: {
      collections: number;
      automatic: number;
      explicit: number;
      collected: number;
      uncollectable: number;
      finalizersRun: number;
      examined: number;
      /** The most objects one collection examined: the longest pause, as a proxy. */
      largestExamined: number;
    };
    collections: { total: number; omitted: number; list: CollectionEntry[] };
  };
  memory: {
    allocated: { objects: number; bytes: number };
    freedByRefcount: number;
    freedByCollector: number;
    live: { objects: number; bytes: number };
    peak: { objects: number; objectsEvent: number; bytes: number; bytesEvent: number };
  };
  garbageLatency: { unit: 'events'; objects: number; median: number; p95: number; max: number; mean: number };
  leaks: {
    cyclicGarbage: LeakSection<GarbageCluster>;
    uncollectable: LeakSection<GarbageCluster>;
    /** `sites`/`sitesOmitted` are absent from reports written before they were added. */
    reachable: LeakSection<ReachableGroup> & Partial<Pick<ReachableSection, 'sites' | 'sitesOmitted'>>;
  };
  /** The allocator model's state at the end; null when no pool policy ran. */
  pool: PoolSnapshot | null;
  /** The per-type free lists: hits, misses, overflows. */
  freeLists: FreeListStats[];
  timeline: {
    stride: number;
    samples: number;
    series: Record<string, number[]>;
    groups: { type: string; site: string | null; liveBytes: number[] }[];
    marks: { event: number; time: number | null; label: string }[];
    marksOmitted: number;
  };
}

export interface ReportContext {
  toolVersion: string;
  skippedByKind: Record<string, number>;
  config: {
    thresholds: number[];
    oldObjects: number;
    /** `--marked-objects` / `meta.markedObjects`, when given (the 3.14.1–3.14.4 model reads it). */
    markedObjects?: number;
    automaticCollection: boolean;
    freeLists: string;
    pool: string | null;
    poolParams: Record<string, number>;
  };
}

export function buildReport(result: ReplayResult, context: ReportContext): ReplayReport {
  const stats = result.stats;
  const log = stats.collections;
  const list: CollectionEntry[] = [];
  let automatic = 0;
  let collected = 0;
  let uncollectable = 0;
  let finalizersRun = 0;
  let examined = 0;
  let largestExamined = 0;
  for (let i = 0; i < log.length; i++) {
    automatic += log.automatic[i];
    collected += log.collected[i];
    uncollectable += log.uncollectable[i];
    finalizersRun += log.finalizers[i];
    examined += log.examined[i];
    if (log.examined[i] > largestExamined) largestExamined = log.examined[i];
    if (i < MAX_LISTED_COLLECTIONS) {
      list.push({
        event: log.event[i],
        generation: log.generation[i],
        reason: log.automatic[i] ? 'automatic' : 'explicit',
        examined: log.examined[i],
        collected: log.collected[i],
        promoted: log.promoted[i],
        uncollectable: log.uncollectable[i],
        finalizers: log.finalizers[i],
      });
    }
  }

  const timeline = stats.timeline;
  const groupSeries = result.leaks.reachable.groups
    .slice(0, MAX_GROUP_SERIES)
    .map((group) => ({ group, index: findGroup(result, group) }))
    .filter(({ index }) => index >= 0 && index < stats.groups.series.length)
    .map(({ group, index }) => ({
      type: group.type,
      site: group.site,
      liveBytes: Array.from(stats.groups.series[index].subarray(0, timeline.length)),
    }));
  const skippedEvents = Object.values(context.skippedByKind).reduce((a, b) => a + b, 0);
  // Kinds sorted by name: the same skipped events give the same bytes, however they were met.
  const skippedByKind: Record<string, number> = Object.create(null);
  for (const kind of Object.keys(context.skippedByKind).sort()) skippedByKind[kind] = context.skippedByKind[kind];

  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    tool: { name: 'memreplay', version: context.toolVersion },
    trace: {
      file: result.file,
      events: result.events,
      meta: { ...result.header.meta },
      skippedEvents,
      skippedByKind,
    },
    config: {
      policy: result.policy.name,
      policyRequested: result.policy.requested,
      covers: result.policy.release.covers,
      tracesCycles: result.policy.module.constraints.tracesCycles,
      incremental: result.policy.module.constraints.incremental,
      ...context.config,
    },
    events: { total: result.events, byOp: { ...result.opCounts } },
    gc: {
      generations: result.gc.generations,
      count: result.gc.count,
      thresholds: result.gc.thresholds,
      enabled: result.gc.enabled,
      generationSizes: result.gc.generationSizes,
      frozen: result.gc.frozen,
      promotedInto: result.gc.promotedInto,
      longLived: { pending: result.gc.longLivedPending, total: result.gc.longLivedTotal },
      totals: {
        collections: log.length,
        automatic,
        explicit: log.length - automatic,
        collected,
        uncollectable,
        finalizersRun,
        examined,
        largestExamined,
      },
      collections: { total: log.length, omitted: Math.max(0, log.length - MAX_LISTED_COLLECTIONS), list },
    },
    memory: {
      allocated: { objects: stats.allocatedObjects, bytes: stats.allocatedBytes },
      freedByRefcount: stats.freedByRefcount,
      freedByCollector: stats.freedByCollector,
      live: { objects: result.liveObjects, bytes: result.liveBytes },
      peak: {
        objects: stats.peakLiveObjects,
        objectsEvent: stats.peakLiveObjectsEvent,
        bytes: stats.peakLiveBytes,
        bytesEvent: stats.peakLiveBytesEvent,
      },
    },
    garbageLatency: { unit: 'events', ...stats.garbageLatency() },
    leaks: result.leaks,
    pool: result.pool,
    freeLists: result.freeLists,
    timeline: {
      stride: timeline.stride,
      samples: timeline.length,
      series: timeline.toJSON(),
      groups: groupSeries,
      marks: stats.marks,
      marksOmitted: stats.marksDropped,
    },
  };
}

/** The index in the statistics' group table of a reported reachable group. */
function findGroup(result: ReplayResult, group: ReachableGroup): number {
  const groups = result.groups;
  for (let g = 0; g < groups.length; g++) {
    const type = result.types.get(groups.typeId[g]);
    const site = groups.siteId[g] >= 0 ? result.sites.get(groups.siteId[g]) : null;
    if (type === group.type && site === group.site) return g;
  }
  return -1;
}

export type { ChainLink };
