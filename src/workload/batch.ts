/**
 * `batch`: an ETL job that builds a large structure, aggregates over it, and drops it at once.
 *
 * Each batch reads rows from raw buffers into a list of records (a dict per row, or a tuple per
 * row for some batches), aggregates a sample of them, and drops the list: one `decref` whose
 * refcount cascade frees thousands of objects in one go. Between batches the job calls
 * `gc.collect()`. Every other batch is built with the collector disabled (`gc.disable()` …
 * `gc.enable()`), a common tuning for bulk loads: building a big structure of containers
 * otherwise triggers collection after collection that find nothing, since nothing built is
 * garbage. Comparing the two halves shows what the tuning saves.
 *
 * The read buffers are released with `free` (a raw-allocator event: the buffer is deallocated
 * the moment it is parsed, and nothing links to it). A small history list keeps one summary per
 * batch for the life of the job.
 *
 * State: the history list (program-held) and the handles of the current batch's rows (reachable
 * through its program-held result list). Ids are integers, reused after refcounting frees an
 * object, so each batch reuses the ids the previous one freed, most recent first.
 */
import type { TraceEvent } from '../trace/types.js';
import { Mutator, type Handle } from './mutator.js';
import { append, newBytes, newFloat, newInt, newList, newStr } from './objects.js';
import { SeededRandom } from './random.js';
import { dictBytes, tupleBytes } from './sizes.js';
import { checkWorkloadOptions, markInterval, runWorkload, workloadHeader, type WorkloadModule, type WorkloadOptions } from './workload.js';

/** Rows per batch, inclusive bounds. */
const ROWS_MIN = 500;
const ROWS_MAX = 4_000;
/** Share of the rows the aggregation step reads. */
const SAMPLED_SHARE = 0.1;

const SITE = {
  history: 'etl/job.py:10',
  result: 'etl/job.py:31',
  buffer: 'etl/reader.py:22',
  record: 'etl/parse.py:48',
  tags: 'etl/parse.py:52',
  aggregate: 'etl/job.py:44',
  summary: 'etl/job.py:51',
} as const;

/** One parsed row: a presized dict literal `{'id': …, 'name': …, 'score': …, 'tags': (…)}`. */
function parseDictRow(m: Mutator, rng: SeededRandom): Handle {
  const record = m.allocContainer('dict', dictBytes(4), SITE.record);
  m.store(record, newInt(m, rng.between(257, 2_000_000_000), SITE.record));
  m.store(record, newStr(m, rng.between(6, 40), SITE.record));
  m.store(record, newFloat(m, SITE.record));
  const tags = m.allocContainer('tuple', tupleBytes(2), SITE.tags);
  m.store(tags, newStr(m, rng.between(3, 12), SITE.tags));
  m.store(tags, newStr(m, rng.between(3, 12), SITE.tags));
  m.store(record, tags);
  return record;
}

/** One parsed row as a tuple `(id, name, score, category)`. */
function parseTupleRow(m: Mutator, rng: SeededRandom): Handle {
  const record = m.allocContainer('tuple', tupleBytes(4), SITE.record);
  m.store(record, newInt(m, rng.between(257, 2_000_000_000), SITE.record));
  m.store(record, newStr(m, rng.between(6, 40), SITE.record));
  m.store(record, newFloat(m, SITE.record));
  m.store(record, newStr(m, rng.between(3, 12), SITE.record));
  return record;
}

function* batchProgram(m: Mutator, rng: SeededRandom, events: number): Generator<void, void, undefined> {
  const history = newList(m, SITE.history);
  const markEvery = markInterval(events / (((ROWS_MIN + ROWS_MAX) / 2) * 14));
  yield;
  for (let batch = 1; ; batch++) {
    const rowCount = rng.between(ROWS_MIN, ROWS_MAX);
    const gcDisabled = batch % 2 === 0;
    const asDicts = rng.chance(0.7);
    const label = batch % markEvery === 0;
    if (label) m.mark(`batch ${batch}: building ${rowCount} ${asDicts ? 'dict' : 'tuple'} rows${gcDisabled ? ' with gc disabled' : ''}`);
    if (gcDisabled) m.setGcEnabled(false);

    // 1. Build: read a buffer, parse it into a record, free the buffer, append the record.
    const result = newList(m, SITE.result);
    const rows: Handle[] = [];
    for (let i = 0; i < rowCount; i++) {
      const buffer = newBytes(m, rng.between(64, 256), SITE.buffer);
      const record = asDicts ? parseDictRow(m, rng) : parseTupleRow(m, rng);
      m.free(buffer);
      append(m, result, record);
      rows.push(record);
      yield;
    }
    if (gcDisabled) m.setGcEnabled(true);

    // 2. Aggregate over a sample of rows (`for row in sample: total += row['score']`).
    const sampled = Math.ceil(rowCount * SAMPLED_SHARE);
    for (let i = 0; i < sampled; i++) {
      const row = rows[rng.below(rows.length)];
      m.incref(row);
      const partial = newFloat(m, SITE.aggregate);
      m.decref(partial);
      m.decref(row);
    }
    const summary = m.allocContainer('tuple', tupleBytes(2), SITE.summary);
    m.store(summary, newInt(m, rowCount + 257, SITE.summary));
    m.store(summary, newFloat(m, SITE.summary));
    append(m, history, summary);
    yield;

    // 3. Drop the batch: one decref, a refcount cascade through every row; then gc.collect().
    if (label) m.mark(`batch ${batch}: dropping ${rowCount} rows`);
    m.decref(result.handle);
    m.collect();
    yield;
  }
}

export const batch: WorkloadModule = {
  name: 'batch',
  description: 'A batch job building a large list of dict or tuple records, aggregating over it and dropping it at once (a long reference-counting cascade), with gc.collect() between batches and every other batch built with the collector disabled.',
  generate(options: WorkloadOptions): Iterable<TraceEvent> {
    checkWorkloadOptions('batch', options);
    const mutator = new Mutator({ ids: 'integer', reuseIds: true });
    return runWorkload(options.events, mutator, batchProgram(mutator, new SeededRandom(options.seed), options.events));
  },
  generateHeader(options: WorkloadOptions) {
    return workloadHeader(batch, options);
  },
};
