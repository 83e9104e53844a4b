/**
 * The numbers every view of a comparison shows, one row per run: read once from the runs'
 * replay reports so that the table, the Markdown and the HTML page cannot disagree.
 */
import type { ReplayReport } from '../report/json.js';
import { labelParts, LABEL_DIMENSIONS, labelOf, type ConfigurationEntry } from './configurations.js';
import { leftBytes } from './pareto.js';
import type { CompareReport } from './report.js';

export interface RunRow {
  /** 0-based index of the configuration in the comparison ("#" shows it 1-based). */
  index: number;
  entry: ConfigurationEntry;
  /** Only the options that differ between configurations, abbreviated (or the user's label). */
  shortLabel: string;
  /** Collections per generation. */
  collections: number[];
  /** Objects examined by all collections. */
  examined: number;
  /** The most objects one collection examined: the pause proxy. */
  largest: number;
  latency: { median: number; p95: number; max: number };
  peakBytes: number;
  /** Cyclic garbage not collected plus uncollectable objects at the end, in bytes. */
  leftBytes: number;
  /** On the Pareto front (always false in a shard's part, which has no front). */
  pareto: boolean;
  run: ReplayReport;
}

export function rowsOf(report: CompareReport): RunRow[] {
  const indices = report.shard?.configurations ?? report.configurations.map((_, i) => i);
  const front = new Set(report.pareto ?? []);
  const short = shortLabels(report.configurations);
  return report.runs.map((run, j) => {
    const index = indices[j];
    return {
      index,
      entry: report.configurations[index],
      shortLabel: short[index],
      collections: run.gc.generations.map((g) => g.collections),
      examined: run.gc.totals.examined,
      largest: run.gc.totals.largestExamined,
      latency: { median: run.garbageLatency.median, p95: run.garbageLatency.p95, max: run.garbageLatency.max },
      peakBytes: run.memory.peak.bytes,
      leftBytes: leftBytes(run),
      pareto: front.has(index),
      run,
    };
  });
}

/**
 * Labels for narrow tables: the options whose values differ between configurations, abbreviated
 * (`3.11 10000/10/10`); a label the user gave stays as given.
 */
export function shortLabels(entries: readonly ConfigurationEntry[]): string[] {
  const varying = LABEL_DIMENSIONS.filter((dimension) => new Set(entries.map((e) => dimension.text(e, true))).size > 1);
  return entries.map((entry) => {
    if (entry.label !== labelOf(entry)) return entry.label;
    const parts = varying.map((dimension) => dimension.text(entry, true)).filter((text): text is string => text !== null);
    if (parts.length > 0) return parts.join(' ');
    return labelParts(entry, true).join(' ') || 'defaults';
  });
}

/** The options every configuration shares, e.g. `pool=malloc`, for a line above the table. */
export function commonSettings(entries: readonly ConfigurationEntry[]): string {
  if (entries.length < 2) return '';
  return LABEL_DIMENSIONS.map((dimension) => {
    const texts = new Set(entries.map((e) => dimension.text(e, false)));
    const [only] = texts;
    return texts.size === 1 && only !== null ? only : null;
  })
    .filter((text): text is string => text !== null)
    .join(' · ');
}
