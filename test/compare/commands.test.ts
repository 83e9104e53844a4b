/**
 * `memreplay compare` and `memreplay merge` through their yargs command modules: options,
 * outputs, usage errors (nothing written), and sharding end to end.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../src/analyze.js';
import { parseCompareReport } from '../../src/compare/read-reports.js';
import { UsageError } from '../../src/errors.js';
import { ROOT } from '../helpers/cli.js';
import { ensureWorkerBuilt, messageOf, runCommand } from './helpers.js';

const WEB = join(ROOT, 'traces', 'web.jsonl');
const tmp = mkdtempSync(join(tmpdir(), 'memreplay-compare-cli-'));
const out = (name: string) => join(tmp, name);

beforeAll(() => ensureWorkerBuilt(), 180_000);

describe('memreplay compare', () => {
  it('writes the table, JSON, Markdown and HTML, runs in the order given', async () => {
    const { stdout, error } = await runCommand([
      'compare', WEB, '--threshold', '700,10,10', '--threshold', '20', '--policy', 'cpython-3.11', '--policy', 'cpython-3.12',
      '--jobs', '2', '--json', out('four.json'), '--markdown', out('four.md'), '--html', out('four.html'),
    ]);
    expect(error).toBeNull();
    const report = parseCompareReport(readFileSync(out('four.json'), 'utf8'), 'four.json');
    expect(report.configurations.map((c) => c.label)).toEqual(['cpython-3.11 700/10/10', 'cpython-3.11 20', 'cpython-3.12 700/10/10', 'cpython-3.12 20']);
    expect(report.runs.map((r) => [r.config.policy, r.config.thresholds[0]])).toEqual([
      ['cpython-3.11', 700],
      ['cpython-3.11', 20],
      ['cpython-3.12', 700],
      ['cpython-3.12', 20],
    ]);
    expect(stdout).toContain('memreplay compare · ');
    expect(stdout).toMatch(/\n[* ] 4 {2}3\.12 20 /);
    expect(readFileSync(out('four.md'), 'utf8')).toContain('| 4 | `cpython-3.12 20` |');
    expect(readFileSync(out('four.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('sends JSON to stdout with --json - and leaves the table out', async () => {
    const { stdout, error } = await runCommand(['compare', WEB, '--threshold0', '10..1000x10', '--jobs', '1', '--runs', 'summary', '--json', '-']);
    expect(error).toBeNull();
    const report = JSON.parse(stdout);
    expect(report.configurations).toHaveLength(3);
    expect(report.runDetail).toBe('summary');
    expect(report.runs[0].timeline.series).toEqual({});
  });

  it('reads configurations and objectives from a file checked against its schema', async () => {
    writeFileSync(
      out('sweep.json'),
      JSON.stringify({
        configurations: [{ label: 'as deployed', policy: 'cpython-3.11', thresholds: [10000, 10, 10] }],
        grid: { policy: ['cpython-3.12'], threshold0: '100..1000x10', gc: ['on', 'off'] },
        objectives: ['collections', 'garbage-left'],
      }),
    );
    const { error } = await runCommand(['compare', WEB, '--config', out('sweep.json'), '--jobs', '2', '--json', out('sweep-out.json')]);
    expect(error).toBeNull();
    const report = parseCompareReport(readFileSync(out('sweep-out.json'), 'utf8'), 'sweep-out.json');
    expect(report.configurations.map((c) => c.label)).toEqual(['as deployed', 'cpython-3.12 100', 'cpython-3.12 1000', 'cpython-3.12 100 gc=off', 'cpython-3.12 1000 gc=off']);
    expect(report.objectives).toEqual(['collections', 'garbage-left']);
  });

  it('gives --marked-objects to every configuration, as replay --marked-objects does', async () => {
    const { stdout, error } = await runCommand(['compare', WEB, '--policy', 'cpython-3.14.2', '--threshold', '5', '--marked-objects', '0', '--jobs', '1', '--json', '-']);
    expect(error).toBeNull();
    const report = parseCompareReport(stdout, 'stdout');
    expect(report.configurations.map((c) => c.label)).toEqual(['cpython-3.14.2 5 marked=0']);
    expect(report.runs[0].config.markedObjects).toBe(0);
    const single = await runReplay({ trace: WEB, policy: 'cpython-3.14.2', thresholds: [5], markedObjects: 0 });
    expect(report.runs[0].gc).toEqual(JSON.parse(JSON.stringify(single.report.gc)));
    const byDefault = await runReplay({ trace: WEB, policy: 'cpython-3.14.2', thresholds: [5] });
    expect(byDefault.report.gc.totals.collections).not.toBe(single.report.gc.totals.collections);
    // A report written before the option existed lacks the field: it meant the default.
    const older = JSON.parse(stdout) as { configurations: Record<string, unknown>[] };
    for (const entry of older.configurations) delete entry.markedObjects;
    expect(parseCompareReport(JSON.stringify(older), 'older.json').configurations[0].markedObjects).toBeNull();
  });

  describe('when the command line is wrong, it says so and writes nothing', () => {
    const config = out('bad-config.json');
    writeFileSync(config, '{"configurations":[{"thresholds":[1.5]}],"__proto__":{"polluted":true}}');
    const cases: [string, string[], string][] = [
      ['an unknown policy', ['--policy', 'cpython-3.15'], 'unknown collector policy "cpython-3.15"; known policies: refcount-only, mark-sweep, cpython-3.7'],
      ['a range without a step', ['--threshold0', '100..1000'], '--threshold0: the range "100..1000" needs a step'],
      ['a grid over the cap', ['--threshold0', '1..101+1', '--threshold1', '1..101+1'], '10,201 configurations'],
      ['a file and options together', ['--config', config, '--threshold', '700'], '--config lists the configurations; leave out --threshold'],
      ['a file and --marked-objects', ['--config', config, '--marked-objects', '10'], '--config lists the configurations; leave out --marked-objects'],
      ['a negative --marked-objects', ['--marked-objects', '-1'], '--marked-objects must be an integer >= 0, got -1'],
      ['a file against its schema', ['--config', config], '/configurations/0/thresholds/0: must be integer'],
      ['a file with a __proto__ key', ['--config', config], '(top level): must NOT have additional properties ("__proto__")'],
      ['a shard without --json', ['--shard', '1/2'], '--shard writes a part for memreplay merge: name it with --json FILE'],
      ['a shard with --html', ['--shard', '1/2', '--json', out('x.json'), '--html', out('x.html')], 'render --html and --markdown with memreplay merge'],
      ['one objective', ['--objectives', 'examined'], 'at least two objectives'],
      ['an output over the trace', ['--json', WEB], 'refusing to write'],
      ['an unknown free-list model', ['--freelists', '3.12,2.7'], 'unknown free-list model "2.7"'],
      ['two outputs on stdout', ['--json', '-', '--html', '-'], 'only one of --json, --markdown and --html can go to stdout'],
    ];
    it.each(cases)('%s', async (_, options, message) => {
      const target = out('never.json');
      const argv = ['compare', WEB, ...options];
      const { error } = await runCommand(options.includes('--json') ? argv : [...argv, '--markdown', target]);
      expect(error).toBeInstanceOf(UsageError);
      expect(messageOf(error)).toContain(message);
      expect(existsSync(target)).toBe(false);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});

describe('memreplay merge', () => {
  it('joins shard parts into the files the unsharded run writes, byte for byte', async () => {
    const sweep = ['--policy', 'cpython-3.12,refcount-only', '--threshold0', '10..1000x10', '--threshold1', '5,10'];
    expect((await runCommand(['compare', WEB, ...sweep, '--jobs', '2', '--json', out('whole.json'), '--html', out('whole.html')])).error).toBeNull();
    for (const k of [1, 2, 3]) {
      const { error, stdout } = await runCommand(['compare', WEB, ...sweep, '--jobs', '1', '--shard', `${k}/3`, '--json', out(`part-${k}.json`)]);
      expect(error).toBeNull();
      expect(stdout).toContain(`shard ${k}/3: `);
    }
    const { error } = await runCommand(['merge', out('part-2.json'), out('part-3.json'), out('part-1.json'), '--json', out('merged.json'), '--html', out('merged.html')]);
    expect(error).toBeNull();
    expect(readFileSync(out('merged.json'), 'utf8')).toBe(readFileSync(out('whole.json'), 'utf8'));
    expect(readFileSync(out('merged.html'), 'utf8')).toBe(readFileSync(out('whole.html'), 'utf8'));
    expect(parseCompareReport(readFileSync(out('merged.json'), 'utf8'), 'merged.json').runs).toHaveLength(7);
  });

  it('refuses a missing part and files that are not parts', async () => {
    writeFileSync(out('replay.json'), '{"format":"memreplay-report"}');
    for (const [parts, message] of [
      [[out('part-1.json'), out('part-3.json')], 'missing shard 2/3'],
      [[out('replay.json')], 'not a memreplay comparison'],
      [[out('whole.json')], 'is a whole comparison, not a shard\'s part'],
    ] as const) {
      const { error } = await runCommand(['merge', ...parts, '--json', out('never-merged.json')]);
      expect(error).toBeInstanceOf(UsageError);
      expect(messageOf(error)).toContain(message);
      expect(existsSync(out('never-merged.json'))).toBe(false);
    }
  });
});
