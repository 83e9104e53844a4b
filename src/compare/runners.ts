/**
 * Running a comparison's configurations on `threads` threads: this one and `threads − 1` worker
 * threads. Configuration k goes to thread k mod `threads`; each thread reads the trace once per
 * `MAX_RUNS_PER_PASS` of its configurations and feeds every chunk to all of them (lockstep.ts),
 * so no thread holds more than a few chunks of the trace, whatever its length.
 *
 * NOTE: each worker decodes the trace again, in parallel with this thread, instead of receiving
 * this thread's chunks: decoding is about half a replay's cost, and a thread that replays several
 * configurations pays it once; sharing chunks would mean either holding them all (memory bounded
 * by the trace) or every thread waiting for the slowest.
 *
 * The reports come back in the order of the configurations, whatever thread ran them, and a
 * failure is reported the same way wherever it happened: the trace's own error if it has one
 * (as `replay` reports it), else the error of the lowest-numbered configuration that failed.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReplayReport } from '../report/json.js';
import { readableOnce } from '../trace/index.js';
import { MAX_RUNS_PER_PASS, replayInPasses, type IndexedEntry, type OpenedPass, type RunOutcome, type TraceFile } from './lockstep.js';
import { deserializeError, type SerializedOutcome, type WorkerInit, type WorkerReply } from './protocol.js';
import type { RunContext } from './run-configuration.js';

export interface RunOptions {
  /** Compute the decoded trace's digest (for `--shard`). */
  digest?: boolean;
  /** Called after each chunk this thread decodes, with the events so far. */
  onDecoded?: (events: number) => void;
  /** Called for each finished configuration, in order, once every thread is done. */
  onRunDone?: (done: number, total: number) => void;
}

export interface RunResult {
  /** The reports, in the order of `entries`. */
  reports: ReplayReport[];
  events: number;
  digest: string | null;
}

/** A failed configuration, named so the user knows which options to look at. */
function labelled(error: unknown, entries: readonly IndexedEntry[], index: number, total: number): unknown {
  if (total > 1 && error instanceof Error) {
    const entry = entries.find((e) => e.index === index) as IndexedEntry;
    error.message += `\n(replaying configuration ${index + 1} of ${total}: ${entry.entry.label})`;
  }
  return error;
}

/**
 * The worker's entry file. Built, it sits next to this module (dist/compare/worker.js). Run from
 * the TypeScript sources (vitest), this module is a .ts file, which a worker thread cannot load:
 * the workers then run the build (npm test builds before testing).
 */
export function workerEntry(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/compare/worker.js', here) : new URL('./worker.js', here);
}

/**
 * Replays `entries` (their `index` numbers them within a comparison of `total`) on `threads`
 * threads. `first` is the trace already opened here for this thread's first pass (its header read).
 */
export async function runConfigurations(
  file: TraceFile,
  first: OpenedPass,
  entries: readonly IndexedEntry[],
  total: number,
  context: RunContext,
  threads: number,
  options: RunOptions = {},
): Promise<RunResult> {
  const count = Math.max(1, Math.min(threads, entries.length));
  // A trace that can be read once (stdin, a pipe) comes with a copy when more than one pass reads it.
  if ((count > 1 || entries.length > MAX_RUNS_PER_PASS) && file.copy === undefined && readableOnce(file.path)) throw new Error(`${file.path} can be read once: a comparison needs a copy of it`);
  const shares = Array.from({ length: count }, (_, t) => entries.filter((_, k) => k % count === t));
  const workers = shares.slice(1).map((share) => startWorker({ file, entries: share, context }));
  try {
    const here = await replayInPasses(file, shares[0], context, {
      first,
      decodeInWorker: count > 1 ? 'never' : 'auto',
      digest: options.digest,
      onDecoded: options.onDecoded,
    });
    const outcomes: RunOutcome[] = [...here.outcomes];
    for (const reply of await Promise.all(workers.map((w) => w.reply))) {
      // The same file gave this thread no error of its own: a worker's can only mean it changed.
      if (!reply.ok) throw deserializeError(reply.error);
      outcomes.push(...reply.outcomes.map(fromWorker));
    }
    outcomes.sort((a, b) => a.index - b.index);
    const reports: ReplayReport[] = [];
    for (const outcome of outcomes) {
      if (!outcome.ok) throw labelled(outcome.error, entries, outcome.index, total);
      reports.push(outcome.report);
    }
    reports.forEach((_, k) => options.onRunDone?.(k + 1, reports.length));
    return { reports, events: here.events, digest: here.digest };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

function fromWorker(outcome: SerializedOutcome): RunOutcome {
  return outcome.ok ? outcome : { index: outcome.index, ok: false, error: deserializeError(outcome.error) };
}

/** A worker replaying its share; `reply` settles with its answer, or rejects if it dies first. */
function startWorker(init: WorkerInit): { worker: Worker; reply: Promise<WorkerReply> } {
  const entry = workerEntry();
  if (!existsSync(fileURLToPath(entry))) throw new Error(`the compare worker ${fileURLToPath(entry)} is missing: run "npm run build"`);
  const worker = new Worker(entry, { workerData: init });
  const reply = new Promise<WorkerReply>((resolve, reject) => {
    worker.once('message', resolve);
    // A worker that dies (out of memory, a failed import) takes its runs with it: a bug or an
    // exhausted machine, reported as such.
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`a compare worker thread exited with code ${code} before answering`)));
  });
  // Awaited later; a rejection before then must not count as unhandled.
  reply.catch(() => undefined);
  return { worker, reply };
}
