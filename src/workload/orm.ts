/**
 * `orm`: an ORM session loading object graphs with back-references, the textbook source of
 * cycles that reference counting cannot free.
 *
 * The session holds an identity map (a dict keyed by primary key) of every loaded instance.
 * Each query loads a batch of `Order`s; an order owns a list of `OrderItem`s and each item points
 * back to its order through `_parent` (SQLAlchemy's backref, Django's cached reverse relation):
 *
 *   session ──► identity_map ──┬──► order ◄───────── _parent ─────────┐
 *                               │      └──► items (list) ──► item ─────┘
 *                               └────────────────────────────► item
 *
 * The code then reads the batch and updates a few attributes (`order.status = …`: the old str is
 * freed by refcounting). Most batches are dropped when the unit of work ends: they are expunged
 * from the identity map and the result list is released; every order with items is then a
 * garbage cycle, left for the cycle collector. Some batches are kept (cached by the app) and
 * dropped later, when the cache of kept batches is full; orders loaded without items are freed
 * by refcounting at once. At start the program raises gen-0's threshold (`gc.set_threshold(2000)`,
 * the tuning 3.13 later made the default), so that collections come less often.
 *
 * State: the session, its identity map and the list of kept batches are program-held for the
 * whole run; a batch's orders are reachable from its result list. Ids are address-like strings
 * ("0x7f3a00000a30"), reused after refcounting frees an object, as CPython reuses addresses.
 */
import type { TraceEvent } from '../trace/types.js';
import { Mutator, type Handle } from './mutator.js';
import { append, appendKeep, deleteItem, newDict, newFloat, newInt, newList, newStr, setItemKeep, type DictObject, type ListObject } from './objects.js';
import { SeededRandom } from './random.js';
import { INSTANCE_BYTES } from './sizes.js';
import { checkWorkloadOptions, markInterval, runWorkload, workloadHeader, type WorkloadModule, type WorkloadOptions } from './workload.js';

/** Share of batches the app keeps after the unit of work. */
const KEEP_PROBABILITY = 0.3;
/** Kept batches held at once; the oldest is dropped beyond this. */
const KEPT_BATCHES_MAX = 6;
/** Share of orders loaded with their items (the others are lazy: no cycle). */
const ITEMS_LOADED_PROBABILITY = 0.8;
/** Gen-0 threshold the service sets at start (3.12's default is 700, 3.13's 2000: cpython-memory.md §2.1). */
const GEN0_THRESHOLD = 2_000;
/** Events of an average batch, for spacing the `mark`s (measured: about 660). */
const EVENTS_PER_BATCH = 660;

const SITE = {
  session: 'app/db.py:12',
  identityMap: 'sqlalchemy/orm/identity.py:58',
  kept: 'app/cache.py:9',
  result: 'sqlalchemy/orm/loading.py:148',
  order: 'sqlalchemy/orm/loading.py:1022',
  column: 'sqlalchemy/engine/result.py:551',
  items: 'sqlalchemy/orm/strategies.py:1297',
  item: 'sqlalchemy/orm/loading.py:1022',
  update: 'app/services/orders.py:77',
} as const;

/** One loaded order and what the program needs to update it. */
interface LoadedOrder {
  readonly order: Handle;
  /** The str held by `order.status`, replaced on update. */
  status: Handle;
  readonly items: readonly Handle[];
}

interface Batch {
  readonly result: ListObject;
  readonly orders: readonly LoadedOrder[];
}

interface Session {
  readonly identityMap: DictObject;
  readonly kept: ListObject;
  /** Kept batches, oldest first. */
  readonly keptBatches: Batch[];
}

/** Loads one batch: each row becomes an instance, registered in the identity map. */
function loadBatch(m: Mutator, rng: SeededRandom, session: Session): Batch {
  const result = newList(m, SITE.result);
  const orders: LoadedOrder[] = [];
  const rowCount = rng.skewed(12, 60);
  for (let i = 0; i < rowCount; i++) {
    const order = m.allocContainer('Order', INSTANCE_BYTES, SITE.order);
    m.store(order, newInt(m, rng.between(257, 50_000_000), SITE.column));
    const status = newStr(m, rng.between(4, 12), SITE.column);
    m.store(order, status);
    m.store(order, newFloat(m, SITE.column));
    const items: Handle[] = [];
    if (rng.chance(ITEMS_LOADED_PROBABILITY)) {
      const itemList = newList(m, SITE.items);
      const itemCount = rng.between(1, 5);
      for (let j = 0; j < itemCount; j++) {
        const item = m.allocContainer('OrderItem', INSTANCE_BYTES, SITE.item);
        m.store(item, newStr(m, rng.between(6, 16), SITE.column));
        m.store(item, newInt(m, rng.between(257, 5_000), SITE.column));
        m.link(item, order); // item._parent: the back-reference that makes the cycle
        setItemKeep(m, session.identityMap, item);
        append(m, itemList, item);
        items.push(item);
      }
      m.store(order, itemList.handle);
    }
    setItemKeep(m, session.identityMap, order);
    append(m, result, order);
    orders.push({ order, status, items });
  }
  return { result, orders };
}

/** `order.status = 'shipped'` on a few orders: the old str goes by refcounting. */
function updateSome(m: Mutator, rng: SeededRandom, batch: Batch): void {
  const updates = rng.between(0, Math.min(5, batch.orders.length));
  for (let i = 0; i < updates; i++) {
    const loaded = rng.pick(batch.orders);
    m.incref(loaded.order); // the loop variable
    const status = newStr(m, rng.between(4, 12), SITE.update);
    m.link(loaded.order, status);
    m.unlink(loaded.order, loaded.status);
    loaded.status = status;
    m.decref(status);
    m.decref(loaded.order);
  }
}

/** `session.expunge(obj)` for every instance of the batch: the identity map lets go. */
function expunge(m: Mutator, session: Session, batch: Batch): void {
  for (const loaded of batch.orders) {
    for (const item of loaded.items) deleteItem(m, session.identityMap, item);
    deleteItem(m, session.identityMap, loaded.order);
  }
}

/** A dropped batch's orders with items are now garbage cycles: the model can stop tracking them. */
function forgetCycles(m: Mutator, batch: Batch): void {
  m.forgetGarbage(batch.orders.filter((loaded) => loaded.items.length > 0).map((loaded) => loaded.order));
}

function* ormProgram(m: Mutator, rng: SeededRandom, events: number): Generator<void, void, undefined> {
  m.setThreshold(0, GEN0_THRESHOLD);
  const sessionObject = m.allocContainer('Session', INSTANCE_BYTES, SITE.session);
  const identityMap = newDict(m, SITE.identityMap, false);
  m.link(sessionObject, identityMap.handle); // the program keeps `identity_map` as a local alias too
  const kept = newList(m, SITE.kept);
  const session: Session = { identityMap, kept, keptBatches: [] };
  const markEvery = markInterval(events / EVENTS_PER_BATCH);
  yield;
  for (let batchNumber = 1; ; batchNumber++) {
    const batch = loadBatch(m, rng, session);
    yield;
    updateSome(m, rng, batch);
    if (rng.chance(KEEP_PROBABILITY)) {
      appendKeep(m, kept, batch.result.handle);
      m.decref(batch.result.handle);
      session.keptBatches.push(batch);
      if (session.keptBatches.length > KEPT_BATCHES_MAX) {
        // The oldest kept batch goes: expunged, then removed from the kept list (`del kept[0]`).
        const oldest = session.keptBatches.shift() as Batch;
        expunge(m, session, oldest);
        kept.length--;
        m.unlink(kept.handle, oldest.result.handle);
        forgetCycles(m, oldest);
      }
    } else {
      expunge(m, session, batch);
      m.decref(batch.result.handle);
      forgetCycles(m, batch);
    }
    if (batchNumber % markEvery === 0) m.mark(`batch ${batchNumber} done`);
    yield;
  }
}

export const orm: WorkloadModule = {
  name: 'orm',
  description: 'An ORM session loading batches of orders whose items point back to them (_parent back-references) and registering them in an identity map; most batches are expunged and dropped, leaving cycles for the collector, some are kept for a while.',
  generate(options: WorkloadOptions): Iterable<TraceEvent> {
    checkWorkloadOptions('orm', options);
    const mutator = new Mutator({ ids: 'address', reuseIds: true });
    return runWorkload(options.events, mutator, ormProgram(mutator, new SeededRandom(options.seed), options.events));
  },
  generateHeader(options: WorkloadOptions) {
    return workloadHeader(orm, options);
  },
};
