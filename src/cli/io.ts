/**
 * The CLI's input and output: report files written all or none, stdout as "-", and a progress
 * line on stderr.
 * Only `src/cli` touches `process` and the file system for writing.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, fstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { removeOnInterrupt } from '../interrupt-cleanup.js';
import { formatCount } from '../report/format.js';

/**
 * One output the command will write once everything is computed: a path ("-" for stdout) and
 * either its text or a function that streams it (large outputs); the function ends `out` when
 * `end` is true (a file), never stdout.
 */
export type PendingOutput = { path: string; content: string } | { path: string; write: (out: NodeJS.WritableStream, end: boolean) => Promise<void> };

function canonical(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute;
  }
}

/** What is at `path`, or null when nothing can be (a missing file, a parent that is a file). */
function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** The file standard input reads, when it is a regular file (`< FILE`); else null. */
function stdinFile(): Stats | null {
  try {
    const info = fstatSync(0);
    return info.isFile() ? info : null;
  } catch {
    return null;
  }
}

/** Refuses an output that would overwrite one of the inputs (an input "-" is the file on stdin, if any). */
export function checkOutputs(outputs: readonly string[], inputs: readonly string[]): void {
  const inputPaths = new Set(inputs.filter((p) => p !== '-').map(canonical));
  const stdin = inputs.includes('-') ? stdinFile() : null;
  const seen = new Set<string>();
  if (outputs.filter((o) => o === '-').length > 1) throw new UsageError('only one output can go to stdout ("-"); name a file for the others');
  for (const output of outputs) {
    if (output === '-') continue;
    if (output === '') throw new UsageError('an output was given an empty path; name a file (or - for stdout)');
    const path = canonical(output);
    if (inputPaths.has(path)) throw new UsageError(`refusing to write ${output}: it is one of the input traces`);
    const existing = statOrNull(path);
    if (existing !== null && stdin !== null && existing.dev === stdin.dev && existing.ino === stdin.ino) {
      throw new UsageError(`refusing to write ${output}: it is the input read from stdin`);
    }
    if (existing?.isDirectory() === true) throw new UsageError(`cannot write ${output}: it is a directory; name a file`);
    if (seen.has(path)) throw new UsageError(`${output} is named for two different outputs`);
    seen.add(path);
  }
}

/** Where an output goes: renamed into place from a temporary file, or written straight into a device or pipe. */
type Destination = { kind: 'stdout' } | { kind: 'special'; path: string } | StagedFile;

/** A file output written first to `temporary`, next to `target`; `made`: the first directory made for it. */
interface StagedFile {
  kind: 'file';
  target: string;
  temporary: string;
  made: string | undefined;
  renamed: boolean;
  forget: () => void;
}

/**
 * Writes every output, all or none. First each file output is written in full to a temporary
 * file next to its target; then a path that is a device, a FIFO or a socket (`/dev/stdout`,
 * `/dev/null`), which cannot be replaced, is written into; only then are the files renamed into
 * place, and stdout written last. A reader never sees half a report, and a failure — a full
 * disk, a directory that cannot be made, a full device — leaves every file as it was. A path
 * that is a symbolic link is written through (its target is replaced).
 */
export async function writeOutputs(outputs: readonly PendingOutput[]): Promise<void> {
  const destinations: Destination[] = [];
  try {
    for (const output of outputs) {
      const destination = output.path === '-' ? ({ kind: 'stdout' } as const) : await prepareDestination(output.path);
      destinations.push(destination);
      if (destination.kind === 'file') await failsAs(output.path, writeToFile(destination.temporary, output));
    }
    // A device or a FIFO named as an output cannot be staged: it is written while the files still
    // are, so that its failure (a full device) leaves no file replaced.
    for (const [i, output] of outputs.entries()) {
      const destination = destinations[i];
      if (destination.kind === 'special') await failsAs(output.path, writeToFile(destination.path, output));
    }
    for (const [i, output] of outputs.entries()) {
      const destination = destinations[i];
      if (destination.kind !== 'file') continue;
      await failsAs(output.path, rename(destination.temporary, destination.target));
      destination.renamed = true;
    }
    // Stdout last: a reader that stops early (`| head`) closes the pipe, and the launcher then
    // ends the process at once (exit 0): the files must be in place by then.
    for (const [i, output] of outputs.entries()) if (destinations[i].kind === 'stdout') await writeToStdout(output);
  } finally {
    // The temporary files not renamed, and the directories made for outputs not written.
    for (const destination of destinations.reverse()) {
      if (destination.kind !== 'file') continue;
      if (!destination.renamed) {
        await rm(destination.temporary, { force: true });
        if (destination.made !== undefined) await rm(destination.made, { recursive: true, force: true });
      }
      destination.forget();
    }
  }
}

/** Resolves an output path and, for a file, makes its directory and names its temporary file. */
async function prepareDestination(path: string): Promise<Destination> {
  let target = resolve(path);
  const existing = await stat(target).catch(() => null);
  if (existing !== null && !existing.isFile() && !existing.isDirectory()) return { kind: 'special', path: target };
  if (existing !== null) target = await realpath(target);
  const made = await failsAs(path, makeDirectories(path, dirname(target)));
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const forgetFile = removeOnInterrupt(temporary);
  const forgetDirectory = made === undefined ? () => {} : removeOnInterrupt(made);
  return {
    kind: 'file',
    target,
    temporary,
    made,
    renamed: false,
    forget: () => {
      forgetFile();
      forgetDirectory();
    },
  };
}

/**
 * Makes `directory` and its missing parents, one level at a time; returns the first one made (as
 * `mkdir -p` would), or undefined when it existed. NOTE: not `mkdir(…, { recursive: true })`:
 * Node 20's loops forever on a parent that exists but refuses children (`/proc/self/x/y`).
 */
async function makeDirectories(output: string, directory: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let path = directory; ; path = dirname(path)) {
    const info = await stat(path).catch(() => null);
    if (info !== null) {
      if (!info.isDirectory()) throw new UsageError(`cannot write ${output}: ${path} is a file, not a directory`);
      break;
    }
    missing.push(path);
    if (dirname(path) === path) break;
  }
  missing.reverse();
  let madeFirst = false;
  try {
    for (const path of missing) {
      // Another process may make it meanwhile: a directory there now is as good (and is its own).
      const made = await mkdir(path).then(
        () => true,
        async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST' || !(await stat(path)).isDirectory()) throw error;
          return false;
        },
      );
      if (path === missing[0]) madeFirst = made;
    }
  } catch (error) {
    if (madeFirst) await rm(missing[0], { recursive: true, force: true });
    throw error;
  }
  return madeFirst ? missing[0] : undefined;
}

async function writeToFile(path: string, output: PendingOutput): Promise<void> {
  if ('content' in output) {
    await writeFile(path, output.content);
    return;
  }
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const closed = new Promise<void>((done, fail) => {
    out.on('close', done);
    out.on('error', fail);
  });
  try {
    await Promise.all([output.write(out, true), closed]);
  } catch (error) {
    out.destroy();
    throw error;
  }
}

async function writeToStdout(output: PendingOutput): Promise<void> {
  if ('write' in output) {
    await output.write(process.stdout, false);
    return;
  }
  await new Promise<void>((done, fail) =>
    process.stdout.write(output.content, (error) => (error ? fail(new UsageError(`cannot write to stdout: ${error.message}`)) : done())),
  );
}

/** Awaits `work`; a file-system error becomes "cannot write PATH: …" (a `UsageError`, exit 2). */
async function failsAs<T>(path: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
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
