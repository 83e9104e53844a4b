/**
 * Step 2 of the pipeline: a replay's options, as the user gave them, resolved against the trace's
 * header into everything the engine needs. `runReplay` (one configuration) and `compare` (many)
 * share it, so a comparison's run is exactly a `replay` with the same options.
 *
 * Defaults, in order: the option, else the header (`meta.python`, `meta.oldObjects`), else the
 * model's own (`DEFAULT_POLICY`, the release's thresholds, free lists and allocator layout).
 */
import { UsageError } from '../errors.js';
import { choosePolicy, type ResolvedPolicy } from '../gc/index.js';
import { freeListConfig, type FreeListConfig } from '../pool/free-list.js';
import { createPool, defaultPoolFor, defaultPoolParamsFor } from '../pool/index.js';
import type { PoolPolicy } from '../pool/pool.js';
import type { ReportContext } from '../report/json.js';
import type { TraceMeta } from '../trace/types.js';

/** What a replay can be configured with (the `replay` options; every field optional). */
export interface ReplayOptions {
  /** `--policy`. Default: `meta.python`'s model, else `DEFAULT_POLICY`. */
  policy?: string;
  /** `--threshold`: undefined entries keep the release's defaults. */
  thresholds?: (number | undefined)[];
  /** `--old-objects`. Default: `meta.oldObjects`, else 0. */
  oldObjects?: number;
  /** `--marked-objects`. Default: `meta.markedObjects`, else all of `oldObjects`. */
  markedObjects?: number;
  /** `--gc off`. */
  gcOff?: boolean;
  /** `--pool NAME` or "none". Default: the allocator of the collector's Python version. */
  pool?: string;
  poolParams?: Record<string, number>;
  /** `--freelists`. Default: the collector release's. */
  freeLists?: string;
}

/** A configuration resolved against a trace's header: everything `replay` needs but the pool object. */
export interface ResolvedConfiguration {
  policy: ResolvedPolicy;
  freeLists: FreeListConfig;
  /** A pool policy name, or "none". */
  poolName: string;
  poolParams: Record<string, number>;
  oldObjects: number;
  /** `meta.markedObjects` (see `CollectorOptions.markedObjects`). */
  markedObjects?: number;
  thresholds: (number | undefined)[] | undefined;
  automaticCollection: boolean;
}

/** Resolves options against a header. Throws `UsageError` for names and parameters that do not resolve. */
export function resolveConfiguration(options: ReplayOptions, meta: TraceMeta): ResolvedConfiguration {
  const policy = choosePolicy(options.policy, typeof meta.python === 'string' ? meta.python : undefined);
  const freeLists = freeListConfig(options.freeLists ?? policy.release.freeLists);
  const version = policyVersion(policy, meta.python);
  const versionPool = defaultPoolFor(version);
  const poolName = options.pool ?? versionPool;
  // The layout's per-version details (3.6-3.8 keep no free arena) apply when the pool is the
  // version's own; `--pool-param` overrides them.
  const versionParams = poolName === versionPool ? defaultPoolParamsFor(version) : {};
  return {
    policy,
    freeLists,
    poolName,
    poolParams: { ...versionParams, ...options.poolParams },
    oldObjects: options.oldObjects ?? (typeof meta.oldObjects === 'number' ? meta.oldObjects : 0),
    ...markedObjectsOf(options.markedObjects ?? meta.markedObjects),
    thresholds: options.thresholds,
    automaticCollection: !options.gcOff,
  };
}

/** The most old objects (and marked ones) a replay takes: what `meta.oldObjects` allows (trace-header.schema.json). */
export const MAX_OLD_OBJECTS = 0xffffffff;

/** A fresh allocator model for one replay (pools hold state), or null for `--pool none`. */
export function createConfiguredPool(resolved: ResolvedConfiguration): PoolPolicy | null {
  if (resolved.poolName !== 'none') return createPool(resolved.poolName, resolved.poolParams);
  const given = Object.keys(resolved.poolParams);
  if (given.length > 0) throw new UsageError(`--pool none models no allocator, so it takes no parameters (got ${given.join(', ')})`);
  return null;
}

/** The settings a report states, as `buildReport` takes them. */
export function reportConfig(resolved: ResolvedConfiguration, pool: PoolPolicy | null): ReportContext['config'] {
  const { policy } = resolved;
  return {
    thresholds: policy.module.constraints.tracesCycles ? policy.release.defaultThresholds.map((t, i) => resolved.thresholds?.[i] ?? t) : [],
    oldObjects: resolved.oldObjects,
    ...markedObjectsOf(resolved.markedObjects),
    automaticCollection: resolved.automaticCollection,
    freeLists: resolved.freeLists.name,
    pool: pool === null ? null : pool.name,
    poolParams: pool === null ? {} : pool.snapshot().params,
  };
}

/** The Python version a policy stands for, to pick the matching allocator layout. */
function policyVersion(policy: ResolvedPolicy, metaPython: unknown): string {
  if (policy.release.minor !== '') return policy.release.minor;
  return typeof metaPython === 'string' ? metaPython : '3.12';
}

/** `markedObjects` for a configuration, absent when neither the option nor the header gives it. */
function markedObjectsOf(value: unknown): { markedObjects?: number } {
  return typeof value === 'number' ? { markedObjects: value } : {};
}
