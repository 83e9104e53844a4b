import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateBudgets, parseBudgets } from '../../src/report/budgets.js';
import type { ReplayReport } from '../../src/report/json.js';
import { markdownText, renderMarkdown } from '../../src/report/markdown.js';
import { hostileReport, sampleReport } from './fixtures.js';

describe('report/markdown', () => {
  let web: ReplayReport;
  let cacheLeak: ReplayReport;
  let hostile: ReplayReport;
  beforeAll(async () => {
    [web, cacheLeak, hostile] = await Promise.all([sampleReport('web'), sampleReport('cache-leak'), hostileReport()]);
  });

  it('leads with the budget verdicts, one row each, and the failures spelled out', () => {
    const verdicts = evaluateBudgets(web, parseBudgets({ failOn: ['leaks'], maxPeakBytes: '1G' }));
    const md = renderMarkdown(web, { verdicts });
    const lines = md.split('\n');
    expect(lines[0]).toBe('## memreplay: traces/web.jsonl');
    expect(md.indexOf('**Budgets: 1 of 2 failed** ❌')).toBeLessThan(md.indexOf('peak live memory'));
    expect(lines).toContain('| ❌ | --fail-on leaks | 41 in cycles, 0 uncollectable | none |');
    expect(lines).toContain('| ✅ | --max-peak-bytes 1G | 14.1 KiB | 1.0 GiB |');
    expect(lines.filter((l) => l.startsWith('- --fail-on leaks: 41 objects'))).toHaveLength(1);
    expect(renderMarkdown(web)).not.toContain('Budgets');
  });

  it('has the headline numbers, the leak triage and the collector as tables', () => {
    const md = renderMarkdown(cacheLeak);
    expect(md).toContain('| peak live memory | **');
    expect(md).toContain('| cyclic garbage (waiting for a collection) | 0 | 0 B |');
    expect(md).toMatch(/\| reachable, growing \([1-9]\d* groups\) \| [\d,]+ \| [\d.]+ KiB \|/);
    expect(md).toMatch(/\| \w+ @ app\/pricing\.py:1[24] \| [\d,]+ \| [\d.]+ (B|KiB) \| \*\*\+[\d.]+ (B|KiB)\*\* \|/);
    expect(md).toContain('### Collector');
    expect(md).toContain('### Allocator');
    // Every table row has as many cells as its header.
    const tables = md.split('\n\n').filter((block) => block.startsWith('|'));
    for (const table of tables) {
      const rows = table.split('\n').map((row) => row.replace(/\\\|/g, '').split('|').length);
      expect(new Set(rows).size, table).toBe(1);
    }
  });

  it('keeps hostile strings as text: no HTML, no link, no broken table', () => {
    const md = renderMarkdown(hostile, { top: 50 });
    expect(md).not.toMatch(/<(script|img|svg)/i);
    expect(md).not.toMatch(/(?<!\\)\]\(/);
    expect(md).toContain('&lt;/script&gt;');
    expect(md).toContain('\\|cell\\|\\*\\*bold\\*\\* \\[link\\](http://evil.example)');
    const tables = md.split('\n\n').filter((block) => block.startsWith('|'));
    for (const table of tables) {
      const rows = table.split('\n').map((row) => row.replace(/\\\|/g, '').split('|').length);
      expect(new Set(rows).size, table).toBe(1);
    }
  });

  it('escapes what Markdown and HTML would read as syntax', () => {
    expect(markdownText('a|b *c* _d_ `e` [f](g) <h> & ~i~')).toBe('a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) &lt;h&gt; &amp; \\~i\\~');
  });
});
