/**
 * `replay()`: the replay stage's entry. It takes a decoded trace (a stream of event chunks plus its
 * header and string tables) and the resolved configuration, runs the engine over every chunk,
 * and returns a `ReplayResult`: plain data for the report stage.
 *
 *   chunks ──► ReplayEngine.feed (per chunk) ──► finishSampling ──► analyzeLeaks ──► ReplayResult
 */
import type { CollectorState } from '../gc/collector.js';
import type { ResolvedPolicy } from '../gc/index.js';
import type { FreeListStats } from '../pool/free-list.js';
import type { PoolSnapshot } from '../pool/pool.js';
import type { ChunkReadOptions } from '../trace/index.js';
import { OP_COUNT, OP_NAMES, type EventChunk, type StringTable, type TraceHeader } from '../trace/types.js';
import { ReplayEngine, type ReplaySettings } from './engine.js';
import type { AllocationGroups } from './groups.js';
import { analyzeLeaks, type LeakAnalysis } from './leaks.js';
import type { ReplayStatistics } from './statistics.js';

/** What `replay` needs of a decoded trace (the shape `openTrace` returns). */
export interface ReplaySource {
  file: string;
  header: TraceHeader;
  types: StringTable;
  sites: StringTable;
  /** `options.recycle` is passed by `replay`, which keeps no chunk once it asks for the next. */
  chunks(options?: ChunkReadOptions): AsyncIterable<EventChunk> | Iterable<EventChunk>;
}

export type { ReplaySettings };

export interface ReplayResult {
  file: string;
  header: TraceHeader;
  events: number;
  /** Events applied per op name (the skipped ones, with --lenient, are counted by kind in the diagnostics). */
  opCounts: Record<string, number>;
  policy: ResolvedPolicy;
  gc: CollectorState;
  stats: ReplayStatistics;
  leaks: LeakAnalysis;
  pool: PoolSnapshot | null;
  freeLists: FreeListStats[];
  liveObjects: number;
  liveBytes: number;
  /** See `Heap.deepestCascade`. */
  deepestCascade: number;
  groups: AllocationGroups;
  types: StringTable;
  sites: StringTable;
}

/** A decoded trace's header and string tables: a `ReplaySource` without its chunks. */
export type ReplaySourceInfo = Omit<ReplaySource, 'chunks'>;

function createEngine(source: ReplaySourceInfo, settings: ReplaySettings): ReplayEngine {
  return new ReplayEngine({ ...settings, file: source.file, types: source.types, sites: source.sites });
}

export async function replay(source: ReplaySource, settings: ReplaySettings): Promise<ReplayResult> {
  const engine = createEngine(source, settings);
  // The engine holds only the chunk being replayed (and, for the final sample, the last one), so
  // the decoder may reuse the memory of each chunk once the next is asked for.
  for await (const chunk of source.chunks({ recycle: true })) {
    engine.feed(chunk);
    settings.diagnostics.checkpoint(engine.events);
    settings.onProgress?.(engine.events);
  }
  return finishReplay(engine, source, settings);
}

/** Synchronous variant for already decoded chunks (tests, the benchmark). */
export function replayChunks(source: ReplaySourceInfo & { chunks(): Iterable<EventChunk> }, settings: ReplaySettings): ReplayResult {
  const engine = createEngine(source, settings);
  for (const chunk of source.chunks()) {
    engine.feed(chunk);
    settings.diagnostics.checkpoint(engine.events);
  }
  return finishReplay(engine, source, settings);
}

/** A replay fed one chunk at a time by its caller (`compare` feeds one pass of a trace to several). */
export interface ReplayInProgress {
  /**
   * Replays the next chunk; the engine keeps nothing of it once the next is fed. The caller
   * calls `Diagnostics.checkpoint` once the chunk is fed to every replay.
   */
  feed(chunk: EventChunk): void;
  /** After the last chunk: the same result `replay` gives for the same chunks. */
  finish(): ReplayResult;
}

export function startReplay(source: ReplaySourceInfo, settings: ReplaySettings): ReplayInProgress {
  const engine = createEngine(source, settings);
  return {
    feed: (chunk) => engine.feed(chunk),
    finish: () => finishReplay(engine, source, settings),
  };
}

function finishReplay(engine: ReplayEngine, source: ReplaySourceInfo, settings: ReplaySettings): ReplayResult {
  // Strict mode: any invalid event fails the whole replay before anything is reported.
  settings.diagnostics.finish();
  engine.finishSampling();
  const stats = engine.stats;
  const timeline = stats.timeline;
  const leaks = analyzeLeaks(
    engine.heap,
    engine.groups,
    stats.groups,
    source.types,
    source.sites,
    { events: timeline.columns.event, length: timeline.length },
    engine.events,
  );
  const opCounts: Record<string, number> = Object.create(null);
  for (let code = 1; code < OP_COUNT; code++) opCounts[OP_NAMES[code]] = engine.opCounts[code];
  return {
    file: source.file,
    header: source.header,
    events: engine.events,
    opCounts,
    policy: settings.policy,
    gc: engine.collector.state(),
    stats,
    leaks,
    pool: settings.pool?.snapshot() ?? null,
    freeLists: engine.freeLists.stats(),
    liveObjects: engine.heap.liveObjects,
    liveBytes: engine.heap.liveBytes,
    deepestCascade: engine.heap.deepestCascade,
    groups: engine.groups,
    types: source.types,
    sites: source.sites,
  };
}
