/**
 * The HTML report: one self-contained page that CI publishes as an artifact.
 *
 *   ReplayReport ──buildCharts──► Vega-Lite specs ──renderChartSvg──► inline SVG
 *        │                                 └──────────────────────────► <script type="application/json">
 *        └──► summary, leak triage, tables (escaped HTML)
 *
 * What the page promises, and how:
 * - No network when opened: every chart is SVG inlined at report time, styles are inline, and a
 *   Content-Security-Policy meta tag forbids every fetch (`default-src 'none'`). The one inline
 *   script (show/copy a chart's spec) is allowed by its SHA-256 hash, nothing else may run.
 * - Untrusted trace strings (types, sites, labels, header meta) go through `htmlText` in HTML,
 *   through Vega's own escaping in SVG, and through `jsonForScript` inside script elements.
 * - Bounded size: charts are downsampled (`charts.ts`), tables capped with a count of the rest.
 * - Deterministic: the same report and options give the same bytes; `generatedAt` is the only
 *   input that is not in the report.
 *
 * Pure: no IO. vega and vega-lite are loaded (lazily) by `svg.ts` when the first chart renders.
 */
import { createHash } from 'node:crypto';
import type { BudgetVerdict } from './budgets.js';
import { groupGrowthBytes } from '../replay/leaks.js';
import { buildCharts, ChartSection, type ChartDefinition, type ChartSectionName } from './charts.js';
import { escapeHtml, htmlText, jsonForScript } from './escape.js';
import { formatBytes, formatCount, formatPercent } from './format.js';
import type { ReplayReport } from './json.js';
import { allocatorPinning, headlineCards, INCREMENTAL_COLUMNS_NOTE, reachableInReadingOrder, SPARSE_ARENA_SHARE } from './summarize.js';
import { renderChartSvg } from './svg.js';
import type { GarbageCluster, ReachableGroup } from '../replay/leaks.js';

export interface HtmlOptions {
  /** Budget verdicts to show in the summary. */
  verdicts?: readonly BudgetVerdict[];
  /** When the page was made (shown in the header); the only thing not taken from the report. */
  generatedAt?: string;
}

/** Rows shown in a table before the rest is only counted. */
const TABLE_ROWS = 25;
/** Collections listed in the "longest pauses" table. */
const PAUSE_ROWS = 15;
/** Header meta entries shown in the settings table. */
const META_ROWS = 20;

const SECTION_TITLES: Record<ChartSectionName, string> = {
  [ChartSection.leaks]: 'Leaks',
  [ChartSection.generations]: 'Generation promotion',
  [ChartSection.pool]: 'Pool reuse',
};

/**
 * The page's only script: a button under each chart shows its Vega-Lite spec (pretty-printed
 * from the embedded JSON) and tries to copy it, for pasting into the Vega editor.
 */
const PAGE_SCRIPT = `document.addEventListener('click', function (event) {
  var button = event.target instanceof Element ? event.target.closest('button[data-spec]') : null;
  if (!button) return;
  var figure = button.closest('figure');
  var source = document.getElementById(button.getAttribute('data-spec'));
  var pre = figure.querySelector('pre.spec');
  if (!pre) {
    pre = document.createElement('pre');
    pre.className = 'spec';
    pre.textContent = JSON.stringify(JSON.parse(source.textContent), null, 2);
    figure.appendChild(pre);
  } else {
    pre.hidden = !pre.hidden;
  }
  button.textContent = pre.hidden ? 'Show Vega-Lite spec' : 'Hide Vega-Lite spec';
  var status = figure.querySelector('.copy-status');
  if (!pre.hidden && navigator.clipboard && status) {
    navigator.clipboard.writeText(pre.textContent).then(function () { status.textContent = 'copied to the clipboard'; }, function () { status.textContent = ''; });
  }
});`;

/** The Content-Security-Policy of the page: nothing may be fetched, only the page script runs. */
export function contentSecurityPolicy(): string {
  const hash = createHash('sha256').update(PAGE_SCRIPT, 'utf8').digest('base64');
  return `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`;
}

export async function renderHtml(report: ReplayReport, options: HtmlOptions = {}): Promise<string> {
  // 1. Charts: specs from the report, each rendered to SVG, one after another (the work is
  //    CPU-bound, and the page's order is the charts' order).
  const charts = buildCharts(report);
  const figures = new Map<string, string>();
  for (const chart of charts) figures.set(chart.id, await renderFigure(chart));
  const chartsOf = (section: ChartSectionName) =>
    charts
      .filter((c) => c.section === section)
      .map((c) => figures.get(c.id) ?? '')
      .join('\n');

  // 2. The page.
  const title = `memreplay · ${report.trace.file}`;
  const body = [
    header(report, options),
    nav(),
    '<main>',
    summarySection(report, options.verdicts ?? []),
    leaksSection(report, chartsOf(ChartSection.leaks)),
    generationsSection(report, chartsOf(ChartSection.generations)),
    poolSection(report, chartsOf(ChartSection.pool)),
    marksSection(report),
    '</main>',
    footer(report),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy())}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="memreplay ${escapeHtml(report.tool.version)}">
<title>${htmlText(title, 100)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

async function renderFigure(chart: ChartDefinition): Promise<string> {
  const { svg } = await renderChartSvg(chart.spec, `c-${chart.id}`);
  const specId = `spec-${chart.id}`;
  return `<figure class="chart" id="chart-${chart.id}" data-chart="${chart.id}">
<figcaption><h3>${escapeHtml(chart.title)}</h3><p class="guide">${escapeHtml(chart.guide)}</p></figcaption>
<div class="svg">${svg}</div>
<div class="spec-tools"><button type="button" data-spec="${specId}">Show Vega-Lite spec</button> <span class="copy-status"></span></div>
<script type="application/json" id="${specId}" class="vega-lite-spec">${jsonForScript(chart.spec)}</script>
</figure>`;
}

// ---- page frame ---------------------------------------------------------------------------------

function header(report: ReplayReport, options: HtmlOptions): string {
  const cfg = report.config;
  const settings = [
    `policy <b>${escapeHtml(cfg.policy)}</b>`,
    cfg.tracesCycles ? `thresholds ${cfg.thresholds.map(formatCount).join(' / ')}` : 'no cycle collection',
    cfg.pool === null ? 'no allocator model' : `pool ${escapeHtml(cfg.pool)}`,
  ];
  return `<header>
<div class="brand">memreplay report</div>
<h1>${htmlText(report.trace.file, 100)}</h1>
<p class="sub">${formatCount(report.trace.events)} events · ${settings.join(' · ')}${options.generatedAt ? ` · generated ${escapeHtml(options.generatedAt)}` : ''}</p>
</header>`;
}

function nav(): string {
  const links = [
    ['summary', 'Summary'],
    ['leaks', 'Leaks'],
    ['generations', 'Generation promotion'],
    ['pool', 'Pool reuse'],
    ['marks', 'Marks'],
  ];
  return `<nav>${links.map(([id, text]) => `<a href="#${id}">${text}</a>`).join('')}</nav>`;
}

function footer(report: ReplayReport): string {
  return `<footer>
<p>memreplay ${escapeHtml(report.tool.version)} · report format ${escapeHtml(report.format)} v${report.version}. Every chart’s Vega-Lite spec, data included, is embedded in this page (“Show Vega-Lite spec”) and can be pasted into the Vega editor. This page loads nothing from the network.</p>
</footer>`;
}

// ---- sections -----------------------------------------------------------------------------------

function summarySection(report: ReplayReport, verdicts: readonly BudgetVerdict[]): string {
  const cards = headlineCards(report)
    .map((c) => `<div class="card ${c.tone}"><div class="label">${escapeHtml(c.label)}</div><div class="value">${escapeHtml(c.value)}</div><div class="detail">${escapeHtml(c.detail)}</div></div>`)
    .join('\n');
  const parts = [
    `<section id="summary">`,
    `<h2>Summary</h2>`,
    `<p class="guide">The trace, the models it was replayed through, and the numbers to read first. Orange-edged cards need a look; green ones are clear.</p>`,
  ];
  if (report.trace.skippedEvents > 0) {
    const kinds = Object.entries(report.trace.skippedByKind).map(([kind, n]) => `${htmlText(kind, 40)} ${formatCount(n)}`);
    parts.push(`<p class="notice">--lenient: ${formatCount(report.trace.skippedEvents)} invalid events were skipped (${kinds.join(', ')}); the numbers below leave them out.</p>`);
  }
  if (verdicts.length > 0) parts.push(budgetsBlock(verdicts));
  parts.push(`<div class="cards">${cards}</div>`);
  parts.push(settingsTable(report));
  parts.push('</section>');
  return parts.join('\n');
}

function budgetsBlock(verdicts: readonly BudgetVerdict[]): string {
  const failed = verdicts.filter((v) => !v.passed).length;
  const headline = failed === 0 ? `All ${formatCount(verdicts.length)} budgets passed.` : `${formatCount(failed)} of ${formatCount(verdicts.length)} budgets failed.`;
  const rows = verdicts.map(
    (v) =>
      `<tr class="${v.passed ? 'pass' : 'fail'}"><td><span class="badge ${v.passed ? 'good' : 'bad'}">${v.passed ? 'pass' : 'FAIL'}</span></td><td><code>${htmlText(v.budget, 120)}</code></td><td class="num">${escapeHtml(v.actual)}</td><td class="num">${escapeHtml(v.limit)}</td><td>${htmlText(detailOf(v), 400)}</td></tr>`,
  );
  return `<div class="budgets ${failed === 0 ? 'ok' : 'failed'}"><h3>CI budgets</h3><p>${headline}</p>
<table><thead><tr><th>verdict</th><th>budget</th><th class="num">measured</th><th class="num">limit</th><th>detail</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

/** A verdict's message without the budget it starts with (the row already names it). */
function detailOf(verdict: BudgetVerdict): string {
  const prefix = `${verdict.budget}: `;
  return verdict.message.startsWith(prefix) ? verdict.message.slice(prefix.length) : verdict.message;
}

function settingsTable(report: ReplayReport): string {
  const cfg = report.config;
  const rows: [string, string][] = [
    ['trace', `${htmlText(report.trace.file, 160)} · ${formatCount(report.trace.events)} events`],
    ['collector model', `${escapeHtml(cfg.policy)} (covers ${escapeHtml(cfg.covers)})${cfg.policyRequested !== cfg.policy ? ` · asked for ${htmlText(cfg.policyRequested, 40)}` : ''}`],
  ];
  if (cfg.tracesCycles) {
    rows.push(['thresholds', `${cfg.thresholds.map(formatCount).join(' / ')}${cfg.automaticCollection ? '' : ' · automatic collection off (--gc off)'}`]);
    rows.push(['old objects', `${formatCount(cfg.oldObjects)} in the oldest generation at the start`]);
  }
  rows.push(['free lists', escapeHtml(cfg.freeLists)]);
  rows.push([
    'allocator model',
    cfg.pool === null
      ? 'none'
      : `${escapeHtml(cfg.pool)} · ${Object.entries(cfg.poolParams)
          .map(([k, v]) => `${htmlText(k, 30)}=${formatCount(v)}`)
          .join(', ')}`,
  ]);
  const meta = Object.entries(report.trace.meta);
  for (const [key, value] of meta.slice(0, META_ROWS)) rows.push([`meta.${htmlText(key, 40)}`, htmlText(typeof value === 'string' ? value : JSON.stringify(value) ?? 'null', 200)]);
  if (meta.length > META_ROWS) rows.push(['', `… ${formatCount(meta.length - META_ROWS)} more meta entries`]);
  rows.push(['tool', `memreplay ${escapeHtml(report.tool.version)}`]);
  return `<details class="settings"><summary>Settings and trace header</summary><table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</tbody></table></details>`;
}

function leaksSection(report: ReplayReport, charts: string): string {
  const leaks = report.leaks;
  const cfg = report.config;
  const gc = report.gc;
  const waiting = cfg.tracesCycles
    ? `Unreachable, kept alive only by reference cycles. The next collection of their generation frees them: this is garbage waiting, not a leak, unless collections never come. At the end the gen-0 count was ${formatCount(gc.count[0] ?? 0)} of a threshold of ${formatCount(gc.thresholds[0] ?? 0)}${gc.enabled ? '' : ' (gc disabled)'}.`
    : 'Unreachable, kept alive only by reference cycles. Under refcount-only nothing collects cycles, so under this model these are leaks.';
  const growing = leaks.reachable.groups.filter((g) => g.growing);
  const pinning = allocatorPinning(report);
  const blocks = [
    triageBlock(1, cfg.tracesCycles ? 'Cyclic garbage waiting for a collection' : 'Cyclic garbage never collected', waiting, leaks.cyclicGarbage.objects, leaks.cyclicGarbage.bytes, clusterTable(leaks.cyclicGarbage.groups, leaks.cyclicGarbage.groupsOmitted)),
    triageBlock(
      2,
      'Uncollectable objects',
      'Cycles with a legacy finalizer (tp_del): the collector cannot free them and parks them in gc.garbage for good. Break the cycle in the program.',
      leaks.uncollectable.objects,
      leaks.uncollectable.bytes,
      clusterTable(leaks.uncollectable.groups, leaks.uncollectable.groupsOmitted),
    ),
    triageBlock(
      3,
      'Reachable groups that keep growing',
      'Still referenced by the program, grouped by allocation site and type. No collector can free them; a group whose live bytes kept rising over the trace is the usual shape of a real leak (a cache, a registry, a list that only grows).',
      growing.reduce((s, g) => s + g.objects, 0),
      growing.reduce((s, g) => s + g.bytes, 0),
      reachableTables(report),
      growing.length === 0 ? `none growing · ${formatCount(leaks.reachable.objects)} objects, ${formatBytes(leaks.reachable.bytes)} reachable` : undefined,
    ),
    pinningBlock(report, pinning),
  ];
  return `<section id="leaks">
<h2>Leaks</h2>
<p class="guide">Everything not freed at the end, sorted by why: cyclic garbage the collector has not reached yet, cycles it can never free, reachable memory that keeps growing, and memory held by the allocator rather than by objects.</p>
<div class="triage">${blocks.join('\n')}</div>
${charts}
</section>`;
}

function triageBlock(n: number, title: string, guide: string, objects: number, bytes: number, detail: string, status?: string): string {
  const clear = objects === 0;
  const badge = status ?? (clear ? 'none' : `${formatCount(objects)} objects · ${formatBytes(bytes)}`);
  return `<div class="triage-item ${clear ? 'clear' : 'flag'}">
<h3><span class="num-badge">${n}</span> ${escapeHtml(title)} <span class="badge ${clear ? 'good' : 'warn'}">${escapeHtml(badge)}</span></h3>
<p class="guide">${escapeHtml(guide)}</p>
${detail}
</div>`;
}

function clusterTable(clusters: readonly GarbageCluster[], omitted: number): string {
  if (clusters.length === 0) return '';
  const shown = clusters.slice(0, TABLE_ROWS);
  const rows = shown.map(
    (c) =>
      `<tr><td class="num">${formatCount(c.objects)}</td><td class="num">${formatBytes(c.bytes)}</td><td>${c.types.map((t) => `${htmlText(t.name, 40)} ×${formatCount(t.objects)}`).join(', ')}</td><td>${c.sites.map((s) => `<code>${htmlText(s.name, 60)}</code>`).join(', ') || '—'}</td><td class="num">${formatCount(c.finalizers)}</td></tr>`,
  );
  return `<table><thead><tr><th class="num">objects</th><th class="num">bytes</th><th>types</th><th>allocation sites</th><th class="num">__del__</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>${moreRows(clusters.length - shown.length + omitted, 'clusters')}`;
}

function reachableTables(report: ReplayReport): string {
  const groups = reachableInReadingOrder(report);
  if (groups.length === 0) return '<p>Nothing is reachable at the end.</p>';
  const growing = groups.filter((g) => g.growing);
  const steady = groups.filter((g) => !g.growing);
  const omitted = report.leaks.reachable.groupsOmitted;
  const parts: string[] = [];
  if (growing.length > 0) parts.push(groupTable(report, growing.slice(0, TABLE_ROWS)), moreRows(growing.length - TABLE_ROWS, 'growing groups'));
  if (steady.length > 0) {
    const shown = steady.slice(0, TABLE_ROWS);
    parts.push(
      `<details${growing.length === 0 ? ' open' : ''}><summary>${formatCount(steady.length)} reachable group${steady.length === 1 ? '' : 's'} not growing (largest first)</summary>${groupTable(report, shown)}${moreRows(steady.length - shown.length + omitted, 'smaller groups')}</details>`,
    );
  } else if (omitted > 0) {
    parts.push(moreRows(omitted, 'smaller groups'));
  }
  return parts.join('\n');
}

function groupTable(report: ReplayReport, groups: readonly ReachableGroup[]): string {
  const rows = groups.map((g) => {
    const rate = g.bytesPerMillionEvents === null ? '—' : `${g.bytesPerMillionEvents >= 0 ? '+' : ''}${formatBytes(g.bytesPerMillionEvents)}`;
    return `<tr><td>${htmlText(g.type, 40)}</td><td><code>${g.site === null ? '(no site)' : htmlText(g.site, 60)}</code></td><td class="num">${formatCount(g.objects)}</td><td class="num">${formatBytes(g.bytes)}</td><td class="num">${rate}</td><td class="num">${g.growing ? `+${formatBytes(groupGrowthBytes(g, report.trace.events))}` : '—'}</td><td class="chain">${chain(g)}</td></tr>`;
  });
  return `<table><thead><tr><th>type</th><th>allocation site</th><th class="num">objects</th><th class="num">bytes</th><th class="num">per M events</th><th class="num">growth</th><th class="wrap">reference chain (from an object the program holds)</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function chain(group: ReachableGroup): string {
  const links = group.chain.map((link) => `<span class="link" title="${link.site === null ? 'no site' : htmlText(link.site, 80)}">${htmlText(link.type, 30)}</span>`);
  if (group.chainOmitted > 0) links.splice(Math.floor(links.length / 2), 0, `<span class="omitted">… ${formatCount(group.chainOmitted)} links …</span>`);
  return links.join(' → ');
}

function pinningBlock(report: ReplayReport, pinning: ReturnType<typeof allocatorPinning>): string {
  const guide =
    'Memory the process keeps that no object needs: arenas that a few live blocks keep from going back to the system, free blocks inside pools in use, empty pools cached in arenas, and dead objects parked on the per-type free lists.';
  if (pinning === null) {
    return triageBlock(4, 'Memory pinned by the allocator', guide, 0, 0, '<p>No allocator model ran (<code>--pool none</code>).</p>', 'no allocator model');
  }
  const rows: [string, string, string][] = [];
  if (pinning.arenaBytes > 0) {
    rows.push([
      `arenas under ${SPARSE_ARENA_SHARE * 100}% used`,
      `${formatCount(pinning.sparseArenas)} of ${formatCount(pinning.arenas)}`,
      pinning.sparseArenas > 0 ? `${formatBytes(pinning.sparseReservedBytes)} reserved for ${formatBytes(pinning.sparseBlockBytes)} of live blocks` : 'every arena is well used',
    ]);
  }
  rows.push(['free blocks in pools in use', formatBytes(pinning.freeBlockBytes), 'reusable only by objects of the same size class']);
  if (pinning.arenaBytes > 0) rows.push(['empty pools cached in arenas', formatCount(pinning.emptyPools), `${formatBytes(pinning.emptyPoolBytes)}, reusable by any size class`]);
  rows.push(['objects parked on free lists', formatCount(pinning.freeListParked), 'their blocks stay allocated until reused or a full collection clears the lists']);
  const sparseBytes = pinning.sparseReservedBytes - pinning.sparseBlockBytes;
  const flagged = pinning.sparseArenas > 0;
  const table = `<table class="pinning"><tbody>${rows.map(([a, b, c]) => `<tr><th>${escapeHtml(a)}</th><td class="num">${escapeHtml(b)}</td><td>${escapeHtml(c)}</td></tr>`).join('')}</tbody></table>`;
  const clear = !flagged;
  return `<div class="triage-item ${clear ? 'clear' : 'flag'}">
<h3><span class="num-badge">4</span> Memory pinned by the allocator <span class="badge ${clear ? 'good' : 'warn'}">${flagged ? `${formatBytes(sparseBytes)} in sparse arenas` : 'no sparse arenas'}</span></h3>
<p class="guide">${escapeHtml(guide)}</p>
${table}
</div>`;
}

function generationsSection(report: ReplayReport, charts: string): string {
  const gc = report.gc;
  if (!report.config.tracesCycles) {
    return `<section id="generations"><h2>Generation promotion</h2><p class="guide">${escapeHtml(report.config.policy)} collects no cycles: there are no generations to promote through.</p></section>`;
  }
  const col = (values: readonly (number | string)[]) => values.map((v) => `<td class="num">${typeof v === 'number' ? formatCount(v) : escapeHtml(v)}</td>`).join('');
  const table = `<table class="gens"><thead><tr><th></th><th class="num">gen 0</th><th class="num">gen 1</th><th class="num">gen 2</th></tr></thead><tbody>
<tr><th>threshold</th>${col(gc.thresholds)}</tr>
<tr><th>collections</th>${col(gc.generations.map((g) => g.collections))}</tr>
<tr><th>collected</th>${col(gc.generations.map((g) => g.collected))}</tr>
<tr><th>uncollectable</th>${col(gc.generations.map((g) => g.uncollectable))}</tr>
<tr><th>promoted into</th>${col(['–', gc.promotedInto[1] ?? 0, gc.promotedInto[2] ?? 0])}</tr>
<tr><th>count at the end</th>${col(gc.count)}</tr>
<tr><th>objects at the end</th>${col(gc.generationSizes)}</tr>
</tbody></table>`;
  const lat = report.garbageLatency;
  const facts = [
    `${formatCount(gc.totals.collections)} collections (${formatCount(gc.totals.automatic)} automatic, ${formatCount(gc.totals.explicit)} explicit) examined ${formatCount(gc.totals.examined)} objects; the largest examined ${formatCount(gc.totals.largestExamined)}.`,
    lat.objects > 0
      ? `Garbage latency (events from unreachable to freed): median ${formatCount(lat.median)}, p95 ${formatCount(lat.p95)}, max ${formatCount(lat.max)} over ${formatCount(lat.objects)} objects.`
      : 'No object was freed by the collector, so there is no garbage latency to show.',
    report.config.incremental
      ? INCREMENTAL_COLUMNS_NOTE
      : `Long-lived heuristic: ${formatCount(gc.longLived.pending)} objects pending of ${formatCount(gc.longLived.total)} long-lived (a full collection waits until pending exceeds 25% of them).`,
  ];
  if (gc.frozen > 0) facts.push(`${formatCount(gc.frozen)} objects frozen in the permanent generation (gc.freeze()).`);
  const noCollections =
    gc.totals.collections === 0
      ? `<p class="notice">No collection ran: the gen-0 count never exceeded its threshold of ${formatCount(gc.thresholds[0] ?? 0)}${gc.enabled ? '' : ' (or automatic collection was off)'}. Try a lower <code>--threshold</code> to see when one would.</p>`
      : '';
  return `<section id="generations">
<h2>Generation promotion</h2>
<p class="guide">How objects move through the three generations: survivors of a collection are promoted, and each collection’s pause is proportional to the objects it examines.</p>
${table}
<ul class="facts">${facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>
${noCollections}
${charts}
${pausesTable(report)}
</section>`;
}

function pausesTable(report: ReplayReport): string {
  const list = report.gc.collections.list;
  if (list.length === 0) return '';
  const longest = [...list].sort((a, b) => b.examined - a.examined || a.event - b.event).slice(0, PAUSE_ROWS);
  const rows = longest.map(
    (c) =>
      `<tr><td class="num">${formatCount(c.event)}</td><td class="num">${c.generation}</td><td>${c.reason}</td><td class="num">${formatCount(c.examined)}</td><td class="num">${formatCount(c.collected)}</td><td class="num">${formatCount(c.promoted)}</td><td class="num">${formatCount(c.uncollectable)}</td></tr>`,
  );
  return `<details><summary>The ${formatCount(longest.length)} collections that examined the most objects</summary><table><thead><tr><th class="num">event</th><th class="num">gen</th><th>reason</th><th class="num">examined</th><th class="num">collected</th><th class="num">promoted</th><th class="num">uncollectable</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>${moreRows(report.gc.collections.total - longest.length, 'collections (all listed in the JSON and CSV reports)')}</details>`;
}

function poolSection(report: ReplayReport, charts: string): string {
  const pool = report.pool;
  if (pool === null) {
    return `<section id="pool"><h2>Pool reuse</h2><p class="guide">No allocator model ran (<code>--pool none</code>).</p>${freeListTable(report)}</section>`;
  }
  const served = pool.blocksFresh + pool.blocksReused;
  const rows: [string, string][] = [
    ['arenas', `${formatCount(pool.arenas.current)} now · ${formatCount(pool.arenas.highWater)} at most · ${formatCount(pool.arenas.allocated)} allocated, ${formatCount(pool.arenas.reclaimed)} reclaimed`],
    ['pools', `${formatCount(pool.pools.inUse)} in use (${formatCount(pool.pools.peakInUse)} at most) · ${formatCount(pool.pools.empty)} empty · ${formatCount(pool.pools.neverUsed)} never used`],
    ['bytes', `${formatBytes(pool.bytesRequested)} requested · ${formatBytes(pool.bytesReserved)} reserved (${formatBytes(pool.peakBytesReserved)} at most)`],
    ['blocks served', served > 0 ? `${formatCount(served)} · ${formatPercent(pool.blocksReused, served)} reused` : 'none'],
    ['fragmentation', `internal ${formatBytes(pool.fragmentation.internal)} · pool ${formatBytes(pool.fragmentation.pool)} · arena ${formatBytes(pool.fragmentation.arena)}`],
    ['malloc', `${formatCount(pool.malloc.blocksInUse)} blocks in use, ${formatBytes(pool.malloc.bytesReserved)} reserved · ${formatCount(pool.malloc.allocations)} allocations, ${formatCount(pool.malloc.reallocs)} reallocs`],
  ];
  return `<section id="pool">
<h2>Pool reuse</h2>
<p class="guide">How ${escapeHtml(pool.policy)} served the objects: arenas from the system, pools per size class inside them, blocks inside pools; and how often freed memory was reused.</p>
<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>
${charts}
${sizeClassTable(report)}
${freeListTable(report)}
</section>`;
}

function sizeClassTable(report: ReplayReport): string {
  const classes = (report.pool?.sizeClasses ?? []).filter((c) => c.requests > 0 || c.blocksInUse > 0);
  if (classes.length === 0) return '';
  const rows = classes.map(
    (c) =>
      `<tr><td class="num">${formatCount(c.size)}</td><td class="num">${formatCount(c.requests)}</td><td class="num">${formatPercent(c.reusedBlocks, c.requests)}</td><td class="num">${formatCount(c.blocksInUse)}</td><td class="num">${formatCount(c.availBlocks)}</td><td class="num">${formatCount(c.poolsInUse)}</td><td class="num">${formatCount(c.peakBlocksInUse)}</td><td class="num">${formatCount(c.peakPoolsInUse)}</td></tr>`,
  );
  return `<details><summary>Size classes (the rows of sys._debugmallocstats())</summary><table><thead><tr><th class="num">block size</th><th class="num">requests</th><th class="num">reused</th><th class="num">blocks in use</th><th class="num">avail blocks</th><th class="num">pools in use</th><th class="num">peak blocks</th><th class="num">peak pools</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></details>`;
}

function freeListTable(report: ReplayReport): string {
  if (report.freeLists.length === 0) return '';
  const rows = report.freeLists.map(
    (f) =>
      `<tr><td>${htmlText(f.type, 30)}</td><td class="num">${formatCount(f.capacity)}</td><td class="num">${formatCount(f.hits)}</td><td class="num">${formatCount(f.misses)}</td><td class="num">${formatPercent(f.hits, f.hits + f.misses)}</td><td class="num">${formatCount(f.overflows)}</td><td class="num">${formatCount(f.cleared)}</td><td class="num">${formatCount(f.current)}</td></tr>`,
  );
  return `<details><summary>Per-type free lists (${escapeHtml(report.config.freeLists)})</summary><table><thead><tr><th>type</th><th class="num">capacity</th><th class="num">hits</th><th class="num">misses</th><th class="num">hit rate</th><th class="num">overflows</th><th class="num">cleared</th><th class="num">parked now</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></details>`;
}

function marksSection(report: ReplayReport): string {
  const marks = report.timeline.marks;
  const omitted = report.timeline.marksOmitted;
  if (marks.length === 0) {
    return `<section id="marks"><h2>Marks</h2><p class="guide">The trace has no <code>mark</code> events. Add them (phase names, request numbers) to see them labelled on every time axis.</p></section>`;
  }
  const shown = marks.slice(0, TABLE_ROWS * 2);
  const rows = shown.map((m) => `<tr><td class="num">${formatCount(m.event)}</td><td class="num">${m.time === null ? '—' : formatCount(m.time)}</td><td>${htmlText(m.label, 160)}</td></tr>`);
  const unit = typeof report.trace.meta.timeUnit === 'string' ? ` (${htmlText(report.trace.meta.timeUnit, 12)})` : '';
  return `<section id="marks"><h2>Marks</h2><p class="guide">The trace’s <code>mark</code> events, drawn as dashed rules on the time axes above.</p>
<details><summary>${formatCount(marks.length + omitted)} marks</summary><table><thead><tr><th class="num">event</th><th class="num">time${unit}</th><th>label</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>${moreRows(marks.length - shown.length + omitted, 'marks')}</details></section>`;
}

function moreRows(count: number, what: string): string {
  return count > 0 ? `<p class="more">… and ${formatCount(count)} more ${escapeHtml(what)} not shown.</p>` : '';
}

/** The page's style sheet. Colors: Okabe–Ito accents on neutral greys (see charts.ts). */
const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d8dee4; --soft: #f6f8fa; --accent: #0072B2; --warn: #D55E00; --good: #009E73; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { padding: 28px 40px 16px; border-bottom: 1px solid var(--line); background: linear-gradient(180deg, #f3f7fb, #fff); }
.brand { font-size: 12px; letter-spacing: .08em; text-transform: uppercase; color: var(--accent); font-weight: 700; }
h1 { margin: 4px 0 4px; font-size: 26px; font-weight: 650; word-break: break-all; }
.sub { margin: 0; color: var(--muted); }
nav { position: sticky; top: 0; z-index: 1; display: flex; gap: 4px; padding: 6px 40px; background: rgba(255,255,255,.95); border-bottom: 1px solid var(--line); }
nav a { color: var(--fg); text-decoration: none; padding: 4px 10px; border-radius: 6px; font-size: 14px; }
nav a:hover { background: var(--soft); }
main { max-width: 1120px; margin: 0 auto; padding: 8px 40px 48px; }
section { padding-top: 12px; }
h2 { font-size: 21px; margin: 28px 0 4px; padding-bottom: 4px; border-bottom: 2px solid var(--fg); }
h3 { font-size: 16px; margin: 0 0 2px; }
.guide { color: var(--muted); margin: 2px 0 10px; font-size: 14px; max-width: 85ch; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; margin: 14px 0; }
.card { border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--soft); }
.card.warn { border-left-color: var(--warn); }
.card.good { border-left-color: var(--good); }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .detail { font-size: 13px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0 10px; }
th, td { padding: 4px 10px 4px 0; border-bottom: 1px solid #edf0f3; text-align: left; vertical-align: top; }
thead th { font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; padding-left: 12px; }
table.kv th { width: 200px; font-weight: 600; color: var(--muted); }
table.gens { width: auto; min-width: 420px; }
table.pinning th { width: 260px; font-weight: 600; }
table.pinning td.num { width: 110px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; background: var(--soft); padding: 0 3px; border-radius: 3px; }
.chain { font-size: 12.5px; }
.chain .link { white-space: nowrap; }
.omitted, .more { color: var(--muted); font-style: italic; }
.more { font-size: 13px; margin: 0 0 8px; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; vertical-align: 2px; margin-left: 6px; }
.badge.good { background: #e3f4ee; color: #00634a; }
.badge.warn { background: #fbe9dd; color: #9a3c00; }
.badge.bad { background: #9a3c00; color: #fff; }
.num-badge { display: inline-block; width: 22px; height: 22px; line-height: 22px; text-align: center; border-radius: 50%; background: var(--fg); color: #fff; font-size: 12px; margin-right: 4px; }
.triage-item { border: 1px solid var(--line); border-left: 4px solid var(--good); border-radius: 8px; padding: 12px 16px 6px; margin: 12px 0; overflow-x: auto; }
thead th.wrap { white-space: normal; }
.triage-item td code { word-break: break-all; }
.budgets { overflow-x: auto; }
.budgets td code { white-space: nowrap; }
.triage-item.flag { border-left-color: var(--warn); }
.budgets { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; margin: 14px 0; }
.budgets.failed { border-color: var(--warn); background: #fff8f3; }
.budgets.ok { border-color: var(--good); background: #f4fbf8; }
.budgets p { margin: 0 0 6px; font-weight: 600; }
tr.fail td { color: #7a2f00; }
.notice { background: #fff8e6; border: 1px solid #f2d58a; border-radius: 6px; padding: 8px 12px; font-size: 14px; }
ul.facts { padding-left: 20px; font-size: 14px; }
details { margin: 8px 0 12px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
figure.chart { margin: 24px 0 30px; }
figure.chart .svg { overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
.spec-tools { margin-top: 4px; font-size: 12.5px; color: var(--muted); }
.spec-tools button { font: inherit; font-size: 12.5px; color: var(--accent); background: none; border: 1px solid var(--line); border-radius: 5px; padding: 1px 8px; cursor: pointer; }
pre.spec { max-height: 320px; overflow: auto; background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px; font-size: 11.5px; }
footer { max-width: 1120px; margin: 0 auto; padding: 16px 40px 40px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); }
@media (max-width: 700px) { header, main, footer, nav { padding-left: 16px; padding-right: 16px; } table.kv th { width: auto; } .budgets th:last-child, .budgets td:last-child { display: none; } }
@media print { nav, .spec-tools { display: none; } figure.chart { break-inside: avoid; } }
`;
