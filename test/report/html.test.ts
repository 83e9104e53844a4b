import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateBudgets, parseBudgets } from '../../src/report/budgets.js';
import { buildCharts } from '../../src/report/charts.js';
import { contentSecurityPolicy, renderHtml } from '../../src/report/html.js';
import type { ReplayReport } from '../../src/report/json.js';
import { HOSTILE, hostileReport, sampleReport, stretchedReport } from './fixtures.js';

/** The document with the bodies of script elements removed (they are data, checked separately). */
function withoutScriptBodies(html: string): string {
  return html.replace(/(<script\b[^>]*>)[^]*?(<\/script>)/g, '$1$2');
}

/** The text of every script element, with its opening tag. */
function scripts(html: string): { tag: string; body: string }[] {
  return [...html.matchAll(/(<script\b[^>]*>)([^]*?)<\/script>/g)].map((m) => ({ tag: m[1], body: m[2] }));
}

describe('report/html', () => {
  let hostile: ReplayReport;
  let hostileHtml: string;
  let web: ReplayReport;
  let webHtml: string;
  beforeAll(async () => {
    hostile = await hostileReport();
    hostileHtml = await renderHtml(hostile, { generatedAt: '2025-01-02T03:04:05Z' });
    web = await sampleReport('web', { thresholds: [20] });
    webHtml = await renderHtml(web, { generatedAt: '2025-01-02T03:04:05Z' });
  });

  describe('when trace strings are hostile', () => {
    it('shows them as text: no markup from the trace survives anywhere in the page', () => {
      for (const raw of [HOSTILE.scriptClose, HOSTILE.img, '<svg onload', '<script>alert']) expect(hostileHtml).not.toContain(raw);
      expect(hostileHtml).toContain('&lt;/script&gt;&lt;script&gt;alert(&quot;type&quot;)&lt;/script&gt;');
      expect(hostileHtml).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(hostileHtml).toContain('x&quot; onmouseover=&quot;alert(2)');
      expect(hostileHtml).toContain('Tom &amp; &quot;Jerry&quot; &#39;quoted&#39;');
      expect(hostileHtml).toContain('__proto__');
      expect(hostileHtml).not.toContain('\u202E');
    });

    it('has only its own tags and attributes, none of them an event handler', () => {
      const allowed = /^<\/?(!doctype|html|head|meta|title|style|body|header|nav|main|section|footer|div|span|p|h1|h2|h3|a|b|code|ul|li|table|thead|tbody|tr|th|td|details|summary|figure|figcaption|button|script|svg|g|path|rect|line|text|defs|clipPath|linearGradient|stop)\b/i;
      // Outside scripts and style, "<" only opens tags: trace text is escaped.
      const document = withoutScriptBodies(hostileHtml).replace(/<style>[^]*?<\/style>/, '<style></style>');
      for (const [tag] of document.matchAll(/<[^<>]*>/g)) {
        expect(tag).toMatch(allowed);
        const stripped = tag.replace(/\s[\w:-]+="[^"]*"/g, '');
        expect(stripped, tag).toMatch(/^<\/?[!\w]+( html)?\s*\/?>$/i);
        expect([...tag.matchAll(/\s([\w:-]+)="/g)].map((m) => m[1]).filter((n) => /^on/i.test(n)), tag).toEqual([]);
      }
    });

    it('keeps every script element whole: one JSON spec per chart, then the page script', () => {
      const charts = buildCharts(hostile);
      const found = scripts(hostileHtml);
      expect(found).toHaveLength(charts.length + 1);
      expect(hostileHtml.match(/<\/script/gi)).toHaveLength(charts.length + 1);
      charts.forEach((chart, i) => {
        expect(found[i].tag).toBe(`<script type="application/json" id="spec-${chart.id}" class="vega-lite-spec">`);
        // The JSON parses back to the very spec that was rendered.
        expect(JSON.parse(found[i].body)).toEqual(JSON.parse(JSON.stringify(chart.spec)));
      });
      expect(found[charts.length].tag).toBe('<script>');
    });

    it('does not pollute Object.prototype', () => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    });
  });

  describe('when opened without a network', () => {
    it('declares a CSP that forbids every fetch and allows only the page script, by hash', () => {
      const csp = contentSecurityPolicy();
      expect(webHtml).toContain(`<meta http-equiv="Content-Security-Policy" content="${csp.replace(/'/g, '&#39;')}">`);
      expect(csp).toMatch(/^default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-[A-Za-z0-9+/]+=*'/);
      const pageScript = scripts(webHtml).at(-1)!.body;
      const hash = createHash('sha256').update(pageScript, 'utf8').digest('base64');
      expect(csp).toContain(`'sha256-${hash}'`);
    });

    it('references nothing outside the page', () => {
      const document = withoutScriptBodies(webHtml);
      expect(document).not.toMatch(/<(link|img|iframe|object|embed|image|use|audio|video|source)\b/i);
      expect(document).not.toMatch(/\s(src|href|xlink:href)="(?!#)/);
      expect(document).not.toMatch(/@import|@font-face|url\((?!#)/);
      // The only absolute URLs are XML namespaces, which nothing fetches.
      expect([...new Set(document.match(/https?:\/\/[^"\s)]+/g))].sort()).toEqual(['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
    });
  });

  describe('the page', () => {
    it('has the sections, the leak triage and a figure per chart, each with its reading guide', () => {
      for (const id of ['summary', 'leaks', 'generations', 'pool', 'marks']) expect(webHtml).toContain(`<section id="${id}">`);
      for (const title of ['Cyclic garbage waiting for a collection', 'Uncollectable objects', 'Reachable groups that keep growing', 'Memory pinned by the allocator']) {
        expect(webHtml).toContain(title);
      }
      const charts = buildCharts(web);
      for (const chart of charts) {
        const figure = new RegExp(`<figure class="chart" id="chart-${chart.id}"[^]*?<p class="guide">([^<]+)</p>[^]*?<svg [^]*?</svg>[^]*?</figure>`).exec(webHtml);
        expect(figure, chart.id).not.toBeNull();
      }
      expect(webHtml.match(/<svg /g)).toHaveLength(charts.length);
    });

    it('shows budget verdicts in the summary', async () => {
      const verdicts = evaluateBudgets(web, parseBudgets({ failOn: ['leaks'], maxPeakBytes: '1G' }));
      const html = await renderHtml(web, { verdicts });
      expect(html).toContain('1 of 2 budgets failed.');
      expect(html).toMatch(/<span class="badge bad">FAIL<\/span><\/td><td><code>--fail-on leaks<\/code>/);
      expect(html).toMatch(/<span class="badge good">pass<\/span><\/td><td><code>--max-peak-bytes 1G<\/code>/);
    });

    it('is the same for the same report, but for the generation time it is given', async () => {
      const again = await renderHtml(web, { generatedAt: '2025-01-02T03:04:05Z' });
      expect(again).toBe(webHtml);
      const later = await renderHtml(web, { generatedAt: '2030-12-31T23:59:59Z' });
      expect(later.replace('2030-12-31T23:59:59Z', '2025-01-02T03:04:05Z')).toBe(webHtml);
    });

    it('says what a replay without collector or allocator model cannot show', async () => {
      const html = await renderHtml(await sampleReport('web', { policy: 'refcount-only', pool: 'none' }));
      expect(html).toContain('collects no cycles: there are no generations to promote through');
      expect(html).toContain('No allocator model ran');
      expect(html).toContain('Cyclic garbage never collected');
    });

    it('stays small for a report at the limits of the JSON contract', async () => {
      const html = await renderHtml(stretchedReport(web));
      expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
      expect(html).toContain('… and 5,073 more marks not shown.');
    });
  });
});
