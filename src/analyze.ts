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
import { createConfiguredPool, reportConfig, resolveConfiguration, type ReplayOptions } from './config/resolve.js';
import { replay, type ReplayResult } from './replay/index.js';
import { buildReport, type ReplayReport } from './report/json.js';
import { Diagnostics } from './trace/diagnostics.js';
import { openTrace } from './trace/index.js';
import type { TraceEncoding } from './trace/types.js';
import { TOOL_VERSION } from './version.js';

export { TOOL_VERSION };

/** Everything a replay can be asked for, before it is resolved against the trace's header. */
export interface ReplayRequest extends ReplayOptions {
  /** Path of the trace, or "-" for stdin. */
  trace: string;
  format?: TraceEncoding;
  stdin?: NodeJS.ReadableStream;
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
  const resolved = resolveConfiguration(request, meta);
  const pool = createConfiguredPool(resolved);

  // 3. Replay.
  const result = await replay(trace, {
    ...resolved,
    pool,
    diagnostics,
    onProgress: request.onProgress === undefined ? undefined : (events) => request.onProgress?.(events, expectedEvents(meta.events)),
  });

  // 4. The report.
  const report = buildReport(result, { toolVersion: TOOL_VERSION, skippedByKind: diagnostics.skippedSummary(), config: reportConfig(resolved, pool) });
  return { result, report };
}

/** `meta.events` when it is a plausible event count; the header is free-form, so anything else is ignored. */
function expectedEvents(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

