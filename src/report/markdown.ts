/**
 * The Markdown summary (`--markdown FILE`): compact enough for `$GITHUB_STEP_SUMMARY`, where it
 * is shown on the workflow run's page. Budget verdicts first, then the headline numbers, the
 * leak triage and the collector, as GitHub-flavoured tables.
 *
 * Trace strings go through `markdownText`: GitHub renders inline HTML and Markdown in a summary,
 * so a type named `<img src=x onerror=…>` or `**x**|y` must stay text (and must not break a table).
 */
import type { BudgetVerdict } from './budgets.js';
import { groupGrowthBytes } from '../replay/leaks.js';
import { formatBytes, formatCount, formatPercent, safeText } from './format.js';
import type { ReplayReport } from './json.js';
import { allocatorPinning, headlineCards, INCREMENTAL_COLUMNS_NOTE, reachableInReadingOrder, SPARSE_ARENA_SHARE } from './summarize.js';

export interface MarkdownOptions {
  verdicts?: readonly BudgetVerdict[];
  /** Rows per leak table. Default: 10. */
  top?: number;
}

/**
 * A trace string as Markdown text: control characters made visible (`safeText`), HTML
 * metacharacters as entities, and the characters Markdown reads as inline syntax backslash-escaped
 * (`|` included, so that a cell stays one cell). With `[` escaped no link can form, so `(`, `)`
 * and `!` are left alone; trace strings never start a line, so block syntax (`#`, `-`, `1.`)
 * needs no escape either.
 */
export function markdownText(text: string, maxLength = 80): string {
  return safeText(text, maxLength)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, '\\$&');
}

export function renderMarkdown(report: ReplayReport, options: MarkdownOptions = {}): string {
  const top = options.top ?? 10;
  const verdicts = options.verdicts ?? [];
  const cfg = report.config;
  const lines: string[] = [];
  lines.push(`## memreplay: ${markdownText(report.trace.file, 100)}`);
  lines.push('');
  lines.push(
    `${formatCount(report.trace.events)} events · ${markdownText(cfg.policy)}` +
      (cfg.tracesCycles ? ` · thresholds ${cfg.thresholds.map(formatCount).join('/')}` : '') +
      (cfg.pool === null ? '' : ` · ${markdownText(cfg.pool)}`) +
      (report.trace.skippedEvents > 0 ? ` · **${formatCount(report.trace.skippedEvents)} invalid events skipped (--lenient)**` : ''),
  );
  lines.push('');

  // 1. Budgets: the verdict a CI reader came for.
  if (verdicts.length > 0) {
    const failed = verdicts.filter((v) => !v.passed).length;
    lines.push(failed === 0 ? `**Budgets: all ${verdicts.length} passed** ✅` : `**Budgets: ${failed} of ${verdicts.length} failed** ❌`);
    lines.push('');
    lines.push('| | budget | measured | limit |', '|---|---|--:|--:|');
    for (const v of verdicts) lines.push(`| ${v.passed ? '✅' : '❌'} | ${markdownText(v.budget, 100)} | ${markdownText(v.actual)} | ${markdownText(v.limit)} |`);
    const failures = verdicts.filter((v) => !v.passed);
    if (failures.length > 0) {
      lines.push('');
      for (const v of failures) lines.push(`- ${markdownText(v.message, 300)}`);
    }
    lines.push('');
  }

  // 2. Headline numbers.
  lines.push('| | |', '|---|--:|');
  for (const card of headlineCards(report)) lines.push(`| ${card.tone === 'warn' ? '⚠️ ' : ''}${markdownText(card.label)} | **${markdownText(card.value)}** ${markdownText(card.detail, 120)} |`);
  lines.push('');

  // 3. Leaks, triaged.
  const leaks = report.leaks;
  lines.push('### Leaks at the end of the trace', '');
  lines.push('| kind | objects | bytes |', '|---|--:|--:|');
  lines.push(`| cyclic garbage ${cfg.tracesCycles ? '(waiting for a collection)' : '(never collected: refcount-only)'} | ${formatCount(leaks.cyclicGarbage.objects)} | ${formatBytes(leaks.cyclicGarbage.bytes)} |`);
  lines.push(`| uncollectable (gc.garbage) | ${formatCount(leaks.uncollectable.objects)} | ${formatBytes(leaks.uncollectable.bytes)} |`);
  const growing = leaks.reachable.groups.filter((g) => g.growing);
  lines.push(`| reachable, growing (${formatCount(growing.length)} groups) | ${formatCount(growing.reduce((s, g) => s + g.objects, 0))} | ${formatBytes(growing.reduce((s, g) => s + g.bytes, 0))} |`);
  lines.push(`| reachable, all | ${formatCount(leaks.reachable.objects)} | ${formatBytes(leaks.reachable.bytes)} |`);
  const pinning = allocatorPinning(report);
  if (pinning !== null && pinning.arenaBytes > 0) {
    lines.push(
      `| arenas under ${SPARSE_ARENA_SHARE * 100}% used (${formatCount(pinning.sparseArenas)} of ${formatCount(pinning.arenas)}) | ${formatBytes(pinning.sparseBlockBytes)} live | ${formatBytes(pinning.sparseReservedBytes)} reserved |`,
    );
  }
  lines.push('');

  const groups = reachableInReadingOrder(report).slice(0, top);
  if (groups.length > 0) {
    lines.push(`| reachable group | objects | bytes | growth over the trace |`, '|---|--:|--:|--:|');
    for (const g of groups) {
      const where = `${markdownText(g.type, 30)} @ ${g.site === null ? '(no site)' : markdownText(g.site, 50)}`;
      const growth = g.growing ? `**+${formatBytes(groupGrowthBytes(g, report.trace.events))}**` : '—';
      lines.push(`| ${where} | ${formatCount(g.objects)} | ${formatBytes(g.bytes)} | ${growth} |`);
    }
    const more = leaks.reachable.groups.length - groups.length + leaks.reachable.groupsOmitted;
    if (more > 0) lines.push('', `… and ${formatCount(more)} more groups.`);
    lines.push('');
  }
  const clusters = leaks.cyclicGarbage.groups.slice(0, Math.min(top, 5));
  if (clusters.length > 0) {
    lines.push('| cyclic garbage cluster | objects | bytes |', '|---|--:|--:|');
    for (const c of clusters) {
      const types = c.types.map((t) => `${markdownText(t.name, 24)} ×${formatCount(t.objects)}`).join(', ');
      const site = c.sites[0] ? ` @ ${markdownText(c.sites[0].name, 40)}` : '';
      lines.push(`| ${types}${site} | ${formatCount(c.objects)} | ${formatBytes(c.bytes)} |`);
    }
    const more = leaks.cyclicGarbage.groups.length - clusters.length + leaks.cyclicGarbage.groupsOmitted;
    if (more > 0) lines.push('', `… and ${formatCount(more)} more clusters.`);
    lines.push('');
  }

  // 4. The collector and the allocator in one table each.
  if (cfg.tracesCycles) {
    const gc = report.gc;
    lines.push('### Collector', '');
    lines.push('| | gen 0 | gen 1 | gen 2 |', '|---|--:|--:|--:|');
    lines.push(`| collections | ${gc.generations.map((g) => formatCount(g.collections)).join(' | ')} |`);
    lines.push(`| collected | ${gc.generations.map((g) => formatCount(g.collected)).join(' | ')} |`);
    lines.push(`| uncollectable | ${gc.generations.map((g) => formatCount(g.uncollectable)).join(' | ')} |`);
    lines.push(`| promoted into | – | ${formatCount(gc.promotedInto[1] ?? 0)} | ${formatCount(gc.promotedInto[2] ?? 0)} |`);
    lines.push('');
    lines.push(`Collections examined ${formatCount(gc.totals.examined)} objects, at most ${formatCount(gc.totals.largestExamined)} in one.`);
    if (cfg.incremental) lines.push('', INCREMENTAL_COLUMNS_NOTE);
    lines.push('');
  }
  const pool = report.pool;
  if (pool !== null) {
    const served = pool.blocksFresh + pool.blocksReused;
    lines.push('### Allocator', '');
    lines.push(
      `${markdownText(pool.policy)}: ${formatCount(pool.arenas.current)} arenas (high water ${formatCount(pool.arenas.highWater)}), ${formatCount(pool.pools.inUse)} pools in use; ` +
        `${formatBytes(pool.bytesRequested)} requested, ${formatBytes(pool.bytesReserved)} reserved; ${formatPercent(pool.blocksReused, served)} of blocks reused.`,
    );
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
