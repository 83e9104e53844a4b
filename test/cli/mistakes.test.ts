/**
 * Mistakes in the command line and awkward outputs: each is one clear message and exit 2 (no
 * stack trace), and a run that fails changes no output it was asked to write. Found by feeding
 * the CLI adversarial usage; each case here crashed (exit 70), clobbered something, or passed an
 * unreadable input for an empty trace before it was fixed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, lstatSync, mkdtempSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, ROOT, runCli, type CliResult } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'memreplay-mistakes-'));
const CYCLE = join(ROOT, 'traces', 'cycle.jsonl');

beforeAll(() => ensureBuilt(), 180_000);

/** Exit 2, a message starting "memreplay: " that contains `message`, and no stack trace. */
function expectUsageError(result: CliResult, message: string): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toMatch(/^memreplay: /);
  expect(result.stderr).toContain(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** Runs the CLI with file descriptors of our choosing for stdin and stdout. */
function runWithDescriptors(args: readonly string[], stdin: number | 'pipe', stdout: number | 'pipe'): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: [stdin, stdout, 'pipe'] });
    const err: Buffer[] = [];
    const out: Buffer[] = [];
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

describe('cli: mistakes and awkward outputs', () => {
  describe('an option that takes one value, given twice', () => {
    it.each([
      [['replay', CYCLE, '--json', join(tmp, 'twice.json'), '--json', join(tmp, 'twice.json')], '--json was given 2 times'],
      [['replay', CYCLE, '--threshold', '5', '--threshold', '6'], '--threshold was given 2 times'],
      [['validate', CYCLE, '--format', 'jsonl', '--format', 'jsonl'], '--format was given 2 times'],
      [['generate', '--workload', 'web', '-o', join(tmp, 'twice.jsonl'), '-o', join(tmp, 'twice.jsonl')], '--output was given 2 times'],
      [['compare', CYCLE, '--shard', '1/2', '--shard', '1/2', '--json', join(tmp, 'twice-part.json')], '--shard was given 2 times'],
    ])('%j', async (args, message) => {
      expectUsageError(await runCli(args), message);
      expect(readdirSync(tmp).filter((name) => name.startsWith('twice'))).toEqual([]);
    });

    it('while the repeatable ones collect their values', async () => {
      expect((await runCli(['validate', CYCLE, join(ROOT, 'traces', 'web.jsonl')])).code).toBe(0);
      expect((await runCli(['replay', CYCLE, '--max-growth', 'a*=1G', '--max-growth', 'b*=1G', '--pool-param', 'pool_size=4096', '--pool-param', 'arena_size=262144'])).code).toBe(0);
      const compared = await runCli(['compare', CYCLE, '--policy', 'cpython-3.11', '--policy', 'cpython-3.12', '--threshold', '10', '--threshold', '20', '--jobs', '1', '--json', '-']);
      expect(compared.code, compared.stderr).toBe(0);
      expect(JSON.parse(compared.stdout).configurations).toHaveLength(4);
    });
  });

  describe('outputs', () => {
    it('writes all of them or none: a failed output leaves the earlier ones as they were', async () => {
      const json = join(tmp, 'kept.json');
      const html = join(tmp, 'kept.html');
      writeFileSync(json, 'BEFORE');
      writeFileSync(html, 'BEFORE');
      const notADirectory = join(tmp, 'a-file');
      writeFileSync(notADirectory, '');
      expectUsageError(await runCli(['replay', CYCLE, '--json', json, '--html', html, '--markdown', join(notADirectory, 'x.md')]), `${notADirectory} is a file, not a directory`);
      expect(readFileSync(json, 'utf8')).toBe('BEFORE');
      expect(readFileSync(html, 'utf8')).toBe('BEFORE');
      expect(readdirSync(tmp).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      // And a directory made for an output that was then not written is removed again.
      const fresh = join(tmp, 'fresh-dir');
      expectUsageError(await runCli(['replay', CYCLE, '--csv', join(fresh, 'tables'), '--markdown', join(notADirectory, 'x.md')]), 'is a file, not a directory');
      expect(existsSync(fresh)).toBe(false);
    });

    it('writes a device before replacing any file: a full device leaves the files as they were', async () => {
      const json = join(tmp, 'before-device.json');
      writeFileSync(json, 'BEFORE');
      expectUsageError(await runCli(['replay', CYCLE, '--json', json, '--markdown', '/dev/full']), 'cannot write /dev/full: ENOSPC');
      expect(readFileSync(json, 'utf8')).toBe('BEFORE');
      expectUsageError(await runCli(['compare', CYCLE, '--threshold0', '10,100', '--json', json, '--html', '/dev/full']), 'cannot write /dev/full: ENOSPC');
      expect(readFileSync(json, 'utf8')).toBe('BEFORE');
      expect(readdirSync(tmp).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    });

    it('has its files in place when a reader of stdout stops early, and leaves no temporary file when stdout fails', async () => {
      // The JSON report (178 KB) is more than a pipe holds: memreplay meets the closed pipe.
      const markdown = join(tmp, 'before-head.md');
      const head = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" replay "${CYCLE}" --markdown "${markdown}" --json - | head -c 1`], { encoding: 'utf8' });
      expect(head.stdout).toBe('{');
      expect(readFileSync(markdown, 'utf8')).toMatch(/^## memreplay: /);
      const full = openSync('/dev/full', 'w');
      try {
        expectUsageError(await runWithDescriptors(['replay', CYCLE, '--json', join(tmp, 'beside-full.json')], 'pipe', full), 'cannot write to stdout: ENOSPC');
      } finally {
        closeSync(full);
      }
      expect(readdirSync(tmp).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    });

    it('says at once when a directory cannot be made (Node 20 looped forever under /proc)', async () => {
      expectUsageError(await runCli(['replay', CYCLE, '--markdown', '/proc/self/no-such/dir/x.md']), "cannot write /proc/self/no-such/dir/x.md: ENOENT: no such file or directory, mkdir '/proc/self/no-such'");
    });

    it('refuses to replace the file read on stdin', async () => {
      const report = join(tmp, 'stdin-report.json');
      expect((await runCli(['replay', CYCLE, '--json', report])).code).toBe(0);
      const before = readFileSync(report, 'utf8');
      const input = openSync(report, 'r');
      try {
        expectUsageError(await runWithDescriptors(['report', '-', '--markdown', report], input, 'pipe'), `refusing to write ${report}: it is the input read from stdin`);
      } finally {
        closeSync(input);
      }
      expect(readFileSync(report, 'utf8')).toBe(before);
      // An output under a file is still "not a directory" when the input comes from stdin.
      const trace = openSync(CYCLE, 'r');
      try {
        expectUsageError(await runWithDescriptors(['replay', '-', '--json', join(report, 'x.json')], trace, 'pipe'), `${report} is a file, not a directory`);
      } finally {
        closeSync(trace);
      }
    });

    it('writes through a symbolic link, leaving the link', async () => {
      const target = join(tmp, 'link-target.json');
      const link = join(tmp, 'link.json');
      writeFileSync(target, 'BEFORE');
      symlinkSync(target, link);
      expect((await runCli(['replay', CYCLE, '--json', link])).code).toBe(0);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(JSON.parse(readFileSync(target, 'utf8')).trace.events).toBe(821);
    });

    it('writes into a FIFO instead of replacing it', async () => {
      const fifo = join(tmp, 'report.fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const received: Buffer[] = [];
      const reading = new Promise<void>((resolve, reject) => {
        createReadStream(fifo).on('data', (d) => received.push(d as Buffer)).on('end', resolve).on('error', reject);
      });
      const result = await runCli(['replay', CYCLE, '--json', fifo]);
      await reading;
      expect(result.code, result.stderr).toBe(0);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      expect(JSON.parse(Buffer.concat(received).toString()).trace.events).toBe(821);
    });

    it('says in one line that stdout cannot be written (a full disk), exit 2', async () => {
      const full = openSync('/dev/full', 'w');
      try {
        for (const args of [['replay', CYCLE], ['replay', CYCLE, '--json', '-'], ['generate', '--workload', 'web', '--events', '1000']]) {
          expectUsageError(await runWithDescriptors(args, 'pipe', full), 'cannot write to stdout: ENOSPC');
        }
      } finally {
        closeSync(full);
      }
    });

    it('refuses empty paths, and pool parameters without a pool', async () => {
      expectUsageError(await runCli(['replay', CYCLE, '--csv', '']), '--csv was given an empty path');
      expectUsageError(await runCli(['replay', CYCLE, '--json', '']), 'an output was given an empty path');
      expectUsageError(await runCli(['replay', CYCLE, '--pool', 'none', '--pool-param', 'pool_size=4096']), '--pool none models no allocator, so it takes no parameters (got pool_size)');
    });
  });

  describe('inputs and values', () => {
    it('refuses a directory on stdin instead of reading it as an empty trace', async () => {
      const directory = openSync(tmp, 'r');
      try {
        expectUsageError(await runWithDescriptors(['replay', '-'], directory, 'pipe'), 'cannot read trace stdin (-): it is a directory');
      } finally {
        closeSync(directory);
      }
    });

    it('refuses an empty name in a list option instead of running the default', async () => {
      expectUsageError(await runCli(['compare', CYCLE, '--policy', '']), '--policy was given an empty name ("")');
      expectUsageError(await runCli(['compare', CYCLE, '--pool', 'malloc,,pymalloc-3.11']), '--pool was given an empty name ("malloc,,pymalloc-3.11")');
      expectUsageError(await runCli(['compare', CYCLE, '--gc', 'on,']), '--gc was given an empty name');
    });

    it('refuses an empty value for a number option instead of reading it as 0', async () => {
      expectUsageError(await runCli(['generate', '--workload', 'web', '--events', '']), '--events was given an empty value; it takes a number');
      expectUsageError(await runCli(['generate', '--workload', 'web', '--seed=']), '--seed was given an empty value');
      // It would have replaced the trace's meta.oldObjects (25,000) with 0.
      expectUsageError(await runCli(['replay', join(ROOT, 'traces', 'web.jsonl'), '--old-objects', ' ']), '--old-objects was given an empty value');
      // An empty value of a text option is not this mistake, nor an empty positional after a number option's value.
      expect((await runCli(['replay', CYCLE, '--top', '0'])).code).toBe(0);
    });

    it('lists the first errors in file order, heap-rule and format errors alike', async () => {
      // Line 3 breaks a heap rule (found when the chunk is replayed), line 4 the format (found
      // when it is decoded, before): --max-errors 1 must show line 3.
      const lines = ['{"format":"memreplay","version":1}', '{"op":"alloc","id":1,"type":"A","size":16}', '{"op":"decref","id":9}', '{"op":"mark","label":5}'];
      for (const [encoding, text] of [
        ['jsonl', `${lines.join('\n')}\n`],
        ['json', `{"format":"memreplay","version":1,"events":[\n${lines.slice(1).join(',\n')}\n]}\n`],
      ]) {
        const first = await runCli(['validate', '-', '--format', encoding, '--max-errors', '1'], { stdin: text });
        expect(first.code).toBe(2);
        expect(first.stderr.split('\n')[0]).toBe('-:3: event 1 (decref): "id": object 9 is not alive (never allocated, or already freed)');
        expect(first.stderr).toContain('stopped after 1 error; more follow');
        const all = await runCli(['validate', '-', '--format', encoding], { stdin: text });
        expect(all.stderr.split('\n').slice(0, 2).map((line) => line.split(':')[1])).toEqual(['3', '4']);
      }
    });

    it('reads stdin once: "-" named twice among the traces to validate is refused', async () => {
      expectUsageError(await runCli(['validate', '-', CYCLE, '-'], { stdin: readFileSync(CYCLE) }), '- (stdin) can be named once among the traces');
    });

    it('says what a number option was given when it is not a number, or too large', async () => {
      expectUsageError(await runCli(['replay', CYCLE, '--max-errors', 'abc']), '--max-errors must be an integer >= 1, got something that is not a number');
      expectUsageError(await runCli(['generate', '--workload', 'web', '--seed', '1e309']), 'the seed must be a whole number from 0 to 4294967295, got Infinity');
      expectUsageError(await runCli(['replay', CYCLE, '--old-objects', '1e20']), '--old-objects must be at most 4294967295');
    });
  });

  describe('verify', () => {
    it('refuses an interpreter that is not a CPython it can run, naming it', async () => {
      const trace = join(tmp, 'plain.jsonl');
      writeFileSync(trace, '{"op":"alloc","id":1,"type":"Node","size":8}\n{"op":"link","src":1,"dst":1}\n{"op":"decref","id":1}\n{"op":"collect","gen":2}\n');
      expectUsageError(await runCli(['verify', trace, '--python', '/bin/false']), '/bin/false does not run as a Python interpreter (exit code 1)');
      const script = join(tmp, 'fake-python');
      writeFileSync(script, '#!/bin/sh\necho "pypy 3.10.14"\n', { mode: 0o755 });
      expectUsageError(await runCli(['verify', trace, '--python', script]), `${script} is pypy 3.10.14, not CPython`);
      writeFileSync(script, '#!/bin/sh\necho "cpython 3.6.15"\n', { mode: 0o755 });
      expectUsageError(await runCli(['verify', trace, '--python', script]), `${script} is Python 3.6.15; the oracle runs on CPython 3.7 and later`);
    });

    it('places an event the oracle cannot run at its file and line', async () => {
      const trace = join(tmp, 'dead.jsonl');
      writeFileSync(trace, '{"op":"alloc","id":1,"type":"Node","size":8}\n{"op":"decref","id":1}\n{"op":"decref","id":1}\n');
      expectUsageError(await runCli(['verify', trace, '--python', '/bin/false']), `${trace}:3: event 2 (decref): object 1 is not alive; the CPython oracle cannot run this trace exactly`);
    });
  });
});
