/**
 * The terminal summary of a replay: what `memreplay replay TRACE` prints without `--json`.
 * It fits in 80 columns, uses color only when asked (the CLI honours NO_COLOR and non-TTY output),
 * and shows every trace string through `safeText`, so a hostile type name cannot inject escape
 * sequences.
 */
import type { ReplayReport } from './json.js';
import { formatBytes, formatCount, formatPercent, padEnd, safeText } from './format.js';

export interface TerminalOptions {
  color: boolean;
  /** Leak groups shown per section. */
  top?: number;
}

export function renderTerminal(report: ReplayReport, options: TerminalOptions): string {
  const bold = (s: string) => (options.color ? `\x1b[1m${s}\x1b[22m` : s);
  const dim = (s: string) => (options.color ? `\x1b[2m${s}\x1b[22m` : s);
  const warn = (s: string) => (options.color ? `\x1b[33m${s}\x1b[39m` : s);
  const top = options.top ?? 5;
  const lines: string[] = [];
  const gc = report.gc;
  const cfg = report.config;

  lines.push(bold(`memreplay · ${safeText(report.trace.file, 40)} · ${formatCount(report.trace.events)} events`));
  lines.push(
    dim(
      `policy ${cfg.policy} (${cfg.covers})` +
        (cfg.tracesCycles ? ` · thresholds ${cfg.thresholds.join('/')}` : '') +
        (cfg.oldObjects ? ` · ${formatCount(cfg.oldObjects)} old objects` : '') +
        (cfg.pool ? ` · pool ${cfg.pool}` : ''),
    ),
  );
  if (report.trace.skippedEvents > 0) {
    const kinds = Object.entries(report.trace.skippedByKind)
      .map(([k, n]) => `${k} ${formatCount(n)}`)
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
    `  peak ${formatCount(mem.peak.objects)} objects (event ${formatCount(mem.peak.objectsEvent)}), ` +
      `${formatBytes(mem.peak.bytes)} (event ${formatCount(mem.peak.bytesEvent)})`,
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
      `  ${pool.policy}: ${formatCount(pool.arenas.current)} arenas (high water ${formatCount(pool.arenas.highWater)}, ` +
        `${formatCount(pool.arenas.reclaimed)} reclaimed), ${formatCount(pool.pools.inUse)} pools in use`,
    );
    lines.push(
      `  reserved ${formatBytes(pool.bytesReserved)} for ${formatBytes(pool.bytesRequested)} requested; ` +
        `blocks reused ${formatPercent(pool.blocksReused, served)}`,
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
      const where = `${safeText(g.type, 20)} @ ${g.site === null ? '(no site)' : safeText(g.site, 28)}`;
      const growth = g.bytesPerMillionEvents !== null && g.growing ? warn(` +${formatBytes(g.bytesPerMillionEvents)}/M events`) : '';
      lines.push(`    ${padEnd(where, 46)} ${formatCount(g.objects).padStart(9)} ${formatBytes(g.bytes).padStart(10)}${growth}`);
      const chain = g.chain.map((link) => safeText(link.type, 16)).join(' → ');
      if (g.chain.length > 1) lines.push(dim(`      via ${padEnd(chain, 70)}`));
    }
  } else {
    lines.push('  still reachable: nothing');
  }
  return `${lines.join('\n')}\n`;
}
