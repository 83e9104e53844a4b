import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { traceToString } from '../../src/trace/write.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { pythonOrSkip } from '../helpers/python.js';
import { randomGcTrace } from '../helpers/random-trace.js';
import { ev } from '../helpers/replay.js';

const tmp = mkdtempSync(join(tmpdir(), 'memreplay-verify-'));
const python = pythonOrSkip('3.11.7');

beforeAll(() => ensureBuilt(), 180_000);

describe.skipIf(python === null)('cli verify', () => {
  it('confirms that the model reproduces the interpreter on a random trace', async () => {
    const file = join(tmp, 'random.jsonl');
    writeFileSync(file, traceToString(randomGcTrace(11, { events: 3000 }), { format: 'memreplay', version: 1, meta: { python: '3.11.7' } }, 'jsonl'));
    const result = await runCli(['verify', file, '--json']);
    expect(result.code).toBe(0);
    const verdict = JSON.parse(result.stdout);
    expect(verdict).toEqual(expect.objectContaining({ match: true, python: '3.11.7', policy: 'cpython-3.11' }));
    expect(verdict.model).toEqual(verdict.interpreter);
  });

  it('exits 1 and says so when the model is of another release', async () => {
    // Young three-object cycles with threshold 3: 3.11 and 3.12 collect them differently.
    const events: TraceEvent[] = [ev.threshold(0, 3)];
    for (let i = 0; i < 30; i++) {
      const [a, b, c] = [3 * i, 3 * i + 1, 3 * i + 2];
      events.push(ev.alloc(a), ev.alloc(b), ev.alloc(c), ev.link(a, b), ev.link(b, c), ev.link(c, a), ev.decref(a), ev.decref(b), ev.decref(c));
    }
    const file = join(tmp, 'triangles.csv');
    writeFileSync(file, traceToString(events, null, 'csv'));
    const result = await runCli(['verify', file, '--python', python!, '--policy', 'cpython-3.12']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('MISMATCH');
    expect(result.stderr).toContain('memreplay: check failed: cpython-3.12 does not reproduce CPython 3.11.7');
  });

  it('refuses traces whose types CPython treats specially', async () => {
    const result = await runCli(['verify', 'traces/cycle.jsonl', '--python', python!]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the CPython oracle cannot run this trace exactly');
  });
});

const python37 = pythonOrSkip('3.7.16');

describe.skipIf(python37 === null)('cli verify against CPython 3.7', () => {
  /** A chain of `n` objects, dropped at once: its deallocation nests `n` deep. */
  function chain(n: number): TraceEvent[] {
    const events: TraceEvent[] = [ev.alloc(1)];
    for (let i = 2; i <= n; i++) {
      events.push(ev.alloc(i), ev.link(i - 1, i));
      if (i > 2) events.push(ev.decref(i - 1));
    }
    events.push(ev.decref(n), ev.decref(1));
    return events;
  }

  it('refuses a deallocation nested deeper than 3.7 finishes for the list subclasses the oracle uses', async () => {
    const ok = join(tmp, 'chain-25.jsonl');
    writeFileSync(ok, traceToString(chain(25), null, 'jsonl'));
    expect((await runCli(['verify', ok, '--python', python37!])).code).toBe(0);
    const deep = join(tmp, 'chain-26.jsonl');
    writeFileSync(deep, traceToString(chain(26), null, 'jsonl'));
    const result = await runCli(['verify', deep, '--python', python37!]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('one deallocation here nests 26 deallocations; CPython 3.7 never finishes deallocating a list subclass more than 25 levels down');
  });
});

describe('cli verify against CPython 3.14.2 in pyodide', () => {
  it('runs meta.python 3.14.2 in pyodide when pyenv has no 3.14.2, and the incremental model matches it', async () => {
    const file = join(tmp, 'random-314.jsonl');
    writeFileSync(file, traceToString(randomGcTrace(12, { events: 3000, legacyFinalizers: true }), { format: 'memreplay', version: 1, meta: { python: '3.14.2' } }, 'jsonl'));
    const result = await runCli(['verify', file, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const verdict = JSON.parse(result.stdout);
    expect(verdict).toEqual(expect.objectContaining({ match: true, python: '3.14.2', interpreterPath: 'pyodide', policy: 'cpython-3.14.2' }));
    // The generational model of 3.14.5+ does not reproduce it.
    const other = await runCli(['verify', file, '--python', 'pyodide', '--policy', 'cpython-3.14']);
    expect(other.code).toBe(1);
  }, 60_000);
});
