/**
 * memreplay's pipeline, start to end. Read this file first.
 *
 *   trace file ──1──► openTrace (decode + ajv) ──► EventChunks
 *                                                    │
 *   options + header ──2──► resolve policy, pool ──┐ │
 *                                                  ▼ ▼
 *                                         3  replay (heap + gc + pool) ──► ReplayResult
 *                                                                              │
 *                                         4  buildReport ──► ReplayReport (JSON contract)
 *                                                                              │
 *                                         5  (cli) render terminal / JSON / HTML / Markdown
 *
 * Data flows one way. This module does not touch `process` or write files: the CLI does.
 */
import { choosePolicy, type ResolvedPolicy } from './gc/index.js';
import { freeListConfig } from './pool/free-list.js';
import { createPool, defaultPoolFor, defaultPoolParamsFor } from './pool/index.js';
import type { PoolPolicy } from './pool/pool.js';
import { replay, type ReplayResult } from './replay/index.js';
import { buildReport, type ReplayReport } from './report/json.js';
import { Diagnostics } from './trace/diagnostics.js';
import { openTrace } from './trace/index.js';
import type { TraceEncoding, TraceEvent } from './trace/types.js';

import { TOOL_VERSION } from './version.js';

export { TOOL_VERSION };

/** Everything a replay can be asked for, before it is resolved against the trace's header. */
export interface ReplayRequest {
  /** Path of the trace, or "-" for stdin. */
  trace: string;
  format?: TraceEncoding;
  stdin?: NodeJS.ReadableStream;
  policy?: string;
  /** `--threshold 700,10,10`: undefined entries keep the release's defaults. */
  thresholds?: (number | undefined)[];
  oldObjects?: number;
  /** `--gc off`. */
  gcOff?: boolean;
  /** `--pool NAME`, or "none". Default: the pool of the collector's Python version. */
  pool?: string;
  poolParams?: Record<string, number>;
  /** `--freelists 3.11|3.12|3.13|3.14|none`. Default: the collector release's. */
  freeLists?: string;
  maxErrors?: number;
  lenient?: boolean;
  /**
   * Called as the replay advances. `expected` is the trace's length when its header says so
   * (`meta.events`, which `memreplay generate` writes), for a progress bar with a percentage.
   */
  onProgress?: (events: number, expected?: number) => void;
}

export interface ReplayOutcome {
  result: ReplayResult;
  report: ReplayReport;
}

/** Steps 1-4 for one trace and one configuration. */
export async function runReplay(request: ReplayRequest): Promise<ReplayOutcome> {
  const diagnostics = new Diagnostics({ maxErrors: request.maxErrors ?? 20, lenient: request.lenient ?? false });
  // 1. Open and start decoding the trace (the header is known once this resolves).
  const trace = await openTrace(request.trace, { format: request.format, diagnostics, stdin: request.stdin });
  const meta = trace.header.meta;

  // 2. Resolve the configuration against the header.
  const policy = choosePolicy(request.policy, typeof meta.python === 'string' ? meta.python : undefined);
  const freeLists = freeListConfig(request.freeLists ?? policy.release.freeLists);
  const version = policyVersion(policy, meta.python);
  const versionPool = defaultPoolFor(version);
  const poolName = request.pool ?? versionPool;
  // The layout's per-version details (3.6-3.8 keep no free arena) apply when the pool is the
  // version's own; `--pool-param` overrides them.
  const versionParams = poolName === versionPool ? defaultPoolParamsFor(version) : {};
  const pool: PoolPolicy | null = poolName === 'none' ? null : createPool(poolName, { ...versionParams, ...request.poolParams });
  const oldObjects = request.oldObjects ?? (typeof meta.oldObjects === 'number' ? meta.oldObjects : 0);

  // 3. Replay.
  const result = await replay(trace, {
    policy,
    thresholds: request.thresholds,
    oldObjects,
    automaticCollection: !request.gcOff,
    freeLists,
    pool,
    diagnostics,
    onProgress: request.onProgress === undefined ? undefined : (events) => request.onProgress?.(events, expectedEvents(meta.events)),
  });

  // 4. The report.
  const report = buildReport(result, {
    toolVersion: TOOL_VERSION,
    skippedByKind: diagnostics.skippedSummary(),
    config: {
      thresholds: policy.module.constraints.tracesCycles ? initialThresholds(policy, request.thresholds) : [],
      oldObjects,
      automaticCollection: !request.gcOff,
      freeLists: freeLists.name,
      pool: pool === null ? null : pool.name,
      poolParams: pool === null ? {} : pool.snapshot().params,
    },
  });
  return { result, report };
}

/** `meta.events` when it is a plausible event count; the header is free-form, so anything else is ignored. */
function expectedEvents(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

function initialThresholds(policy: ResolvedPolicy, overrides: readonly (number | undefined)[] | undefined): number[] {
  return policy.release.defaultThresholds.map((t, i) => overrides?.[i] ?? t);
}

/** The Python version a policy stands for, to pick the matching allocator layout. */
function policyVersion(policy: ResolvedPolicy, metaPython: unknown): string {
  if (policy.release.minor !== '') return policy.release.minor;
  return typeof metaPython === 'string' ? metaPython : '3.12';
}

export type { TraceEvent };
