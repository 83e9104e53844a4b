/**
 * The CLI's input and output: atomic report files, stdout as "-", and a progress line on stderr.
 * Only `src/cli` touches `process` and the file system for writing.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, realpathSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { removeOnInterrupt } from '../interrupt-cleanup.js';
import { formatCount } from '../report/format.js';

/** One output the command will write once everything is computed. */
export interface PendingOutput {
  /** A path, or "-" for stdout. */
  path: string;
  content: string;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
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
  if (outputs.filter((o) => o === '-').length > 1) throw new UsageError('only one output can go to stdout ("-"); name a file for the others');
  for (const output of outputs) {
    if (output === '-') continue;
    const path = canonical(output);
    if (inputPaths.has(path)) throw new UsageError(`refusing to write ${output}: it is one of the input traces`);
    if (isDirectory(path)) throw new UsageError(`cannot write ${output}: it is a directory; name a file`);
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
    const forget = removeOnInterrupt(temporary);
    try {
      await writeFile(temporary, output.content);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new UsageError(`cannot write ${output.path}: ${(error as Error).message}`);
    } finally {
      forget();
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
  const forget = removeOnInterrupt(temporary);
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
  } finally {
    forget();
  }
}

/**
 * A progress line on stderr for long replays: only when stderr is a terminal, redrawn at most
 * every 200 ms, erased when done. When the trace's length is known (its header says how many
 * events it holds) the line is a bar with a percentage and the time left; otherwise it counts
 * events and shows the rate.
 */
export class Progress {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true && process.env.TERM !== 'dumb';
  }

  update(events: number, expected?: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 200 || now - this.started < 500) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    this.stream.write(`\r\x1b[2K${progressText(this.label, events, seconds, expected, this.stream.columns || 80)}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}

/** Bar cells of the progress bar at most; fewer in a narrow terminal. */
const PROGRESS_BAR_CELLS = 30;

/**
 * The progress line: `replaying [██████░░░░░░] 45% · 450,000/1,000,000 events · 1.20 M events/s · 3 s left`
 * with a known length, else `replaying: 450,000 events · 1.20 M events/s · 0.4 s`. It is cut to
 * `columns - 1` so that it never wraps (a wrapped line could not be redrawn in place).
 */
export function progressText(label: string, events: number, seconds: number, expected: number | undefined, columns: number): string {
  const rate = events / Math.max(seconds, 1e-3);
  const rateText = `${(rate / 1e6).toFixed(2)} M events/s`;
  let text: string;
  if (expected !== undefined && expected > 0) {
    const fraction = Math.min(1, events / expected);
    const left = rate > 0 ? Math.max(0, (expected - events) / rate) : 0;
    const cells = Math.max(10, Math.min(PROGRESS_BAR_CELLS, columns - 60));
    const filled = Math.round(fraction * cells);
    const bar = `[${'█'.repeat(filled)}${'░'.repeat(cells - filled)}]`;
    text = `${label} ${bar} ${Math.floor(fraction * 100)}% · ${formatCount(events)}/${formatCount(expected)} events · ${rateText} · ${left.toFixed(0)} s left`;
  } else {
    text = `${label}: ${formatCount(events)} events · ${rateText} · ${seconds.toFixed(1)} s`;
  }
  const chars = [...text];
  return chars.length < columns ? text : chars.slice(0, Math.max(1, columns - 1)).join('');
}

/** Whether to color terminal output: `--color`/`--no-color` first, then NO_COLOR, then the TTY. */
export function useColor(option: boolean | undefined, stream: NodeJS.WriteStream): boolean {
  if (option !== undefined) return option;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return stream.isTTY === true;
}
