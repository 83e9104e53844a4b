/**
 * Runs the compare, merge and diff command modules through a yargs instance of their own (they
 * are not in src/cli/main.ts yet), with stdout captured. Errors come back as values, so tests
 * can check both the message and what was (not) written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { vi } from 'vitest';
import { workerEntry } from '../../src/compare/runners.js';
import { ROOT } from '../helpers/cli.js';
import { compareCommand, diffCommand, mergeCommand } from '../../src/cli/compare-commands.js';
import { UsageError } from '../../src/errors.js';

const DASH = '\u0000-';

/**
 * Worker threads run the build (dist/compare/worker.js), since a worker cannot load TypeScript:
 * build it when it is missing. `npm test` builds first, so the build is never stale there; when
 * running vitest alone after editing src/compare, run `npm run build` too.
 */
export function ensureWorkerBuilt(): void {
  if (existsSync(fileURLToPath(workerEntry()))) return;
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

export interface CommandResult {
  stdout: string;
  error: unknown;
}

export async function runCommand(argv: readonly string[]): Promise<CommandResult> {
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, encodingOrDone?: unknown, done?: unknown) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
    if (typeof callback === 'function') callback();
    return true;
  }) as typeof process.stdout.write);
  let error: unknown = null;
  try {
    // As src/cli/main.ts does: yargs swallows a lone "-", so it travels as a sentinel.
    await yargs(argv.map((arg) => (arg === '-' ? DASH : arg)))
      .middleware((args) => {
        for (const key of Object.keys(args)) if (args[key] === DASH) args[key] = '-';
      }, true)
      .command(compareCommand)
      .command(mergeCommand)
      .command(diffCommand)
      .strict()
      .exitProcess(false)
      .fail((message, failure) => {
        if (failure) throw failure;
        throw new UsageError(message);
      })
      .parseAsync();
  } catch (caught) {
    error = caught;
  } finally {
    write.mockRestore();
  }
  return { stdout, error };
}

/** The error's message, or a failure naming what came instead. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  throw new Error(`expected an error, got ${String(error)}`);
}
