import { Ajv } from 'ajv';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, runCli } from '../helpers/cli.js';

const reportSchema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'replay-report.schema.json'), 'utf8'));
const validateReport = new Ajv({ allErrors: true, strict: false }).compile(reportSchema);
const tmp = mkdtempSync(join(tmpdir(), 'memreplay-cli-'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

beforeAll(() => ensureBuilt(), 180_000);

describe('cli', () => {
  describe('the frame', () => {
    it('prints its version and a help that lists every command', async () => {
      expect((await runCli(['--version'])).stdout.trim()).toBe(pkg.version);
      const help = await runCli(['--help']);
      expect(help.code).toBe(0);
      for (const command of ['replay', 'report', 'compare', 'merge', 'diff', 'validate', 'info', 'policies', 'pools', 'generate', 'verify']) expect(help.stdout).toContain(`memreplay ${command}`);
      expect(help.stdout).toContain('Exit codes');
    });

    it('answers a usage mistake with one line and exit code 2, no stack trace', async () => {
      for (const args of [['frobnicate'], [], ['replay'], ['replay', 'traces/web.jsonl', '--threshold', 'abc'], ['replay', 'traces/web.jsonl', '--policy', 'cpython-2.0']]) {
        const result = await runCli(args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toMatch(/^memreplay: /);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
      expect((await runCli(['replay', 'traces/web.jsonl', '--policy', 'cpython-2.0'])).stderr).toContain('known policies: refcount-only, mark-sweep, cpython-3.7');
    });

    it('rejects pool parameters named like prototype keys', async () => {
      const result = await runCli(['replay', 'traces/cycle.jsonl', '--pool-param', '__proto__=1']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('unknown parameter "__proto__"');
    });
  });

  describe('replay', () => {
    it('prints a summary of the main sample', async () => {
      const result = await runCli(['replay', 'traces/web.jsonl']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('memreplay · traces/web.jsonl · 6,000 events');
      expect(result.stdout).toContain('cyclic garbage waiting for a collection');
      expect(result.stdout).not.toContain('\x1b[');
    });

    it('writes a JSON report that follows its schema, byte-identical for every encoding of a trace', async () => {
      const reports: string[] = [];
      for (const encoding of ['jsonl', 'json', 'csv']) {
        const out = join(tmp, `web-${encoding}.json`);
        const result = await runCli(['replay', `traces/web.${encoding}`, '--json', out]);
        expect(result.code).toBe(0);
        const report = JSON.parse(readFileSync(out, 'utf8'));
        expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
        report.trace.file = 'web';
        reports.push(JSON.stringify(report));
      }
      expect(reports[1]).toBe(reports[0]);
      expect(reports[2]).toBe(reports[0]);
    });

    it('gives the same report twice, and reads gzip and stdin alike', async () => {
      const a = await runCli(['replay', 'traces/cycle.jsonl', '--json', '-']);
      const b = await runCli(['replay', 'traces/cycle.jsonl', '--json', '-']);
      expect(a.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
      const gz = join(tmp, 'cycle.jsonl.gz');
      writeFileSync(gz, gzipSync(readFileSync(join(ROOT, 'traces', 'cycle.jsonl'))));
      const fromGzip = JSON.parse((await runCli(['replay', gz, '--json', '-'])).stdout);
      const fromStdin = JSON.parse((await runCli(['replay', '-', '--json', '-'], { stdin: readFileSync(join(ROOT, 'traces', 'cycle.csv')) })).stdout);
      const expected = JSON.parse(a.stdout);
      for (const report of [fromGzip, fromStdin]) {
        expect(report.gc).toEqual(expected.gc);
        expect(report.leaks).toEqual(expected.leaks);
      }
    });

    it('reads stdin redirected from a file as that file, from where stdin stands', () => {
      // `memreplay replay - < trace` (read as the file itself, from its start), and the same after
      // `head -1` has read the header line (read on from line 2, as a stream).
      const trace = join(ROOT, 'traces', 'cycle.jsonl');
      const run = (script: string) => spawnSync('sh', ['-c', script, 'sh', process.execPath, join(ROOT, 'bin', 'memreplay.js')], { stdio: [openSync(trace, 'r'), 'pipe', 'pipe'], encoding: 'utf8' });
      const whole = run('"$1" "$2" replay - --json -');
      expect(whole.status, whole.stderr).toBe(0);
      const fromPath = spawnSync(process.execPath, [join(ROOT, 'bin', 'memreplay.js'), 'replay', trace, '--json', '-'], { encoding: 'utf8' });
      const report = JSON.parse(whole.stdout);
      expect(report.trace.file).toBe('-');
      expect(report.gc).toEqual(JSON.parse(fromPath.stdout).gc);
      expect(report.trace.meta).toEqual(JSON.parse(fromPath.stdout).trace.meta);
      const afterHeader = run('head -n 1 > /dev/null; "$1" "$2" replay - --json -');
      expect(afterHeader.status, afterHeader.stderr).toBe(0);
      // The header line was read by head: the rest has no header, hence no meta.
      expect(JSON.parse(afterHeader.stdout).trace.meta).toEqual({});
      expect(JSON.parse(afterHeader.stdout).trace.events).toBe(report.trace.events);
    });

    it('applies --policy, --threshold and --gc off', async () => {
      const run = async (...args: string[]) => JSON.parse((await runCli(['replay', 'traces/web.jsonl', '--json', '-', ...args])).stdout);
      const lowThreshold = await run('--threshold', '20', '--policy', 'cpython-3.11');
      expect(lowThreshold.config.policy).toBe('cpython-3.11');
      expect(lowThreshold.config.thresholds).toEqual([20, 10, 10]);
      expect(lowThreshold.gc.totals.automatic).toBeGreaterThan(0);
      const off = await run('--threshold', '20', '--gc', 'off');
      expect(off.gc.totals.automatic).toBe(0);
      const refcount = await run('--policy', 'refcount-only', '--pool', 'none');
      expect(refcount.pool).toBeNull();
      expect(refcount.config.tracesCycles).toBe(false);
    });

    it('applies --marked-objects to the 3.14.1-3.14.4 model and records it in the report', async () => {
      // Dropped 2-cycles at threshold 50: the fewer interpreter objects the roots reach, the
      // smaller the debt each MARK step leaves, and the more increments collect.
      const events: object[] = [{ op: 'threshold', gen: 0, value: 50 }];
      for (let i = 0; i < 3000; i++) {
        const [a, b] = [2 * i, 2 * i + 1];
        events.push({ op: 'alloc', id: a, type: 'Node', size: 48 }, { op: 'alloc', id: b, type: 'Node', size: 48 }, { op: 'link', src: a, dst: b }, { op: 'link', src: b, dst: a }, { op: 'decref', id: a }, { op: 'decref', id: b });
      }
      const trace = join(tmp, 'cycles-314.jsonl');
      writeFileSync(trace, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
      const run = async (marked: string) => JSON.parse((await runCli(['replay', trace, '--json', '-', '--policy', 'cpython-3.14.2', '--old-objects', '1000', '--marked-objects', marked])).stdout);
      const [few, all] = [await run('0'), await run('1000')];
      expect(few.config.markedObjects).toBe(0);
      expect(all.config.markedObjects).toBe(1000);
      expect(few.gc.generations[1].collections).toBeGreaterThan(all.gc.generations[1].collections);
    });

    it('fails on an invalid trace with file:line messages, exit 2, and writes nothing', async () => {
      const trace = join(tmp, 'bad.jsonl');
      writeFileSync(trace, ['{"op":"alloc","id":1,"type":"A","size":8}', '{"op":"alloc","id":2,"type":"A","size":"big"}', '{"op":"decref","id":9}', ''].join('\n'));
      const out = join(tmp, 'bad-report.json');
      const result = await runCli(['replay', trace, '--json', out]);
      expect(result.code).toBe(2);
      expect(result.stderr.split('\n').filter(Boolean)).toEqual([
        `memreplay: ${trace}:2: event 1 (alloc): "size" must be an integer >= 0, got "big"`,
        `${trace}:3: event 2 (decref): "id": object 9 is not alive (never allocated, or already freed)`,
      ]);
      expect(existsSync(out)).toBe(false);
    });

    it('refuses to write a report over its input', async () => {
      const trace = join(tmp, 'input.jsonl');
      copyFileSync(join(ROOT, 'traces', 'cycle.jsonl'), trace);
      const before = readFileSync(trace);
      const result = await runCli(['replay', trace, '--json', trace]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('it is one of the input traces');
      expect(readFileSync(trace)).toEqual(before);
    });

    it('shows hostile type names without terminal escape sequences', async () => {
      const trace = join(tmp, 'hostile.jsonl');
      writeFileSync(trace, `${JSON.stringify({ op: 'alloc', id: 1, type: '\u001b[2J\u001b]0;pwned\u0007', size: 64 })}\n`);
      const result = await runCli(['replay', trace]);
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain('\u001b');
      expect(result.stdout).toContain('\\x1b[2J');
    });
  });

  describe('validate and info', () => {
    it('validates every sample trace', async () => {
      const files = ['refcount-frees', 'cycle', 'cache-leak', 'web', 'freeze'].flatMap((name) => ['jsonl', 'json', 'csv'].map((e) => `traces/${name}.${e}`));
      const result = await runCli(['validate', ...files, '--json']);
      expect(result.code).toBe(0);
      const parsed = JSON.parse(result.stdout) as { valid: boolean; traces: { valid: boolean }[] };
      expect(parsed.valid).toBe(true);
      expect(parsed.traces).toHaveLength(files.length);
    });

    it('reports each invalid file and exits 2', async () => {
      const bad = join(tmp, 'bad2.csv');
      writeFileSync(bad, 'op,id,type,size\nalloc,1,A,8\nincref,2,,\n');
      const result = await runCli(['validate', 'traces/cycle.jsonl', bad]);
      expect(result.code).toBe(2);
      expect(result.stdout).toContain('traces/cycle.jsonl: valid (821 events)');
      expect(result.stderr).toContain(`${bad}:3: event 1 (incref): "id": object 2 is not alive`);
    });

    it('summarizes a trace as JSON', async () => {
      const result = await runCli(['info', 'traces/refcount-frees.jsonl', '--json']);
      expect(result.code).toBe(0);
      const info = JSON.parse(result.stdout);
      expect(info.events).toBe(31);
      expect(info.allocated.objects).toBe(9);
      expect(info.byOp.alloc).toBe(9);
      expect(info.liveAtEnd.objects).toBe(0);
      expect(info.meta.python).toBe('3.12.1');
    });

    it('says a trace with no event peaks before any event, not "at event -1"', async () => {
      const result = await runCli(['info', '-'], { stdin: '{"format":"memreplay","version":1}\n' });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('peak live under refcounting alone: 0 objects before any event, 0 B');
    });
  });

  describe('generate', () => {
    it('writes a deterministic trace that replays', async () => {
      const a = await runCli(['generate', '--workload', 'batch', '--events', '2000', '--seed', '7']);
      const b = await runCli(['generate', '--workload', 'batch', '--events', '2000', '--seed', '7']);
      expect(a.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
      expect(a.stdout.trim().split('\n')).toHaveLength(2001);
      const out = join(tmp, 'batch.csv');
      expect((await runCli(['generate', '--workload', 'batch', '--events', '2000', '--seed', '7', '--format', 'csv', '-o', out])).code).toBe(0);
      const replayed = JSON.parse((await runCli(['replay', out, '--json', '-'])).stdout);
      expect(replayed.trace.events).toBe(2000);
    });
  });
});
