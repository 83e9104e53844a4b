import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../../src/compare/configurations.js';
import { renderCompareHtml } from '../../src/compare/html.js';
import { runCompare } from '../../src/compare/index.js';
import { renderCompareMarkdown } from '../../src/compare/markdown.js';
import { parseCompareReport } from '../../src/compare/read-reports.js';
import { mergeParts, parseShard, serializeCompareReport, shardIndices, type CompareReport } from '../../src/compare/report.js';
import { UsageError } from '../../src/errors.js';
import { ROOT } from '../helpers/cli.js';

const CYCLE = join(ROOT, 'traces', 'cycle.jsonl');
const CONFIGURATIONS = expandSweep({ policies: ['cpython-3.12', 'cpython-3.8', 'refcount-only'], thresholdLists: [[5, 50, 500]] });
const OBJECTIVES = ['examined', 'peak-bytes'] as const;

const text = (report: CompareReport) => [...serializeCompareReport(report)].join('');
const compare = (shard?: { index: number; count: number }, runDetail?: 'full' | 'summary') =>
  runCompare({ trace: CYCLE, configurations: CONFIGURATIONS, objectives: [...OBJECTIVES], jobs: 1, shard, runDetail });

/** A part as merge reads it: written to JSON and parsed back, schema-checked. */
const reread = async (shard: { index: number; count: number }, name = `part-${shard.index}.json`) => ({ name, report: parseCompareReport(text(await compare(shard)), name) });

describe('compare: shards', () => {
  it('deals configurations round-robin, each to exactly one shard', () => {
    expect(shardIndices(7, 1, 3)).toEqual([0, 3, 6]);
    expect(shardIndices(7, 3, 3)).toEqual([2, 5]);
    expect(shardIndices(2, 3, 3)).toEqual([]);
  });

  it('reads K/N with K from 1, and says how to turn a 0-based index into K', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(() => parseShard('0/8')).toThrow('JOB_COMPLETION_INDEX + 1');
    expect(() => parseShard('9/8')).toThrow('K counts from 1 to 8');
    expect(() => parseShard('2 of 8')).toThrow('--shard takes K/N');
  });

  it('merges into exactly what the unsharded comparison writes (JSON, Markdown and HTML)', async () => {
    const whole = await compare();
    const parts = [await reread({ index: 3, count: 3 }), await reread({ index: 1, count: 3 }), await reread({ index: 2, count: 3 })];
    expect(parts.map((p) => p.report.runs.length)).toEqual([2, 3, 2]);
    expect(parts.every((p) => p.report.pareto === undefined)).toBe(true);
    const merged = mergeParts(parts);
    expect(text(merged)).toBe(text(whole));
    expect(renderCompareMarkdown(merged)).toBe(renderCompareMarkdown(whole));
    expect(await renderCompareHtml(merged)).toBe(await renderCompareHtml(whole));
  });

  it('merges parts with more shards than configurations (some parts are empty)', async () => {
    const count = CONFIGURATIONS.length + 2;
    const parts = [];
    for (let index = 1; index <= count; index++) parts.push(await reread({ index, count }));
    expect(text(mergeParts(parts))).toBe(text(await compare()));
  });

  it('keeps --runs summary through sharding, with the counts and without the series', async () => {
    const whole = await compare(undefined, 'summary');
    const parts = [];
    for (const index of [1, 2]) parts.push({ name: `s${index}`, report: parseCompareReport(text(await compare({ index, count: 2 }, 'summary')), `s${index}`) });
    expect(text(mergeParts(parts))).toBe(text(whole));
    const run = whole.runs[0];
    expect(run.timeline.series).toEqual({});
    expect(run.gc.collections.list).toEqual([]);
    expect(run.gc.collections.total).toBe(run.gc.totals.collections);
    expect(run.gc.totals.collections).toBeGreaterThan(0);
  });

  describe('when parts do not make one comparison', () => {
    const failure = async (parts: Promise<{ name: string; report: CompareReport }[]>): Promise<string> => {
      try {
        mergeParts(await parts);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('merged');
    };

    it('names a missing shard', async () => {
      expect(await failure(Promise.all([reread({ index: 1, count: 3 }), reread({ index: 3, count: 3 })]))).toContain('missing shard 2/3');
    });

    it('names a shard given twice', async () => {
      expect(await failure(Promise.all([reread({ index: 1, count: 2 }, 'a.json'), reread({ index: 1, count: 2 }, 'b.json'), reread({ index: 2, count: 2 })]))).toContain(
        'b.json and a.json are both shard 1/2',
      );
    });

    it('refuses parts of different sweeps, traces or shard counts', async () => {
      const one = await reread({ index: 1, count: 2 });
      const other = runCompare({ trace: CYCLE, configurations: CONFIGURATIONS.slice(1), objectives: [...OBJECTIVES], jobs: 1, shard: { index: 2, count: 2 } });
      expect(await failure(Promise.all([one, other.then((report) => ({ name: 'other.json', report }))]))).toContain('configuration lists');
      const otherTrace = runCompare({ trace: join(ROOT, 'traces', 'cycle.csv'), configurations: CONFIGURATIONS, objectives: [...OBJECTIVES], jobs: 1, shard: { index: 2, count: 2 } });
      expect(await failure(Promise.all([one, otherTrace.then((report) => ({ name: 'csv.json', report }))]))).toContain('traces (the decoded events)');
      expect(await failure(Promise.all([one, reread({ index: 2, count: 3 })]))).toContain('shard counts');
    });

    it('refuses a whole comparison as a part', async () => {
      expect(await failure(compare().then((report) => [{ name: 'whole.json', report }]))).toContain('whole.json is a whole comparison');
    });
  });

  it('writes exactly JSON.stringify(report, null, 2), piece by piece', async () => {
    for (const report of [await compare(), await compare({ index: 9, count: 9 })]) {
      expect(text(report)).toBe(`${JSON.stringify(report, null, 2)}\n`);
    }
  });
});
