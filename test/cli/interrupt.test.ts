/**
 * An interrupted command leaves no temporary file behind (src/interrupt-cleanup.ts): the copy
 * `compare` makes of a trace on stdin is removed when Ctrl-C arrives while it is being written,
 * and the process still ends as interrupted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, ROOT } from '../helpers/cli.js';

beforeAll(() => ensureBuilt(), 180_000);

describe('cli: interrupted', () => {
  it('compare on stdin: SIGINT while the trace is being copied removes the copy', async () => {
    const temporary = mkdtempSync(join(tmpdir(), 'memreplay-interrupt-'));
    const child = spawn(process.execPath, [BIN, 'compare', '-', '--policy', 'cpython-3.11,cpython-3.12'], { cwd: ROOT, env: { ...process.env, TMPDIR: temporary } });
    child.stdout.resume();
    child.stderr.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    // Half the trace, and the pipe left open: the copy waits for the rest.
    const trace = readFileSync(join(ROOT, 'traces', 'web.jsonl'));
    child.stdin.write(trace.subarray(0, trace.length >> 1));
    const copies = () => readdirSync(temporary).filter((name) => name.startsWith('memreplay-stdin-'));
    for (let waited = 0; copies().length === 0; waited += 20) {
      if (waited > 10_000) throw new Error('compare never started copying stdin');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGINT');
    const { signal } = await exited;
    const left = copies();
    rmSync(temporary, { recursive: true, force: true });
    expect(signal).toBe('SIGINT');
    expect(left).toEqual([]);
  }, 30_000);
});
