/**
 * One pass over a trace for several configurations: each chunk the decoder gives is fed to every
 * run before the next is asked for, so the decoder recycles its chunks and memory stays bounded
 * by the runs' live heaps (and a few chunks), never by the trace's length. Every thread of a
 * comparison, this one and each worker, does this for its share of the configurations, at most
 * `MAX_RUNS_PER_PASS` at a time (`replayInPasses`).
 *
 * Failures keep `replay`'s meaning: the trace's own problems (invalid events in strict mode) fail
 * the whole pass, as they fail `replay`; a problem one configuration meets (an event touching an
 * object its collector freed) ends that run only, and is its outcome.
 */
import { createHash, type Hash } from 'node:crypto';
import type { ReplayReport } from '../report/json.js';
import { Diagnostics } from '../trace/diagnostics.js';
import { openTrace, type OpenedTrace } from '../trace/index.js';
import type { EventChunk, TraceEncoding } from '../trace/types.js';
import type { ConfigurationEntry } from './configurations.js';
import { startConfiguration, type ConfigurationRun, type RunContext } from './run-configuration.js';

/**
 * Configurations replayed together in one pass over the trace.
 * NOTE: each holds its own heap model and statistics (about 2 MiB beside the live heap), so a
 * thread of a 10,000-configuration sweep reads the trace once per 16 of them instead of holding
 * 10,000 heaps; the extra passes cost a decoding each, about a sixteenth of the replays.
 */
export const MAX_RUNS_PER_PASS = 16;

/** Where a thread reads the trace from, each pass. */
export interface TraceFile {
  /** The trace's path, or "-" for stdin. */
  path: string;
  format?: TraceEncoding;
  /** For a trace that can be read only once (stdin, a pipe): the file it was copied to. */
  copy?: string;
}

/** A configuration and its place in the comparison. */
export interface IndexedEntry {
  index: number;
  entry: ConfigurationEntry;
}

export type RunOutcome = { index: number; ok: true; report: ReplayReport } | { index: number; ok: false; error: unknown };

export interface LockstepResult {
  /** Events decoded. */
  events: number;
  /** `traceDigest` of the decoded trace when asked for (sharding), else null. */
  digest: string | null;
  /** One per configuration, in the order given. */
  outcomes: RunOutcome[];
}

export interface LockstepOptions {
  /** Compute the decoded trace's digest (it reads every decoded byte once more). */
  digest?: boolean;
  /** Called after each chunk with the events decoded so far. */
  onDecoded?: (events: number) => void;
}

/**
 * Replays `entries` over one pass of `trace`, whose problems go to `diagnostics`. Throws what
 * `replay` throws for the trace's own problems; returns each configuration's outcome otherwise.
 */
export async function replayInLockstep(
  trace: OpenedTrace,
  diagnostics: Diagnostics,
  entries: readonly IndexedEntry[],
  context: RunContext,
  options: LockstepOptions = {},
): Promise<LockstepResult> {
  const runs = entries.map(({ index, entry }): { index: number; run: ConfigurationRun | null; error: unknown } => {
    try {
      return { index, run: startConfiguration(trace, entry, context), error: null };
    } catch (error) {
      return { index, run: null, error };
    }
  });
  const hash = options.digest === true ? createHash('sha256') : null;
  let events = 0;
  for await (const chunk of trace.chunks({ recycle: true })) {
    if (hash !== null) hashChunk(hash, chunk);
    events = chunk.firstIndex + chunk.length;
    // In strict mode one invalid event fails every run (diagnostics.finish below): the rest of
    // the trace is only decoded, to list up to --max-errors problems, as replay does.
    if (context.lenient || diagnostics.errors.length === 0) {
      for (const r of runs) {
        if (r.run === null) continue;
        try {
          r.run.feed(chunk);
        } catch (error) {
          r.run = null;
          r.error = error;
        }
      }
    }
    diagnostics.checkpoint(events);
    options.onDecoded?.(events);
  }
  diagnostics.finish();
  const decodeSkipped = diagnostics.skippedSummary();
  const outcomes = runs.map(({ index, run, error }): RunOutcome => {
    if (run === null) return { index, ok: false, error };
    try {
      return { index, ok: true, report: run.finish(decodeSkipped) };
    } catch (finishError) {
      return { index, ok: false, error: finishError };
    }
  });
  if (hash !== null) hash.update(JSON.stringify([trace.header, [...trace.types.values], [...trace.sites.values], events]));
  return { events, digest: hash === null ? null : `sha256:${hash.digest('hex')}`, outcomes };
}

/**
 * `replayInLockstep` over as many passes as `entries` need (`MAX_RUNS_PER_PASS` each); the first
 * pass may be over a trace already opened (`first`, with its diagnostics). The digest, when asked
 * for, is the first pass's; `onDecoded` counts the events of every pass.
 */
export async function replayInPasses(
  file: TraceFile,
  entries: readonly IndexedEntry[],
  context: RunContext,
  options: LockstepOptions & { first?: OpenedPass; decodeInWorker?: 'auto' | 'never' } = {},
): Promise<LockstepResult> {
  let first = options.first;
  const result: LockstepResult = { events: 0, digest: null, outcomes: [] };
  let before = 0;
  for (let at = 0; at === 0 || at < entries.length; at += MAX_RUNS_PER_PASS) {
    const pass = first ?? (await openPass(file, context, options.decodeInWorker ?? 'never'));
    first = undefined;
    const onDecoded = options.onDecoded === undefined ? undefined : (events: number) => options.onDecoded?.(before + events);
    const { events, digest, outcomes } = await replayInLockstep(pass.trace, pass.diagnostics, entries.slice(at, at + MAX_RUNS_PER_PASS), context, {
      digest: at === 0 && options.digest,
      onDecoded,
    });
    if (at === 0) {
      result.events = events;
      result.digest = digest;
    }
    before += events;
    result.outcomes.push(...outcomes);
  }
  return result;
}

/** A trace opened for one pass, with the sink of its problems. */
export interface OpenedPass {
  trace: OpenedTrace;
  diagnostics: Diagnostics;
}

/** Opens the trace for a pass; `stdin` is read for "-" when it has no copy (one pass only). */
export async function openPass(file: TraceFile, context: RunContext, decodeInWorker: 'auto' | 'never', stdin?: NodeJS.ReadableStream): Promise<OpenedPass> {
  const diagnostics = new Diagnostics({ maxErrors: context.maxErrors, lenient: context.lenient });
  return { trace: await openTrace(file.path, { format: file.format, diagnostics, stdin, copy: file.copy, decodeInWorker }), diagnostics };
}

/** Every column of a chunk (its rows only), its chunk-local strings and its other fields. */
function hashChunk(hash: Hash, chunk: EventChunk): void {
  const fields: [string, unknown][] = [];
  for (const [name, value] of Object.entries(chunk) as [string, unknown][]) {
    if (ArrayBuffer.isView(value)) {
      const column = value as unknown as { BYTES_PER_ELEMENT: number; buffer: ArrayBufferLike; byteOffset: number };
      hash.update(name);
      hash.update(new Uint8Array(column.buffer, column.byteOffset, chunk.length * column.BYTES_PER_ELEMENT));
    } else {
      fields.push([name, value]);
    }
  }
  hash.update(JSON.stringify(fields));
}
