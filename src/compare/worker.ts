/**
 * A comparison worker thread (started by `runners.ts`). It reads the trace itself, replays its
 * share of the configurations in as few passes as it may (lockstep.ts), answers once with every
 * outcome, and ends. Its decoding stays in this thread: the comparison already keeps every core
 * busy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { replayInPasses } from './lockstep.js';
import { serializeError, type WorkerInit, type WorkerReply } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('src/compare/worker.ts runs as a worker thread only');
// The starting thread builds `workerData` as a `WorkerInit` (runners.ts).
const init = workerData as WorkerInit;

let reply: WorkerReply;
try {
  const { outcomes } = await replayInPasses(init.file, init.entries, init.context);
  reply = { ok: true, outcomes: outcomes.map((o) => (o.ok ? o : { index: o.index, ok: false, error: serializeError(o.error) })) };
} catch (error) {
  reply = { ok: false, error: serializeError(error) };
}
port.postMessage(reply);
