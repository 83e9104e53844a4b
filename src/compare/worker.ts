/**
 * A comparison worker thread (started by `runners.ts`). It receives the shared trace once, in
 * `workerData`, then replays the configurations it is sent, one message each, and answers each
 * with the run's report or its error. It keeps no state between runs but the trace.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { replayConfiguration } from './run-configuration.js';
import { serializeError, type WorkerInit, type WorkerReply, type WorkerTask } from './protocol.js';
import { sourceOf } from './shared-trace.js';

const port = parentPort;
if (port === null) throw new Error('src/compare/worker.ts runs as a worker thread only');
// The starting thread builds `workerData` as a `WorkerInit` (runners.ts).
const init = workerData as WorkerInit;
const source = sourceOf(init.trace);

port.on('message', (task: WorkerTask) => {
  let reply: WorkerReply;
  try {
    reply = { index: task.index, ok: true, report: replayConfiguration(source, task.entry, init.context) };
  } catch (error) {
    reply = { index: task.index, ok: false, error: serializeError(error) };
  }
  port.postMessage(reply);
});
