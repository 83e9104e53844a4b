/**
 * The report's tables as CSV files (`--csv DIR`), for spreadsheets: every listed collection, the
 * leak groups of all three kinds, and the allocator's size classes. RFC 4180: comma-separated,
 * CRLF line ends, fields quoted when they hold a comma, quote or line break.
 *
 * NOTE: a spreadsheet evaluates a cell that starts with `=`, `+`, `-`, `@` (or a tab or carriage
 * return) as a formula, so a trace string such as `=HYPERLINK(…)` would run when the file is
 * opened ("CSV injection", OWASP). Text cells that start so are prefixed with `'`, which
 * spreadsheets show as text; numbers are written as numbers.
 */
import type { ReplayReport } from './json.js';
import { groupGrowthBytes } from '../replay/leaks.js';

export interface CsvFile {
  /** File name inside the output directory. */
  name: string;
  content: string;
}

type Cell = string | number | boolean | null;

export const CSV_FILE_NAMES = ['collections.csv', 'leak-groups.csv', 'size-classes.csv'] as const;

/** One CSV text cell. */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export function renderCsvTables(report: ReplayReport): CsvFile[] {
  const collections = table(
    ['event', 'generation', 'reason', 'examined', 'collected', 'promoted', 'uncollectable', 'finalizers'],
    report.gc.collections.list.map((c) => [c.event, c.generation, c.reason, c.examined, c.collected, c.promoted, c.uncollectable, c.finalizers]),
  );

  const leakRows: Cell[][] = [];
  const tally = (items: readonly { name: string; objects: number }[]) => items.map((t) => `${t.name} x${t.objects}`).join('; ');
  for (const [kind, section] of [
    ['cyclic-garbage', report.leaks.cyclicGarbage],
    ['uncollectable', report.leaks.uncollectable],
  ] as const) {
    for (const c of section.groups) leakRows.push([kind, tally(c.types), tally(c.sites), c.objects, c.bytes, null, null, null, null, null, c.finalizers, null]);
  }
  for (const g of report.leaks.reachable.groups) {
    const chain = g.chain.map((link) => link.type).join(' -> ');
    leakRows.push([
      'reachable',
      g.type,
      g.site,
      g.objects,
      g.bytes,
      g.allocatedObjects,
      g.allocatedBytes,
      g.bytesPerMillionEvents === null ? null : Math.round(g.bytesPerMillionEvents),
      g.growing,
      g.growing ? Math.round(groupGrowthBytes(g, report.trace.events)) : null,
      null,
      g.chainOmitted > 0 ? `${chain} (${g.chainOmitted} links omitted)` : chain,
    ]);
  }
  const leakGroups = table(
    ['kind', 'types', 'sites', 'objects', 'bytes', 'allocated_objects', 'allocated_bytes', 'bytes_per_million_events', 'growing', 'growth_bytes', 'finalizers', 'reference_chain'],
    leakRows,
  );

  const sizeClasses = table(
    ['size', 'requests', 'reused_blocks', 'fresh_blocks', 'blocks_in_use', 'avail_blocks', 'pools_in_use', 'peak_blocks_in_use', 'peak_pools_in_use', 'bytes_requested'],
    (report.pool?.sizeClasses ?? []).map((c) => [c.size, c.requests, c.reusedBlocks, c.freshBlocks, c.blocksInUse, c.availBlocks, c.poolsInUse, c.peakBlocksInUse, c.peakPoolsInUse, c.bytesRequested]),
  );
  return [
    { name: 'collections.csv', content: collections },
    { name: 'leak-groups.csv', content: leakGroups },
    { name: 'size-classes.csv', content: sizeClasses },
  ];
}
