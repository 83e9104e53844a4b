/**
 * Running a comparison's configurations: in this thread one after the other (`--jobs 1`), or on
 * worker threads that share the decoded trace (`runInWorkers`).
 *
 * Both return the reports in the order of the configurations, whatever order they finish in, and
 * both fail the same way: with the error of the lowest-numbered configuration that failed. With
 * workers that takes care: configurations are handed out in order, so once one fails nothing
 * after it is started, and the runs already started before it are awaited; the lowest failure
 * among them is the one the in-process path would have met first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReplayReport } from '../report/json.js';
import type { ConfigurationEntry } from './configurations.js';
import { deserializeError, type SerializedError, type WorkerInit, type WorkerReply, type WorkerTask } from './protocol.js';
import { replayConfiguration, type RunContext } from './run-configuration.js';
import { sourceOf, type SharedTrace } from './shared-trace.js';

export interface RunOptions {
  /** Called after each finished configuration. */
  onRunDone?: (done: number, total: number) => void;
}

/** A failed configuration, named so the user knows which options to look at. */
function labelled(error: Error, entries: readonly ConfigurationEntry[], index: number): Error {
  if (entries.length > 1) error.message += `\n(replaying configuration ${index + 1} of ${entries.length}: ${entries[index].label})`;
  return error;
}

/** `--jobs 1`: every configuration in this thread, in order. */
export function runInProcess(trace: SharedTrace, entries: readonly ConfigurationEntry[], context: RunContext, options: RunOptions = {}): ReplayReport[] {
  const source = sourceOf(trace);
  return entries.map((entry, index) => {
    try {
      const report = replayConfiguration(source, entry, context);
      options.onRunDone?.(index + 1, entries.length);
      return report;
    } catch (error) {
      throw error instanceof Error ? labelled(error, entries, index) : error;
    }
  });
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

/** Replays the configurations on `jobs` worker threads (at most one per configuration). */
export async function runInWorkers(
  trace: SharedTrace,
  entries: readonly ConfigurationEntry[],
  context: RunContext,
  jobs: number,
  options: RunOptions = {},
): Promise<ReplayReport[]> {
  const entry = workerEntry();
  if (!existsSync(fileURLToPath(entry))) throw new Error(`the compare worker ${fileURLToPath(entry)} is missing: run "npm run build"`);
  const reports: ReplayReport[] = new Array<ReplayReport>(entries.length);
  if (entries.length === 0) return reports;
  const init: WorkerInit = { trace, context };
  const workers = Array.from({ length: Math.min(jobs, entries.length) }, () => new Worker(entry, { workerData: init }));

  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let running = 0;
      let failure: { index: number; error: SerializedError } | null = null;
      let crashed = false;

      const settleIfIdle = () => {
        if (running > 0 || crashed) return;
        if (failure !== null) reject(labelled(deserializeError(failure.error), entries, failure.index));
        else if (done === entries.length) resolve();
      };
      const dispatch = (worker: Worker) => {
        if (failure !== null || next >= entries.length) return;
        const task: WorkerTask = { index: next, entry: entries[next] };
        next++;
        running++;
        worker.postMessage(task);
      };

      for (const worker of workers) {
        worker.on('message', (reply: WorkerReply) => {
          running--;
          if (reply.ok) {
            reports[reply.index] = reply.report;
            done++;
            options.onRunDone?.(done, entries.length);
          } else if (failure === null || reply.index < failure.index) {
            failure = { index: reply.index, error: reply.error };
          }
          dispatch(worker);
          settleIfIdle();
        });
        // A worker that dies (out of memory, a failed import) takes its run with it: a bug or
        // an exhausted machine, reported at once.
        worker.on('error', (error) => {
          crashed = true;
          reject(error);
        });
        worker.on('exit', (code) => {
          if (code !== 0 && !crashed && (running > 0 || done < entries.length)) {
            crashed = true;
            reject(new Error(`a compare worker thread exited with code ${code}`));
          }
        });
        dispatch(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return reports;
}
