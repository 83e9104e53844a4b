/**
 * Reports read back from files (`report`, `diff`, `merge`) are untrusted input like traces: a
 * report memreplay did not write is one clear message and exit 2, never a crash, a hang or
 * text that takes over the terminal. Each case here hung, crashed (exit 70) or printed
 * "Infinity" before it was fixed; they were found by mutating genuine reports.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_REPORT_DEPTH, reportValueProblem, timelineProblem } from '../../src/report/integrity.js';
import type { ReplayReport } from '../../src/report/json.js';
import { MAX_HEADER_DEPTH } from '../../src/trace/encode.js';
import { ensureBuilt, ROOT, runCli, type CliResult } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'memreplay-saved-'));
const CYCLE = join(ROOT, 'traces', 'cycle.jsonl');

/** Exit 2, one "memreplay: " message containing `message`, no stack trace. */
function expectUsageError(result: CliResult, message: string): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toMatch(/^memreplay: /);
  expect(result.stderr).toContain(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

let genuine: ReplayReport;
let genuineText: string;
let part: Record<string, unknown>;

/** A copy of the genuine replay report changed by `edit`, written to a file; its path. */
function edited(name: string, edit: (report: Record<string, any>) => void): string {
  const report = JSON.parse(genuineText) as Record<string, any>;
  edit(report);
  const path = join(tmp, `${name}.json`);
  writeFileSync(path, JSON.stringify(report));
  return path;
}

beforeAll(async () => {
  ensureBuilt();
  const path = join(tmp, 'genuine.json');
  expect((await runCli(['replay', CYCLE, '--threshold', '20', '--json', path])).code).toBe(0);
  genuineText = readFileSync(path, 'utf8');
  genuine = JSON.parse(genuineText) as ReplayReport;
  const partPath = join(tmp, 'part.json');
  expect((await runCli(['compare', CYCLE, '--threshold0', '10,100', '--shard', '1/2', '--json', partPath])).code).toBe(0);
  part = JSON.parse(readFileSync(partPath, 'utf8')) as Record<string, unknown>;
}, 180_000);

describe('saved reports read back', () => {
  it('the checks pass every report memreplay writes, and find what was changed', () => {
    expect(reportValueProblem(genuine)).toBeNull();
    expect(timelineProblem(genuine)).toBeNull();
    expect(reportValueProblem(part)).toBeNull();
    // A trace's meta may nest as deep as a header allows; the report holds it three levels lower at most.
    expect(MAX_REPORT_DEPTH).toBeGreaterThanOrEqual(MAX_HEADER_DEPTH + 3);
    const samples = genuine.timeline.samples;
    expect(samples).toBeGreaterThan(1);
    expect(timelineProblem({ ...genuine, timeline: { ...genuine.timeline, samples: samples + 1 } })).toContain(`values for ${samples + 1} samples`);
    expect(reportValueProblem({ a: [{ b: Number.POSITIVE_INFINITY }] })).toMatch(/^\/a\/0\/b: Infinity/);
    expect(reportValueProblem({ 'a/b~': -1e301 })).toMatch(/^\/a~1b~0: -1e\+301/);
    let deep: unknown = 1;
    for (let level = 0; level < MAX_REPORT_DEPTH; level++) deep = [deep];
    expect(reportValueProblem(deep)).toBeNull();
    expect(reportValueProblem([deep])).toContain(`nests more than ${MAX_REPORT_DEPTH} levels deep`);
  });

  it('a timeline claiming more samples than it holds is refused (the HTML charts read that many)', async () => {
    const path = edited('samples', (r) => (r.timeline.samples = 1e9));
    const result = await runCli(['report', path, '--html', join(tmp, 'samples.html')]);
    expectUsageError(result, 'values for 1000000000 samples');
  });

  it('a meta nested deeper than any trace header can be is refused, not a stack overflow', async () => {
    // Written as text: JSON.stringify itself would overflow the stack on 5,000 levels.
    const path = edited('deep', (r) => (r.trace.meta.deep = 'DEEP'));
    writeFileSync(path, readFileSync(path, 'utf8').replace('"DEEP"', `${'['.repeat(5000)}0${']'.repeat(5000)}`));
    expectUsageError(await runCli(['report', path, '--html', join(tmp, 'deep.html')]), `nests more than ${MAX_REPORT_DEPTH} levels deep`);
    expectUsageError(await runCli(['diff', path, path]), `nests more than ${MAX_REPORT_DEPTH} levels deep`);
  });

  it('numbers no report holds (1e400 reads as Infinity) are refused', async () => {
    const infinite = join(tmp, 'infinite.json');
    writeFileSync(infinite, genuineText.replace(/"largestExamined": \d+/, '"largestExamined": 1e400'));
    expectUsageError(await runCli(['report', infinite]), '/gc/totals/largestExamined: Infinity is not a number memreplay writes');
    const huge = edited('huge', (r) => (r.memory.peak.bytes = -1e308));
    expectUsageError(await runCli(['diff', join(tmp, 'genuine.json'), huge]), '/memory/peak/bytes: -1e+308 is not a number memreplay writes');
  });

  it('control characters in the settings do not reach the terminal', async () => {
    const path = edited('control', (r) => {
      r.config.policy = 'cpython-3.12\x1b[2J\x1b]0;PWNED\x07';
      r.config.covers = 'x\r\nFAKE: budgets all passed';
    });
    const result = await runCli(['report', path]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(result.stdout).toContain('\\x1b[2J');
    expect(result.stdout).not.toMatch(/^FAKE/m);
  });

  it('merge refuses an absurd shard count, and names at most ten missing parts', async () => {
    const path = join(tmp, 'part-huge.json');
    writeFileSync(path, JSON.stringify({ ...part, shard: { ...(part.shard as object), count: 1e9 } }));
    expectUsageError(await runCli(['merge', path, '--json', join(tmp, 'merged.json')]), '/shard/count: must be <= 10000');
    expectUsageError(await runCli(['compare', CYCLE, '--shard', '1/10001']), '--shard 1/10001: at most 10,000 shards');
    // A part of 5,000 shards: the 4,999 missing ones are counted, not listed.
    // (Configuration 1 of 2 is shard 1's alone whether there are 2 shards or 5,000.)
    const many = join(tmp, 'part-many.json');
    writeFileSync(many, JSON.stringify({ ...part, shard: { ...(part.shard as object), count: 5000 } }));
    const result = await runCli(['merge', many, '--json', join(tmp, 'merged.json')]);
    expectUsageError(result, 'missing shards 2/5000, 3/5000');
    expect(result.stderr).toContain('11/5000, and 4,989 more: merge needs all 5000 parts');
    expect(result.stderr.length).toBeLessThan(400);
  });
});
