/**
 * The benchmark's "replay alone" (bench/run.js runs it as a child process): `replayChunks` over
 * the chunks of a trace decoded beforehand, which is what `compare` pays per configuration.
 * Usage: node bench/replay-alone.js ROOT TRACE (ROOT holds the built dist/). Prints one JSON line
 * `{"events":…,"coldMs":…,"warmMs":[…]}`: the first run, then 8 more.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const WARM_RUNS = 8;

const [root, file] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(join(resolve(root), 'dist', path)).href);
const [{ Diagnostics }, { openTrace, readAllChunks }, { replayChunks }, { choosePolicy }, { freeListConfig }, { createPool, defaultPoolFor, defaultPoolParamsFor }] = await Promise.all([
  load('trace/diagnostics.js'),
  load('trace/index.js'),
  load('replay/index.js'),
  load('gc/index.js'),
  load('pool/free-list.js'),
  load('pool/index.js'),
]);
const trace = await openTrace(file, { diagnostics: new Diagnostics(), decodeInWorker: 'never' });
const chunks = await readAllChunks(trace);
const events = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
const meta = trace.header.meta;

/** One replay with the defaults of `memreplay replay` (the collector of meta.python, its allocator); its wall time in ms. */
function once() {
  const policy = choosePolicy(undefined, typeof meta.python === 'string' ? meta.python : undefined);
  const version = policy.release.minor;
  const pool = createPool(defaultPoolFor(version), defaultPoolParamsFor(version));
  const start = performance.now();
  replayChunks(
    { ...trace, chunks: () => chunks },
    { policy, oldObjects: typeof meta.oldObjects === 'number' ? meta.oldObjects : 0, automaticCollection: true, freeLists: freeListConfig(policy.release.freeLists), pool, diagnostics: new Diagnostics() },
  );
  return performance.now() - start;
}

const coldMs = once();
const warmMs = Array.from({ length: WARM_RUNS }, once);
process.stdout.write(`${JSON.stringify({ events, coldMs, warmMs })}\n`);
