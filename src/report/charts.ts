/**
 * The HTML report's charts as Vega-Lite specs, built from a `ReplayReport` alone. Pure: no IO and
 * no Vega import here (`svg.ts` compiles and renders them), so the specs can be tested, embedded
 * in the page for the Vega editor, and rebuilt from a saved JSON report.
 *
 * Read `buildCharts()` first: it lists every chart, section by section. Rules every spec keeps:
 * - data inline (`data.values`), never a URL, so rendering and reopening need no network;
 * - at most `MAX_CHART_POINTS` rows per time series (`downsample.ts`), tables of marks, groups and
 *   collections capped or binned, so a 100M-event trace gives a page as small as a short one;
 * - trace strings (types, sites, labels) only as data values, cleaned by `safeText` and cut; never
 *   inside a Vega expression or a field name, where they could change what the spec does;
 * - tooltips through the `description` channel on a few marks chosen for it (`svg.ts` turns them
 *   into SVG `<title>` elements, which browsers show without any script);
 * - the Okabe–Ito palette, which stays distinct under the common color-vision deficiencies.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CollectionEntry, ReplayReport } from './json.js';
import { compactNumber, evenIndices, extremaIndices, MAX_CHART_POINTS } from './downsample.js';
import { formatBytes, formatCount, formatPercent, safeText } from './format.js';
import { SPARSE_ARENA_SHARE, reachableInReadingOrder } from './summarize.js';

/** The page sections that hold charts, in page order. */
export const ChartSection = { leaks: 'leaks', generations: 'generations', pool: 'pool' } as const;
export type ChartSectionName = (typeof ChartSection)[keyof typeof ChartSection];

export interface ChartDefinition {
  /** Stable identifier: the figure's anchor and the spec's script element id. */
  id: string;
  section: ChartSectionName;
  title: string;
  /** One line telling the reader what to look at. */
  guide: string;
  spec: TopLevelSpec;
}

type LayerChild = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];
type PanelSpec = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];
type Row = Record<string, string | number | null>;

// ---- tunables -----------------------------------------------------------------------------

/** Width and height of the plotting area of a time chart, in pixels. */
const TIME_WIDTH = 820;
const TIME_HEIGHT = 170;
/** Collections drawn one by one; above this they are binned by time and generation. */
const MAX_COLLECTION_MARKS = 200;
/** Time bins for binned collections (per generation). */
const COLLECTION_BINS = 60;
/** Invisible hover bands per time chart, each with a tooltip summarizing its stretch of the trace. */
const HOVER_BANDS = 40;
/** Mark rules drawn per chart, and labels written (labels also keep `MARK_LABEL_SPACING_PX` apart). */
const MAX_MARK_RULES = 40;
const MAX_MARK_LABELS = 24;
const MARK_LABEL_SPACING_PX = 16;
/** Characters of a trace string shown in a chart. */
const LABEL_CHARS = 48;
/** Reachable groups drawn in the growth chart (the palette has this many distinct colors). */
const MAX_GROWTH_SERIES = 8;
/** Rows of the growth chart (each holds one value per group) and of stacked charts. */
const GROWTH_POINTS = 400;
const STACKED_POINTS = 400;
/** Intervals of the fresh-vs-reused chart. */
const REUSE_INTERVALS = 100;

/** A system font stack: the SVG names no web font, so nothing is fetched to draw text. */
export const CHART_FONT = 'system-ui, sans-serif';

/** Okabe & Ito (2008), "Color Universal Design": distinguishable with any common color-vision deficiency. */
export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  sky: '#56B4E9',
  yellow: '#F0E442',
  grey: '#8C8C8C',
} as const;
const CATEGORY_COLORS = [PALETTE.blue, PALETTE.orange, PALETTE.green, PALETTE.vermillion, PALETTE.purple, PALETTE.sky, PALETTE.grey, PALETTE.yellow];
const GENERATION_NAMES = ['gen 0', 'gen 1', 'gen 2'] as const;
const GENERATION_COLORS = [PALETTE.sky, PALETTE.orange, PALETTE.vermillion];

/**
 * Axis labels in binary units, as the rest of the report prints sizes, at tick values chosen by
 * `binaryTicks`. Label expressions are fixed strings: no report value is ever spliced into one.
 */
const BYTES_LABEL_EXPR =
  "datum.value >= 1073741824 ? format(datum.value / 1073741824, '~g') + ' GiB' : datum.value >= 1048576 ? format(datum.value / 1048576, '~g') + ' MiB' : datum.value >= 1024 ? format(datum.value / 1024, '~g') + ' KiB' : format(datum.value, '~g') + ' B'";
/** Event indices: 1,200 · 45k · 2.5M. */
const EVENTS_LABEL_EXPR =
  "datum.value >= 1000000 ? format(datum.value / 1000000, '~g') + 'M' : datum.value >= 10000 ? format(datum.value / 1000, '~g') + 'k' : format(datum.value, ',')";

const CONFIG = {
  font: CHART_FONT,
  background: '#ffffff',
  padding: 8,
  view: { stroke: null },
  // Accessibility descriptions (and so tooltips) only where a mark asks for them: a description
  // on every bar and point would double the size of the SVG.
  mark: { aria: false },
  axis: {
    labelColor: '#4a4a4a',
    titleColor: '#2b2b2b',
    titleFontWeight: 600,
    labelFontSize: 11,
    titleFontSize: 11,
    gridColor: '#ececec',
    domainColor: '#9a9a9a',
    tickColor: '#9a9a9a',
  },
  legend: { orient: 'top', labelFontSize: 11, titleFontSize: 11, titleFontWeight: 600, symbolStrokeWidth: 2, labelLimit: 360 },
  range: { category: CATEGORY_COLORS },
  line: { strokeWidth: 1.6 },
} as const;

/** Every chart the report has data for, in page order. */
export function buildCharts(report: ReplayReport): ChartDefinition[] {
  const timeline = new TimelineView(report);
  const charts: (ChartDefinition | null)[] = [
    // Leaks.
    liveMemoryChart(report, timeline),
    growthBySiteChart(report, timeline),
    arenaOccupancyChart(report),
    // Generation promotion.
    generationSizesChart(report, timeline),
    promotionChart(report),
    collectionsChart(report),
    // Pool reuse.
    arenasAndPoolsChart(report, timeline),
    blockReuseChart(report, timeline),
    sizeClassHeatmap(report),
    freeListChart(report),
    requestedReservedChart(report, timeline),
  ];
  return charts.filter((c): c is ChartDefinition => c !== null);
}

// ---- shared pieces ------------------------------------------------------------------------

/** The report's sampled series with the helpers every time chart needs. */
class TimelineView {
  readonly length: number;
  readonly events: number;
  readonly series: Record<string, number[]>;

  constructor(readonly report: ReplayReport) {
    this.series = report.timeline.series;
    // A single sample draws no line: time charts need two (a trace of one event has one).
    this.length = report.timeline.samples >= 2 ? report.timeline.samples : 0;
    this.events = Math.max(1, report.trace.events);
  }

  column(name: string): number[] {
    return this.series[name] ?? [];
  }

  /** Rows `{event, <name>: value…}` at indices that keep each named column's extremes. */
  rows(names: readonly string[], labels: Readonly<Record<string, string>> = {}, maxPoints = MAX_CHART_POINTS): Row[] {
    const columns = names.map((n) => this.column(n));
    const event = this.column('event');
    return extremaIndices(columns, this.length, maxPoints).map((i) => {
      const row: Row = { event: event[i] };
      names.forEach((name, k) => (row[labels[name] ?? name] = compactNumber(columns[k][i])));
      return row;
    });
  }

  /** The x encoding every time chart shares: the event index, over the whole trace. */
  x(): Record<string, unknown> {
    return eventX(this.events);
  }
}

/**
 * Tick values for a bytes axis from 0 to at least `max`: three to six steps of a power of two
 * bytes, so that labels read "512 B, 1 KiB, 1.5 KiB" or "256 KiB, 512 KiB, 768 KiB, 1 MiB", never
 * Vega's decimal "1.46484 KiB" (a power-of-two step is always a short decimal of any binary unit).
 */
export function binaryTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  let step = 1;
  while (step * 5 < max) step *= 2;
  const ticks: number[] = [0];
  while (ticks[ticks.length - 1] < max) ticks.push(ticks.length * step);
  return ticks;
}

function bytesAxis(title: string, max: number): Record<string, unknown> {
  const ticks = binaryTicks(max);
  return { title, scale: { domain: [0, ticks[ticks.length - 1]], nice: false }, axis: { values: ticks, labelExpr: BYTES_LABEL_EXPR } };
}

/** The x encoding of every time chart: the event index over the whole trace. */
function eventX(events: number, field = 'event'): Record<string, unknown> {
  return {
    field,
    type: 'quantitative',
    title: 'event',
    scale: { domain: [0, events], nice: false, zero: true },
    axis: { labelExpr: EVENTS_LABEL_EXPR, tickCount: 8, tickMinStep: 1, labelFlush: true },
  };
}

function maxOf(rows: readonly Row[], fields: readonly string[]): number {
  let max = 0;
  for (const row of rows) for (const f of fields) max = Math.max(max, Number(row[f] ?? 0));
  return max;
}

function countAxis(title: string): Record<string, unknown> {
  // Counts are whole: no tick at 0.5 arenas when the axis only goes up to 1.
  return { title, axis: { format: '~s', tickMinStep: 1 } };
}

/**
 * The named datasets of one spec. Layers and panels that draw the same rows (the marks, the
 * hover bands, a series shown in two panels) refer to one copy by name instead of each
 * embedding its own.
 */
class SpecData {
  readonly datasets: Record<string, Row[]> = {};

  /** Registers `rows` under `name` (once: a later call with the same name reuses the first rows). */
  ref(name: string, rows: () => Row[]): { name: string } {
    if (!(name in this.datasets)) this.datasets[name] = rows();
    return { name };
  }
}

/** A complete spec: schema, description (also the SVG's accessible name), config and datasets. */
function topLevel(spec: Record<string, unknown>, description: string, data?: SpecData): TopLevelSpec {
  const datasets = data !== undefined && Object.keys(data.datasets).length > 0 ? { datasets: data.datasets } : {};
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', description, config: CONFIG, ...datasets, ...spec } as TopLevelSpec;
}

/**
 * Layers marking the trace's `mark` events on a time axis: a dashed rule each (thinned to
 * `MAX_MARK_RULES`) and a vertical label for as many as fit `MARK_LABEL_SPACING_PX` apart.
 */
function markLayers(report: ReplayReport, events: number, data: SpecData): LayerChild[] {
  const marks = report.timeline.marks;
  if (marks.length === 0) return [];
  const ruleRows = () =>
    evenIndices(marks.length, MAX_MARK_RULES).map((i) => ({
      event: marks[i].event,
      tip: `mark at event ${formatCount(marks[i].event)}: ${safeText(marks[i].label, LABEL_CHARS)}`,
    }));
  const labelRows = () => {
    const rows: Row[] = [];
    const spacing = (MARK_LABEL_SPACING_PX / TIME_WIDTH) * events;
    let last = -Infinity;
    for (const mark of marks) {
      if (rows.length >= MAX_MARK_LABELS) break;
      if (mark.event - last < spacing) continue;
      rows.push({ event: mark.event, label: safeText(mark.label, 28) });
      last = mark.event;
    }
    return rows;
  };
  return [
    {
      data: data.ref('marks', ruleRows),
      mark: { type: 'rule', color: '#6b6b6b', strokeDash: [3, 3], strokeWidth: 1, opacity: 0.7, aria: true },
      encoding: { x: { field: 'event', type: 'quantitative' }, description: { field: 'tip' } },
    },
    {
      data: data.ref('mark-labels', labelRows),
      mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dx: -3, dy: -3, y: 0, fontSize: 9.5, color: '#555555' },
      encoding: { x: { field: 'event', type: 'quantitative' }, text: { field: 'label' } },
    },
  ] as LayerChild[];
}

/**
 * Invisible full-height bands over a time chart, one per stretch of the trace, whose tooltip
 * gives the range of each series there. Browsers show an SVG `<title>` on hover, so this is the
 * "hover for values" of a line chart without any script.
 */
function hoverLayer(
  rows: readonly Row[],
  fields: readonly { field: string; label: string; bytes?: boolean }[],
  events: number,
  data: SpecData,
  name = 'hover',
): LayerChild {
  return {
    data: data.ref(name, () => hoverBands(rows, fields, events)),
    mark: { type: 'rect', opacity: 0, aria: true },
    encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' }, description: { field: 'tip' } },
  } as LayerChild;
}

function hoverBands(rows: readonly Row[], fields: readonly { field: string; label: string; bytes?: boolean }[], events: number): Row[] {
  const bands: Row[] = [];
  const width = events / HOVER_BANDS;
  let i = 0;
  for (let b = 0; b < HOVER_BANDS; b++) {
    const start = b * width;
    const end = b === HOVER_BANDS - 1 ? events : (b + 1) * width;
    const inBand: Row[] = [];
    while (i < rows.length && (rows[i].event as number) < end) inBand.push(rows[i++]);
    if (inBand.length === 0) continue;
    const parts = fields.map(({ field, label, bytes }) => {
      const values = inBand.map((r) => Number(r[field] ?? 0));
      const low = Math.min(...values);
      const high = Math.max(...values);
      const show = bytes ? formatBytes : formatCount;
      return `${label} ${low === high ? show(low) : `${show(low)} – ${show(high)}`}`;
    });
    bands.push({ start: compactNumber(start), end: compactNumber(end), tip: `events ${formatCount(start)}–${formatCount(end)}: ${parts.join('; ')}` });
  }
  return bands;
}

/** Collections grouped for drawing: one row per collection, or per time bin and generation. */
interface CollectionRow extends Row {
  event: number;
  generation: string;
  collections: number;
  examined: number;
  collected: number;
  promoted: number;
  tip: string;
}

function collectionRows(report: ReplayReport): { rows: CollectionRow[]; binned: boolean } {
  const list = report.gc.collections.list;
  const describe = (what: string, c: { collections: number; examined: number; collected: number; promoted: number; uncollectable: number }) =>
    `${what}: examined ${formatCount(c.examined)}${c.collections > 1 ? ' (most in one)' : ''}, collected ${formatCount(c.collected)}, promoted ${formatCount(c.promoted)}` +
    (c.uncollectable > 0 ? `, uncollectable ${formatCount(c.uncollectable)}` : '');
  if (list.length <= MAX_COLLECTION_MARKS) {
    return {
      binned: false,
      rows: list.map((c: CollectionEntry) => ({
        event: c.event,
        generation: GENERATION_NAMES[c.generation],
        collections: 1,
        examined: c.examined,
        collected: c.collected,
        promoted: c.promoted,
        tip: describe(`${c.reason} gen-${c.generation} collection at event ${formatCount(c.event)}`, { ...c, collections: 1 }),
      })),
    };
  }
  const events = Math.max(1, report.trace.events);
  const width = Math.ceil((events + 1) / COLLECTION_BINS);
  const bins = new Map<number, { collections: number; examined: number; collected: number; promoted: number; uncollectable: number }>();
  for (const c of list) {
    const key = Math.floor(c.event / width) * 3 + c.generation;
    const bin = bins.get(key) ?? { collections: 0, examined: 0, collected: 0, promoted: 0, uncollectable: 0 };
    bin.collections++;
    bin.examined = Math.max(bin.examined, c.examined);
    bin.collected += c.collected;
    bin.promoted += c.promoted;
    bin.uncollectable += c.uncollectable;
    bins.set(key, bin);
  }
  const rows = [...bins.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([key, bin]) => {
      const generation = key % 3;
      const start = Math.floor(key / 3) * width;
      return {
        event: start + width / 2,
        generation: GENERATION_NAMES[generation],
        collections: bin.collections,
        examined: bin.examined,
        collected: bin.collected,
        promoted: bin.promoted,
        tip: describe(`${formatCount(bin.collections)} gen-${generation} collections in events ${formatCount(start)}–${formatCount(start + width)}`, bin),
      };
    });
  return { rows, binned: true };
}

const generationColor = {
  field: 'generation',
  type: 'nominal',
  title: 'generation',
  scale: { domain: [...GENERATION_NAMES], range: GENERATION_COLORS },
} as const;

// ---- Leaks ----------------------------------------------------------------------------------

function liveMemoryChart(report: ReplayReport, t: TimelineView): ChartDefinition | null {
  if (t.length === 0) return null;
  const data = new SpecData();
  const rows = t.rows(['liveObjects', 'liveBytes']);
  const series = data.ref('series', () => rows);
  const collections = collectionRows(report).rows;
  const collectionRules: LayerChild[] =
    collections.length === 0
      ? []
      : ([
          {
            data: data.ref('collections', () => collections.map((c) => ({ event: c.event, generation: c.generation }))),
            mark: { type: 'rule', strokeWidth: 1, opacity: 0.45 },
            encoding: { x: { field: 'event', type: 'quantitative' }, color: generationColor },
          },
        ] as LayerChild[]);
  // Collections are marked on the upper panel only: the two panels share the x axis.
  const panel = (field: string, title: string, color: string, bytes: boolean, rules: readonly LayerChild[]): PanelSpec =>
    ({
      width: TIME_WIDTH,
      height: TIME_HEIGHT,
      layer: [
        ...rules,
        {
          data: series,
          mark: { type: 'line', color, interpolate: 'step-after' },
          encoding: { x: t.x(), y: { field, type: 'quantitative', ...(bytes ? bytesAxis(title, maxOf(rows, [field])) : countAxis(title)) } },
        },
        ...markLayers(report, t.events, data),
        hoverLayer(rows, [{ field, label: title, bytes }], t.events, data, `hover-${field}`),
      ],
    }) as PanelSpec;
  return {
    id: 'live-memory',
    section: ChartSection.leaks,
    title: 'Live objects and bytes',
    guide:
      'A line that returns to its floor after each phase is churn; a floor that keeps rising is memory kept. Colored rules (top) are collections by generation, dashed ones the trace’s marks.',
    spec: topLevel(
      {
        vconcat: [panel('liveObjects', 'live objects', PALETTE.blue, false, collectionRules), panel('liveBytes', 'live bytes', PALETTE.green, true, [])],
        spacing: 12,
        resolve: { scale: { color: 'shared' } },
      },
      'Live objects and bytes over the trace, with collections and marks',
      data,
    ),
  };
}

function growthBySiteChart(report: ReplayReport, t: TimelineView): ChartDefinition | null {
  const series = report.timeline.groups;
  if (series.length === 0 || t.length === 0) return null;
  const data = new SpecData();
  // Growing groups first (the ones the leak table lists first), then the largest at the end.
  const order = reachableInReadingOrder(report);
  const rank = (g: { type: string; site: string | null }) => {
    const i = order.findIndex((o) => o.type === g.type && o.site === g.site);
    return i < 0 ? order.length : i;
  };
  const chosen = series
    .map((g, index) => ({ g, index, rank: rank(g) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .slice(0, MAX_GROWTH_SERIES);
  const keys = chosen.map((_, k) => `g${k}`);
  const columns = chosen.map((c) => c.g.liveBytes);
  const event = t.column('event');
  const rows = extremaIndices(columns, t.length, GROWTH_POINTS).map((i) => {
    const row: Row = { event: event[i] };
    keys.forEach((key, k) => (row[key] = compactNumber(columns[k][i] ?? 0)));
    return row;
  });
  // Group names are trace strings: they travel as data (a lookup table), never as field names.
  const names = chosen.map((c, k) => ({
    key: keys[k],
    group: `${safeText(c.g.type, 24)} @ ${c.g.site === null ? '(no site)' : safeText(c.g.site, LABEL_CHARS)}`,
  }));
  const growing = new Set(order.filter((g) => g.growing).map((g) => `${g.type}\u0000${g.site}`));
  const anyGrowing = chosen.some((c) => growing.has(`${c.g.type}\u0000${c.g.site}`));
  return {
    id: 'growth-by-site',
    section: ChartSection.leaks,
    title: 'Reachable memory by allocation site',
    guide: anyGrowing
      ? 'Live bytes of the largest allocation groups (type @ site), growing ones first: a line that climbs and never comes down is a reachable group that keeps growing.'
      : 'Live bytes of the largest allocation groups (type @ site): none of them keeps growing over the trace.',
    spec: topLevel(
      {
        width: TIME_WIDTH,
        height: TIME_HEIGHT + 40,
        layer: [
          {
            data: data.ref('series', () => rows),
            transform: [
              { fold: keys, as: ['key', 'bytes'] },
              { lookup: 'key', from: { data: data.ref('groups', () => names), key: 'key', fields: ['group'] } },
            ],
            mark: { type: 'line', interpolate: 'step-after' },
            encoding: {
              x: t.x(),
              y: { field: 'bytes', type: 'quantitative', ...bytesAxis('live bytes', maxOf(rows, keys)) },
              color: { field: 'group', type: 'nominal', title: null, sort: names.map((n) => n.group), legend: { columns: 2, labelLimit: 380 } },
            },
          },
          ...markLayers(report, t.events, data),
        ],
      },
      'Live bytes per allocation group (type @ site) over the trace',
      data,
    ),
  };
}

function arenaOccupancyChart(report: ReplayReport): ChartDefinition | null {
  const pool = report.pool;
  // One arena is a fact for the table, not a chart.
  if (pool === null || pool.arenaUsage.arenas.length < 2) return null;
  const usage = pool.arenaUsage;
  const sparse = `under ${SPARSE_ARENA_SHARE * 100}% used`;
  const rows = usage.arenas.map((a) => {
    const share = a.blockBytes / usage.arenaBytes;
    return {
      arena: `#${a.arena}`,
      used: compactNumber(share),
      state: share < SPARSE_ARENA_SHARE ? sparse : 'well used',
      tip: `arena ${a.arena}: ${formatBytes(a.blockBytes)} of ${formatBytes(usage.arenaBytes)} in ${formatCount(a.blocksInUse)} blocks (${formatPercent(a.blockBytes, usage.arenaBytes)}); ${formatCount(a.poolsInUse)} of ${formatCount(a.pools)} pools in use`,
    };
  });
  return {
    id: 'arena-occupancy',
    section: ChartSection.leaks,
    title: 'Arena occupancy at the end',
    guide: `Each bar is a live arena, least used first. An arena goes back to the system only when all its pools are empty: a short bar is ${formatBytes(usage.arenaBytes)} kept by a few blocks.${usage.omitted > 0 ? ` ${formatCount(usage.omitted)} fuller arenas not shown.` : ''}`,
    spec: topLevel(
      {
        width: Math.min(TIME_WIDTH, Math.max(160, rows.length * 22)),
        height: 140,
        data: { values: rows },
        mark: { type: 'bar', aria: true },
        encoding: {
          x: { field: 'arena', type: 'ordinal', sort: null, title: 'arena (least used first)', axis: { labelAngle: 0, labelOverlap: true } },
          y: { field: 'used', type: 'quantitative', title: 'share in use', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
          color: { field: 'state', type: 'nominal', title: null, scale: { domain: [sparse, 'well used'], range: [PALETTE.vermillion, PALETTE.blue] } },
          description: { field: 'tip' },
        },
      },
      'Share of each live arena held by blocks in use',
    ),
  };
}

// ---- Generation promotion -------------------------------------------------------------------

function generationSizesChart(report: ReplayReport, t: TimelineView): ChartDefinition | null {
  if (!report.config.tracesCycles || t.length === 0) return null;
  const data = new SpecData();
  const labels = { generation0: 'gen 0', generation1: 'gen 1', generation2: 'gen 2', permanent: 'permanent' };
  const rows = t.rows(Object.keys(labels), labels, STACKED_POINTS);
  const fields = Object.values(labels);
  return {
    id: 'generation-sizes',
    section: ChartSection.generations,
    title: 'Generation sizes',
    guide: 'Objects of the trace on each generation’s list, stacked. Survivors of a collection move up a generation; a growing gen 2 makes every full collection cost more.',
    spec: topLevel(
      {
        width: TIME_WIDTH,
        height: TIME_HEIGHT,
        layer: [
          {
            data: data.ref('series', () => rows),
            transform: [{ fold: fields, as: ['generation', 'objects'] }],
            mark: { type: 'area', opacity: 0.85 },
            encoding: {
              x: t.x(),
              y: { field: 'objects', type: 'quantitative', stack: 'zero', ...countAxis('objects') },
              color: { field: 'generation', type: 'nominal', title: null, scale: { domain: fields, range: [...GENERATION_COLORS, PALETTE.grey] } },
              order: { field: 'generation', sort: 'ascending' },
            },
          },
          ...markLayers(report, t.events, data),
          hoverLayer(
            rows,
            fields.map((f) => ({ field: f, label: f })),
            t.events,
            data,
          ),
        ],
      },
      'Objects on each generation list over the trace',
      data,
    ),
  };
}

function promotionChart(report: ReplayReport): ChartDefinition | null {
  if (!report.config.tracesCycles || report.gc.collections.list.length === 0) return null;
  const { rows, binned } = collectionRows(report);
  const events = Math.max(1, report.trace.events);
  const into: Record<string, string> = { 'gen 0': 'gen 0 → gen 1', 'gen 1': 'gen 1 → gen 2', 'gen 2': 'gen 2 (stay)' };
  const values = rows.filter((r) => r.promoted > 0).map((r) => ({ event: compactNumber(r.event), promoted: r.promoted, move: into[r.generation], tip: r.tip }));
  if (values.length === 0) return null;
  return {
    id: 'promotion',
    section: ChartSection.generations,
    title: 'Objects promoted per collection',
    guide: `Survivors each collection moved to the next generation${binned ? ' (summed per time bin)' : ''}. Promotions into gen 2 are what make full collections long.`,
    spec: topLevel(
      {
        width: TIME_WIDTH,
        height: TIME_HEIGHT - 30,
        data: { values },
        mark: { type: 'bar', width: 4, aria: true },
        encoding: {
          x: eventX(events),
          y: { field: 'promoted', type: 'quantitative', ...countAxis('objects promoted') },
          color: { field: 'move', type: 'nominal', title: null, scale: { domain: Object.values(into), range: GENERATION_COLORS } },
          description: { field: 'tip' },
        },
      },
      'Objects promoted by each collection, by generation',
    ),
  };
}

function collectionsChart(report: ReplayReport): ChartDefinition | null {
  if (!report.config.tracesCycles || report.gc.collections.list.length === 0) return null;
  const { rows, binned } = collectionRows(report);
  const events = Math.max(1, report.trace.events);
  const values = rows.map((r) => ({ event: compactNumber(r.event), generation: r.generation, examined: r.examined, collected: r.collected, tip: r.tip }));
  const x = eventX(events);
  const omitted = report.gc.collections.omitted;
  return {
    id: 'collections',
    section: ChartSection.generations,
    title: 'Collections: cost and yield',
    guide:
      `Top: objects each collection examined, the work its pause does${binned ? ' (the most in one collection per bin)' : ''}. Bottom: objects it freed. Tall points with nothing freed are pauses spent on survivors.` +
      (omitted > 0 ? ` The last ${formatCount(omitted)} collections are not listed in the report.` : ''),
    spec: topLevel(
      {
        data: { values },
        vconcat: [
          {
            width: TIME_WIDTH,
            height: TIME_HEIGHT - 40,
            mark: { type: 'point', filled: true, size: 40, opacity: 0.85, aria: true },
            encoding: { x, y: { field: 'examined', type: 'quantitative', ...countAxis('objects examined') }, color: generationColor, description: { field: 'tip' } },
          },
          {
            width: TIME_WIDTH,
            height: TIME_HEIGHT - 80,
            mark: { type: 'bar', width: 3 },
            encoding: { x, y: { field: 'collected', type: 'quantitative', ...countAxis('collected') }, color: generationColor },
          },
        ],
        spacing: 10,
      },
      'Objects examined and collected by each collection',
    ),
  };
}

// ---- Pool reuse -----------------------------------------------------------------------------

function arenasAndPoolsChart(report: ReplayReport, t: TimelineView): ChartDefinition | null {
  if (report.pool === null || report.pool.sizeClasses.length === 0 || t.length === 0) return null;
  const data = new SpecData();
  const rows = t.rows(['arenas', 'poolsInUse'], { poolsInUse: 'pools' });
  const series = data.ref('series', () => rows);
  const panel = (field: string, title: string, color: string, height: number): PanelSpec =>
    ({
      width: TIME_WIDTH,
      height,
      layer: [
        {
          data: series,
          mark: { type: 'line', color, interpolate: 'step-after' },
          encoding: { x: t.x(), y: { field, type: 'quantitative', ...countAxis(title), scale: { zero: true } } },
        },
        ...markLayers(report, t.events, data),
        hoverLayer(rows, [{ field, label: title }], t.events, data, `hover-${field}`),
      ],
    }) as PanelSpec;
  return {
    id: 'arenas-pools',
    section: ChartSection.pool,
    title: 'Arenas and pools in use',
    guide: 'Arenas are what the process holds from the system; pools in use are what objects occupy. Pools falling while arenas stay flat is memory the allocator cannot give back.',
    spec: topLevel(
      { vconcat: [panel('arenas', 'arenas', PALETTE.vermillion, 80), panel('pools', 'pools in use', PALETTE.blue, TIME_HEIGHT - 40)], spacing: 10 },
      'Arenas and pools in use over the trace',
      data,
    ),
  };
}

function blockReuseChart(report: ReplayReport, t: TimelineView): ChartDefinition | null {
  if (report.pool === null || report.pool.sizeClasses.length === 0 || t.length < 2) return null;
  const data = new SpecData();
  const fresh = t.column('blocksFresh');
  const reused = t.column('blocksReused');
  const event = t.column('event');
  // Cumulative counters: evenly spaced picks lose nothing, and differences give per-interval counts.
  const picks = evenIndices(t.length, REUSE_INTERVALS + 1);
  const rows: Row[] = [];
  for (let k = 1; k < picks.length; k++) {
    const a = picks[k - 1];
    const b = picks[k];
    const f = fresh[b] - fresh[a];
    const r = reused[b] - reused[a];
    if (f + r === 0) continue;
    const tip = `events ${formatCount(event[a])}–${formatCount(event[b])}: ${formatCount(f)} fresh, ${formatCount(r)} reused (${formatPercent(r, f + r)})`;
    rows.push({ start: event[a], end: event[b], middle: (event[a] + event[b]) / 2, fresh: f, reused: r, tip });
  }
  if (rows.length === 0) return null;
  const intervals = data.ref('intervals', () => rows);
  return {
    id: 'block-reuse',
    section: ChartSection.pool,
    title: 'Blocks served: fresh vs reused',
    guide: 'Blocks handed out per stretch of the trace. Reused blocks come from pools’ free lists; a run of fresh blocks means the pools in use were full and new pools (maybe new arenas) were carved.',
    spec: topLevel(
      {
        width: TIME_WIDTH,
        height: TIME_HEIGHT - 30,
        layer: [
          {
            data: intervals,
            transform: [{ fold: ['fresh', 'reused'], as: ['block', 'blocks'] }],
            // Vertical bars centred on their interval, as wide as it (a bar with x and x2 would
            // turn horizontal and stop stacking).
            mark: { type: 'bar', width: Math.max(1, Math.floor(TIME_WIDTH / (picks.length - 1)) - 1) },
            encoding: {
              x: eventX(t.events, 'middle'),
              y: { field: 'blocks', type: 'quantitative', stack: 'zero', ...countAxis('blocks served') },
              color: { field: 'block', type: 'nominal', title: null, scale: { domain: ['reused', 'fresh'], range: [PALETTE.blue, PALETTE.orange] } },
            },
          },
          // One tooltip per interval (not one per stacked bar).
          {
            data: intervals,
            mark: { type: 'rect', opacity: 0, aria: true },
            encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' }, description: { field: 'tip' } },
          },
        ],
      },
      'Blocks served per interval, fresh and reused',
      data,
    ),
  };
}

function sizeClassHeatmap(report: ReplayReport): ChartDefinition | null {
  const pool = report.pool;
  if (pool === null) return null;
  const classes = pool.sizeClasses.filter((c) => c.requests > 0 || c.blocksInUse > 0);
  if (classes.length === 0) return null;
  const totalRequests = classes.reduce((s, c) => s + c.requests, 0);
  const metrics = ['share of requests', 'blocks reused', 'pool utilisation', 'bytes used per block'] as const;
  const rows: Row[] = [];
  for (const c of classes) {
    const capacity = c.blocksInUse + c.availBlocks;
    const values: Record<(typeof metrics)[number], [number, number] | null> = {
      'share of requests': [c.requests, totalRequests],
      'blocks reused': c.requests > 0 ? [c.reusedBlocks, c.requests] : null,
      'pool utilisation': capacity > 0 ? [c.blocksInUse, capacity] : null,
      'bytes used per block': c.blocksInUse > 0 ? [c.bytesRequested, c.blocksInUse * c.size] : null,
    };
    for (const metric of metrics) {
      const v = values[metric];
      if (v === null || v[1] <= 0) continue;
      const share = v[0] / v[1];
      rows.push({
        size: `${c.size}`,
        metric,
        share: compactNumber(share),
        text: share >= 0.995 ? '100' : share < 0.005 && share > 0 ? '<1' : `${Math.round(share * 100)}`,
        tip: `${c.size}-byte blocks, ${metric}: ${formatPercent(v[0], v[1])} (${formatCount(v[0])} of ${formatCount(v[1])})`,
      });
    }
  }
  const sizes = classes.map((c) => `${c.size}`);
  return {
    id: 'size-class-heatmap',
    section: ChartSection.pool,
    title: 'Size classes',
    guide:
      'Per block size, in percent: its share of requests and how often a freed block was reused (over the whole trace), how full its pools in use are and how much of each block the objects use (at the end of the trace). Low utilisation in a busy class is memory held by half-empty pools.',
    spec: topLevel(
      {
        width: Math.min(TIME_WIDTH, Math.max(200, sizes.length * 26)),
        height: metrics.length * 26,
        data: { values: rows },
        encoding: {
          x: { field: 'size', type: 'ordinal', sort: sizes, title: 'block size (bytes)', axis: { labelAngle: 0, labelOverlap: true } },
          y: { field: 'metric', type: 'nominal', sort: [...metrics], title: null },
        },
        layer: [
          {
            mark: { type: 'rect', aria: true, stroke: '#ffffff', strokeWidth: 1 },
            encoding: {
              color: { field: 'share', type: 'quantitative', title: 'percent', scale: { scheme: 'viridis', domain: [0, 1] }, legend: { format: '.0%', gradientLength: 120 } },
              description: { field: 'tip' },
            },
          },
          {
            mark: { type: 'text', fontSize: 9.5 },
            encoding: {
              text: { field: 'text' },
              color: { condition: { test: 'datum.share > 0.6', value: '#1a1a1a' }, value: '#ffffff' },
            },
          },
        ],
      },
      'Per size class: share of requests, reuse, pool utilisation and bytes used per block',
    ),
  };
}

function freeListChart(report: ReplayReport): ChartDefinition | null {
  const lists = report.freeLists.filter((f) => f.hits + f.misses > 0);
  if (lists.length === 0) return null;
  const data = new SpecData();
  const rows = lists.map((f) => ({
    type: safeText(f.type, 24),
    hits: f.hits,
    misses: f.misses,
    tip: `${safeText(f.type, 24)}: ${formatPercent(f.hits, f.hits + f.misses)} hit rate (${formatCount(f.hits)} hits, ${formatCount(f.misses)} misses, ${formatCount(f.overflows)} overflows, ${formatCount(f.current)} parked now of ${formatCount(f.capacity)})`,
  }));
  const listRows = data.ref('free-lists', () => rows);
  return {
    id: 'free-list-hit-rates',
    section: ChartSection.pool,
    title: 'Free-list hit rates',
    guide: 'Share of allocations of each type served by its free list (hits) instead of the allocator (misses). A hit costs no allocation and does not count toward a collection.',
    spec: topLevel(
      {
        width: 520,
        height: { step: 20 },
        encoding: { y: { field: 'type', type: 'nominal', sort: null, title: null } },
        layer: [
          {
            data: listRows,
            transform: [{ fold: ['hits', 'misses'], as: ['outcome', 'allocations'] }],
            mark: { type: 'bar' },
            encoding: {
              x: { field: 'allocations', type: 'quantitative', stack: 'normalize', title: 'share of allocations', axis: { format: '.0%' } },
              color: { field: 'outcome', type: 'nominal', title: null, scale: { domain: ['hits', 'misses'], range: [PALETTE.green, PALETTE.vermillion] } },
            },
          },
          // One tooltip per type, over the whole bar.
          { data: listRows, mark: { type: 'rect', opacity: 0, aria: true }, encoding: { x: { datum: 0, type: 'quantitative' }, x2: { datum: 1 }, description: { field: 'tip' } } },
        ],
      },
      'Free-list hits and misses per type',
      data,
    ),
  };
}

function requestedReservedChart(report: ReplayReport, t: TimelineView): ChartDefinition | null {
  if (report.pool === null || t.length === 0) return null;
  const data = new SpecData();
  const labels = { bytesReserved: 'reserved', bytesRequested: 'requested' };
  const rows = t.rows(Object.keys(labels), labels);
  return {
    id: 'requested-reserved',
    section: ChartSection.pool,
    title: 'Requested vs reserved bytes',
    guide: 'Requested: what objects asked the allocator for. Reserved: what it holds from the system (arenas and malloc’d chunks). The gap is the allocator’s overhead and fragmentation.',
    spec: topLevel(
      {
        width: TIME_WIDTH,
        height: TIME_HEIGHT,
        layer: [
          {
            data: data.ref('series', () => rows),
            transform: [{ fold: ['reserved', 'requested'], as: ['bytes', 'value'] }],
            mark: { type: 'line', interpolate: 'step-after' },
            encoding: {
              x: t.x(),
              y: { field: 'value', type: 'quantitative', ...bytesAxis('bytes', maxOf(rows, ['reserved', 'requested'])) },
              color: { field: 'bytes', type: 'nominal', title: null, scale: { domain: ['reserved', 'requested'], range: [PALETTE.vermillion, PALETTE.blue] } },
            },
          },
          ...markLayers(report, t.events, data),
          hoverLayer(
            rows,
            [
              { field: 'requested', label: 'requested', bytes: true },
              { field: 'reserved', label: 'reserved', bytes: true },
            ],
            t.events,
            data,
          ),
        ],
      },
      'Bytes requested by objects and reserved by the allocator over the trace',
      data,
    ),
  };
}
