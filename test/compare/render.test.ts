import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { completeEntry, expandSweep } from '../../src/compare/configurations.js';
import { renderCompareHtml } from '../../src/compare/html.js';
import { runCompare } from '../../src/compare/index.js';
import { code, renderCompareMarkdown } from '../../src/compare/markdown.js';
import { buildCompareReport, type CompareReport } from '../../src/compare/report.js';
import { formatCompact, renderCompareTable, TABLE_WIDTH } from '../../src/compare/terminal.js';
import { ROOT } from '../helpers/cli.js';

const WEB = join(ROOT, 'traces', 'web.jsonl');
const HOSTILE = '\u202e<script>alert("x")</script> | `a` **b** &';

let grid: CompareReport;
let labelled: CompareReport;

beforeAll(async () => {
  // 13 configurations (refcount-only has no thresholds) with long labels: what has to fit in 80 columns.
  grid = await runCompare({
    trace: WEB,
    configurations: expandSweep({ policies: ['cpython-3.12.1', 'cpython-3.10', 'refcount-only'], thresholdLists: [[10, 100, 1000], [5, 10]], pools: ['pymalloc-3.11'], freeLists: ['3.12'] }),
    objectives: ['examined', 'peak-bytes'],
    jobs: 1,
  });
  labelled = await runCompare({
    trace: WEB,
    configurations: [completeEntry({ label: HOSTILE, thresholds: [10] }), completeEntry({ label: 'baseline' })],
    objectives: ['examined', 'peak-bytes', 'garbage-left'],
    jobs: 1,
  });
}, 60_000);

describe('compare: terminal table', () => {
  it('fits 80 columns, with labels reduced to what differs', () => {
    const table = renderCompareTable(grid);
    const lines = table.trimEnd().split('\n');
    expect(grid.configurations).toHaveLength(13);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(TABLE_WIDTH);
    expect(table).toContain('same in every configuration: pool=pymalloc-3.11 · freelists=3.12');
    expect(lines.some((line) => /^[* ] {1,2}1 {2}3\.12\.1 10\/5 /.test(line))).toBe(true);
    expect(lines.some((line) => /^[* ] 13 {2}refcount /.test(line))).toBe(true);
  });

  it('marks exactly the Pareto-optimal rows', () => {
    const marked = renderCompareTable(grid)
      .split('\n')
      .filter((line) => /^\* +\d+ /.test(line))
      .map((line) => Number(/^\* +(\d+)/.exec(line)?.[1]) - 1);
    expect(marked).toEqual(grid.pareto);
    expect(marked.length).toBeLessThan(grid.configurations.length);
  });

  it('shows untrusted labels with control characters made visible', () => {
    const table = renderCompareTable(labelled);
    expect(table).not.toContain('\u202e');
    expect(table).toContain('\\u202e');
  });

  it('shows the Pareto front of a comparison too large to list, and says so', () => {
    const configurations = Array.from({ length: 150 }, (_, i) => completeEntry({ thresholds: [i + 1] }));
    const runs = configurations.map((_, i) => {
      const run = structuredClone(labelled.runs[0]);
      run.gc.totals.examined = 1000 - i;
      // Every third configuration trades work for memory; the others hold the most memory.
      run.memory.peak.bytes = i % 3 === 0 ? 100 + i : 10_000;
      return run;
    });
    const report = buildCompareReport({ toolVersion: 'test', trace: labelled.trace, objectives: ['examined', 'peak-bytes'], runDetail: 'full', configurations }, runs);
    expect(report.pareto).toHaveLength(51);
    const table = renderCompareTable(report);
    const rows = table.split('\n').filter((line) => /^[* ] +\d+ {2}/.test(line));
    expect(rows).toHaveLength(51);
    expect(rows.every((row) => row.startsWith('*'))).toBe(true);
    expect(table).toContain('… showing the 51 Pareto-optimal of 150 runs');
  });

  it('writes numbers in at most five characters', () => {
    expect([0, 9999, 10000, 12345, 999_999, 1_234_567, 5e12].map(formatCompact)).toEqual(['0', '9999', '10k', '12.3k', '1000k', '1.2M', '5T']);
  });
});

describe('compare: Markdown', () => {
  it('puts untrusted strings in code spans that keep table cells whole', () => {
    expect(code('a|b')).toBe('`a\\|b`');
    expect(code('x `y` z')).toBe('``x `y` z``');
    expect(code('`')).toBe('`` ` ``');
    const markdown = renderCompareMarkdown(labelled);
    const row = markdown.split('\n').find((line) => line.startsWith('| 1 |')) ?? '';
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(9);
    expect(row).toContain('| ``\\u202e<script>alert("x")</script> \\| `a` **b** &`` |');
  });
});

describe('compare: HTML page', () => {
  let html: string;
  beforeAll(async () => {
    html = await renderCompareHtml(labelled);
  }, 60_000);

  it('escapes every trace and user string', () => {
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('loads nothing from the network and runs no script', () => {
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<link\b|@import|url\(http/);
  });

  it('draws the trade-off, collections, peak memory and latency charts, ids unique in the page', () => {
    expect(html.match(/<svg\b/g)).toHaveLength(4);
    for (const heading of ['Trade-off', 'Collections per generation', 'Peak memory', 'Garbage latency']) expect(html).toContain(`<h2>${heading}</h2>`);
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(html).toContain('on all 3 objectives');
  });
});
