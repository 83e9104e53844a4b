/**
 * The terminal summary of a replay: what `memreplay replay TRACE` prints without `--json`.
 * It fits in 80 columns (`wrapLine` folds any longer line at a separator), uses color only when
 * asked (the CLI honours NO_COLOR and non-TTY output), and shows every trace string through
 * `safeText`, so a hostile type name cannot inject escape sequences.
 */
import type { BudgetVerdict } from './budgets.js';
import type { ReplayReport } from './json.js';
import { atEvent, formatBytes, formatCount, formatPercent, padEnd, safeText } from './format.js';
import { allocatorPinning, INCREMENTAL_COLUMNS_NOTE, SPARSE_ARENA_SHARE } from './summarize.js';

export interface TerminalOptions {
  color: boolean;
  /** Leak groups shown per section. */
  top?: number;
  /** CI budget verdicts, listed last. */
  verdicts?: readonly BudgetVerdict[];
  /** Columns to fit in. Default: 80. */
  width?: number;
}

/** The SGR color sequences this module writes (`\x1b[1m` …); trace text never holds one (`safeText`). */
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

/** Columns a line takes on screen (color escapes take none). */
export function visibleLength(line: string): number {
  return [...line.replace(ANSI_ESCAPE, '')].length;
}

/**
 * Folds a line wider than `width` at its last separator (" · ", ", ", "; ", else a space) that
 * fits; continuation lines are indented two more than the line. A word longer than the width is
 * cut. Postcondition: every returned line is at most `width` columns.
 */
export function wrapLine(line: string, width: number): string[] {
  if (visibleLength(line) <= width) return [line];
  const indent = ' '.repeat((/^ */.exec(line.replace(ANSI_ESCAPE, ''))?.[0].length ?? 0) + 2);
  const out: string[] = [];
  let rest = line;
  let prefix = '';
  while (visibleLength(prefix + rest) > width) {
    const room = width - visibleLength(prefix);
    // The cut is searched in the visible text; escapes are dropped from folded lines.
    const plain = rest.replace(ANSI_ESCAPE, '');
    let cut = -1;
    let skip = 0;
    // Each separator with the part that stays at the end of the line (" · " leaves nothing).
    for (const [separator, kept] of [
      [' · ', ''],
      [', ', ','],
      ['; ', ';'],
      [' ', ''],
    ] as const) {
      const at = plain.lastIndexOf(separator, room - kept.length);
      if (at > 0) {
        cut = at + kept.length;
        skip = separator.length - kept.length;
        break;
      }
    }
    if (cut <= 0) {
      cut = room - 1;
      out.push(`${prefix}${[...plain].slice(0, cut).join('')}…`);
      rest = [...plain].slice(cut).join('');
    } else {
      out.push(`${prefix}${plain.slice(0, cut)}`);
      rest = plain.slice(cut + skip);
    }
    prefix = indent;
  }
  out.push(prefix + rest);
  return out;
}

export function renderTerminal(report: ReplayReport, options: TerminalOptions): string {
  const bold = (s: string) => (options.color ? `\x1b[1m${s}\x1b[22m` : s);
  const dim = (s: string) => (options.color ? `\x1b[2m${s}\x1b[22m` : s);
  const warn = (s: string) => (options.color ? `\x1b[33m${s}\x1b[39m` : s);
  const top = options.top ?? 5;
  const width = options.width ?? 80;
  const lines: string[] = [];
  const gc = report.gc;
  const cfg = report.config;

  lines.push(bold(`memreplay · ${safeText(report.trace.file, 40)} · ${formatCount(report.trace.events)} events`));
  const settings = [`policy ${safeText(cfg.policy, 40)} (${safeText(cfg.covers, 40)})`];
  if (cfg.tracesCycles) settings.push(`thresholds ${cfg.thresholds.join('/')}`);
  if (cfg.oldObjects) settings.push(`${formatCount(cfg.oldObjects)} old objects`);
  if (cfg.pool) settings.push(`pool ${safeText(cfg.pool, 40)}`);
  lines.push(dim(settings.join(' · ')));
  if (report.trace.skippedEvents > 0) {
    const kinds = Object.entries(report.trace.skippedByKind)
      .map(([k, n]) => `${safeText(k, 40)} ${formatCount(n)}`)
      .join(', ');
    lines.push(warn(`--lenient: ${formatCount(report.trace.skippedEvents)} invalid events skipped (${kinds})`));
  }
  lines.push('');

  if (cfg.tracesCycles) {
    const col = (s: string | number) => (typeof s === 'number' ? formatCount(s) : s).padStart(10);
    lines.push(bold(`${'Collector'.padEnd(20)}${col('gen 0')}${col('gen 1')}${col('gen 2')}`));
    const row = (label: string, values: (string | number)[]) => lines.push(`  ${label.padEnd(18)}${values.map(col).join('')}`);
    row('collections', gc.generations.map((g) => g.collections));
    row('collected', gc.generations.map((g) => g.collected));
    row('uncollectable', gc.generations.map((g) => g.uncollectable));
    row('promoted into', ['–', gc.promotedInto[1], gc.promotedInto[2]]);
    row('count at end', gc.count);
    row('objects at end', gc.generationSizes);
    lines.push(
      `  ${formatCount(gc.totals.collections)} collections (${formatCount(gc.totals.automatic)} automatic) examined ` +
        `${formatCount(gc.totals.examined)} objects, at most ${formatCount(gc.totals.largestExamined)} at once`,
    );
    if (gc.frozen > 0) lines.push(`  ${formatCount(gc.frozen)} objects frozen (permanent generation)`);
    if (cfg.incremental) lines.push(`  ${INCREMENTAL_COLUMNS_NOTE}`);
    const lat = report.garbageLatency;
    if (lat.objects > 0) {
      lines.push(
        `  garbage latency: median ${formatCount(lat.median)}, p95 ${formatCount(lat.p95)}, max ${formatCount(lat.max)} events ` +
          `(${formatCount(lat.objects)} objects)`,
      );
    }
  } else {
    lines.push(bold('Collector'));
    lines.push('  reference counting only: no cycle collection (cycles leak)');
  }
  lines.push('');

  const mem = report.memory;
  lines.push(bold('Memory'));
  lines.push(
    `  peak ${formatCount(mem.peak.objects)} objects (${atEvent(mem.peak.objectsEvent)}), ` +
      `${formatBytes(mem.peak.bytes)} (${atEvent(mem.peak.bytesEvent)})`,
  );
  lines.push(`  live at end ${formatCount(mem.live.objects)} objects, ${formatBytes(mem.live.bytes)}`);
  lines.push(
    `  allocated ${formatCount(mem.allocated.objects)} objects; freed by refcount ${formatCount(mem.freedByRefcount)}, ` +
      `by the collector ${formatCount(mem.freedByCollector)}`,
  );
  const pool = report.pool;
  if (pool !== null) {
    const served = pool.blocksFresh + pool.blocksReused;
    lines.push(
      `  ${safeText(pool.policy, 40)}: ${formatCount(pool.arenas.current)} arenas (high water ${formatCount(pool.arenas.highWater)}, ` +
        `${formatCount(pool.arenas.reclaimed)} reclaimed), ${formatCount(pool.pools.inUse)} pools in use`,
    );
    lines.push(
      `  reserved ${formatBytes(pool.bytesReserved)} for ${formatBytes(pool.bytesRequested)} requested; ` +
        `blocks reused ${formatPercent(pool.blocksReused, served)}`,
    );
  }
  const pinning = allocatorPinning(report);
  if (pinning !== null && pinning.sparseArenas > 0) {
    lines.push(
      `  pinned by the allocator: ${formatCount(pinning.sparseArenas)} of ${formatCount(pinning.arenas)} arenas under ${SPARSE_ARENA_SHARE * 100}% used ` +
        `(${formatBytes(pinning.sparseReservedBytes)} for ${formatBytes(pinning.sparseBlockBytes)} of blocks); ${formatBytes(pinning.freeBlockBytes)} free in pools in use`,
    );
  }
  const hits = report.freeLists.reduce((a, f) => a + f.hits, 0);
  const misses = report.freeLists.reduce((a, f) => a + f.misses, 0);
  if (hits + misses > 0) lines.push(`  free lists: ${formatCount(hits)} hits, ${formatCount(misses)} misses (${formatPercent(hits, hits + misses)} hit rate)`);
  lines.push('');

  lines.push(bold('Leaks at the end of the trace'));
  const leaks = report.leaks;
  const cluster = (c: { objects: number; bytes: number; types: { name: string; objects: number }[]; sites: { name: string; objects: number }[] }) => {
    const types = c.types.map((t) => `${safeText(t.name, 24)} ×${formatCount(t.objects)}`).join(', ');
    const site = c.sites[0] ? ` @ ${safeText(c.sites[0].name, 30)}` : '';
    return `    ${formatCount(c.objects)} objects, ${formatBytes(c.bytes)}: ${types}${site}`;
  };
  if (leaks.cyclicGarbage.objects > 0) {
    const verb = cfg.tracesCycles ? 'waiting for a collection' : 'never collected (refcount-only)';
    lines.push(
      warn(`  cyclic garbage ${verb}: ${formatCount(leaks.cyclicGarbage.objects)} objects, ${formatBytes(leaks.cyclicGarbage.bytes)}`) +
        ` in ${formatCount(leaks.cyclicGarbage.groups.length + leaks.cyclicGarbage.groupsOmitted)} clusters`,
    );
    for (const c of leaks.cyclicGarbage.groups.slice(0, top)) lines.push(cluster(c));
  } else {
    lines.push('  cyclic garbage: none');
  }
  if (leaks.uncollectable.objects > 0) {
    lines.push(warn(`  uncollectable (gc.garbage): ${formatCount(leaks.uncollectable.objects)} objects, ${formatBytes(leaks.uncollectable.bytes)}`));
    for (const c of leaks.uncollectable.groups.slice(0, top)) lines.push(cluster(c));
  } else {
    lines.push('  uncollectable: none');
  }
  const reachable = leaks.reachable.groups;
  if (reachable.length > 0) {
    const growing = reachable.filter((g) => g.growing);
    lines.push(
      `  still reachable: ${formatCount(leaks.reachable.objects)} objects, ${formatBytes(leaks.reachable.bytes)} ` +
        `(${formatCount(growing.length)} growing group${growing.length === 1 ? '' : 's'})`,
    );
    const shown = [...growing, ...reachable.filter((g) => !g.growing)].slice(0, top);
    for (const g of shown) {
      const where = `${safeText(g.type, 16)} @ ${g.site === null ? '(no site)' : safeText(g.site, 24)}`;
      const growth = g.bytesPerMillionEvents !== null && g.growing ? warn(` +${formatBytes(g.bytesPerMillionEvents)}/M events`) : '';
      lines.push(`    ${padEnd(where, 36)} ${formatCount(g.objects).padStart(8)} ${formatBytes(g.bytes).padStart(10)}${growth}`);
      const chain = g.chain.map((link) => safeText(link.type, 16)).join(' → ');
      if (g.chain.length > 1) lines.push(dim(`      via ${truncate(chain, width - 10)}`));
    }
  } else {
    lines.push('  still reachable: nothing');
  }

  const verdicts = options.verdicts ?? [];
  if (verdicts.length > 0) {
    const failed = verdicts.filter((v) => !v.passed).length;
    lines.push('');
    lines.push(bold(failed === 0 ? `Budgets: all ${verdicts.length} passed` : `Budgets: ${failed} of ${verdicts.length} failed`));
    for (const v of verdicts) {
      const status = v.passed ? 'pass' : warn('FAIL');
      lines.push(`  ${status} ${truncate(v.budget, 40)}: ${v.actual}${v.limit === 'none' ? '' : ` (limit ${v.limit})`}`);
    }
  }
  return `${lines.flatMap((line) => wrapLine(line, width)).join('\n')}\n`;
}

/** Cuts a plain text to `width` columns with an ellipsis. */
function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}
