/**
 * The comparison report (`schemas/compare-report.schema.json`): what `compare --json` and
 * `merge --json` write, what `merge` reads back, and what the table, Markdown and HTML renderers
 * read. Pure: no IO, no clock, so the same inputs give byte-identical JSON.
 *
 * A whole comparison lists every configuration, one full replay report per configuration in
 * the same order, and the Pareto front. A shard's part (`--shard K/N`) lists every configuration
 * too, but only its own runs, with `shard` saying which; it has no front, which only the whole
 * sweep can have. `mergeParts` checks that parts belong together and rebuilds exactly the
 * document the unsharded run writes.
 */
import { UsageError } from '../errors.js';
import { formatCount } from '../report/format.js';
import type { ReplayReport } from '../report/json.js';
import type { ConfigurationEntry } from './configurations.js';
import { objectiveValues, paretoFront, type ObjectiveName } from './pareto.js';

export const COMPARE_FORMAT = 'memreplay-compare';
export const COMPARE_VERSION = 1;

/**
 * `full`: each run is the whole replay report. `summary`: the two parts whose size grows with
 * the trace are left empty — the timeline's samples and the list of collections (whose totals
 * stay) — for sweeps of thousands of configurations.
 */
export type RunDetail = 'full' | 'summary';

export interface ShardInfo {
  /** K of `--shard K/N` (1-based). */
  index: number;
  /** N. */
  count: number;
  /** Indices (0-based) into `configurations` of this part's runs, ascending. */
  configurations: number[];
  /** `traceDigest` of the decoded trace: parts of one sweep must agree. */
  traceDigest: string;
}

export interface CompareReport {
  format: typeof COMPARE_FORMAT;
  version: typeof COMPARE_VERSION;
  tool: { name: 'memreplay'; version: string };
  trace: { file: string; events: number };
  objectives: ObjectiveName[];
  runDetail: RunDetail;
  /** Every configuration of the comparison, in the order given. */
  configurations: ConfigurationEntry[];
  /** Indices (0-based) of the Pareto-optimal configurations, ascending. Absent in a shard's part. */
  pareto?: number[];
  /** Present in a shard's part only. */
  shard?: ShardInfo;
  /** One replay report per configuration (per configuration of the shard, in a part), in order. */
  runs: ReplayReport[];
}

export interface CompareHeader {
  toolVersion: string;
  trace: { file: string; events: number };
  objectives: ObjectiveName[];
  runDetail: RunDetail;
  configurations: ConfigurationEntry[];
}

/** A whole comparison: every configuration's run, in order, and the front. */
export function buildCompareReport(header: CompareHeader, runs: ReplayReport[]): CompareReport {
  if (runs.length !== header.configurations.length) throw new Error(`${runs.length} runs for ${header.configurations.length} configurations`);
  return {
    ...documentHead(header),
    pareto: paretoFront(objectiveValues(runs, header.objectives)),
    runs,
  };
}

/** One shard's part. */
export function buildShardReport(header: CompareHeader, shard: ShardInfo, runs: ReplayReport[]): CompareReport {
  if (runs.length !== shard.configurations.length) throw new Error(`${runs.length} runs for ${shard.configurations.length} configurations of a shard`);
  return { ...documentHead(header), shard, runs };
}

function documentHead(header: CompareHeader): Omit<CompareReport, 'runs'> {
  return {
    format: COMPARE_FORMAT,
    version: COMPARE_VERSION,
    tool: { name: 'memreplay', version: header.toolVersion },
    trace: header.trace,
    objectives: header.objectives,
    runDetail: header.runDetail,
    configurations: header.configurations,
  };
}

/**
 * The configurations of shard K of N: configuration i (0-based) belongs to shard (i mod N) + 1.
 * NOTE: dealt round-robin rather than cut into contiguous slices because neighbouring
 * configurations of a grid cost alike (low thresholds are the slow ones): dealing spreads the
 * slow ones over every shard.
 */
export function shardIndices(total: number, index: number, count: number): number[] {
  const indices: number[] = [];
  for (let i = index - 1; i < total; i += count) indices.push(i);
  return indices;
}

/**
 * The most shards a comparison may be cut into (`schemas/compare-report.schema.json` says the
 * same): far more than any CI matrix runs, and `merge` lists the parts it misses by number.
 */
export const MAX_SHARDS = 10_000;

/** `--shard K/N`. */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (match === null) throw new UsageError(`--shard takes K/N, e.g. 2/8 (the second of eight shards), got "${text}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: the number of shards must be at least 1`);
  if (count > MAX_SHARDS) throw new UsageError(`--shard ${text}: at most ${formatCount(MAX_SHARDS)} shards`);
  if (index < 1 || index > count) {
    throw new UsageError(`--shard ${text}: K counts from 1 to ${count}${index === 0 ? ' (a 0-based index such as JOB_COMPLETION_INDEX needs +1: $((JOB_COMPLETION_INDEX + 1))/N)' : ''}`);
  }
  return { index, count };
}

/** `--runs summary`: the run without its timeline samples and its list of collections. */
export function summarizeRun(run: ReplayReport): ReplayReport {
  return {
    ...run,
    gc: { ...run.gc, collections: { total: run.gc.collections.total, omitted: run.gc.collections.total, list: [] } },
    timeline: { stride: run.timeline.stride, samples: 0, series: {}, groups: [], marks: [], marksOmitted: run.timeline.marks.length + run.timeline.marksOmitted },
  };
}

/** Missing parts named in `merge`'s message, at most. */
const MAX_LISTED_MISSING = 10;

/**
 * Joins the parts of a sharded comparison into the whole comparison. Parts may come in any
 * order; each shard must appear once, and all must agree on everything but their runs.
 * `objectives` overrides the parts' objectives (they must agree otherwise).
 */
export function mergeParts(parts: readonly { name: string; report: CompareReport }[], objectives?: ObjectiveName[]): CompareReport {
  if (parts.length === 0) throw new UsageError('merge needs at least one part');
  // Shard 1 (when present) speaks for the sweep, whatever order the parts were named in.
  const first = parts.find((part) => part.report.shard?.index === 1) ?? parts[0];
  const shards = new Map<number, string>();
  for (const { name, report } of parts) {
    if (report.shard === undefined) throw new UsageError(`${name} is a whole comparison, not a shard's part (write parts with compare --shard K/N --json FILE)`);
    const disagree = (what: string) => new UsageError(`${name} and ${first.name} are not parts of one comparison: their ${what} differ`);
    const reference = first.report;
    if (report.shard.count !== reference.shard?.count) throw disagree('shard counts (N of K/N)');
    if (report.tool.version !== reference.tool.version) throw disagree(`memreplay versions (${report.tool.version}, ${reference.tool.version})`);
    if (report.shard.traceDigest !== reference.shard.traceDigest) throw disagree('traces (the decoded events)');
    if (JSON.stringify(report.configurations) !== JSON.stringify(reference.configurations)) throw disagree('configuration lists');
    if (report.runDetail !== reference.runDetail) throw disagree('--runs settings');
    if (objectives === undefined && JSON.stringify(report.objectives) !== JSON.stringify(reference.objectives)) throw disagree('objectives (choose with merge --objectives)');
    const expected = shardIndices(report.configurations.length, report.shard.index, report.shard.count);
    if (JSON.stringify(expected) !== JSON.stringify(report.shard.configurations) || report.runs.length !== expected.length) {
      throw new UsageError(`${name}: shard ${report.shard.index}/${report.shard.count} should hold configurations ${expected.map((i) => i + 1).join(', ') || 'none'}; it does not (was it edited?)`);
    }
    const seen = shards.get(report.shard.index);
    if (seen !== undefined) throw new UsageError(`${name} and ${seen} are both shard ${report.shard.index}/${report.shard.count}`);
    shards.set(report.shard.index, name);
  }
  const count = first.report.shard?.count ?? 0;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !shards.has(k));
  if (missing.length > 0) {
    const listed = missing.slice(0, MAX_LISTED_MISSING).map((k) => `${k}/${count}`);
    if (missing.length > MAX_LISTED_MISSING) listed.push(`and ${formatCount(missing.length - MAX_LISTED_MISSING)} more`);
    throw new UsageError(`missing shard${missing.length === 1 ? '' : 's'} ${listed.join(', ')}: merge needs all ${count} parts`);
  }

  const reference = first.report;
  const runs = new Array<ReplayReport>(reference.configurations.length);
  for (const { report } of parts) {
    const indices = report.shard?.configurations ?? [];
    report.runs.forEach((run, j) => {
      runs[indices[j]] = run;
    });
  }
  return buildCompareReport(
    {
      toolVersion: reference.tool.version,
      trace: reference.trace,
      objectives: objectives ?? reference.objectives,
      runDetail: reference.runDetail,
      configurations: reference.configurations,
    },
    runs,
  );
}

/**
 * The report as JSON text in pieces, exactly `JSON.stringify(report, null, 2)` plus a newline:
 * a sweep's runs together can pass the longest string JavaScript allows, so each run is
 * stringified on its own and written as it comes.
 */
export function* serializeCompareReport(report: CompareReport): Generator<string> {
  const { runs, ...head } = report;
  const headText = JSON.stringify(head, null, 2);
  // The head is an object: drop its closing brace and continue with "runs".
  yield `${headText.slice(0, -2)},\n  "runs": [`;
  for (let i = 0; i < runs.length; i++) {
    // Nested two levels deep: every line of the run moves four spaces right. JSON strings hold
    // no raw newline, so every "\n" is a line break of the layout.
    yield `${i === 0 ? '' : ','}\n    ${JSON.stringify(runs[i], null, 2).replace(/\n/g, '\n    ')}`;
  }
  yield runs.length === 0 ? ']\n}\n' : '\n  ]\n}\n';
}
