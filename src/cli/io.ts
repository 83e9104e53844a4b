/**
 * The CLI's input and output: atomic report files, stdout as "-", and a progress line on stderr.
 * Only `src/cli` touches `process` and the file system for writing.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, realpathSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** One output the command will write once everything is computed. */
export interface PendingOutput {
  /** A path, or "-" for stdout. */
  path: string;
  content: string;
}

function canonical(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute;
  }
}

/** Refuses an output that would overwrite one of the inputs. */
export function checkOutputs(outputs: readonly string[], inputs: readonly string[]): void {
  const inputPaths = new Set(inputs.filter((p) => p !== '-').map(canonical));
  const seen = new Set<string>();
  for (const output of outputs) {
    if (output === '-') continue;
    const path = canonical(output);
    if (inputPaths.has(path)) throw new UsageError(`refusing to write ${output}: it is one of the input traces`);
    if (seen.has(path)) throw new UsageError(`${output} is named for two different outputs`);
    seen.add(path);
  }
}

/**
 * Writes every output, each atomically: to a temporary file in the same directory, then renamed
 * over the target, so a reader never sees half a report and a failure leaves the old file intact.
 */
export async function writeOutputs(outputs: readonly PendingOutput[]): Promise<void> {
  for (const output of outputs) {
    if (output.path === '-') {
      await new Promise<void>((done, fail) => process.stdout.write(output.content, (error) => (error ? fail(error) : done())));
      continue;
    }
    const target = resolve(output.path);
    await mkdir(dirname(target), { recursive: true });
    const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(temporary, output.content);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new UsageError(`cannot write ${output.path}: ${(error as Error).message}`);
    }
  }
}

/**
 * Streams a large output to `path` atomically: `write` fills a temporary file in the same
 * directory, which is renamed over the target only when it succeeded.
 */
export async function writeStreamAtomic(path: string, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const out = createWriteStream(temporary, { highWaterMark: 1 << 20 });
    const closed = new Promise<void>((done, fail) => {
      out.on('close', done);
      out.on('error', fail);
    });
    await write(out);
    await closed;
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

/**
 * A progress line on stderr for long replays: only when stderr is a terminal, redrawn at most
 * every 200 ms, erased when done.
 */
export class Progress {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(private readonly label: string) {
    this.enabled = process.stderr.isTTY === true && process.env.TERM !== 'dumb';
  }

  update(events: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 200 || now - this.started < 500) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = events / Math.max(seconds, 1e-3);
    const text = `${this.label}: ${events.toLocaleString('en-US')} events · ${(rate / 1e6).toFixed(2)} M events/s · ${seconds.toFixed(1)} s`;
    process.stderr.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }
}

/** Whether to color terminal output: `--color`/`--no-color` first, then NO_COLOR, then the TTY. */
export function useColor(option: boolean | undefined, stream: NodeJS.WriteStream): boolean {
  if (option !== undefined) return option;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return stream.isTTY === true;
}
