/**
 * CI budgets: limits on a replay's memory behaviour that fail the build when broken.
 *
 *   --fail-on leaks               cyclic garbage left at the end, or uncollectable objects
 *   --max-peak-bytes N            peak live bytes of the trace's objects (K, M, G suffixes: 1024-based)
 *   --max-collections GEN=N       collections of generation GEN (0, 1, 2) over the trace
 *   --max-growth SITE_GLOB=BYTES  growth of the reachable memory allocated at matching sites
 *
 * Pure: budgets are parsed from the option texts and judged against a `ReplayReport`, so a saved
 * JSON report (`memreplay report REPORT.json`) can be judged again without a replay. The CLI
 * writes every report first, then exits 1 with one line per broken budget.
 */
import { UsageError } from '../errors.js';
import type { ReplayReport } from './json.js';
import { atEvent, formatBytes, formatCount, safeText } from './format.js';
import { groupGrowthBytes } from '../replay/leaks.js';

export type Budget =
  | { kind: 'leaks'; option: string }
  | { kind: 'peak-bytes'; option: string; limit: number }
  | { kind: 'collections'; option: string; generation: number; limit: number }
  | { kind: 'growth'; option: string; glob: string; pattern: RegExp; limit: number };

/** The budget options as typed on the command line. */
export interface BudgetOptions {
  failOn?: readonly string[];
  maxPeakBytes?: string;
  maxCollections?: readonly string[];
  maxGrowth?: readonly string[];
}

/** What `--fail-on` accepts. */
export const FAIL_ON_CONDITIONS = ['leaks'] as const;

export interface BudgetVerdict {
  /** The budget as given, e.g. `--max-peak-bytes 64M`. */
  budget: string;
  passed: boolean;
  /** What the replay measured, for people: `13.5 KiB`. */
  actual: string;
  /** The limit, for people: `64.0 MiB`. */
  limit: string;
  /** One line saying what was measured against what; the CLI prints it for a broken budget. */
  message: string;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * A byte count with an optional binary suffix: `1500`, `64K`, `1.5M`, `2G`, also `64KB`, `64KiB`
 * (case-insensitive). NOTE: K, M and G are powers of 1024, as in `ulimit` and `docker --memory`,
 * and as the reports print sizes (KiB, MiB); a decimal reading of "1M" would differ by 5%.
 */
export function parseByteSize(option: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (match === null) throw new UsageError(`${option}: expected a byte count such as 1500, 64K, 1.5M or 2G, got "${text}"`);
  // Down to a whole byte: byte counts are integers, and 14,320 B must break a limit of 14,319.6.
  const bytes = Math.floor(Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()]);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${option}: ${text} is too large`);
  return bytes;
}

/**
 * A glob over allocation sites: `*` matches any run of characters (slashes included: sites are
 * `path:line`, and `app/*` should cover the whole package), `?` one character; anything else is
 * literal. The whole site must match.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '[^]*';
    else if (ch === '?') source += '[^]';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

/** Splits `KEY=VALUE` at the last "=" (a glob may contain "=", a number cannot). */
function splitAssignment(option: string, text: string, shape: string): [string, string] {
  const at = text.lastIndexOf('=');
  if (at <= 0 || at === text.length - 1) throw new UsageError(`${option}: expected ${shape}, got "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** Every budget of the command line, in the order of the options; throws `UsageError` on a mistake. */
export function parseBudgets(options: BudgetOptions): Budget[] {
  const budgets: Budget[] = [];
  for (const condition of options.failOn ?? []) {
    if (condition !== 'leaks') throw new UsageError(`--fail-on: expected one of ${FAIL_ON_CONDITIONS.join(', ')}, got "${condition}"`);
    if (!budgets.some((b) => b.kind === 'leaks')) budgets.push({ kind: 'leaks', option: '--fail-on leaks' });
  }
  if (options.maxPeakBytes !== undefined) {
    budgets.push({ kind: 'peak-bytes', option: `--max-peak-bytes ${options.maxPeakBytes}`, limit: parseByteSize('--max-peak-bytes', options.maxPeakBytes) });
  }
  for (const text of options.maxCollections ?? []) {
    const [generation, count] = splitAssignment('--max-collections', text, 'GEN=N with GEN 0, 1 or 2, e.g. 2=0');
    if (!/^[012]$/.test(generation.trim())) throw new UsageError(`--max-collections: the generation must be 0, 1 or 2, got "${generation}"`);
    if (!/^\s*\d+\s*$/.test(count)) throw new UsageError(`--max-collections: the number of collections must be an integer >= 0, got "${count}"`);
    budgets.push({ kind: 'collections', option: `--max-collections ${text}`, generation: Number(generation), limit: Number(count) });
  }
  for (const text of options.maxGrowth ?? []) {
    const [glob, size] = splitAssignment('--max-growth', text, 'SITE_GLOB=BYTES, e.g. "app/cache.py:*=1M"');
    budgets.push({ kind: 'growth', option: `--max-growth ${text}`, glob, pattern: globToRegExp(glob), limit: parseByteSize('--max-growth', size) });
  }
  return budgets;
}

/** Judges every budget against a report, in order. */
export function evaluateBudgets(report: ReplayReport, budgets: readonly Budget[]): BudgetVerdict[] {
  return budgets.map((budget) => evaluateBudget(report, budget));
}

function evaluateBudget(report: ReplayReport, budget: Budget): BudgetVerdict {
  switch (budget.kind) {
    case 'leaks': {
      const garbage = report.leaks.cyclicGarbage;
      const uncollectable = report.leaks.uncollectable;
      const passed = garbage.objects === 0 && uncollectable.objects === 0;
      const actual = `${formatCount(garbage.objects)} in cycles, ${formatCount(uncollectable.objects)} uncollectable`;
      const parts: string[] = [];
      if (garbage.objects > 0) {
        const why = report.config.tracesCycles ? 'waiting for a collection at the end' : 'never collected under refcount-only';
        parts.push(`${formatCount(garbage.objects)} objects (${formatBytes(garbage.bytes)}) of cyclic garbage ${why}`);
      }
      if (uncollectable.objects > 0) parts.push(`${formatCount(uncollectable.objects)} uncollectable objects (${formatBytes(uncollectable.bytes)}) in gc.garbage`);
      return {
        budget: budget.option,
        passed,
        actual,
        limit: 'none',
        message: passed ? `${budget.option}: no cyclic garbage and nothing uncollectable` : `${budget.option}: ${parts.join('; ')}`,
      };
    }
    case 'peak-bytes': {
      const peak = report.memory.peak;
      const passed = peak.bytes <= budget.limit;
      return {
        budget: budget.option,
        passed,
        actual: formatBytes(peak.bytes),
        limit: formatBytes(budget.limit),
        message: `${budget.option}: peak live bytes ${formatBytes(peak.bytes)} (${formatCount(peak.bytes)} B ${atEvent(peak.bytesEvent)}) ${passed ? '<=' : '>'} ${formatBytes(budget.limit)}`,
      };
    }
    case 'collections': {
      const stats = report.gc.generations[budget.generation];
      const collections = stats === undefined ? 0 : stats.collections;
      const passed = collections <= budget.limit;
      return {
        budget: budget.option,
        passed,
        actual: formatCount(collections),
        limit: formatCount(budget.limit),
        message: `${budget.option}: ${formatCount(collections)} generation-${budget.generation} collection${collections === 1 ? '' : 's'} ${passed ? '<=' : '>'} ${formatCount(budget.limit)}`,
      };
    }
    case 'growth': {
      const reachable = report.leaks.reachable;
      const events = report.trace.events;
      const matches = (site: string | null): boolean => budget.pattern.test(site ?? '');
      const listed = reachable.groups.filter((g) => matches(g.site));
      // The per-site totals cover every reachable group; a report written before they existed
      // has only the listed groups.
      const sites = reachable.sites?.filter((s) => matches(s.site)) ?? null;
      const growth = sites === null ? listed.reduce((sum, g) => sum + groupGrowthBytes(g, events), 0) : sites.reduce((sum, s) => sum + s.growthBytes, 0);
      const siteCount = sites === null ? new Set(listed.map((g) => g.site)).size : sites.length;
      // The sites a report leaves out grew least (it lists those that grew most), each at most as
      // much as the least listed: as they may match, the budget passes only if it would even with
      // all of them added.
      const unlistedSites = sites === null ? 0 : (reachable.sitesOmitted ?? 0);
      const leastListed = (reachable.sites ?? []).reduce((least, s) => Math.min(least, s.growthBytes), Number.POSITIVE_INFINITY);
      const unlistedAtMost = unlistedSites === 0 ? 0 : unlistedSites * Math.max(0, Number.isFinite(leastListed) ? leastListed : 0);
      const passed = growth + unlistedAtMost <= budget.limit;
      const top = [...listed].sort((a, b) => groupGrowthBytes(b, events) - groupGrowthBytes(a, events)).slice(0, 3);
      const detail = top.length === 0 ? '' : `: ${top.map((g) => `${safeText(g.type, 24)} @ ${safeText(g.site ?? '(no site)', 40)} +${formatBytes(groupGrowthBytes(g, events))}`).join(', ')}`;
      let omitted = '';
      if (sites === null && reachable.groupsOmitted > 0) omitted = ` (of the ${reachable.groups.length} largest reachable groups)`;
      if (sites !== null && unlistedSites > 0) {
        omitted = ` (of the ${formatCount(reachable.sites?.length ?? 0)} sites that grew most)`;
        if (growth <= budget.limit && !passed) {
          omitted += `, and the ${formatCount(unlistedSites)} the report leaves out may add up to ${formatBytes(unlistedAtMost)}: not judged safe`;
        }
      }
      return {
        budget: budget.option,
        passed,
        actual: formatBytes(growth),
        limit: formatBytes(budget.limit),
        message:
          siteCount === 0
            ? `${budget.option}: no reachable memory allocated at a matching site${omitted}`
            : `${budget.option}: reachable memory from ${formatCount(siteCount)} matching site${siteCount === 1 ? '' : 's'} grew ${formatBytes(growth)} over the trace ${growth <= budget.limit ? '<=' : '>'} ${formatBytes(budget.limit)}${omitted}${detail}`,
      };
    }
  }
}
