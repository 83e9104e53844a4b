/**
 * `freeze`: a pre-fork server that imports its code, calls `gc.freeze()`, then serves requests:
 * the pattern Instagram described for keeping copy-on-write pages shared after fork, and the
 * reason `gc.freeze()` exists (gh-75739, bpo-31558).
 *
 *   gc.disable()                   # no collection while importing
 *   import app                     # modules, classes, functions: many long-lived containers
 *   gc.freeze()                    # move all of them to the permanent generation
 *   gc.enable()
 *   serve_forever()                # the `web` workload's requests
 *   gc.unfreeze()                  # near the end: everything frozen goes back to gen 2
 *
 * Start-up objects form cycles of their own (a function's `__globals__` is its module's dict,
 * which holds the function; a class's `__mro__` holds the class) but stay reachable from
 * `sys.modules`. Frozen, they are never examined by a collection
 * [v3.12.5 Modules/gcmodule.c: gc_freeze_impl], so the full collections of the serving phase
 * stay short, and their refcounts are still touched by requests (a view is called).
 *
 * Start-up takes `STARTUP_SHARE` of the events (at most `STARTUP_EVENTS_MAX`); `unfreeze` comes
 * at `UNFREEZE_AT_SHARE` of them. State: `sys.modules` (program-held) and the web app; ids are
 * integers that are never reused, and `t` is in microseconds.
 */
import type { TraceEvent } from '../trace/types.js';
import { Mutator } from './mutator.js';
import { newDict, newStr, setItem, setItemKeep, type DictObject } from './objects.js';
import { SeededRandom } from './random.js';
import { CLASS_BYTES, CODE_BYTES, FUNCTION_BYTES, MODULE_BYTES, tupleBytes } from './sizes.js';
import { serveRequest, startWebApp } from './web.js';
import { checkWorkloadOptions, markInterval, runWorkload, workloadHeader, type WorkloadModule, type WorkloadOptions } from './workload.js';

/** Share of the events spent importing modules. */
const STARTUP_SHARE = 0.3;
/** Most events spent importing (about 2,000 modules: a large application). */
const STARTUP_EVENTS_MAX = 200_000;
/** Where in the trace `gc.unfreeze()` comes. */
const UNFREEZE_AT_SHARE = 0.9;
/** Events of an average request of the serving phase, for spacing the `mark`s. */
const EVENTS_PER_REQUEST = 165;

const MODULE_NAMES = ['os', 'json', 're', 'logging', 'typing', 'dataclasses', 'decimal', 'email.parser', 'http.client', 'urllib.parse', 'werkzeug.routing', 'jinja2.environment', 'sqlalchemy.orm', 'app.models', 'app.views', 'app.forms'] as const;

const SITE = {
  sysModules: '<frozen importlib._bootstrap>:1168',
  module: '<frozen importlib._bootstrap>:241',
} as const;

/** `import name`: the module, its dict, functions, classes and constants, into `sys.modules`. */
function importModule(m: Mutator, rng: SeededRandom, sysModules: DictObject, number: number): void {
  const name = `${MODULE_NAMES[number % MODULE_NAMES.length]}${number < MODULE_NAMES.length ? '' : `_${number}`}`;
  const file = `${name.replace(/\./g, '/')}.py`;
  const module = m.allocContainer('module', MODULE_BYTES, SITE.module);
  const namespace = newDict(m, SITE.module);
  m.link(module, namespace.handle);
  setItem(m, namespace, newStr(m, name.length, SITE.module));

  let line = 1;
  const defineFunction = (into: DictObject): void => {
    line += rng.between(3, 40);
    const site = `${file}:${line}`;
    const fn = m.allocContainer('function', FUNCTION_BYTES, site);
    m.store(fn, m.allocAtom('code', CODE_BYTES, site));
    m.link(fn, namespace.handle); // fn.__globals__: module dict ↔ function, a cycle kept alive by sys.modules
    setItem(m, into, fn);
  };

  const functionCount = rng.between(2, 12);
  for (let i = 0; i < functionCount; i++) defineFunction(namespace);

  const classCount = rng.between(0, 3);
  for (let i = 0; i < classCount; i++) {
    line += rng.between(3, 20);
    const cls = m.allocContainer('type', CLASS_BYTES, `${file}:${line}`);
    const classDict = newDict(m, `${file}:${line}`);
    m.link(cls, classDict.handle);
    const methodCount = rng.between(1, 6);
    for (let j = 0; j < methodCount; j++) defineFunction(classDict);
    const mro = m.allocContainer('tuple', tupleBytes(2), `${file}:${line}`);
    m.link(mro, cls); // cls.__mro__ = (cls, object): a class is always in a cycle with its MRO
    m.store(cls, mro);
    m.decref(classDict.handle);
    setItem(m, namespace, cls);
  }

  const constantCount = rng.between(1, 6);
  for (let i = 0; i < constantCount; i++) setItem(m, namespace, newStr(m, rng.between(4, 60), `${file}:${line + i + 1}`));

  setItemKeep(m, sysModules, module);
  m.decref(module);
  m.decref(namespace.handle);
}

function* freezeProgram(m: Mutator, rng: SeededRandom, events: number): Generator<void, void, undefined> {
  const startupEvents = Math.min(Math.floor(events * STARTUP_SHARE), STARTUP_EVENTS_MAX);
  const unfreezeAt = Math.floor(events * UNFREEZE_AT_SHARE);

  // 1. Start-up with the collector off.
  m.setGcEnabled(false);
  const sysModules = newDict(m, SITE.sysModules);
  let modules = 0;
  while (m.recorded < startupEvents) {
    m.advanceClock(rng.between(200, 3_000));
    importModule(m, rng, sysModules, modules++);
    yield;
  }
  const servingEvents = Math.max(0, events - m.recorded);
  const app = startWebApp(m, rng, markInterval(servingEvents / EVENTS_PER_REQUEST));
  m.mark(`start-up done: ${modules} modules imported`);

  // 2. Freeze everything allocated so far, turn the collector on, serve.
  m.freeze();
  m.setGcEnabled(true);
  yield;
  let frozen = true;
  for (;;) {
    if (frozen && m.recorded >= unfreezeAt) {
      m.unfreeze();
      m.mark('unfrozen');
      frozen = false;
    }
    serveRequest(m, rng, app);
    yield;
  }
}

export const freeze: WorkloadModule = {
  name: 'freeze',
  description: 'A pre-fork web server: imports modules (many long-lived containers, in cycles but reachable) with the collector disabled, calls gc.freeze(), enables the collector and serves requests; gc.unfreeze() near the end.',
  generate(options: WorkloadOptions): Iterable<TraceEvent> {
    checkWorkloadOptions('freeze', options);
    const mutator = new Mutator({ ids: 'integer', reuseIds: false, clock: true });
    return runWorkload(options.events, mutator, freezeProgram(mutator, new SeededRandom(options.seed), options.events));
  },
  generateHeader(options: WorkloadOptions) {
    return workloadHeader(freeze, options, { timeUnit: 'us', oldObjects: 0 });
  },
};
