/**
 * The comparison as a terminal table, 80 columns wide whenever the numbers allow: one row per
 * configuration, numbers in compact form (12.3k), labels reduced to what differs between
 * configurations and cut to the room left. Untrusted strings go through `safeText`.
 */
import { formatBytes, formatCount, safeText } from '../report/format.js';
import { groupTitle, LEAK_KIND_TITLES, type DiffReport, type HeadlineChange, type LeakGroupChange } from './diff.js';
import { objectiveList } from './pareto.js';
import type { CompareReport } from './report.js';
import { commonSettings, rowsOf } from './rows.js';

/** The width the table aims for. */
export const TABLE_WIDTH = 80;
/** A label column narrower than this is widened even if the table then passes TABLE_WIDTH. */
const MIN_LABEL_WIDTH = 12;

/** 950 → "950", 12345 → "12.3k", 1200000 → "1.2M": at most five characters below 10¹⁵. */
export function formatCompact(n: number): string {
  const value = Math.round(n);
  if (Math.abs(value) < 10_000) return String(value);
  for (const [scale, unit] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (Math.abs(value) >= scale) {
      const scaled = value / scale;
      return `${Math.abs(scaled) >= 100 ? scaled.toFixed(0) : scaled.toFixed(1).replace(/\.0$/, '')}${unit}`;
    }
  }
  return String(value);
}

interface Column {
  header: string;
  align: 'left' | 'right';
  cells: string[];
}

/** Rows the table shows; larger comparisons show their Pareto front (the files list every run). */
export const MAX_TABLE_ROWS = 100;

export function renderCompareTable(report: CompareReport, width = TABLE_WIDTH): string {
  const allRows = rowsOf(report);
  const rows = allRows.length <= MAX_TABLE_ROWS ? allRows : (report.pareto === undefined ? allRows : allRows.filter((row) => row.pareto)).slice(0, MAX_TABLE_ROWS);
  const total = report.configurations.length;
  const lines: string[] = [];
  const title = `memreplay compare · ${safeText(report.trace.file, 40)} · ${formatCount(report.trace.events)} events · ${formatCount(total)} configuration${total === 1 ? '' : 's'}`;
  lines.push(...wrap(title, width));
  const common = commonSettings(report.configurations);
  if (common !== '') lines.push(...wrap(`same in every configuration: ${safeText(common, 200)}`, width));
  if (report.shard !== undefined) {
    const { index, count } = report.shard;
    lines.push(...wrap(`shard ${index}/${count}: ${formatCount(allRows.length)} of the ${formatCount(total)} configurations (memreplay merge joins the shards and finds the Pareto front)`, width));
  }
  lines.push('');
  if (allRows.length === 0) {
    lines.push('no configurations to replay in this shard');
    return `${lines.join('\n')}\n`;
  }

  const numeric: Column[] = [
    { header: 'gen0/1/2', align: 'right', cells: rows.map((r) => r.collections.map(formatCompact).join('/')) },
    { header: 'examined', align: 'right', cells: rows.map((r) => formatCompact(r.examined)) },
    { header: 'largest', align: 'right', cells: rows.map((r) => formatCompact(r.largest)) },
    { header: 'lat p95', align: 'right', cells: rows.map((r) => formatCompact(r.latency.p95)) },
    { header: 'peak', align: 'right', cells: rows.map((r) => formatBytes(r.peakBytes)) },
    { header: 'left', align: 'right', cells: rows.map((r) => formatBytes(r.leftBytes)) },
  ];
  const numberWidth = Math.max(1, ...rows.map((r) => String(r.index + 1).length));
  const widths = numeric.map((c) => Math.max(c.header.length, ...c.cells.map((cell) => cell.length)));
  // "* " mark, the number, two spaces, then label and columns separated by single spaces.
  const fixed = 2 + numberWidth + 2 + widths.reduce((sum, w) => sum + 1 + w, 0);
  const labels = rows.map((r) => safeText(r.shortLabel, 200));
  const labelWidth = Math.max(MIN_LABEL_WIDTH, Math.min(Math.max('configuration'.length, ...labels.map((l) => l.length)), width - fixed));
  const cut = (text: string) => (text.length > labelWidth ? `${text.slice(0, labelWidth - 1)}…` : text.padEnd(labelWidth));

  lines.push(`${' '.repeat(2)}${'#'.padStart(numberWidth)}  ${cut('configuration')}${numeric.map((c, i) => ` ${c.header.padStart(widths[i])}`).join('')}`);
  rows.forEach((row, r) => {
    const mark = row.pareto ? '* ' : '  ';
    lines.push(`${mark}${String(row.index + 1).padStart(numberWidth)}  ${cut(labels[r])}${numeric.map((c, i) => ` ${c.cells[r].padStart(widths[i])}`).join('')}`);
  });

  if (rows.length < allRows.length) {
    const shown = report.pareto === undefined ? `the first ${formatCount(rows.length)}` : `the ${formatCount(rows.length)} Pareto-optimal`;
    lines.push(...wrap(`… showing ${shown} of ${formatCount(allRows.length)} runs; --json, --markdown and --html list them all.`, width));
  }
  lines.push('');
  if (report.pareto !== undefined) {
    lines.push(
      ...wrap(
        `* Pareto-optimal for ${objectiveList(report.objectives)}: no other configuration is at least as good on every one and better on one (${formatCount(report.pareto.length)} of ${formatCount(allRows.length)}).`,
        width,
      ),
    );
  }
  lines.push(
    ...wrap(
      'gen0/1/2: collections per generation · examined: objects examined by all collections · largest: by the largest one (the pause proxy) · lat p95: garbage latency, events from unreachable to freed · peak: peak live bytes · left: cyclic garbage and uncollectable bytes at the end.',
      width,
    ),
  );
  return `${lines.join('\n')}\n`;
}

/** Greedy word wrap. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** "+1,234", "-12", "0". */
export function signed(n: number, format: (n: number) => string = formatCount): string {
  return n > 0 ? `+${format(n)}` : format(n);
}

/** A headline number: bytes in binary units, anything else as a count, "–" when absent. */
export function formatHeadlineValue(value: number | null, unit: HeadlineChange['unit']): string {
  if (value === null) return '–';
  return unit === 'bytes' ? formatBytes(value) : formatCount(value);
}

/** B − A with its sign, and its share of A when A is not 0: "+168 B (+77.8%)"; "=" for no change. */
export function formatHeadlineChange(h: HeadlineChange): string {
  if (h.change === null) return '–';
  if (h.change === 0) return '=';
  const text = h.unit === 'bytes' ? signed(h.change, formatBytes) : signed(h.change);
  const share = h.a !== null && h.a !== 0 ? Math.round((1000 * h.change) / h.a) / 10 : NaN;
  // No share of a zero A, nor one too large to write (a tiny fractional A).
  return Number.isFinite(share) ? `${text} (${signed(share, (p) => `${p.toFixed(1)}%`)})` : text;
}

/** The diff as terminal text: headline numbers, then new, fixed and changed leak groups, then sites. */
export function renderDiffTerminal(diff: DiffReport, options: { top: number; width?: number }): string {
  const width = options.width ?? TABLE_WIDTH;
  const lines: string[] = [];
  lines.push(`memreplay diff · A: ${safeText(diff.a.report, 30)} · B: ${safeText(diff.b.report, 30)}`);
  for (const [name, side] of [
    ['A', diff.a],
    ['B', diff.b],
  ] as const) {
    lines.push(`${name}: ${safeText(side.trace, 40)}, ${formatCount(side.events)} events, ${safeText(side.policy, 30)}${side.thresholds.length > 0 ? ` ${side.thresholds.join('/')}` : ''}`);
  }
  lines.push('');
  // Title, A and B, and the change with its percentage: 30 + 12 + 2 + 12 + 2 + 22 = 80 columns.
  const titleWidth = Math.max(20, width - 50);
  lines.push(`${''.padEnd(titleWidth)}${'A'.padStart(12)}  ${'B'.padStart(12)}  ${'change'.padStart(22)}`);
  for (const h of diff.headline) {
    if (h.a === null && h.b === null) continue;
    lines.push(`${h.title.padEnd(titleWidth)}${formatHeadlineValue(h.a, h.unit).padStart(12)}  ${formatHeadlineValue(h.b, h.unit).padStart(12)}  ${formatHeadlineChange(h).padStart(22)}`);
  }
  const groupLine = (g: LeakGroupChange): string => {
    const amounts = `${signed(g.change.objects)} obj ${signed(g.change.bytes, formatBytes).padStart(10)}`;
    const room = Math.max(10, width - 2 - 16 - 1 - amounts.length - 1);
    const title = safeText(groupTitle(g), 400);
    return `  ${LEAK_KIND_TITLES[g.kind].padEnd(16)}${(title.length > room ? `${title.slice(0, room - 1)}…` : title).padEnd(room)} ${amounts}`;
  };
  const section = (title: string, list: readonly LeakGroupChange[]) => {
    lines.push('', `${title} (${formatCount(list.length)})${list.length > options.top ? `, the ${options.top} largest:` : list.length > 0 ? ':' : ''}`);
    for (const g of list.slice(0, options.top)) lines.push(groupLine(g));
  };
  section('New leaks, only in B', diff.leakGroups.new);
  section('Fixed, only in A', diff.leakGroups.fixed);
  section('In both', diff.leakGroups.changed.filter((g) => g.change.objects !== 0 || g.change.bytes !== 0));
  const unchanged = diff.leakGroups.changed.filter((g) => g.change.objects === 0 && g.change.bytes === 0).length;
  if (unchanged > 0) lines.push(`  (and ${formatCount(unchanged)} unchanged)`);
  lines.push('', `Allocation sites of what is left: ${formatCount(diff.sites.new.length)} new, ${formatCount(diff.sites.fixed.length)} gone, ${formatCount(diff.sites.changed.length)} in both`);
  for (const [title, list] of [
    ['new', diff.sites.new],
    ['gone', diff.sites.fixed],
  ] as const) {
    for (const s of list.slice(0, options.top)) lines.push(`  ${title.padEnd(5)} ${safeText(s.site ?? '(no site)', width - 27).padEnd(width - 27)} ${signed(s.change).padStart(10)} objects`);
  }
  for (const note of diff.incomplete) lines.push(...wrap(`note: ${note}`, width));
  return `${lines.join('\n')}\n`;
}
