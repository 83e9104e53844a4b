import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { csvCell, CSV_FILE_NAMES, renderCsvTables } from '../../src/report/csv.js';
import type { ReplayReport } from '../../src/report/json.js';
import { HOSTILE, hostileReport, sampleReport } from './fixtures.js';

function rows(report: ReplayReport, name: string): Record<string, string>[] {
  const file = renderCsvTables(report).find((f) => f.name === name)!;
  return parse(file.content, { columns: true }) as Record<string, string>[];
}

describe('report/csv', () => {
  let web: ReplayReport;
  let cacheLeak: ReplayReport;
  let hostile: ReplayReport;
  beforeAll(async () => {
    [web, cacheLeak, hostile] = await Promise.all([sampleReport('web', { thresholds: [20] }), sampleReport('cache-leak'), hostileReport()]);
  });

  it('writes the three tables', () => {
    expect(renderCsvTables(web).map((f) => f.name)).toEqual([...CSV_FILE_NAMES]);
    for (const file of renderCsvTables(web)) expect(file.content.endsWith('\r\n')).toBe(true);
  });

  it('lists every listed collection, in order, with its numbers', () => {
    const collections = rows(web, 'collections.csv');
    expect(collections).toHaveLength(web.gc.collections.list.length);
    expect(collections[0]).toEqual(Object.fromEntries(Object.entries(web.gc.collections.list[0]).map(([k, v]) => [k, String(v)])));
  });

  it('lists the leak groups of all three kinds, growing groups with their growth', () => {
    const groups = rows(cacheLeak, 'leak-groups.csv');
    expect(groups.filter((g) => g.kind === 'reachable')).toHaveLength(cacheLeak.leaks.reachable.groups.length);
    const growing = groups.filter((g) => g.growing === 'true');
    expect(growing.length).toBeGreaterThan(0);
    for (const g of growing) expect(Number(g.growth_bytes)).toBeGreaterThan(0);
    const hostileKinds = new Set(rows(hostile, 'leak-groups.csv').map((g) => g.kind));
    expect([...hostileKinds].sort()).toEqual(['cyclic-garbage', 'reachable', 'uncollectable']);
  });

  it('has the size classes of the allocator', () => {
    const classes = rows(web, 'size-classes.csv');
    expect(classes).toHaveLength(web.pool!.sizeClasses.length);
    expect(classes[0].size).toBe('16');
  });

  it('quotes what needs quoting and keeps formulas from running in a spreadsheet', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell(-2)).toBe('-2');
    expect(csvCell(null)).toBe('');
    const text = renderCsvTables(hostile).map((f) => f.content).join('');
    expect(text).not.toMatch(/(^|,|")=HYPERLINK/m);
    const parsed = rows(hostile, 'leak-groups.csv');
    // The formula is still there, as text a spreadsheet shows.
    expect(parsed.some((g) => g.types === `'${HOSTILE.formula}`)).toBe(true);
  });
});
