/**
 * One configuration, replayed from an already decoded trace: steps 2-4 of `runReplay`
 * (src/analyze.ts) with the decoding left out. The worker threads and the in-process path both
 * call `replayConfiguration`, so a comparison's run is a single `replay` with the same options;
 * test/compare/equivalence.test.ts checks that the two reports are byte-identical.
 *
 * NOTE: the resolution below mirrors `runReplay`'s step 2 line by line. Were `runReplay` to
 * export that step (`resolveReplaySettings(request, meta)`), both would share it; until then the
 * equivalence test is what keeps them in step.
 */
import { choosePolicy, type ResolvedPolicy } from '../gc/index.js';
import { freeListConfig, type FreeListConfig } from '../pool/free-list.js';
import { createPool, defaultPoolFor, defaultPoolParamsFor } from '../pool/index.js';
import type { PoolPolicy } from '../pool/pool.js';
import { replayChunks, type ReplaySource } from '../replay/index.js';
import { buildReport, type ReplayReport } from '../report/json.js';
import { Diagnostics } from '../trace/diagnostics.js';
import type { EventChunk, TraceMeta } from '../trace/types.js';
import { replayOptionsOf, type ConfigurationEntry, type ReplayOptions } from './configurations.js';
import { summarizeRun, type RunDetail } from './report.js';

/** What every run of one comparison shares besides the trace (plain data: it goes to workers). */
export interface RunContext {
  toolVersion: string;
  maxErrors: number;
  lenient: boolean;
  /** Events the decoder skipped (`--lenient`), by kind; every run's report counts them too. */
  decodeSkipped: Record<string, number>;
  /** `--runs`: a summary is made where the run happens, so whole reports never pile up. Default: full. */
  runDetail?: RunDetail;
}

/** A configuration resolved against a trace's header: everything `replay` needs but the pool object. */
export interface ResolvedConfiguration {
  policy: ResolvedPolicy;
  freeLists: FreeListConfig;
  /** A pool policy name, or "none". */
  poolName: string;
  poolParams: Record<string, number>;
  oldObjects: number;
  thresholds: (number | undefined)[] | undefined;
  automaticCollection: boolean;
}

/** `runReplay` step 2. Throws `UsageError` for names and parameters that do not resolve. */
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
    thresholds: options.thresholds,
    automaticCollection: !options.gcOff,
  };
}

export function createConfiguredPool(resolved: ResolvedConfiguration): PoolPolicy | null {
  return resolved.poolName === 'none' ? null : createPool(resolved.poolName, resolved.poolParams);
}

/**
 * Checks every configuration against the header before anything is replayed, so that a bad pool
 * parameter in configuration 900 fails at once, not after 899 replays. Pools are created once
 * per distinct (name, parameters).
 */
export function checkConfigurations(entries: readonly ConfigurationEntry[], meta: TraceMeta): void {
  const checked = new Set<string>();
  for (const entry of entries) {
    const resolved = resolveConfiguration(replayOptionsOf(entry), meta);
    const key = JSON.stringify([resolved.poolName, Object.entries(resolved.poolParams)]);
    if (checked.has(key)) continue;
    createConfiguredPool(resolved);
    checked.add(key);
  }
}

/** `runReplay` steps 3-4 for one configuration over decoded chunks. */
export function replayConfiguration(
  source: Omit<ReplaySource, 'chunks'> & { chunks(): Iterable<EventChunk> },
  entry: ConfigurationEntry,
  context: RunContext,
): ReplayReport {
  const resolved = resolveConfiguration(replayOptionsOf(entry), source.header.meta);
  const pool = createConfiguredPool(resolved);
  const diagnostics = new Diagnostics({ maxErrors: context.maxErrors, lenient: context.lenient });
  const { policy, freeLists } = resolved;
  const result = replayChunks(source, {
    policy,
    thresholds: resolved.thresholds,
    oldObjects: resolved.oldObjects,
    automaticCollection: resolved.automaticCollection,
    freeLists,
    pool,
    diagnostics,
  });
  const report = buildReport(result, {
    toolVersion: context.toolVersion,
    skippedByKind: mergeCounts(context.decodeSkipped, diagnostics.skippedSummary()),
    config: {
      thresholds: policy.module.constraints.tracesCycles ? initialThresholds(policy, resolved.thresholds) : [],
      oldObjects: resolved.oldObjects,
      automaticCollection: resolved.automaticCollection,
      freeLists: freeLists.name,
      pool: pool === null ? null : pool.name,
      poolParams: pool === null ? {} : pool.snapshot().params,
    },
  });
  return context.runDetail === 'summary' ? summarizeRun(report) : report;
}

/**
 * Skipped-event counts of the decoder and of one run's replay, decoder kinds first.
 * NOTE: a single `replay` counts both in one sink, in the order problems are met, so with
 * `--lenient` and both kinds present the keys (never the counts) may be listed in another order.
 */
function mergeCounts(first: Record<string, number>, second: Record<string, number>): Record<string, number> {
  const merged = new Map<string, number>(Object.entries(first));
  for (const [kind, count] of Object.entries(second)) merged.set(kind, (merged.get(kind) ?? 0) + count);
  const out: Record<string, number> = Object.create(null);
  for (const [kind, count] of merged) out[kind] = count;
  return out;
}

function initialThresholds(policy: ResolvedPolicy, overrides: readonly (number | undefined)[] | undefined): number[] {
  return policy.release.defaultThresholds.map((t, i) => overrides?.[i] ?? t);
}

/** The Python version a policy stands for, to pick the matching allocator layout. */
function policyVersion(policy: ResolvedPolicy, metaPython: unknown): string {
  if (policy.release.minor !== '') return policy.release.minor;
  return typeof metaPython === 'string' ? metaPython : '3.12';
}
