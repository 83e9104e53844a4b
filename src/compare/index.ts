/**
 * `memreplay compare`: one trace, many configurations. Read this file first in src/compare.
 *
 *   configurations (options | grid | file) ──1──► ConfigurationEntry[]   (names checked; cap)
 *                    2  keep this shard's configurations (--shard K/N); how many threads
 *   trace file ──3──► openTrace (header) ──► every configuration resolved against it (fail early)
 *                                                        │
 *          4  replay: each thread (this one, and workers for the others' shares) reads the
 *             trace once and feeds each chunk to all of its configurations (lockstep.ts);
 *             each run = runReplay's steps 2-4 ──► ReplayReport, in configuration order
 *                                                        ▼
 *          5  CompareReport { configurations, pareto, runs }   (a shard: { shard, runs })
 *
 * Memory is bounded by the runs' live heaps, never by the trace's length: no thread holds more
 * than a few decoded chunks. Like src/analyze.ts, this module writes no files and does not touch
 * `process`: the CLI does.
 */
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { removeOnInterrupt } from '../interrupt-cleanup.js';
import { TOOL_VERSION } from '../version.js';
import { readableOnce } from '../trace/index.js';
import { startsWithGzipMagic } from '../trace/source.js';
import type { TraceEncoding } from '../trace/types.js';
import { MAX_CONFIGURATIONS, tooMany, type ConfigurationEntry } from './configurations.js';
import type { ObjectiveName } from './pareto.js';
import { buildCompareReport, buildShardReport, shardIndices, type CompareHeader, type CompareReport, type RunDetail } from './report.js';
import { checkConfigurations, type RunContext } from './run-configuration.js';
import { openPass, type IndexedEntry, type TraceFile } from './lockstep.js';
import { runConfigurations } from './runners.js';

export interface CompareRequest {
  /** Path of the trace, or "-" for stdin (copied to a temporary file when more than one configuration reads it). */
  trace: string;
  format?: TraceEncoding;
  stdin?: NodeJS.ReadableStream;
  maxErrors?: number;
  lenient?: boolean;
  /** Every configuration, in the order given (from `expandSweep` or `parseConfigFile`). */
  configurations: ConfigurationEntry[];
  objectives: ObjectiveName[];
  /** Threads at most, this one included; 1 replays in this thread. See `workerCount`. */
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

  // 2. This shard's configurations, and how many threads replay them. Stdin or a pipe can be
  //    read once: for more than one configuration it is copied to a temporary file first, which
  //    every thread and pass then reads.
  const indices = request.shard === undefined ? entries.map((_, i) => i) : shardIndices(entries.length, request.shard.index, request.shard.count);
  const selected = indices.map((index) => ({ index, entry: entries[index] }));
  const once = readableOnce(request.trace);
  const copy = once && selected.length > 1 ? await copyOnce(request.trace, request.stdin) : null;
  try {
    const file: TraceFile = { path: request.trace, format: request.format, copy: copy?.file };
    const threads = once && copy === null ? 1 : workerCount(request.jobs, selected.length, estimatedEvents(copy?.file ?? request.trace), request.minEventsPerWorker ?? MIN_EVENTS_PER_WORKER);
    return await compareOn(request, file, selected, indices, threads);
  } finally {
    if (copy !== null) {
      rmSync(copy.directory, { recursive: true, force: true });
      copy.forget();
    }
  }
}

async function compareOn(request: CompareRequest, file: TraceFile, selected: IndexedEntry[], indices: number[], threads: number): Promise<CompareReport> {
  const entries = request.configurations;
  // 3. The header, and every configuration against it: a bad pool parameter fails now, not at
  //    run 900. (Workers read the trace with their own decoder; this thread's scan worker would
  //    only take a core from them.)
  const runDetail = request.runDetail ?? 'full';
  const context: RunContext = { toolVersion: TOOL_VERSION, maxErrors: request.maxErrors ?? 20, lenient: request.lenient ?? false, runDetail };
  const first = await openPass(file, context, threads > 1 ? 'never' : 'auto', request.stdin);
  const opened = first.trace;
  try {
    checkConfigurations(entries, opened.header.meta);
  } catch (error) {
    await opened.close();
    throw error;
  }

  // 4. Replay.
  const { reports, events, digest } = await runConfigurations({ ...file, format: opened.encoding }, first, selected, entries.length, context, threads, {
    digest: request.shard !== undefined,
    onDecoded: request.onDecoded,
    onRunDone: request.onRunDone,
  });

  // 5. The report.
  const header: CompareHeader = { toolVersion: TOOL_VERSION, trace: { file: opened.file, events }, objectives: request.objectives, runDetail, configurations: entries };
  if (request.shard === undefined) return buildCompareReport(header, reports);
  return buildShardReport(header, { ...request.shard, configurations: indices, traceDigest: digest as string }, reports);
}

/**
 * The bytes of stdin ("-") or of a pipe (as they come, compressed or not) in a new temporary
 * directory, removed if the process is interrupted until `forget` is called.
 */
async function copyOnce(path: string, stdin: NodeJS.ReadableStream | undefined): Promise<{ directory: string; file: string; forget: () => void }> {
  // A bug, not an input problem: the CLI passes process.stdin for "-".
  if (path === '-' && stdin === undefined) throw new Error('runCompare: a trace on stdin ("-") needs request.stdin');
  const directory = mkdtempSync(join(tmpdir(), 'memreplay-stdin-'));
  const file = join(directory, 'trace');
  // Copying a pipe can take as long as its writer: an interrupt then must not leave the copy.
  const forget = removeOnInterrupt(directory);
  try {
    await pipeline(path === '-' ? (stdin as NodeJS.ReadableStream) : createReadStream(path), createWriteStream(file));
  } catch (error) {
    forget();
    rmSync(directory, { recursive: true, force: true });
    const what = path === '-' ? 'the trace on stdin' : path;
    throw new UserError('TRACE_COPY', `cannot copy ${what} to ${file} (several configurations read it, and it can be read only once): ${error instanceof Error ? error.message : String(error)}`);
  }
  return { directory, file, forget };
}

/**
 * Events a worker thread should get to replay (configurations × trace events) for starting it to
 * pay off.
 * NOTE: a new thread compiles the decoder and the replay engine from cold: its first replay takes
 * about what a warm one takes for a million more events. Below that much work per thread, fewer
 * threads (or this one) finish first, and give the same output.
 */
export const MIN_EVENTS_PER_WORKER = 1_000_000;

/** How many threads replay: at most `jobs`, one per configuration, one per `minEventsPerWorker` events. */
export function workerCount(jobs: number, configurations: number, events: number, minEventsPerWorker: number): number {
  const byWork = minEventsPerWorker <= 0 ? Infinity : Math.floor((configurations * events) / minEventsPerWorker);
  return Math.max(1, Math.min(jobs, configurations, byWork));
}

/**
 * The events of a trace file, guessed from its size before reading it, to choose the number of
 * threads: 40 bytes an event (JSON Lines take 60-80, CSV 30-40), 8 times as many bytes when it
 * is gzip-compressed. A file that cannot be read is reported by `openTrace`; here it counts as small.
 */
function estimatedEvents(path: string): number {
  let size: number;
  let gzip = false;
  try {
    size = statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      const magic = Buffer.alloc(2);
      gzip = startsWithGzipMagic(magic.subarray(0, readSync(fd, magic, 0, 2, 0)));
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
  return Math.round(((gzip ? 8 : 1) * size) / BYTES_PER_EVENT);
}

const BYTES_PER_EVENT = 40;

export { expandSweep, completeEntry, MAX_CONFIGURATIONS, type ConfigurationEntry, type Sweep } from './configurations.js';
export { DEFAULT_OBJECTIVES, OBJECTIVES, parseObjectives, paretoFront, type ObjectiveName } from './pareto.js';
export { mergeParts, parseShard, serializeCompareReport, type CompareReport } from './report.js';
