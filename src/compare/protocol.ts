/**
 * The messages between the comparison's starting thread and its workers. Everything here is
 * plain data (structured-clonable); the trace's columns travel as `SharedArrayBuffer`s.
 */
import { UserError } from '../errors.js';
import type { ReplayReport } from '../report/json.js';
import type { ConfigurationEntry } from './configurations.js';
import type { RunContext } from './run-configuration.js';
import type { SharedTrace } from './shared-trace.js';

/** `workerData`: sent once per worker. */
export interface WorkerInit {
  trace: SharedTrace;
  context: RunContext;
}

/** One configuration to replay; `index` is its place in the comparison. */
export interface WorkerTask {
  index: number;
  entry: ConfigurationEntry;
}

export type WorkerReply = { index: number; ok: true; report: ReplayReport } | { index: number; ok: false; error: SerializedError };

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
