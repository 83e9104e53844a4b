/**
 * The comparison page (`compare --html`, `merge --html`) and the diff page (`diff --html`):
 * one self-contained HTML file each. Charts are Vega-Lite specs compiled and rendered to SVG
 * here, in Node, so the page runs no script and loads nothing: a Content-Security-Policy of
 * `default-src 'none'` makes the browser refuse any request the page might still try.
 *
 * vega and vega-lite are loaded with `import()` when a page is rendered, so that other commands
 * do not pay for loading them. Every string from a trace or a user (file names, labels, types,
 * sites) reaches the page through `text()`, or as chart data, which Vega escapes in its SVG.
 *
 * NOTE: src/report/html.ts (the replay report) has its own page frame and chart renderer; this
 * module keeps to itself so the two can evolve apart until one style serves both.
 */
import type { TopLevelSpec } from 'vega-lite';
import { formatBytes, formatCount, safeText } from '../report/format.js';
import { groupTitle, LEAK_KIND_TITLES, type DiffReport, type LeakGroupChange, type SiteChange } from './diff.js';
import { objectiveList, OBJECTIVES, type ObjectiveDefinition } from './pareto.js';
import type { CompareReport } from './report.js';
import { commonSettings, rowsOf, type RunRow } from './rows.js';
import { formatHeadlineChange, formatHeadlineValue, signed } from './terminal.js';

/** Bars drawn per bar chart; with more configurations the charts show the Pareto front. */
export const MAX_BAR_CONFIGURATIONS = 100;
/** Leak groups drawn in the diff's chart. */
const MAX_DIFF_CHART_GROUPS = 20;
/** Characters of a label in a chart. */
const CHART_LABEL_CHARS = 40;
/** Okabe–Ito colors: distinct under the common color-vision deficiencies. */
const COLORS = { front: '#D55E00', dominated: '#0072B2', gen: ['#56B4E9', '#E69F00', '#009E73'], a: '#999999', b: '#CC79A7' } as const;

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Untrusted text for element content or a quoted attribute. */
export function text(value: string, maxLength = 200): string {
  return safeText(value, maxLength).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

// ---- rendering charts -----------------------------------------------------------------------

/** Compiles a Vega-Lite spec and renders it to SVG, with element ids prefixed to be unique in the page. */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const [vegaLite, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const refuse = (what: string) => Promise.reject(new Error(`compare charts carry their data inline and load nothing (${what}); this is a bug in memreplay`));
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {
    renderer: 'none',
    loader: { load: refuse, sanitize: refuse, http: refuse, file: refuse },
  });
  try {
    const svg = await view.toSVG();
    // Vega numbers clip paths and gradients from 1 in every render; two charts in one page
    // must not share an id. Vega escapes < > " in text and attributes, so these patterns only
    // meet its own markup.
    return svg.replace(/ id="([^"]*)"/g, ` id="${idPrefix}-$1"`).replace(/url\(#([^)"]*)\)/g, `url(#${idPrefix}-$1)`);
  } finally {
    view.finalize();
  }
}

// ---- the page frame ---------------------------------------------------------------------------

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#555;margin:0 0 16px}.note{color:#555;font-size:13px}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{font-weight:600;background:#f6f6f6}td.n,th.n{text-align:right}td.n{white-space:nowrap}tr.front td{font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f3f3;padding:0 3px;border-radius:3px;overflow-wrap:anywhere}td code{white-space:nowrap}
figure{margin:8px 0 0}figcaption{color:#555;font-size:13px;margin-top:4px}svg{max-width:100%;height:auto}
.new{color:#b00020}.fixed{color:#00703c}
`;

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body><main>',
    body,
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}

function htmlTable(header: readonly { title: string; numeric?: boolean }[], rows: readonly { cells: readonly string[]; className?: string }[]): string {
  const head = `<tr>${header.map((h) => `<th${h.numeric ? ' class="n"' : ''}>${h.title}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr${row.className ? ` class="${row.className}"` : ''}>${row.cells.map((cell, i) => `<td${header[i]?.numeric ? ' class="n"' : ''}>${cell}</td>`).join('')}</tr>`);
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;
}

// ---- the comparison page ----------------------------------------------------------------------

/** "#3 cpython-3.11 10000/10/10", cleaned and cut for an axis. */
function chartLabel(row: RunRow): string {
  return safeText(`#${row.index + 1} ${row.entry.label}`, CHART_LABEL_CHARS);
}

/** symlog when the values span more than two orders of magnitude (and may include 0), else linear. */
function scaleFor(values: readonly number[]): { type: 'linear' | 'symlog' } {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return { type: 'linear' };
  return Math.max(...positive) / Math.min(...positive) > 100 ? { type: 'symlog' } : { type: 'linear' };
}

/** "objects examined", "garbage latency p95 (events)": the unit when the title does not say it. */
function axisTitle(objective: ObjectiveDefinition): string {
  return objective.title.includes(objective.unit) ? objective.title : `${objective.title} (${objective.unit})`;
}

export function tradeOffSpec(report: CompareReport): TopLevelSpec {
  const rows = rowsOf(report);
  const [xName, yName] = report.objectives;
  const x = OBJECTIVES[xName];
  const y = OBJECTIVES[yName];
  const values = rows.map((row) => ({
    id: `#${row.index + 1}`,
    label: chartLabel(row),
    x: x.of(row.run),
    y: y.of(row.run),
    front: row.pareto ? 'Pareto-optimal' : 'dominated',
  }));
  const frontValues = values.filter((v) => v.front === 'Pareto-optimal').sort((p, q) => p.x - q.x || p.y - q.y);
  // Configurations that land on the same point share one label ("#7 +8"), which stays legible.
  const points = new Map<string, { x: number; y: number; ids: string[] }>();
  for (const v of values) {
    const key = `${v.x},${v.y}`;
    const point = points.get(key) ?? { x: v.x, y: v.y, ids: [] };
    point.ids.push(v.id);
    points.set(key, point);
  }
  const pointLabels = [...points.values()].map((p) => ({ x: p.x, y: p.y, id: p.ids.length === 1 ? p.ids[0] : `${p.ids[0]} +${p.ids.length - 1}` }));
  // Too many labels cover each other: then only the front's points are labelled.
  const frontPoints = new Set(frontValues.map((v) => `${v.x},${v.y}`));
  const labelled = pointLabels.length <= MAX_BAR_CONFIGURATIONS ? pointLabels : pointLabels.filter((p) => frontPoints.has(`${p.x},${p.y}`)).slice(0, MAX_BAR_CONFIGURATIONS);
  const encodeX = { field: 'x', type: 'quantitative' as const, title: axisTitle(x), scale: scaleFor(values.map((v) => v.x)), axis: { format: '~s' } };
  const encodeY = { field: 'y', type: 'quantitative' as const, title: axisTitle(y), scale: scaleFor(values.map((v) => v.y)), axis: { format: '~s' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 720,
    height: 380,
    background: 'white',
    layer: [
      {
        data: { values: frontValues },
        mark: { type: 'line', color: COLORS.front, strokeDash: [4, 3], interpolate: 'linear' },
        encoding: { x: encodeX, y: encodeY },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: encodeX,
          y: encodeY,
          color: { field: 'front', type: 'nominal', title: null, scale: { domain: ['Pareto-optimal', 'dominated'], range: [COLORS.front, COLORS.dominated] } },
          shape: { field: 'front', type: 'nominal', title: null, scale: { domain: ['Pareto-optimal', 'dominated'], range: ['diamond', 'circle'] } },
          description: { field: 'label', type: 'nominal' },
        },
      },
      {
        data: { values: labelled },
        mark: { type: 'text', align: 'left', dx: 7, dy: -6, fontSize: 10, color: '#444' },
        encoding: { x: encodeX, y: encodeY, text: { field: 'id', type: 'nominal' } },
      },
    ],
  };
}

/** Rows drawn in the bar charts: all, or the front when there are too many. */
function barRows(rows: readonly RunRow[]): { rows: RunRow[]; note: string } {
  if (rows.length <= MAX_BAR_CONFIGURATIONS) return { rows: [...rows], note: '' };
  const front = rows.filter((row) => row.pareto).slice(0, MAX_BAR_CONFIGURATIONS);
  return { rows: front, note: ` Showing ${formatCount(front.length)} Pareto-optimal configurations of ${formatCount(rows.length)}; the table lists all.` };
}

function barHeight(count: number): { step: number } {
  return { step: count > 40 ? 12 : 18 };
}

export function collectionsSpec(rows: readonly RunRow[]): TopLevelSpec {
  const values = rows.flatMap((row) => row.collections.map((collections, generation) => ({ label: chartLabel(row), order: row.index, generation: `gen ${generation}`, collections })));
  const labels = rows.map(chartLabel);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: barHeight(rows.length),
    background: 'white',
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 260 } },
      x: { field: 'collections', type: 'quantitative', title: 'collections', stack: 'zero', axis: { format: '~s' } },
      color: { field: 'generation', type: 'nominal', title: 'generation', scale: { domain: ['gen 0', 'gen 1', 'gen 2'], range: [...COLORS.gen] } },
    },
  };
}

function singleBarSpec(rows: readonly RunRow[], field: string, title: string, valueOf: (row: RunRow) => number, format: string): TopLevelSpec {
  const labels = rows.map(chartLabel);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: barHeight(rows.length),
    background: 'white',
    data: { values: rows.map((row) => ({ label: chartLabel(row), [field]: valueOf(row), front: row.pareto ? 'Pareto-optimal' : 'dominated' })) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 260 } },
      x: { field, type: 'quantitative', title, axis: { format } },
      color: { field: 'front', type: 'nominal', title: null, scale: { domain: ['Pareto-optimal', 'dominated'], range: [COLORS.front, COLORS.dominated] } },
    },
  };
}

export function latencySpec(rows: readonly RunRow[]): TopLevelSpec {
  const labels = rows.map(chartLabel);
  const values = rows.map((row) => ({ label: chartLabel(row), median: row.latency.median, p95: row.latency.p95, max: row.latency.max }));
  const y = { field: 'label', type: 'nominal' as const, sort: labels, title: null, axis: { labelLimit: 260 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: barHeight(rows.length),
    background: 'white',
    data: { values },
    layer: [
      { mark: { type: 'rule', color: '#999' }, encoding: { y, x: { field: 'median', type: 'quantitative', title: 'garbage latency (events)' }, x2: { field: 'max' } } },
      { mark: { type: 'bar', color: COLORS.dominated, height: { band: 0.6 } }, encoding: { y, x: { field: 'p95', type: 'quantitative' } } },
      { mark: { type: 'tick', color: '#222', thickness: 2 }, encoding: { y, x: { field: 'median', type: 'quantitative' } } },
    ],
  };
}

export async function renderCompareHtml(report: CompareReport): Promise<string> {
  const rows = rowsOf(report);
  const parts: string[] = [];
  parts.push(`<h1>memreplay compare: <code>${text(report.trace.file)}</code></h1>`);
  parts.push(`<p class="sub">${formatCount(report.trace.events)} events · ${formatCount(report.configurations.length)} configurations · memreplay ${text(report.tool.version)}</p>`);
  const common = commonSettings(report.configurations);
  if (common !== '') parts.push(`<p>Same in every configuration: <code>${text(common)}</code></p>`);
  if (report.shard !== undefined) {
    parts.push(`<p class="note">Shard ${report.shard.index}/${report.shard.count}: ${formatCount(rows.length)} of the configurations. <code>memreplay merge</code> joins the shards and finds the Pareto front.</p>`);
  }

  if (rows.length > 0) {
    parts.push('<h2>Trade-off</h2>');
    const caption =
      report.pareto === undefined
        ? 'Each point is a configuration.'
        : `Each point is a configuration. Diamonds are Pareto-optimal for ${text(objectiveList(report.objectives))}: no other configuration is at least as good on every one and better on one; the dashed line joins them.` +
          (report.objectives.length > 2 ? ` The front is computed on all ${report.objectives.length} objectives; the chart shows the first two, where an optimal point may look dominated.` : '');
    parts.push(figure(await renderSvg(tradeOffSpec(report), 'tradeoff'), caption));
  }

  parts.push('<h2>Configurations</h2>');
  parts.push(
    htmlTable(
      [
        { title: '#', numeric: true },
        { title: 'configuration' },
        { title: 'collections gen 0 / 1 / 2', numeric: true },
        { title: 'objects examined', numeric: true },
        { title: 'largest collection', numeric: true },
        { title: 'garbage latency median / p95 / max (events)', numeric: true },
        { title: 'peak live bytes', numeric: true },
        { title: 'leaks left', numeric: true },
        { title: 'Pareto' },
      ],
      rows.map((row) => ({
        className: row.pareto ? 'front' : undefined,
        cells: [
          String(row.index + 1),
          `<code>${text(row.entry.label)}</code>`,
          row.collections.map(formatCount).join(' / '),
          formatCount(row.examined),
          formatCount(row.largest),
          [row.latency.median, row.latency.p95, row.latency.max].map(formatCount).join(' / '),
          formatBytes(row.peakBytes),
          formatBytes(row.leftBytes),
          row.pareto ? '✓' : '',
        ],
      })),
    ),
  );
  parts.push('<p class="note"><em>Largest collection</em>: the most objects one collection examined, a proxy for the longest pause. <em>Garbage latency</em>: events from an object becoming unreachable to being freed. <em>Leaks left</em>: cyclic garbage not yet collected plus uncollectable objects at the end of the trace.</p>');

  if (rows.length > 0) {
    const { rows: bars, note } = barRows(rows);
    parts.push('<h2>Collections per generation</h2>');
    parts.push(figure(await renderSvg(collectionsSpec(bars), 'collections'), `Collections of each generation over the trace.${note}`));
    parts.push('<h2>Peak memory</h2>');
    parts.push(figure(await renderSvg(singleBarSpec(bars, 'peak', 'peak live bytes', (row) => row.peakBytes, '~s'), 'peak'), `The most bytes alive at once, garbage waiting for a collection included.${note}`));
    parts.push('<h2>Garbage latency</h2>');
    parts.push(figure(await renderSvg(latencySpec(bars), 'latency'), `Bars: 95th percentile; black tick: median; grey line: median to maximum, in events.${note}`));
  }
  return page(`memreplay compare · ${text(report.trace.file, 80)}`, parts.join('\n'));
}

// ---- the diff page ----------------------------------------------------------------------------

export function diffChartSpec(diff: DiffReport): TopLevelSpec | null {
  const groups = [...diff.leakGroups.new, ...diff.leakGroups.fixed, ...diff.leakGroups.changed]
    .sort((x, y) => Math.max(y.a?.bytes ?? 0, y.b?.bytes ?? 0) - Math.max(x.a?.bytes ?? 0, x.b?.bytes ?? 0))
    .slice(0, MAX_DIFF_CHART_GROUPS);
  if (groups.length === 0) return null;
  const label = (g: LeakGroupChange, i: number) => `${i + 1}. ${safeText(groupTitle(g), CHART_LABEL_CHARS)}`;
  const labels = groups.map(label);
  const values = groups.flatMap((g, i) => [
    { group: label(g, i), side: 'A', bytes: g.a?.bytes ?? 0 },
    { group: label(g, i), side: 'B', bytes: g.b?.bytes ?? 0 },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: { step: 22 },
    background: 'white',
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'group', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 320 } },
      yOffset: { field: 'side', type: 'nominal', sort: ['A', 'B'] },
      x: { field: 'bytes', type: 'quantitative', title: 'bytes left at the end', axis: { format: '~s' } },
      color: { field: 'side', type: 'nominal', title: null, scale: { domain: ['A', 'B'], range: [COLORS.a, COLORS.b] } },
    },
  };
}

function groupRows(list: readonly LeakGroupChange[]): string {
  return htmlTable(
    [
      { title: 'kind' },
      { title: 'types' },
      { title: 'sites' },
      { title: 'objects A', numeric: true },
      { title: 'objects B', numeric: true },
      { title: 'bytes A', numeric: true },
      { title: 'bytes B', numeric: true },
      { title: 'change', numeric: true },
    ],
    list.map((g) => ({
      cells: [
        LEAK_KIND_TITLES[g.kind],
        g.types.map((t) => `<code>${text(t)}</code>`).join(' '),
        g.sites.map((s) => `<code>${text(s ?? '(no site)')}</code>`).join(' '),
        g.a === null ? '–' : formatCount(g.a.objects),
        g.b === null ? '–' : formatCount(g.b.objects),
        g.a === null ? '–' : formatBytes(g.a.bytes),
        g.b === null ? '–' : formatBytes(g.b.bytes),
        signed(g.change.bytes, formatBytes),
      ],
    })),
  );
}

function siteRows(list: readonly SiteChange[]): string {
  return htmlTable(
    [{ title: 'site' }, { title: 'objects A', numeric: true }, { title: 'objects B', numeric: true }, { title: 'change', numeric: true }],
    list.map((s) => ({ cells: [`<code>${text(s.site ?? '(no site)')}</code>`, s.a === null ? '–' : formatCount(s.a), s.b === null ? '–' : formatCount(s.b), signed(s.change)] })),
  );
}

export async function renderDiffHtml(diff: DiffReport): Promise<string> {
  const parts: string[] = [];
  parts.push(`<h1>memreplay diff: <code>${text(diff.a.report)}</code> → <code>${text(diff.b.report)}</code></h1>`);
  parts.push('<ul>');
  for (const [name, side] of [
    ['A', diff.a],
    ['B', diff.b],
  ] as const) {
    parts.push(`<li><strong>${name}</strong>: <code>${text(side.trace)}</code>, ${formatCount(side.events)} events, <code>${text(side.policy)}</code>${side.thresholds.length > 0 ? ` thresholds ${side.thresholds.join('/')}` : ''}</li>`);
  }
  parts.push('</ul>');
  parts.push(
    `<p><span class="new">${formatCount(diff.leakGroups.new.length)} new leak group${diff.leakGroups.new.length === 1 ? '' : 's'}</span> · ` +
      `<span class="fixed">${formatCount(diff.leakGroups.fixed.length)} fixed</span> · ${formatCount(diff.leakGroups.changed.length)} in both</p>`,
  );
  for (const note of diff.incomplete) parts.push(`<p class="note">Note: ${text(note, 400)}</p>`);

  parts.push('<h2>Headline numbers</h2>');
  parts.push(
    htmlTable(
      [{ title: '' }, { title: 'A', numeric: true }, { title: 'B', numeric: true }, { title: 'change', numeric: true }],
      diff.headline.filter((h) => h.a !== null || h.b !== null).map((h) => ({ cells: [text(h.title), formatHeadlineValue(h.a, h.unit), formatHeadlineValue(h.b, h.unit), text(formatHeadlineChange(h))] })),
    ),
  );
  const chart = diffChartSpec(diff);
  if (chart !== null) {
    parts.push('<h2>Leak groups, A and B</h2>');
    parts.push(figure(await renderSvg(chart, 'leaks'), `Bytes left at the end by the ${MAX_DIFF_CHART_GROUPS} largest leak groups of either report.`));
  }
  for (const [title, list] of [
    ['New leaks (only in B)', diff.leakGroups.new],
    ['Fixed (only in A)', diff.leakGroups.fixed],
    ['In both', diff.leakGroups.changed],
  ] as const) {
    parts.push(`<h2>${title} (${formatCount(list.length)})</h2>`);
    parts.push(list.length === 0 ? '<p>None.</p>' : groupRows(list));
  }
  for (const [title, list] of [
    ['Allocation sites only in B', diff.sites.new],
    ['Allocation sites only in A', diff.sites.fixed],
    ['Allocation sites in both', diff.sites.changed],
  ] as const) {
    parts.push(`<h2>${title} (${formatCount(list.length)})</h2>`);
    parts.push(list.length === 0 ? '<p>None.</p>' : siteRows(list));
  }
  return page(`memreplay diff · ${text(diff.a.report, 60)} → ${text(diff.b.report, 60)}`, parts.join('\n'));
}
