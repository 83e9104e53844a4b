import * as vegaLite from 'vega-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { binaryTicks, buildCharts, type ChartDefinition } from '../../src/report/charts.js';
import type { ReplayReport } from '../../src/report/json.js';
import { finishSvg, renderChartSvg } from '../../src/report/svg.js';
import { createPool } from '../../src/pool/index.js';
import { replayEvents } from '../helpers/replay.js';
import { hostileReport, sampleReport, stretchedReport } from './fixtures.js';

/** Every array of data rows in a spec (inline `values` and named `datasets`). */
function dataArrays(spec: unknown): unknown[][] {
  const found: unknown[][] = [];
  const walk = (node: unknown, key: string | null) => {
    if (Array.isArray(node)) {
      if (key === 'values' || key === 'dataset') found.push(node);
      for (const item of node) walk(item, null);
    } else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) walk(v, k === 'datasets' ? 'datasets' : key === 'datasets' ? 'dataset' : k);
    }
  };
  walk(spec, null);
  return found;
}

function keysOf(spec: unknown): Set<string> {
  const keys = new Set<string>();
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) (keys.add(k), walk(v));
  };
  walk(spec);
  return keys;
}

describe('report/charts', () => {
  const reports = new Map<string, ReplayReport>();
  beforeAll(async () => {
    reports.set('web --threshold 20', await sampleReport('web', { thresholds: [20] }));
    reports.set('web', await sampleReport('web'));
    reports.set('cycle', await sampleReport('cycle'));
    reports.set('cache-leak', await sampleReport('cache-leak'));
    reports.set('freeze', await sampleReport('freeze', { thresholds: [20] }));
    reports.set('refcount-only, no pool', await sampleReport('web', { policy: 'refcount-only', pool: 'none' }));
    reports.set('malloc', await sampleReport('cache-leak', { pool: 'malloc' }));
    reports.set('hostile', await hostileReport());
    reports.set('stretched', stretchedReport(reports.get('web --threshold 20')!));
  });

  it('draws every section’s charts when the report has data for them', () => {
    const ids = buildCharts(reports.get('stretched')!).map((c) => c.id);
    expect(ids).toEqual([
      'live-memory',
      'growth-by-site',
      'arena-occupancy',
      'generation-sizes',
      'promotion',
      'collections',
      'arenas-pools',
      'block-reuse',
      'size-class-heatmap',
      'free-list-hit-rates',
      'requested-reserved',
    ]);
    const withoutModels = buildCharts(reports.get('refcount-only, no pool')!).map((c) => c.id);
    expect(withoutModels).toEqual(['live-memory', 'growth-by-site', 'free-list-hit-rates']);
  });

  it('draws no time chart from fewer than two samples, and nothing for an empty trace', () => {
    const one = replayEvents([{ op: 'alloc', id: 1, type: 'A', size: 8 }], { pool: createPool('pymalloc-3.11') }).report;
    expect(one.timeline.samples).toBe(1);
    expect(buildCharts(one).map((c) => c.id)).toEqual(['size-class-heatmap']);
    expect(buildCharts(replayEvents([]).report)).toEqual([]);
  });

  it('gives every chart a title and a one-line reading guide', () => {
    for (const [name, report] of reports) {
      for (const chart of buildCharts(report)) {
        expect(chart.title, `${name}: ${chart.id}`).not.toBe('');
        expect(chart.guide, `${name}: ${chart.id}`).toMatch(/^[A-Z].{20,}[.]$/s);
        expect(chart.guide).not.toContain('\n');
      }
    }
  });

  it('embeds data inline and refers to no URL', () => {
    for (const [name, report] of reports) {
      for (const chart of buildCharts(report)) {
        const keys = keysOf(chart.spec);
        for (const forbidden of ['url', 'href', 'image', 'sphere', 'graticule']) expect(keys.has(forbidden), `${name}: ${chart.id} has "${forbidden}"`).toBe(false);
        const text = JSON.stringify(chart.spec);
        // The only URL is the $schema string, which nothing fetches.
        expect(text.match(/https?:\/\//g) ?? [], `${name}: ${chart.id}`).toEqual(report === reports.get('hostile') ? expect.any(Array) : ['https://']);
      }
    }
  });

  it('keeps every series and table of the stretched report bounded', () => {
    const charts = buildCharts(reports.get('stretched')!);
    for (const chart of charts) {
      for (const rows of dataArrays(chart.spec)) expect(rows.length, chart.id).toBeLessThanOrEqual(2000);
    }
    const byId = (id: string) => charts.find((c) => c.id === id)!;
    // 20,000 collections become at most 60 time bins per generation.
    for (const rows of dataArrays(byId('collections').spec)) expect(rows.length).toBeLessThanOrEqual(180);
    // 5,000 marks: 40 rules, at most 24 labels.
    const live = byId('live-memory').spec as { datasets: Record<string, unknown[]> };
    expect(live.datasets.marks).toHaveLength(40);
    expect(live.datasets['mark-labels'].length).toBeLessThanOrEqual(24);
    expect(byId('collections').guide).toContain('The last 5,000 collections are not listed');
    expect(byId('arena-occupancy').guide).toContain('400 fuller arenas not shown');
  });

  it('puts trace strings only in data, cleaned and cut, never in expressions or field names', () => {
    const charts = buildCharts(reports.get('hostile')!);
    const growth = charts.find((c) => c.id === 'growth-by-site')!;
    const text = JSON.stringify(growth.spec);
    expect(text).toContain('__proto__ @ x\\" onmouseover=\\"alert(2)');
    for (const chart of charts) {
      const spec = JSON.stringify(chart.spec);
      expect(spec, chart.id).not.toContain('\u202E');
      // Field names and expressions are ours: none mentions a hostile string.
      for (const match of spec.matchAll(/"(field|test|labelExpr|calculate|fold|as)":"([^"]*)"/g)) expect(match[2], chart.id).not.toMatch(/alert|__proto__|script|onerror|HYPERLINK/);
    }
  });

  describe('when compiled and rendered', () => {
    const rendered: { name: string; chart: ChartDefinition }[] = [];
    beforeAll(() => {
      for (const [name, report] of reports) for (const chart of buildCharts(report)) rendered.push({ name, chart });
    });

    it('compiles every spec with vega-lite without a warning', () => {
      for (const { name, chart } of rendered) {
        const warnings: string[] = [];
        const logger = {
          level: () => logger,
          error: (...a: unknown[]) => (warnings.push(a.join(' ')), logger),
          warn: (...a: unknown[]) => (warnings.push(a.join(' ')), logger),
          info: () => logger,
          debug: () => logger,
        };
        const compiled = vegaLite.compile(chart.spec, { logger: logger as never }).spec;
        expect(compiled.marks?.length ?? compiled.$schema, `${name}: ${chart.id}`).toBeTruthy();
        expect(warnings, `${name}: ${chart.id}`).toEqual([]);
      }
    });

    it('renders every chart to SVG with marks, tooltips where asked, and no warning', async () => {
      for (const { name, chart } of rendered) {
        const { svg, warnings } = await renderChartSvg(chart.spec, `t-${chart.id}`);
        expect(warnings, `${name}: ${chart.id}`).toEqual([]);
        expect(svg, `${name}: ${chart.id}`).toMatch(/^<svg [^>]*viewBox="0 0 \d+ \d+"/);
        expect(svg).toMatch(/role-mark/);
        if (JSON.stringify(chart.spec).includes('"description":{"field":"tip"}')) expect(svg, `${name}: ${chart.id}`).toContain('<title>');
        // No web font, no external reference.
        expect(svg).not.toMatch(/@font-face|@import|xlink:href="http|href="http/);
      }
    }, 60_000);

    it('escapes hostile strings in the SVG text', async () => {
      let all = '';
      for (const { name, chart } of rendered.filter((r) => r.name === 'hostile')) {
        const { svg } = await renderChartSvg(chart.spec, 'h');
        all += svg;
        // Vega escapes "<" and ">" in text, so every "<…>" is a real tag: none is foreign, none has an event handler.
        for (const [tag] of svg.matchAll(/<[^<>]*>/g)) {
          expect(tag, `${name}: ${chart.id}`).toMatch(/^<\/?(svg|g|path|rect|line|text|title|defs|clipPath|linearGradient|stop)[\s>/]/);
          // Attribute values are quoted with every inner quote escaped: what is left are names.
          const names = [...tag.matchAll(/\s([\w:-]+)="[^"]*"/g)].map((m) => m[1]);
          expect(tag.replace(/\s([\w:-]+)="[^"]*"/g, ''), `${name}: ${chart.id}`).toMatch(/^<\/?[a-zA-Z]+\/?>$/);
          expect(names.filter((n) => /^on/i.test(n)), `${name}: ${chart.id}`).toEqual([]);
        }
      }
      // The hostile strings are there, as text.
      expect(all).toContain('&lt;/script&gt;&lt;img src=x onerror');
      expect(all).toContain('x&quot; onmouseover=&quot;alert(2)');
    });
  });

  describe('binaryTicks', () => {
    it('steps by a power of two bytes, from 0 to at least the maximum, in three to six steps', () => {
      expect(binaryTicks(14_400)).toEqual([0, 4096, 8192, 12288, 16384]);
      expect(binaryTicks(1_000)).toEqual([0, 256, 512, 768, 1024]);
      for (const max of [8, 999, 1025, 123_456, 7.3e6, 4e9]) {
        const ticks = binaryTicks(max);
        const step = ticks[1];
        expect(Math.log2(step) % 1).toBe(0);
        expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
        expect(ticks.length - 1).toBeGreaterThanOrEqual(2);
        expect(ticks.length - 1).toBeLessThanOrEqual(6);
      }
    });
  });

  describe('finishSvg', () => {
    const svg =
      '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><path aria-label="a &lt;b&gt; &amp; &quot;c&quot;" role="graphics-symbol" aria-roledescription="bar" d="M1.23456,2.0000001h3"/><g role="graphics-symbol" aria-roledescription="axis" aria-label="X-axis"><text opacity="1">1</text></g></g></svg>';
    const out = finishSvg(svg, 'c7');

    it('renames ids and their references per chart, so that charts in one page do not share an id', () => {
      expect(out).toContain('<clipPath id="c7-1">');
      expect(out).toContain('clip-path="url(#c7-1)"');
      expect(out).not.toMatch(/clip1/);
      // Vega's own counters do not show: the same drawing with other ids gives the same text.
      expect(finishSvg(svg.replace(/clip1/g, 'gradient_9'), 'c7')).toBe(out);
    });

    it('turns a mark’s aria-label into a <title> child, and leaves axes alone', () => {
      expect(out).toContain('<path role="graphics-symbol" d="M1.23,2.00h3"><title>a &lt;b&gt; &amp; &quot;c&quot;</title></path>');
      expect(out).toContain('aria-label="X-axis"');
    });

    it('drops default opacity', () => {
      expect(out).toContain('<text>1</text>');
    });
  });
});
