/**
 * `web`: a WSGI web application serving requests, the everyday case of CPython's memory model.
 *
 * Each request builds an environ dict of header strs, a Request and a Response instance, route
 * arguments in a tuple, a template context with query rows (a list of 3-tuples), a body list of
 * rendered strs (one grown in place by `+=`, a `resize`) and the bytes sent to the socket. When the
 * request ends the program drops its two names and reference counting frees all of it at once:
 * nothing waits for the cycle collector.
 *
 * Except, now and then (`CYCLE_PROBABILITY`), a request leaves a reference cycle behind, the two
 * classic ways:
 * - an exception caught into a local: exception → traceback → frame → frame locals → exception.
 *   The frame's locals also hold the request, so the whole request (environ, headers…) stays
 *   alive until a collection finds the cycle;
 * - a database connection and its cursor pointing at each other (the connection has a PEP 442
 *   `__del__`, which the collector runs before freeing the cycle).
 * Those objects are freed only by the cycle collector; their count is what drives gen-0
 * collections in a real server, since everything else nets to zero per request.
 *
 * State: the app (program-held forever), its view functions (reachable through the app's URL
 * map), and the request count. Every handle the request code touches is program-held.
 * Ids are integers, reused after refcounting frees an object (as CPython reuses addresses).
 * Timestamps `t` are microseconds of a simulated clock.
 */
import type { TraceEvent } from '../trace/types.js';
import { Mutator, type Handle } from './mutator.js';
import { SeededRandom } from './random.js';
import { append, newBytes, newDict, newFloat, newInt, newList, newStr, setItem, setItemKeep } from './objects.js';
import { CODE_BYTES, EXCEPTION_BYTES, FRAME_BYTES, FUNCTION_BYTES, INSTANCE_BYTES, TRACEBACK_BYTES, listBytes, strBytes, tupleBytes } from './sizes.js';
import { checkWorkloadOptions, markInterval, runWorkload, workloadHeader, type WorkloadModule, type WorkloadOptions } from './workload.js';

/**
 * Share of requests that leave a reference cycle behind. NOTE: an assumption, not a measurement:
 * it keeps cycles rare next to request churn, as in a typical service, while a trace of a few
 * thousand requests still shows dozens of them.
 */
export const CYCLE_PROBABILITY = 0.02;

/**
 * GC-tracked objects the application holds when the trace starts (header `oldObjects`). NOTE: an
 * estimate: on CPython 3.12.1, `len(gc.get_objects())` is about 5,000 at start and about 20,000
 * after importing json, logging, http.server, email, decimal, typing, dataclasses, urllib,
 * sqlite3 and asyncio; a web framework and its dependencies add more.
 */
const WEB_APP_OLD_OBJECTS = 25_000;

/** Events of an average request, for spacing the `mark`s (measured: about 165). */
const EVENTS_PER_REQUEST = 165;

/** Where objects are allocated: the `site` of their `alloc`. */
const SITE = {
  app: 'app/__init__.py:12',
  config: 'app/__init__.py:15',
  urlMap: 'app/routing.py:20',
  view: 'app/views.py',
  environ: 'wsgi/server.py:412',
  header: 'wsgi/server.py:418',
  request: 'app/wrappers.py:37',
  path: 'app/routing.py:81',
  routeArgs: 'app/routing.py:88',
  context: 'app/views.py:42',
  contextValue: 'app/views.py:44',
  rows: 'app/models.py:118',
  row: 'app/models.py:120',
  body: 'app/templating.py:77',
  chunk: 'app/templating.py:79',
  page: 'app/templating.py:85',
  response: 'app/wrappers.py:61',
  responseHeaders: 'app/wrappers.py:68',
  headerPair: 'app/wrappers.py:70',
  payload: 'wsgi/server.py:530',
  frame: 'app/views.py:57',
  exception: 'app/views.py:55',
  connection: 'app/db.py:31',
  cursor: 'app/db.py:44',
} as const;

/** What a request handler needs from the application around it. */
export interface WebApp {
  /** The view functions requests are dispatched to; reachable from a program-held object. */
  readonly views: readonly Handle[];
  /** Requests served so far. */
  requests: number;
  /** A `mark` after every this many requests. */
  readonly markEvery: number;
}

/** Builds the app at start-up: the app instance, its config, URL map and view functions. */
export function startWebApp(m: Mutator, rng: SeededRandom, markEvery: number): WebApp {
  const app = m.allocContainer('Flask', INSTANCE_BYTES, SITE.app);
  const config = newDict(m, SITE.config);
  for (let i = 0; i < 8; i++) setItem(m, config, newStr(m, rng.between(4, 40), SITE.config));
  m.store(app, config.handle);
  const urlMap = newDict(m, SITE.urlMap);
  const views: Handle[] = [];
  for (let i = 0; i < 8; i++) {
    const view = m.allocContainer('function', FUNCTION_BYTES, `${SITE.view}:${30 + 12 * i}`);
    m.store(view, m.allocAtom('code', CODE_BYTES, `${SITE.view}:${30 + 12 * i}`));
    setItem(m, urlMap, view);
    views.push(view);
  }
  m.store(app, urlMap.handle);
  // `app` stays held by the program (a module global) for the life of the process.
  return { views, requests: 0, markEvery };
}

/**
 * Serves one request, from the WSGI environ to the bytes on the socket.
 * Postcondition: everything the request allocated is freed, except when it left a cycle.
 */
export function serveRequest(m: Mutator, rng: SeededRandom, app: WebApp): void {
  m.advanceClock(rng.between(50, 2_000));

  // 1. The server parses the request into the environ dict.
  const environ = newDict(m, SITE.environ);
  const headerCount = rng.between(6, 14);
  for (let i = 0; i < headerCount; i++) setItem(m, environ, newStr(m, rng.between(8, 64), SITE.header));
  const request = m.allocContainer('Request', INSTANCE_BYTES, SITE.request);
  m.store(request, environ.handle);

  // 2. Routing: the path and the route arguments (ids beyond the small-int cache, slugs).
  m.store(request, newStr(m, rng.between(8, 48), SITE.path));
  const argCount = rng.between(0, 2);
  if (argCount > 0) {
    const args = m.allocContainer('tuple', tupleBytes(argCount), SITE.routeArgs);
    for (let i = 0; i < argCount; i++) {
      m.store(args, rng.chance(0.6) ? newInt(m, rng.between(257, 2_000_000), SITE.routeArgs) : newStr(m, rng.between(4, 24), SITE.routeArgs));
    }
    m.store(request, args);
  }

  // 3. The view runs: a template context, maybe a query's rows.
  const view = rng.pick(app.views);
  m.incref(view);
  m.advanceClock(rng.between(100, 5_000));
  const context = newDict(m, SITE.context);
  const valueCount = rng.between(2, 5);
  for (let i = 0; i < valueCount; i++) {
    const kind = rng.below(3);
    const value = kind === 0 ? newStr(m, rng.between(4, 80), SITE.contextValue) : kind === 1 ? newInt(m, rng.between(257, 100_000), SITE.contextValue) : newFloat(m, SITE.contextValue);
    setItem(m, context, value);
  }
  if (rng.chance(0.5)) {
    const rows = newList(m, SITE.rows);
    const rowCount = rng.skewed(6, 40);
    for (let i = 0; i < rowCount; i++) {
      const row = m.allocContainer('tuple', tupleBytes(3), SITE.row);
      m.store(row, newInt(m, rng.between(257, 10_000_000), SITE.row));
      m.store(row, newStr(m, rng.between(3, 40), SITE.row));
      m.store(row, newFloat(m, SITE.row));
      append(m, rows, row);
    }
    setItem(m, context, rows.handle);
  }

  // 4. Rendering: body chunks; the page str is grown in place (`html += part` reallocates a str
  //    that nothing else references [v3.12.5 Objects/unicodeobject.c: PyUnicode_Append → unicode_resize]).
  const body = newList(m, SITE.body);
  let bodyLength = 0;
  const chunkCount = rng.between(2, 6);
  for (let i = 0; i < chunkCount; i++) {
    const length = rng.skewed(200, 4_000);
    bodyLength += length;
    append(m, body, newStr(m, length, SITE.chunk));
  }
  const page = newStr(m, 64, SITE.page);
  let pageLength = 64;
  const growths = rng.between(1, 3);
  for (let i = 0; i < growths; i++) {
    pageLength += rng.between(32, 512);
    m.resize(page, strBytes(pageLength));
  }
  bodyLength += pageLength;
  append(m, body, page);
  m.decref(context.handle);
  m.decref(view);

  // 5. The response: body list and a list of (name, value) header pairs.
  const response = m.allocContainer('Response', INSTANCE_BYTES, SITE.response);
  m.store(response, body.handle);
  const responseHeaders = newList(m, SITE.responseHeaders);
  const pairCount = rng.between(2, 5);
  for (let i = 0; i < pairCount; i++) {
    const pair = m.allocContainer('tuple', tupleBytes(2), SITE.headerPair);
    m.store(pair, newStr(m, rng.between(4, 20), SITE.headerPair));
    m.store(pair, newStr(m, rng.between(2, 60), SITE.headerPair));
    append(m, responseHeaders, pair);
  }
  m.store(response, responseHeaders.handle);

  // 6. The server joins the body into bytes, sends them, drops them.
  m.advanceClock(rng.between(20, 500));
  const payload = newBytes(m, bodyLength + 30 * pairCount, SITE.payload);
  m.decref(payload);

  // 7. Now and then a cycle is left behind, holding on to the request.
  let cycle: Handle | null = null;
  if (rng.chance(CYCLE_PROBABILITY)) cycle = rng.chance(0.7) ? leaveTracebackCycle(m, rng, request) : leaveConnectionCycle(m);

  // 8. The request ends: dropping the last names frees everything by reference counting, except
  //    a cycle and what it holds, which the generator's model can stop tracking.
  m.decref(response);
  m.decref(request);
  if (cycle !== null) m.forgetGarbage([cycle]);
  app.requests++;
  if (app.requests % app.markEvery === 0) m.mark(`request ${app.requests} done`);
}

/**
 * `except ValueError as e:` in a view whose frame is kept (by a logger, a debugger hook):
 * exception → traceback → frame → f_locals → exception, with the request in the frame's locals.
 * Precondition: `request` is program-held. Postcondition: none of the new objects is; returns
 * the frame, a member of the cycle.
 */
function leaveTracebackCycle(m: Mutator, rng: SeededRandom, request: Handle): Handle {
  const frame = m.allocContainer('frame', FRAME_BYTES, SITE.frame);
  const locals = newDict(m, SITE.frame);
  m.link(frame, locals.handle);
  setItemKeep(m, locals, request);
  const exception = m.allocContainer('ValueError', EXCEPTION_BYTES, SITE.exception);
  const args = m.allocContainer('tuple', tupleBytes(1), SITE.exception);
  m.store(args, newStr(m, rng.between(12, 80), SITE.exception));
  m.store(exception, args);
  const traceback = m.allocContainer('traceback', TRACEBACK_BYTES, SITE.exception);
  m.link(traceback, frame);
  m.store(exception, traceback);
  setItem(m, locals, exception);
  m.decref(locals.handle);
  m.decref(frame);
  return frame;
}

/**
 * A connection and its cursor referencing each other; the connection has a `__del__`.
 * Postcondition: none of the new objects is program-held; returns the connection.
 */
function leaveConnectionCycle(m: Mutator): Handle {
  const connection = m.allocContainer('Connection', INSTANCE_BYTES, SITE.connection, 'del');
  const cursors = m.allocContainer('list', listBytes(4), SITE.connection);
  m.link(connection, cursors);
  const cursor = m.allocContainer('Cursor', INSTANCE_BYTES, SITE.cursor);
  m.link(cursor, connection);
  m.store(cursors, cursor);
  m.decref(cursors);
  m.decref(connection);
  return connection;
}

/** The program: start the app, then serve requests forever. */
function* webProgram(m: Mutator, rng: SeededRandom, events: number): Generator<void, void, undefined> {
  const app = startWebApp(m, rng, markInterval(events / EVENTS_PER_REQUEST));
  yield;
  for (;;) {
    serveRequest(m, rng, app);
    yield;
  }
}

export const web: WorkloadModule = {
  name: 'web',
  description: 'A web application serving requests: per-request objects freed by reference counting at the end of each request, and 2% of requests leaving a reference cycle (a caught exception with its traceback and frame, or a connection and its cursor) that only the cycle collector frees.',
  generate(options: WorkloadOptions): Iterable<TraceEvent> {
    checkWorkloadOptions('web', options);
    const mutator = new Mutator({ ids: 'integer', reuseIds: true, clock: true });
    return runWorkload(options.events, mutator, webProgram(mutator, new SeededRandom(options.seed), options.events));
  },
  generateHeader(options: WorkloadOptions) {
    // oldObjects: what a Flask app has in the oldest generation once its imports are done.
    return workloadHeader(web, options, { timeUnit: 'us', oldObjects: WEB_APP_OLD_OBJECTS });
  },
};
