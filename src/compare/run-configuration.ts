/**
 * One configuration's run: steps 2-4 of `runReplay` (src/analyze.ts) over chunks its caller
 * feeds it (lockstep.ts feeds one pass of the trace to every run of a thread). Worker threads and
 * this thread start runs the same way, so a comparison's run is a single `replay` with the same
 * options; test/compare/equivalence.test.ts checks that the two reports are byte-identical.
 * Both resolve their options with `src/config/resolve.ts`.
 */
import { createConfiguredPool, reportConfig, resolveConfiguration } from '../config/resolve.js';
import { startReplay, type ReplaySourceInfo } from '../replay/index.js';
import { buildReport, type ReplayReport } from '../report/json.js';
import { Diagnostics } from '../trace/diagnostics.js';
import type { EventChunk, TraceMeta } from '../trace/types.js';
import { replayOptionsOf, type ConfigurationEntry } from './configurations.js';
import { summarizeRun, type RunDetail } from './report.js';

/** What every run of one comparison shares besides the trace (plain data: it goes to workers). */
export interface RunContext {
  toolVersion: string;
  maxErrors: number;
  lenient: boolean;
  /** `--runs`: a summary is made where the run happens, so whole reports never pile up. Default: full. */
  runDetail?: RunDetail;
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

/** A configuration being replayed: fed every chunk in order, then finished. */
export interface ConfigurationRun {
  feed(chunk: EventChunk): void;
  /** The run's report; `decodeSkipped`: the events the decoder skipped (`--lenient`), by kind. */
  finish(decodeSkipped: Record<string, number>): ReplayReport;
}

/** `runReplay` steps 3-4 for one configuration, over chunks fed to it. */
export function startConfiguration(source: ReplaySourceInfo, entry: ConfigurationEntry, context: RunContext): ConfigurationRun {
  const resolved = resolveConfiguration(replayOptionsOf(entry), source.header.meta);
  const pool = createConfiguredPool(resolved);
  const diagnostics = new Diagnostics({ maxErrors: context.maxErrors, lenient: context.lenient });
  const replay = startReplay(source, { ...resolved, pool, diagnostics });
  return {
    feed: replay.feed,
    finish(decodeSkipped) {
      const report = buildReport(replay.finish(), {
        toolVersion: context.toolVersion,
        skippedByKind: mergeCounts(decodeSkipped, diagnostics.skippedSummary()),
        config: reportConfig(resolved, pool),
      });
      return context.runDetail === 'summary' ? summarizeRun(report) : report;
    },
  };
}

/** Skipped-event counts of the decoder and of one run's replay (`buildReport` sorts the kinds). */
function mergeCounts(first: Record<string, number>, second: Record<string, number>): Record<string, number> {
  const merged = new Map<string, number>(Object.entries(first));
  for (const [kind, count] of Object.entries(second)) merged.set(kind, (merged.get(kind) ?? 0) + count);
  const out: Record<string, number> = Object.create(null);
  for (const [kind, count] of merged) out[kind] = count;
  return out;
}
