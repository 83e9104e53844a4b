import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { evaluateBudgets, globToRegExp, parseBudgets, parseByteSize } from '../../src/report/budgets.js';
import { groupGrowthBytes } from '../../src/replay/leaks.js';
import { formatBytes, formatCount } from '../../src/report/format.js';
import type { ReplayReport } from '../../src/report/json.js';
import { sampleReport } from './fixtures.js';
import { ev, replayEvents } from '../helpers/replay.js';
import type { TraceEvent } from '../../src/trace/types.js';

describe('report/budgets', () => {
  describe('parseByteSize', () => {
    it.each([
      ['1500', 1500],
      ['0', 0],
      ['64K', 65536],
      ['64k', 65536],
      ['64KB', 65536],
      ['64KiB', 65536],
      ['1.5M', 1572864],
      ['2G', 2 * 1024 ** 3],
      [' 8 M ', 8 * 1024 ** 2],
    ])('reads %j as %d bytes (K, M, G are powers of 1024)', (text, bytes) => {
      expect(parseByteSize('--max-peak-bytes', text)).toBe(bytes);
    });

    it('rounds a fractional limit down to a whole byte: 14,320 B breaks 13.984K (14,319.6 B)', () => {
      expect(parseByteSize('--max-peak-bytes', '13.984K')).toBe(14319);
      expect(parseByteSize('--max-peak-bytes', '14319.5')).toBe(14319);
      expect(parseByteSize('--max-peak-bytes', '0.5')).toBe(0);
    });

    it.each(['', '-1', '1X', '1e3', 'abc', '1..5M', 'M', '12 34'])('refuses %j with a usage error naming the option', (text) => {
      expect(() => parseByteSize('--max-peak-bytes', text)).toThrow(UsageError);
      expect(() => parseByteSize('--max-peak-bytes', text)).toThrow(/--max-peak-bytes: expected a byte count/);
    });
  });

  describe('globToRegExp', () => {
    it('matches whole sites, * across slashes, ? one character, the rest literally', () => {
      expect(globToRegExp('app/*').test('app/models/user.py:12')).toBe(true);
      expect(globToRegExp('app/*').test('lib/app/x.py:1')).toBe(false);
      expect(globToRegExp('app/cache.py:1?').test('app/cache.py:12')).toBe(true);
      expect(globToRegExp('app/cache.py:1?').test('app/cache.py:123')).toBe(false);
      expect(globToRegExp('a.b').test('aXb')).toBe(false);
      expect(globToRegExp('f(x)[0]+$').test('f(x)[0]+$')).toBe(true);
      expect(globToRegExp('*').test('')).toBe(true);
    });
  });

  describe('parseBudgets', () => {
    it('reads every budget option, in order, and keeps each option as typed', () => {
      const budgets = parseBudgets({ failOn: ['leaks', 'leaks'], maxPeakBytes: '64M', maxCollections: ['2=0', '0=100'], maxGrowth: ['app/a=b*=1K'] });
      expect(budgets.map((b) => b.option)).toEqual(['--fail-on leaks', '--max-peak-bytes 64M', '--max-collections 2=0', '--max-collections 0=100', '--max-growth app/a=b*=1K']);
      expect(budgets[1]).toMatchObject({ kind: 'peak-bytes', limit: 64 * 1024 ** 2 });
      expect(budgets[2]).toMatchObject({ kind: 'collections', generation: 2, limit: 0 });
      expect(budgets[4]).toMatchObject({ kind: 'growth', glob: 'app/a=b*', limit: 1024 });
    });

    it.each([
      [{ failOn: ['everything'] }, /--fail-on: expected one of leaks/],
      [{ maxCollections: ['3=1'] }, /generation must be 0, 1 or 2/],
      [{ maxCollections: ['x=1'] }, /generation must be 0, 1 or 2/],
      [{ maxCollections: ['0=-1'] }, /must be an integer >= 0/],
      [{ maxCollections: ['0=1.5'] }, /must be an integer >= 0/],
      [{ maxCollections: ['0='] }, /expected GEN=N/],
      [{ maxCollections: ['5'] }, /expected GEN=N/],
      [{ maxGrowth: ['app/*'] }, /expected SITE_GLOB=BYTES/],
      [{ maxGrowth: ['app/*=lots'] }, /--max-growth: expected a byte count/],
    ])('refuses %j', (options, message) => {
      expect(() => parseBudgets(options)).toThrow(UsageError);
      expect(() => parseBudgets(options)).toThrow(message);
    });
  });

  describe('when judged against a report', () => {
    let web: ReplayReport;
    let webCollecting: ReplayReport;
    let cycle: ReplayReport;
    let clean: ReplayReport;
    let cacheLeak: ReplayReport;
    beforeAll(async () => {
      [web, webCollecting, cycle, clean, cacheLeak] = await Promise.all([
        sampleReport('web'),
        sampleReport('web', { thresholds: [20] }),
        sampleReport('cycle'),
        sampleReport('refcount-frees'),
        sampleReport('cache-leak'),
      ]);
    });
    const judge = (report: ReplayReport, options: Parameters<typeof parseBudgets>[0]) => evaluateBudgets(report, parseBudgets(options));

    it('--fail-on leaks fails on cyclic garbage or uncollectable objects, and passes a clean trace', () => {
      const [onWeb] = judge(web, { failOn: ['leaks'] });
      expect(onWeb.passed).toBe(false);
      const garbage = web.leaks.cyclicGarbage;
      expect(garbage.objects).toBe(41);
      expect(onWeb.message).toBe(`--fail-on leaks: 41 objects (${formatBytes(garbage.bytes)}) of cyclic garbage waiting for a collection at the end`);
      const [onCycle] = judge(cycle, { failOn: ['leaks'] });
      expect(onCycle.passed).toBe(false);
      expect(onCycle.message).toContain('2 uncollectable objects');
      expect(judge(clean, { failOn: ['leaks'] })[0].passed).toBe(true);
    });

    it('--max-peak-bytes compares the peak of live bytes', () => {
      const peak = web.memory.peak.bytes;
      expect(judge(web, { maxPeakBytes: String(peak) })[0].passed).toBe(true);
      const [broken] = judge(web, { maxPeakBytes: String(peak - 1) });
      expect(broken.passed).toBe(false);
      expect(broken.message).toBe(
        `--max-peak-bytes ${peak - 1}: peak live bytes ${formatBytes(peak)} (${formatCount(peak)} B at event ${formatCount(web.memory.peak.bytesEvent)}) > ${formatBytes(peak - 1)}`,
      );
    });

    it('--max-collections counts the collections of one generation', () => {
      const gen0 = webCollecting.gc.generations[0].collections;
      expect(gen0).toBeGreaterThan(0);
      expect(judge(webCollecting, { maxCollections: [`0=${gen0}`, '2=0'] }).map((v) => v.passed)).toEqual([true, true]);
      const [broken] = judge(webCollecting, { maxCollections: [`0=${gen0 - 1}`] });
      expect(broken.passed).toBe(false);
      expect(broken.message).toBe(`--max-collections 0=${gen0 - 1}: ${gen0} generation-0 collections > ${gen0 - 1}`);
    });

    it('--max-growth sums the growth of the reachable groups whose site matches', () => {
      const growing = cacheLeak.leaks.reachable.groups.filter((g) => g.growing && g.site?.startsWith('app/pricing.py:'));
      expect(growing.length).toBeGreaterThan(0);
      const total = cacheLeak.leaks.reachable.groups
        .filter((g) => g.site?.startsWith('app/pricing.py:'))
        .reduce((sum, g) => sum + groupGrowthBytes(g, cacheLeak.trace.events), 0);
      const [broken, roomy, none] = judge(cacheLeak, { maxGrowth: ['app/pricing.py:*=1K', `app/pricing.py:*=${Math.ceil(total)}`, 'nowhere/*=0'] });
      expect(broken.passed).toBe(false);
      expect(broken.message).toContain('app/pricing.py:12');
      expect(roomy.passed).toBe(true);
      expect(none.passed).toBe(true);
      expect(none.message).toContain('no reachable memory allocated at a matching site');
    });

    it('--max-growth counts the groups the report does not list', () => {
      // 120 sites with one reachable group each: the report lists the 50 largest groups, and the
      // budget must still see all 120.
      const events: TraceEvent[] = [];
      for (let k = 0; k < 120; k++) events.push(ev.alloc(k + 1, 'Entry', { size: 64 + k, site: `app/cache${k}.py:1` }));
      const { report } = replayEvents(events);
      expect(report.leaks.reachable.groupsOmitted).toBe(70);
      const listed = report.leaks.reachable.groups.reduce((sum, g) => sum + groupGrowthBytes(g, report.trace.events), 0);
      const all = (report.leaks.reachable.sites ?? []).reduce((sum, s) => sum + s.growthBytes, 0);
      expect(report.leaks.reachable.sites).toHaveLength(120);
      expect(all).toBeGreaterThan(listed);
      const between = Math.floor((listed + all) / 2);
      const [broken, roomy] = judge(report, { maxGrowth: [`app/*=${between}`, `app/*=${Math.ceil(all)}`] });
      expect(broken.passed).toBe(false);
      expect(broken.message).toContain('from 120 matching sites');
      expect(roomy.passed).toBe(true);

      // A report written before the per-site totals existed is judged on its listed groups.
      const older: ReplayReport = { ...report, leaks: { ...report.leaks, reachable: { ...report.leaks.reachable, sites: undefined, sitesOmitted: undefined } } };
      const [fromGroups] = judge(older, { maxGrowth: [`app/*=${between}`] });
      expect(fromGroups.passed).toBe(true);
      expect(fromGroups.message).toContain('(of the 50 largest reachable groups)');
    });

    it('--max-growth is not judged safe when sites the report leaves out could break it', () => {
      const events: TraceEvent[] = [];
      for (let k = 0; k < 30; k++) events.push(ev.alloc(k + 1, 'Entry', { size: 100 + 10 * k, site: `app/cache${k}.py:1` }));
      const { report } = replayEvents(events);
      const sites = report.leaks.reachable.sites ?? [];
      expect(sites).toHaveLength(30);
      // As if the report could list only the 20 sites that grew most: the 10 left out each grew at most as much as the 20th.
      const cut: ReplayReport = { ...report, leaks: { ...report.leaks, reachable: { ...report.leaks.reachable, sites: sites.slice(0, 20), sitesOmitted: 10 } } };
      const listed = sites.slice(0, 20).reduce((sum, s) => sum + s.growthBytes, 0);
      const atMost = 10 * sites[19].growthBytes;
      const leftOut = sites[25].site;
      expect(sites[25].growthBytes).toBeGreaterThan(0);
      const [unsure, sure, unlistedOnly] = judge(cut, { maxGrowth: [`app/*=${Math.ceil(listed)}`, `app/*=${Math.ceil(listed + atMost)}`, `${leftOut}=0`] });
      expect(unsure.passed).toBe(false);
      expect(unsure.message).toContain(`and the 10 the report leaves out may add up to ${formatBytes(atMost)}: not judged safe`);
      expect(sure.passed).toBe(true);
      // A site left out: nothing listed matches, yet the budget cannot pass.
      expect(unlistedOnly.passed).toBe(false);
      expect(unlistedOnly.message).toContain('no reachable memory allocated at a matching site (of the 20 sites that grew most), and the 10');
      // The whole report judges the same budgets exactly.
      expect(judge(report, { maxGrowth: [`app/*=${Math.ceil(listed)}`, `${leftOut}=0`] }).map((v) => v.passed)).toEqual([false, false]);
    });

    it('takes growth from the trend, not from what happens to be alive at the end', () => {
      expect(groupGrowthBytes({ bytes: 500, bytesPerMillionEvents: 2e6 }, 1000)).toBe(2000);
      expect(groupGrowthBytes({ bytes: 500, bytesPerMillionEvents: -10 }, 1000)).toBe(0);
      expect(groupGrowthBytes({ bytes: 500, bytesPerMillionEvents: null }, 1000)).toBe(500);
    });
  });
});
