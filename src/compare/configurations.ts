/**
 * The configurations a comparison replays: what they are, how a sweep expands into them, and the
 * names they go by.
 *
 * A `ConfigurationEntry` is the configuration part of a replay request (`memreplay replay`'s
 * options) as plain JSON: `null` means "what `replay` does without the option". It is what the
 * comparison report lists, what workers receive, and what shards compare to check that they
 * belong to one sweep.
 *
 * A `Sweep` is the cross product of option lists (`--policy a --policy b --threshold0 …`):
 *
 *   for each policy × gc × old-objects × pool × free lists   (outermost first, in the order given)
 *     for each threshold triple                               (generation 0 outermost)
 *
 * NOTE: thresholds change nothing under a policy that does not collect cycles (`refcount-only`),
 * so such a policy is crossed with the other options but not with the thresholds: a grid of 4
 * thresholds × {cpython-3.12, refcount-only} has 5 configurations, not 8 with 3 identical ones.
 */
import { UsageError } from '../errors.js';
import { resolvePolicy } from '../gc/index.js';
import { freeListConfig } from '../pool/free-list.js';
import { poolModule } from '../pool/index.js';
import { formatCount } from '../report/format.js';
import { MAX_OLD_OBJECTS, type ReplayOptions } from '../config/resolve.js';

/** Most configurations one comparison (before sharding) may have. */
export const MAX_CONFIGURATIONS = 10_000;

/** `gc.set_threshold` takes C ints. */
export const THRESHOLD_MAX = 2_147_483_647;
export const THRESHOLD_MIN = -2_147_483_648;

export interface ConfigurationEntry {
  /** How tables and charts name the configuration: the user's label, else built from the options. */
  label: string;
  /** `--policy`; null: the trace's `meta.python`, else cpython-3.12. */
  policy: string | null;
  /** `--threshold`; null: the release's defaults; a null item keeps that generation's default. */
  thresholds: (number | null)[] | null;
  /** `--gc`. */
  gc: 'on' | 'off';
  /** `--old-objects`; null: `meta.oldObjects`, else 0. */
  oldObjects: number | null;
  /**
   * `--marked-objects`: of the old objects, those the interpreter's roots reach (only the
   * 3.14.1–3.14.4 model reads it); null: `meta.markedObjects`, else all of them.
   */
  markedObjects: number | null;
  /** `--pool` (a name or "none"); null: the collector's Python version's allocator. */
  pool: string | null;
  /** `--pool-param`s. */
  poolParams: Record<string, number>;
  /** `--freelists`; null: the collector release's. */
  freeLists: string | null;
}

/** One configuration as a user writes it (configuration file): every field optional. */
export type ConfigurationInput = Partial<ConfigurationEntry>;

/** Option lists to cross. An absent or empty list is the option's default, once. */
export interface Sweep {
  policies?: readonly string[];
  /** Explicit threshold triples (`--threshold`); excludes `thresholdLists`. */
  thresholds?: readonly (readonly (number | null)[])[];
  /** Values per generation (`--threshold0/1/2`); an absent generation keeps its default. */
  thresholdLists?: readonly (readonly number[] | undefined)[];
  gc?: readonly ('on' | 'off')[];
  oldObjects?: readonly number[];
  /** Applies to every configuration. */
  markedObjects?: number;
  pools?: readonly string[];
  /** Applies to every configuration. */
  poolParams?: Record<string, number>;
  freeLists?: readonly string[];
}

/** A list, or the default once. */
function orDefault<T>(list: readonly T[] | undefined): readonly (T | null)[] {
  return list === undefined || list.length === 0 ? [null] : list;
}

/** The threshold triples of a sweep, trailing defaults trimmed (`[700]` is `--threshold 700`). */
function thresholdTriples(sweep: Sweep): readonly ((number | null)[] | null)[] {
  const lists = sweep.thresholdLists ?? [];
  const gridGiven = lists.some((list) => list !== undefined);
  if (sweep.thresholds !== undefined && sweep.thresholds.length > 0) {
    if (gridGiven) throw new UsageError('give thresholds either as triples (--threshold 700,10,10) or per generation (--threshold0 …), not both');
    return sweep.thresholds.map((triple) => trimDefaults([...triple]));
  }
  if (!gridGiven) return [null];
  let triples: (number | null)[][] = [[]];
  for (let generation = 0; generation < 3; generation++) {
    const values: readonly (number | null)[] = lists[generation] ?? [null];
    triples = triples.flatMap((triple) => values.map((value) => [...triple, value]));
  }
  return triples.map(trimDefaults);
}

function trimDefaults(triple: (number | null)[]): (number | null)[] | null {
  let end = triple.length;
  while (end > 0 && triple[end - 1] === null) end--;
  return end === 0 ? null : triple.slice(0, end);
}

/** How many configurations a sweep expands to (without expanding it). */
export function sweepSize(sweep: Sweep): number {
  const lists = sweep.thresholdLists ?? [];
  const thresholdCount =
    sweep.thresholds !== undefined && sweep.thresholds.length > 0
      ? sweep.thresholds.length
      : lists.reduce((product, list) => product * (list === undefined || list.length === 0 ? 1 : list.length), 1);
  const others = [sweep.gc, sweep.oldObjects, sweep.pools, sweep.freeLists].reduce((product, list) => product * orDefault<unknown>(list).length, 1);
  return orDefault(sweep.policies).reduce((total, policy) => total + others * (collectsCycles(policy) ? thresholdCount : 1), 0);
}

/** Whether thresholds matter under a policy (null: the trace's, always a CPython model). */
function collectsCycles(policy: string | null): boolean {
  return policy === null || resolvePolicy(policy).module.constraints.tracesCycles;
}

/**
 * Expands a sweep into configurations, in the documented order. Unknown policy, pool or free-list
 * names are `UsageError`s (listing the known ones) raised here, before any trace is read.
 */
export function expandSweep(sweep: Sweep): ConfigurationEntry[] {
  const size = sweepSize(sweep);
  if (size > MAX_CONFIGURATIONS) throw tooMany(size, describeSweep(sweep));
  const triples = thresholdTriples(sweep);
  const entries: ConfigurationEntry[] = [];
  for (const policy of orDefault(sweep.policies)) {
    const policyTriples = collectsCycles(policy) ? triples : [null];
    for (const gc of orDefault(sweep.gc)) {
      for (const oldObjects of orDefault(sweep.oldObjects)) {
        for (const pool of orDefault(sweep.pools)) {
          for (const freeLists of orDefault(sweep.freeLists)) {
            for (const thresholds of policyTriples) {
              entries.push(completeEntry({ policy, thresholds, gc: gc ?? 'on', oldObjects, markedObjects: sweep.markedObjects, pool, poolParams: sweep.poolParams ?? {}, freeLists }));
            }
          }
        }
      }
    }
  }
  return entries;
}

function describeSweep(sweep: Sweep): string {
  const parts: string[] = [];
  const add = (count: number | undefined, name: string) => {
    if (count !== undefined && count > 1) parts.push(`${count} ${name}`);
  };
  add(sweep.policies?.length, 'policies');
  add(sweep.thresholds?.length, 'threshold triples');
  (sweep.thresholdLists ?? []).forEach((list, generation) => add(list?.length, `generation-${generation} thresholds`));
  add(sweep.gc?.length, 'gc settings');
  add(sweep.oldObjects?.length, 'old-object counts');
  add(sweep.pools?.length, 'pools');
  add(sweep.freeLists?.length, 'free-list models');
  return parts.join(' × ');
}

export function tooMany(size: number, how: string): UsageError {
  return new UsageError(
    `${formatCount(size)} configurations${how === '' ? '' : ` (${how})`} is more than the ${formatCount(MAX_CONFIGURATIONS)} one comparison may replay; ` +
      'use fewer values or coarser steps, or split the sweep into several comparisons',
  );
}

/**
 * Fills in defaults and the label, and checks the names that can be checked without the trace
 * (policy, pool, free lists); pool parameters are checked once the trace's header is known.
 */
export function completeEntry(input: ConfigurationInput): ConfigurationEntry {
  const entry: ConfigurationEntry = {
    label: '',
    policy: input.policy ?? null,
    thresholds: input.thresholds === undefined || input.thresholds === null ? null : trimDefaults([...input.thresholds]),
    gc: input.gc ?? 'on',
    oldObjects: input.oldObjects ?? null,
    markedObjects: input.markedObjects ?? null,
    pool: input.pool ?? null,
    // Entries (not assignment) so that a "__proto__" key stays an ordinary key.
    poolParams: Object.fromEntries(Object.entries(input.poolParams ?? {})),
    freeLists: input.freeLists ?? null,
  };
  if (entry.policy !== null) resolvePolicy(entry.policy);
  if (entry.pool !== null && entry.pool !== 'none') poolModule(entry.pool);
  if (entry.freeLists !== null) freeListConfig(entry.freeLists);
  for (const [name, value] of [['old objects', entry.oldObjects], ['marked objects', entry.markedObjects]] as const) {
    if (value !== null && (!Number.isInteger(value) || value < 0 || value > MAX_OLD_OBJECTS)) throw new UsageError(`${name}: ${value} is not a whole number from 0 to ${MAX_OLD_OBJECTS}`);
  }
  for (const value of entry.thresholds ?? []) {
    if (value !== null && (!Number.isInteger(value) || value < THRESHOLD_MIN || value > THRESHOLD_MAX)) {
      throw new UsageError(`threshold ${String(value)} does not fit a C int, as gc.set_threshold requires`);
    }
  }
  entry.label = input.label !== undefined && input.label !== '' ? input.label : labelOf(entry);
  return entry;
}

/**
 * A configuration's name from the options it sets, in a fixed order:
 * `cpython-3.11 10000/10/10 gc=off old=25000 pool=malloc pool_size=4096 freelists=3.14`;
 * "defaults" when it sets none.
 */
export function labelOf(entry: Omit<ConfigurationEntry, 'label'>): string {
  const parts = labelParts(entry, false);
  return parts.length === 0 ? 'defaults' : parts.join(' ');
}

/** The labelled options of a configuration; `short` abbreviates for an 80-column table. */
export function labelParts(entry: Omit<ConfigurationEntry, 'label'>, short: boolean): string[] {
  const parts: string[] = [];
  for (const dimension of LABEL_DIMENSIONS) {
    const text = dimension.text(entry, short);
    if (text !== null) parts.push(text);
  }
  return parts;
}

/** The options that name a configuration, in label order. */
export interface LabelDimension {
  name: string;
  text(entry: Omit<ConfigurationEntry, 'label'>, short: boolean): string | null;
}

export const LABEL_DIMENSIONS: readonly LabelDimension[] = [
  {
    name: 'policy',
    text: (e, short) => (e.policy === null ? null : short ? e.policy.replace(/^cpython-/, '').replace(/^refcount-only$/, 'refcount') : e.policy),
  },
  { name: 'thresholds', text: (e) => (e.thresholds === null ? null : e.thresholds.map((t) => (t === null ? '_' : String(t))).join('/')) },
  { name: 'gc', text: (e) => (e.gc === 'off' ? 'gc=off' : null) },
  { name: 'oldObjects', text: (e, short) => (e.oldObjects === null ? null : `old=${short ? compactInteger(e.oldObjects) : e.oldObjects}`) },
  { name: 'markedObjects', text: (e, short) => (e.markedObjects === null ? null : `marked=${short ? compactInteger(e.markedObjects) : e.markedObjects}`) },
  { name: 'pool', text: (e) => (e.pool === null ? null : `pool=${e.pool}`) },
  {
    name: 'poolParams',
    text: (e) => {
      const params = Object.entries(e.poolParams);
      return params.length === 0 ? null : params.map(([key, value]) => `${key}=${value}`).join(',');
    },
  },
  { name: 'freeLists', text: (e, short) => (e.freeLists === null ? null : `${short ? 'fl' : 'freelists'}=${e.freeLists}`) },
];

/** 25000 → "25k", 1500000 → "1.5M" (exact values only: otherwise the number itself). */
function compactInteger(n: number): string {
  if (n >= 1_000_000 && n % 100_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 100 === 0) return `${n / 1_000}k`;
  return String(n);
}

/** The `replay` options a configuration stands for. */
export type { ReplayOptions };

export function replayOptionsOf(entry: ConfigurationEntry): ReplayOptions {
  return {
    policy: entry.policy ?? undefined,
    thresholds: entry.thresholds === null ? undefined : entry.thresholds.map((t) => t ?? undefined),
    oldObjects: entry.oldObjects ?? undefined,
    markedObjects: entry.markedObjects ?? undefined,
    gcOff: entry.gc === 'off',
    pool: entry.pool ?? undefined,
    poolParams: { ...entry.poolParams },
    freeLists: entry.freeLists ?? undefined,
  };
}
