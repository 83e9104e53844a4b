/**
 * `cache-leak`: a memoizing function whose module-level cache dict only grows: a leak that no
 * collector can fix, because everything in it is reachable.
 *
 *   _cache = {}
 *   def price(product_id, currency):
 *       key = f"{product_id}:{currency}"
 *       if key not in _cache:
 *           _cache[key] = compute(...)   # a small Quote object with a few fields
 *       return _cache[key]
 *
 * Keys are unbounded (product ids keep coming), so most calls miss, and each miss adds a key str
 * and a Quote (instance → tuple of floats, a currency str) to the cache. Hits take a reference to
 * a cached Quote for the duration of the call. Around the cache the program churns: argument
 * tuples, temporary lists and floats, freed by refcounting at once. Now and then the program calls
 * `gc.collect()`, which finds nothing to free: reachable memory is not garbage. The cache dict
 * itself grows in steps (`resize`), as its keys table doubles.
 *
 * State: the cache (program-held, a module global) and the handles of the `RECENT_ENTRIES` most
 * recent Quotes (reachable through the cache). The leak itself lives only in the mutator's model
 * of the heap. Ids are integers, reused after refcounting frees an object.
 */
import type { TraceEvent } from '../trace/types.js';
import { Mutator, type Handle } from './mutator.js';
import { append, newDict, newFloat, newInt, newList, newStr, setItemKeep, type DictObject } from './objects.js';
import { SeededRandom } from './random.js';
import { INSTANCE_BYTES, tupleBytes } from './sizes.js';
import { checkWorkloadOptions, markInterval, runWorkload, workloadHeader, type WorkloadModule, type WorkloadOptions } from './workload.js';

/** Share of calls whose key is already cached (recent keys come back). */
const HIT_PROBABILITY = 0.25;
/** Hits pick among this many most recent entries (temporal locality). */
const RECENT_ENTRIES = 512;
/** A `gc.collect()` every this many calls. */
const COLLECT_EVERY_CALLS = 50;
/** Events of an average call, for spacing the `mark`s (measured: about 33). */
const EVENTS_PER_CALL = 33;

const SITE = {
  cache: 'app/pricing.py:8',
  key: 'app/pricing.py:12',
  quote: 'app/pricing.py:14',
  args: 'app/api.py:40',
  scratch: 'app/pricing.py:31',
} as const;

/** A miss: `_cache[key] = Quote(...)`. Returns the Quote, held by the cache only. */
function addEntry(m: Mutator, rng: SeededRandom, cache: DictObject): Handle {
  const key = newStr(m, rng.between(8, 24), SITE.key);
  const quote = m.allocContainer('Quote', INSTANCE_BYTES, SITE.quote);
  const prices = m.allocContainer('tuple', tupleBytes(3), SITE.quote);
  for (let i = 0; i < 3; i++) m.store(prices, newFloat(m, SITE.quote));
  m.store(quote, prices);
  m.store(quote, newStr(m, 3, SITE.quote));
  // The dict holds the key and the value: one insertion, two references.
  setItemKeep(m, cache, key);
  m.decref(key);
  m.link(cache.handle, quote);
  m.decref(quote);
  return quote;
}

/** Per-call temporaries: the argument tuple and a scratch list of floats, all freed at return. */
function churn(m: Mutator, rng: SeededRandom): void {
  const args = m.allocContainer('tuple', tupleBytes(2), SITE.args);
  m.store(args, newInt(m, rng.between(257, 1_000_000), SITE.args));
  m.store(args, newStr(m, 3, SITE.args));
  if (rng.chance(0.5)) {
    const scratch = newList(m, SITE.scratch);
    const count = rng.between(1, 4);
    for (let i = 0; i < count; i++) append(m, scratch, newFloat(m, SITE.scratch));
    m.decref(scratch.handle);
  }
  m.decref(args);
}

function* cacheLeakProgram(m: Mutator, rng: SeededRandom, events: number): Generator<void, void, undefined> {
  const cache = newDict(m, SITE.cache);
  // The most recent Quotes, in a ring: the only ones hits pick, so older handles need not be kept.
  const recent: Handle[] = [];
  let added = 0;
  const markEvery = markInterval(events / EVENTS_PER_CALL);
  yield;
  for (let call = 1; ; call++) {
    if (added > 0 && rng.chance(HIT_PROBABILITY)) {
      // A hit: `return _cache[key]` gives the caller a reference for the call's duration.
      const quote = recent[rng.below(Math.min(RECENT_ENTRIES, added))];
      m.incref(quote);
      churn(m, rng);
      m.decref(quote);
    } else {
      churn(m, rng);
      recent[added % RECENT_ENTRIES] = addEntry(m, rng, cache);
      added++;
    }
    if (call % COLLECT_EVERY_CALLS === 0) m.collect();
    if (call % markEvery === 0) m.mark(`call ${call} done, ${cache.shape.used} cache entries`);
    yield;
  }
}

export const cacheLeak: WorkloadModule = {
  name: 'cache-leak',
  description: 'A memoizing function whose module-level cache dict only grows: reachable memory that gc.collect() cannot free, amid per-call churn freed by reference counting.',
  generate(options: WorkloadOptions): Iterable<TraceEvent> {
    checkWorkloadOptions('cache-leak', options);
    const mutator = new Mutator({ ids: 'integer', reuseIds: true });
    return runWorkload(options.events, mutator, cacheLeakProgram(mutator, new SeededRandom(options.seed), options.events));
  },
  generateHeader(options: WorkloadOptions) {
    return workloadHeader(cacheLeak, options);
  },
};
