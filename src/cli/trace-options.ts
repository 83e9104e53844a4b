/** Options shared by every command that reads traces. */
import type { Argv } from 'yargs';
import type { TraceEncoding } from '../trace/types.js';

export const FORMATS: readonly TraceEncoding[] = ['jsonl', 'json', 'csv'];

export function traceOptions<T>(y: Argv<T>) {
  return y
    .option('format', { type: 'string', choices: FORMATS, describe: 'trace encoding (default: from the file name, else sniffed)' })
    .option('max-errors', { type: 'number', default: 20, describe: 'list up to N invalid events before stopping' })
    .option('lenient', { type: 'boolean', default: false, describe: 'skip invalid events, count them by kind, and say so in every report' });
}

/**
 * `process.stdin` when the input path is "-", else undefined. Touching `process.stdin` creates a
 * stream over file descriptor 0 (a few milliseconds, and a handle on a pipe), so a command reading
 * files leaves it alone.
 */
export function stdinFor(path: string): NodeJS.ReadableStream | undefined {
  return path === '-' ? process.stdin : undefined;
}
