import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'memreplay-report-cli-'));
const out = (name: string) => join(tmp, name);
/** A fixed clock for the HTML header (the reproducible-builds convention). */
const FIXED_TIME = { SOURCE_DATE_EPOCH: '1700000000' };

beforeAll(() => ensureBuilt(), 180_000);

describe('cli: reports and budgets', () => {
  describe('replay', () => {
    it('writes the HTML, Markdown, CSV and JSON reports asked for, and still prints the summary', async () => {
      const result = await runCli(['replay', 'traces/web.jsonl', '--threshold', '20', '--html', out('web.html'), '--markdown', out('web.md'), '--csv', out('csv'), '--json', out('web.json')]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('memreplay · traces/web.jsonl · 6,000 events');
      expect(readFileSync(out('web.html'), 'utf8')).toMatch(/^<!doctype html>\n<html lang="en">[^]*<\/html>\n$/);
      expect(readFileSync(out('web.md'), 'utf8')).toMatch(/^## memreplay: traces\/web\.jsonl\n/);
      expect(readdirSync(out('csv')).sort()).toEqual(['collections.csv', 'leak-groups.csv', 'size-classes.csv']);
      expect(readFileSync(join(out('csv'), 'collections.csv'), 'utf8').split('\r\n')[0]).toBe('event,generation,reason,examined,collected,promoted,uncollectable,finalizers');
      expect(JSON.parse(readFileSync(out('web.json'), 'utf8')).format).toBe('memreplay-report');
    });

    it('prints the Markdown alone with --markdown -', async () => {
      const result = await runCli(['replay', 'traces/cycle.jsonl', '--markdown', '-']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^## memreplay: traces\/cycle\.jsonl\n/);
      expect(result.stdout).not.toContain('Leaks at the end of the trace\n  cyclic');
    });

    it('exits 1 with one line per broken budget, after writing every report', async () => {
      const html = out('budget.html');
      const md = out('budget.md');
      const result = await runCli([
        'replay', 'traces/web.jsonl', '--html', html, '--markdown', md,
        '--fail-on', 'leaks', '--max-peak-bytes', '1K', '--max-collections', '0=0', '--max-growth', 'app/*=1G',
      ]);
      expect(result.code).toBe(1);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^memreplay: budget failed: --fail-on leaks: 41 objects \([\d.]+ KiB\) of cyclic garbage waiting for a collection at the end$/);
      expect(lines[1]).toMatch(/^memreplay: budget failed: --max-peak-bytes 1K: peak live bytes [\d.]+ KiB \([\d,]+ B at event [\d,]+\) > 1\.0 KiB$/);
      // The reports are there, with the verdicts in them.
      expect(readFileSync(html, 'utf8')).toContain('2 of 4 budgets failed.');
      expect(readFileSync(md, 'utf8')).toContain('**Budgets: 2 of 4 failed** ❌');
      expect(result.stdout).toContain('Budgets: 2 of 4 failed');
    });

    it('passes when every budget holds', async () => {
      const result = await runCli(['replay', 'traces/refcount-frees.jsonl', '--fail-on', 'leaks', '--max-peak-bytes', '1M', '--max-collections', '2=0']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Budgets: all 3 passed');
      expect(result.stderr).toBe('');
    });

    it.each([
      [['--max-peak-bytes', 'lots'], '--max-peak-bytes: expected a byte count such as 1500, 64K, 1.5M or 2G, got "lots"'],
      [['--max-collections', '5=1'], '--max-collections: the generation must be 0, 1 or 2, got "5"'],
      [['--max-growth', 'app/*'], '--max-growth: expected SITE_GLOB=BYTES'],
      [['--fail-on', 'everything'], 'Invalid values'],
      [['--csv', '-'], '--csv writes several files: name a directory, not "-"'],
      [['--json', '-', '--markdown', '-'], 'only one output can go to stdout'],
    ])('refuses %j with exit 2 before replaying, writing nothing', async (args, message) => {
      const html = out(`refused-${args[0].slice(2)}.html`);
      const result = await runCli(['replay', 'traces/web.jsonl', '--html', html, ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(existsSync(html)).toBe(false);
    });

    it('loads vega only when an HTML report is asked for', async () => {
      const hooks = join(tmp, 'hooks.mjs');
      const register = join(tmp, 'register.mjs');
      writeFileSync(hooks, 'export async function resolve(s, c, next) { if (/^vega(-lite)?$/.test(s)) console.error(`loaded: ${s}`); return next(s, c); }\n');
      writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
      const env = { NODE_OPTIONS: `--import ${register}` };
      const plain = await runCli(['replay', 'traces/cycle.jsonl', '--markdown', out('plain.md'), '--csv', out('plain-csv')], { env });
      expect(plain.code).toBe(0);
      expect(plain.stderr).not.toContain('loaded:');
      const html = await runCli(['replay', 'traces/cycle.jsonl', '--html', out('loaded.html')], { env });
      expect(html.code).toBe(0);
      expect(html.stderr).toContain('loaded: vega');
    });
  });

  describe('report', () => {
    it('renders a saved JSON report to the same HTML as the replay that wrote it', async () => {
      const first = await runCli(['replay', 'traces/web.jsonl', '--threshold', '20', '--json', out('saved.json'), '--html', out('replayed.html'), '--max-peak-bytes', '1M'], { env: FIXED_TIME });
      expect(first.code).toBe(0);
      const again = await runCli(['report', out('saved.json'), '--html', out('rendered.html'), '--max-peak-bytes', '1M'], { env: FIXED_TIME });
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(out('rendered.html'), 'utf8')).toBe(readFileSync(out('replayed.html'), 'utf8'));
      expect(readFileSync(out('rendered.html'), 'utf8')).toContain('generated 2023-11-14T22:13:20Z');
      // And the summary, as replay prints it.
      expect(again.stdout).toBe(first.stdout);
    });

    it('differs from the replay’s page only in the generation time when the clock is not fixed', async () => {
      await runCli(['replay', 'traces/cycle.jsonl', '--json', out('cycle.json'), '--html', out('cycle-replayed.html')]);
      await runCli(['report', out('cycle.json'), '--html', out('cycle-rendered.html')]);
      const strip = (html: string) => html.replace(/ · generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, '');
      expect(strip(readFileSync(out('cycle-rendered.html'), 'utf8'))).toBe(strip(readFileSync(out('cycle-replayed.html'), 'utf8')));
    });

    it('judges budgets again, reads stdin, and writes every format', async () => {
      const json = readFileSync(out('saved.json'));
      const result = await runCli(['report', '-', '--fail-on', 'leaks', '--markdown', out('again.md'), '--csv', out('again-csv')], { stdin: json });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^memreplay: budget failed: --fail-on leaks: /);
      expect(existsSync(out('again.md'))).toBe(true);
      expect(readdirSync(out('again-csv'))).toHaveLength(3);
    });

    it.each([
      ['not JSON', '{"format": ', 'not JSON'],
      ['a trace', JSON.stringify({ format: 'memreplay', version: 1, events: [] }), 'not a memreplay report (expected "format": "memreplay-report")'],
      ['a newer report', JSON.stringify({ format: 'memreplay-report', version: 2 }), 'report version 2 is not supported'],
      ['an incomplete report', JSON.stringify({ format: 'memreplay-report', version: 1, tool: { name: 'memreplay', version: '0' } }), "must have required property 'trace'"],
    ])('refuses %s with exit 2 and writes nothing', async (_, content, message) => {
      const input = out('bad-report.json');
      writeFileSync(input, content);
      const html = out('bad-report.html');
      const result = await runCli(['report', input, '--html', html]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(existsSync(html)).toBe(false);
    });

    it('is listed in the help, with the budget options', async () => {
      const help = await runCli(['--help']);
      expect(help.stdout).toContain('memreplay report <report>');
      const replayHelp = await runCli(['replay', '--help']);
      for (const option of ['--html', '--markdown', '--csv', '--fail-on', '--max-peak-bytes', '--max-collections', '--max-growth']) expect(replayHelp.stdout).toContain(option);
    });
  });

  describe('the terminal summary', () => {
    it('is colored only when asked, and NO_COLOR wins over FORCE_COLOR', async () => {
      const forced = await runCli(['replay', 'traces/cycle.jsonl'], { env: { FORCE_COLOR: '1' } });
      expect(forced.stdout).toContain('\x1b[1m');
      const noColor = await runCli(['replay', 'traces/cycle.jsonl'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
      expect(noColor.stdout).not.toContain('\x1b[');
      const flag = await runCli(['replay', 'traces/cycle.jsonl', '--color'], { env: { NO_COLOR: '1' } });
      expect(flag.stdout).toContain('\x1b[1m');
    });
  });
});

