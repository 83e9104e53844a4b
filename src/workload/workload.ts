/**
 * The interface every workload generator implements, and the driver that runs one.
 *
 * A workload is a synthetic Python program that tells one story of CPython's memory model (web
 * request churn, an ORM's back-references, a leaking cache…). It is written as a generator
 * function, its *program*, that drives a `Mutator` and yields (nothing) at convenient points;
 * `runWorkload()` turns that into exactly `events` trace events, streaming, deterministic from the
 * seed. Registering a new workload = one new file exporting a `WorkloadModule` + one line in
 * `index.ts` + one test case in `test/workload`.
 */
import { shownNumber, UsageError } from '../errors.js';
import type { TraceEvent, TraceHeader } from '../trace/types.js';
import type { Mutator } from './mutator.js';

/** Options every workload takes. */
export interface WorkloadOptions {
  /** Exactly how many events to generate. */
  events: number;
  /** Seed of the pseudo-random generator: the same seed gives the same trace. */
  seed: number;
}

export interface WorkloadModule {
  /** Registry name, e.g. "cache-leak". */
  readonly name: string;
  /** One sentence: what the program does and what it shows. */
  readonly description: string;
  /** The events, exactly `options.events` of them, lazily. Every call starts afresh. */
  generate(options: WorkloadOptions): Iterable<TraceEvent>;
  /** The header to write before those events (meta: python, timeUnit, workload, seed…). */
  generateHeader(options: WorkloadOptions): TraceHeader;
}

/** The CPython version whose object sizes and behaviour the workloads imitate. */
export const WORKLOAD_PYTHON_VERSION = '3.12.1';

/** Most events a workload will generate: beyond this the event index loses integer precision in a Float64 column, long before memory runs out. */
export const MAX_WORKLOAD_EVENTS = 2 ** 40;

/** Throws a `UsageError` unless `events` is a whole number ≥ 0 and `seed` a 32-bit unsigned integer. */
export function checkWorkloadOptions(name: string, options: WorkloadOptions): void {
  const { events, seed } = options;
  if (!Number.isSafeInteger(events) || events < 0 || events > MAX_WORKLOAD_EVENTS) {
    throw new UsageError(`workload ${name}: the number of events must be a whole number from 0 to ${MAX_WORKLOAD_EVENTS}, got ${shownNumber(events)}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageError(`workload ${name}: the seed must be a whole number from 0 to 4294967295, got ${shownNumber(seed)}`);
  }
}

/** The header meta fields every workload writes; `extra` adds workload-specific ones. */
export function workloadHeader(module: Pick<WorkloadModule, 'name' | 'description'>, options: WorkloadOptions, extra: Record<string, unknown> = {}): TraceHeader {
  return {
    format: 'memreplay',
    version: 1,
    meta: {
      python: WORKLOAD_PYTHON_VERSION,
      workload: module.name,
      seed: options.seed,
      events: options.events,
      description: module.description,
      generator: 'memreplay workload generator (src/workload)',
      ...extra,
    },
  };
}

/**
 * Steps with no event in a row after which a program is taken to be stuck (a bug), rather than
 * looping forever.
 */
const MAX_EMPTY_STEPS = 1_000_000;

/**
 * Hands out a workload program's events, exactly `events` of them.
 *
 * The events recorded between two yields of the program are passed on one by one. Memory is
 * bounded by the mutator's model plus one step's events, never by `events`. When the budget runs
 * out mid-step the trace simply ends there, with whatever is still alive, as a program stopped at
 * that moment would leave it.
 */
export function* runWorkload(events: number, mutator: Mutator, program: Iterator<void>): Generator<TraceEvent, void, undefined> {
  let remaining = events;
  let emptySteps = 0;
  const pending = mutator.pending;
  try {
    while (remaining > 0) {
      const step = program.next();
      const count = Math.min(pending.length, remaining);
      for (let i = 0; i < count; i++) yield pending[i];
      remaining -= count;
      emptySteps = pending.length === 0 ? emptySteps + 1 : 0;
      pending.length = 0;
      if ((step.done === true || emptySteps > MAX_EMPTY_STEPS) && remaining > 0) {
        throw new Error('workload bug: the program stopped producing events before the number asked for');
      }
    }
  } finally {
    program.return?.();
  }
}

/**
 * A round interval (1, 2 or 5 × 10^k) that splits about `expected` units into about `wanted`
 * parts: how often a workload writes a `mark`, so a chart of any trace length gets a handful.
 */
export function markInterval(expected: number, wanted = 5): number {
  const raw = Math.max(1, expected / wanted);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [5, 2, 1]) if (step * power <= raw) return step * power;
  return power;
}
