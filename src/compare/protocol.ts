/**
 * The messages between the comparison's starting thread and its workers: plain data
 * (structured-clonable). A worker gets its share of the configurations once, in `workerData`,
 * reads the trace itself (the same file), and answers once.
 */
import { UserError } from '../errors.js';
import type { ReplayReport } from '../report/json.js';
import type { IndexedEntry, TraceFile } from './lockstep.js';
import type { RunContext } from './run-configuration.js';

/** `workerData`: everything a worker needs to open the trace and replay its configurations. */
export interface WorkerInit {
  /** Where the trace is (stdin only through its copy: a stream can be read once). */
  file: TraceFile;
  entries: IndexedEntry[];
  context: RunContext;
}

export type SerializedOutcome = { index: number; ok: true; report: ReplayReport } | { index: number; ok: false; error: SerializedError };

/** The worker's one answer: each configuration's outcome, or the trace's own error. */
export type WorkerReply = { ok: true; outcomes: SerializedOutcome[] } | { ok: false; error: SerializedError };

/** An error crossing the thread boundary: a user error keeps its code and message, a bug its stack. */
export interface SerializedError {
  user: boolean;
  code: string;
  message: string;
  stack: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof UserError) return { user: true, code: error.code, message: error.message, stack: '' };
  if (error instanceof Error) return { user: false, code: '', message: error.message, stack: error.stack ?? error.message };
  return { user: false, code: '', message: String(error), stack: String(error) };
}

/** The error to throw in the starting thread. */
export function deserializeError(error: SerializedError): Error {
  if (error.user) return new UserError(error.code, error.message);
  const rebuilt = new Error(error.message);
  rebuilt.stack = `${error.stack}\n    (in a memreplay compare worker thread)`;
  return rebuilt;
}
