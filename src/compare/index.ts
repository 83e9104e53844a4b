/**
 * `memreplay compare`: one trace, many configurations. Read this file first in src/compare.
 *
 *   configurations (options | grid | file) ──1──► ConfigurationEntry[]   (names checked; cap)
 *                                                        │
 *   trace file ──2──► openTrace (decode + ajv, once) ──► SharedTrace (columns in shared memory)
 *                                                        │
 *                    3  resolve every configuration against the header (fail before replaying)
 *                    4  keep this shard's configurations (--shard K/N)
 *                                                        ▼
 *          5  replay: in this thread (--jobs 1, or little work) │ worker threads sharing the columns
 *                      each run = runReplay's steps 2-4 ──► ReplayReport, in configuration order
 *                                                        ▼
 *          6  CompareReport { configurations, pareto, runs }   (a shard: { shard, runs })
 *
 * Like src/analyze.ts, this module writes no files and does not touch `process`: the CLI does.
 */
import { TOOL_VERSION } from '../version.js';
import { Diagnostics } from '../trace/diagnostics.js';
import { openTrace } from '../trace/index.js';
import type { TraceEncoding } from '../trace/types.js';
import { MAX_CONFIGURATIONS, tooMany, type ConfigurationEntry } from './configurations.js';
import type { ObjectiveName } from './pareto.js';
import { buildCompareReport, buildShardReport, shardIndices, type CompareHeader, type CompareReport, type RunDetail } from './report.js';
import { checkConfigurations, type RunContext } from './run-configuration.js';
import { runInProcess, runInWorkers } from './runners.js';
import { shareChunk, traceDigest, type SharedChunk, type SharedTrace } from './shared-trace.js';

export interface CompareRequest {
  /** Path of the trace, or "-" for stdin. */
  trace: string;
  format?: TraceEncoding;
  stdin?: NodeJS.ReadableStream;
  maxErrors?: number;
  lenient?: boolean;
  /** Every configuration, in the order given (from `expandSweep` or `parseConfigFile`). */
  configurations: ConfigurationEntry[];
  objectives: ObjectiveName[];
  /** Worker threads at most; 1 replays in this thread. See `workerCount`. */
  jobs: number;
  /** Default: `MIN_EVENTS_PER_WORKER` (tests set 0 to use workers on small traces). */
  minEventsPerWorker?: number;
  /** `--shard K/N`: replay only shard K's configurations and return a part. */
  shard?: { index: number; count: number };
  /** Default: full. */
  runDetail?: RunDetail;
  onDecoded?: (events: number) => void;
  onRunDone?: (done: number, total: number) => void;
}

export async function runCompare(request: CompareRequest): Promise<CompareReport> {
  // 1. The configurations were expanded and their names checked by the caller; the cap holds
  //    for lists built any way.
  const entries = request.configurations;
  if (entries.length > MAX_CONFIGURATIONS) throw tooMany(entries.length, '');

  // 2. Decode and validate the trace once, into shared memory.
  const lenient = request.lenient ?? false;
  const maxErrors = request.maxErrors ?? 20;
  const { trace, decodeSkipped } = await decodeShared(request, { maxErrors, lenient });

  // 3. Every configuration against the header: a bad pool parameter fails now, not at run 900.
  checkConfigurations(entries, trace.header.meta);

  // 4. This shard's configurations.
  const indices = request.shard === undefined ? entries.map((_, i) => i) : shardIndices(entries.length, request.shard.index, request.shard.count);
  const selected = indices.map((i) => entries[i]);

  // 5. Replay.
  const runDetail = request.runDetail ?? 'full';
  const context: RunContext = { toolVersion: TOOL_VERSION, maxErrors, lenient, decodeSkipped, runDetail };
  const jobs = workerCount(request.jobs, selected.length, trace.events, request.minEventsPerWorker ?? MIN_EVENTS_PER_WORKER);
  const runs =
    jobs === 1
      ? runInProcess(trace, selected, context, { onRunDone: request.onRunDone })
      : await runInWorkers(trace, selected, context, jobs, { onRunDone: request.onRunDone });

  // 6. The report.
  const header: CompareHeader = { toolVersion: TOOL_VERSION, trace: { file: trace.file, events: trace.events }, objectives: request.objectives, runDetail, configurations: entries };
  if (request.shard === undefined) return buildCompareReport(header, runs);
  return buildShardReport(header, { ...request.shard, configurations: indices, traceDigest: traceDigest(trace) }, runs);
}

/**
 * Events a worker thread should get to replay (configurations × trace events) for starting it to
 * pay off.
 * NOTE: a new thread compiles the replay engine from cold: its first replay takes about what a
 * warm one takes for a million more events. Below that much work per thread, fewer threads (or
 * this one) finish first, and give the same output.
 */
export const MIN_EVENTS_PER_WORKER = 1_000_000;

/** How many threads replay: at most `jobs`, one per configuration, one per `minEventsPerWorker` events. */
export function workerCount(jobs: number, configurations: number, events: number, minEventsPerWorker: number): number {
  const byWork = minEventsPerWorker <= 0 ? Infinity : Math.floor((configurations * events) / minEventsPerWorker);
  return Math.max(1, Math.min(jobs, configurations, byWork));
}

/**
 * Step 2: the trace decoded into shared chunks, one chunk at a time (the decoder's chunk is
 * dropped once copied, so the trace is held once). In strict mode a trace with invalid events
 * fails here; with `--lenient` the skipped events are counted for every run's report.
 */
async function decodeShared(request: CompareRequest, options: { maxErrors: number; lenient: boolean }): Promise<{ trace: SharedTrace; decodeSkipped: Record<string, number> }> {
  const diagnostics = new Diagnostics(options);
  const opened = await openTrace(request.trace, { format: request.format, diagnostics, stdin: request.stdin });
  const chunks: SharedChunk[] = [];
  let events = 0;
  // Each chunk is copied before the next is asked for, so the decoder may recycle its memory.
  for await (const chunk of opened.chunks({ recycle: true })) {
    chunks.push(shareChunk(chunk));
    events = chunk.firstIndex + chunk.length;
    request.onDecoded?.(events);
  }
  diagnostics.finish();
  return {
    trace: { file: opened.file, header: opened.header, types: [...opened.types.values], sites: [...opened.sites.values], events, chunks },
    decodeSkipped: diagnostics.skippedSummary(),
  };
}

export { expandSweep, completeEntry, MAX_CONFIGURATIONS, type ConfigurationEntry, type Sweep } from './configurations.js';
export { DEFAULT_OBJECTIVES, OBJECTIVES, parseObjectives, paretoFront, type ObjectiveName } from './pareto.js';
export { mergeParts, parseShard, serializeCompareReport, type CompareReport } from './report.js';
