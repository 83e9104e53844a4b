import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffReports, type DiffReport } from '../../src/compare/diff.js';
import { renderDiffHtml } from '../../src/compare/html.js';
import { renderDiffMarkdown } from '../../src/compare/markdown.js';
import { renderDiffTerminal } from '../../src/compare/terminal.js';
import { BudgetError, UsageError } from '../../src/errors.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { ev, replayEvents } from '../helpers/replay.js';
import { messageOf, runCommand } from './helpers.js';

const HOSTILE_SITE = 'app/<img src=x onerror=alert(1)>.py:3';

/** Before: a cache with one entry, and a reference cycle left as garbage. */
const BEFORE: TraceEvent[] = [
  ev.alloc(1, 'Cache', { site: 'app/cache.py:10', size: 56 }),
  ev.alloc(2, 'Entry', { site: 'app/cache.py:11', size: 64 }),
  ev.link(1, 2),
  ev.decref(2),
  ev.alloc(3, 'Node', { site: 'app/tree.py:5', size: 48 }),
  ev.alloc(4, 'Node', { site: 'app/tree.py:5', size: 48 }),
  ev.link(3, 4),
  ev.link(4, 3),
  ev.decref(3),
  ev.decref(4),
];

/** After: the cycle is gone, the cache holds two entries, and a session object is new. */
const AFTER: TraceEvent[] = [
  ev.alloc(1, 'Cache', { site: 'app/cache.py:10', size: 56 }),
  ev.alloc(2, 'Entry', { site: 'app/cache.py:11', size: 64 }),
  ev.link(1, 2),
  ev.decref(2),
  ev.alloc(5, 'Entry', { site: 'app/cache.py:11', size: 64 }),
  ev.link(1, 5),
  ev.decref(5),
  ev.alloc(6, 'Session', { site: HOSTILE_SITE, size: 200 }),
];

const before = replayEvents(BEFORE).report;
const after = replayEvents(AFTER).report;
const diff: DiffReport = diffReports(before, after, { a: 'before.json', b: 'after.json' });

describe('compare/diff', () => {
  it('finds the leak group only in B as new', () => {
    expect(diff.leakGroups.new).toEqual([{ kind: 'reachable', types: ['Session'], sites: [HOSTILE_SITE], a: null, b: { objects: 1, bytes: 200, groups: 1 }, change: { objects: 1, bytes: 200, groups: 1 } }]);
  });

  it('finds the group only in A as fixed, clusters matched by their types and sites', () => {
    expect(diff.leakGroups.fixed).toEqual([{ kind: 'cyclic-garbage', types: ['Node'], sites: ['app/tree.py:5'], a: { objects: 2, bytes: 96, groups: 1 }, b: null, change: { objects: -2, bytes: -96, groups: -1 } }]);
  });

  it('gives groups in both with their change, the largest change first', () => {
    expect(diff.leakGroups.changed.map((g) => [g.types[0], g.change.objects, g.change.bytes])).toEqual([
      ['Entry', 1, 64],
      ['Cache', 0, 0],
    ]);
  });

  it('compares allocation sites by the objects left there', () => {
    expect(diff.sites.new).toEqual([{ site: HOSTILE_SITE, a: null, b: 1, change: 1 }]);
    expect(diff.sites.fixed).toEqual([{ site: 'app/tree.py:5', a: 2, b: null, change: -2 }]);
    expect(diff.sites.changed.map((s) => [s.site, s.change])).toEqual([
      ['app/cache.py:11', 1],
      ['app/cache.py:10', 0],
    ]);
  });

  it('gives B − A for every headline number', () => {
    const byName = Object.fromEntries(diff.headline.map((h) => [h.name, h]));
    expect(byName.events).toMatchObject({ a: 10, b: 8, change: -2 });
    expect(byName['cyclicGarbage.bytes']).toMatchObject({ a: 96, b: 0, change: -96 });
    expect(byName['arenas.highWater']).toMatchObject({ a: null, b: null, change: null });
    expect(diff.incomplete).toEqual([]);
  });

  it('says when a report left groups unlisted', () => {
    const truncated = structuredClone(after);
    truncated.leaks.reachable.groupsOmitted = 4;
    expect(diffReports(before, truncated, { a: 'a', b: 'b' }).incomplete).toEqual(['B lists 3 of its 7 still-reachable groups; an unlisted one may show as new or fixed']);
  });

  it('renders for the terminal in 80 columns, trace strings made safe', () => {
    const text = renderDiffTerminal(diff, { top: 10 });
    for (const line of text.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(text).toMatch(/New leaks, only in B \(1\):\n {2}still reachable Session @ app\/<img/);
    expect(text).toContain('Fixed, only in A (1):');
  });

  it('renders Markdown and HTML with every trace string escaped', async () => {
    const markdown = renderDiffMarkdown(diff);
    expect(markdown).toContain('## New leaks (only in B) (1)');
    expect(markdown).toContain('`Session @ app/<img src=x onerror=alert(1)>.py:3`');
    const html = await renderDiffHtml(diff);
    expect(html).not.toContain('<img');
    expect(html).toContain('app/&lt;img src=x onerror=alert(1)&gt;.py:3');
    expect(html.match(/<svg\b/g)).toHaveLength(1);
  });
});

describe('memreplay diff', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'memreplay-diff-'));
  const a = join(tmp, 'before.json');
  const b = join(tmp, 'after.json');
  writeFileSync(a, JSON.stringify(before));
  writeFileSync(b, JSON.stringify(after));

  it('fails --fail-on new-leaks with the budget exit, after writing every output', async () => {
    const outputs = { json: join(tmp, 'diff.json'), markdown: join(tmp, 'diff.md'), html: join(tmp, 'diff.html') };
    const { stdout, error } = await runCommand(['diff', a, b, '--fail-on', 'new-leaks', '--json', outputs.json, '--markdown', outputs.markdown, '--html', outputs.html]);
    expect(error).toBeInstanceOf(BudgetError);
    expect((error as BudgetError).failures).toEqual([`1 new leak group in ${b}: still reachable Session @ ${HOSTILE_SITE}`]);
    expect(JSON.parse(readFileSync(outputs.json, 'utf8')).leakGroups.new).toHaveLength(1);
    for (const path of Object.values(outputs)) expect(existsSync(path), path).toBe(true);
    expect(stdout).toContain('New leaks, only in B (1)');
  });

  it('passes --fail-on new-leaks when B leaks nothing new', async () => {
    const { error, stdout } = await runCommand(['diff', a, a, '--fail-on', 'new-leaks']);
    expect(error).toBeNull();
    expect(stdout).toContain('New leaks, only in B (0)');
    expect(stdout).toContain('Fixed, only in A (0)');
  });

  it('sees the fixed cycle as new when the reports are swapped', async () => {
    const { error } = await runCommand(['diff', b, a, '--fail-on', 'new-leaks']);
    expect(error).toBeInstanceOf(BudgetError);
    expect(messageOf(error)).toContain('cyclic garbage Node @ app/tree.py:5');
  });

  it('refuses what is not a replay report, and unknown verdicts', async () => {
    const notReport = join(tmp, 'not.json');
    writeFileSync(notReport, '{"format":"something-else"}');
    const broken = join(tmp, 'broken.json');
    writeFileSync(broken, JSON.stringify({ ...before, gc: undefined }));
    for (const [argv, message] of [
      [['diff', notReport, b], 'not a memreplay replay report'],
      [['diff', broken, b], "must have required property 'gc'"],
      [['diff', a, join(tmp, 'missing.json')], 'cannot read'],
      [['diff', a, b, '--fail-on', 'growth'], '--fail-on takes new-leaks, got "growth"'],
    ] as const) {
      const { error } = await runCommand(argv);
      expect(error, argv.join(' ')).toBeInstanceOf(UsageError);
      expect(messageOf(error)).toContain(message);
    }
  });
});
