import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateBudgets, parseBudgets } from '../../src/report/budgets.js';
import type { ReplayReport } from '../../src/report/json.js';
import { renderTerminal, visibleLength, wrapLine } from '../../src/report/terminal.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostileReport, reportOf, sampleReport } from './fixtures.js';

describe('report/terminal', () => {
  const reports = new Map<string, ReplayReport>();
  beforeAll(async () => {
    reports.set('web', await sampleReport('web'));
    reports.set('web --threshold 20', await sampleReport('web', { thresholds: [20] }));
    reports.set('cycle', await sampleReport('cycle'));
    reports.set('cache-leak', await sampleReport('cache-leak'));
    reports.set('freeze', await sampleReport('freeze'));
    reports.set('refcount-only', await sampleReport('web', { policy: 'refcount-only', pool: 'none' }));
    reports.set('incremental', await sampleReport('web', { policy: 'cpython-3.14.2', thresholds: [20] }));
    reports.set('hostile', await hostileReport());
  });

  it('fits every line in 80 columns, with or without color, budgets included', () => {
    for (const [name, report] of reports) {
      const verdicts = evaluateBudgets(report, parseBudgets({ failOn: ['leaks'], maxPeakBytes: '1K', maxCollections: ['0=0'], maxGrowth: ['*=1', 'some/very/long/path/to/a/module/that/goes/on.py:*=1'] }));
      for (const color of [false, true]) {
        const text = renderTerminal(report, { color, top: 10, verdicts });
        for (const line of text.split('\n')) expect(visibleLength(line), `${name}: ${line}`).toBeLessThanOrEqual(80);
        expect(text.includes('\x1b['), name).toBe(color);
      }
    }
  });

  it('says what the generation columns hold under the incremental collector, and only there', () => {
    const incremental = reports.get('incremental')!;
    expect(incremental.config.incremental).toBe(true);
    expect(renderTerminal(incremental, { color: false }).replace(/\s+/g, ' ')).toContain('Incremental collector: gen 1 = increments and the visited space');
    expect(reports.get('web')!.config.incremental).toBe(false);
    expect(renderTerminal(reports.get('web')!, { color: false })).not.toContain('Incremental collector');
  });

  it('lists the budgets last, failed ones marked', () => {
    const report = reports.get('web')!;
    const text = renderTerminal(report, { color: false, verdicts: evaluateBudgets(report, parseBudgets({ failOn: ['leaks'], maxPeakBytes: '1G' })) });
    expect(text.trimEnd().split('\n').slice(-3)).toEqual([
      'Budgets: 1 of 2 failed',
      '  FAIL --fail-on leaks: 41 in cycles, 0 uncollectable',
      '  pass --max-peak-bytes 1G: 14.1 KiB (limit 1.0 GiB)',
    ]);
  });

  it('says when a peak came, and never "event -1" for a trace with no allocation', async () => {
    expect(renderTerminal(reports.get('cycle')!, { color: false })).toMatch(/peak [\d,]+ objects \(at event [\d,]+\), [\d.]+ \S+ \(at event [\d,]+\)/);
    const dir = mkdtempSync(join(tmpdir(), 'memreplay-terminal-'));
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const report = await reportOf({ trace: empty });
    const text = renderTerminal(report, { color: false });
    expect(text).toContain('peak 0 objects (before any event), 0 B (before any event)');
    expect(text).not.toContain('-1');
  });

  it('names the memory the allocator pins', () => {
    expect(renderTerminal(reports.get('web')!, { color: false })).toMatch(/pinned by the allocator: 1 of 1 arenas under 25% used \(1\.0 MiB for [\d.]+ KiB of\s+blocks\)/);
  });

  describe('wrapLine', () => {
    it('leaves a line that fits alone', () => {
      expect(wrapLine('  short', 80)).toEqual(['  short']);
    });

    it('folds at the last separator that fits, indenting the rest', () => {
      expect(wrapLine('  alpha · beta · gamma', 16)).toEqual(['  alpha · beta', '    gamma']);
      expect(wrapLine('list: one, two, three', 15)).toEqual(['list: one, two,', '  three']);
    });

    it('cuts a word longer than the line', () => {
      const lines = wrapLine('x'.repeat(30), 12);
      expect(lines[0]).toBe(`${'x'.repeat(11)}…`);
      for (const line of lines) expect(visibleLength(line)).toBeLessThanOrEqual(12);
    });
  });
});
