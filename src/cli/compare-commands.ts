/**
 * The yargs command modules of `compare`, `merge` and `diff`. Like commands.ts, each one only
 * turns options into a request for src/compare, then renders and writes the outputs: all of
 * them computed first, each written atomically, nothing written when anything failed.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { COMMANDS } from './command-list.js';
import { BudgetError, UsageError } from '../errors.js';
import { parseConfigFile } from '../compare/config-file.js';
import { MAX_OLD_OBJECTS } from '../config/resolve.js';
import { expandSweep, MAX_CONFIGURATIONS, THRESHOLD_MAX, type ConfigurationEntry, type Sweep } from '../compare/configurations.js';
import { diffReports, groupTitle, LEAK_KIND_TITLES, type DiffReport } from '../compare/diff.js';
import { runCompare } from '../compare/index.js';
import { renderCompareMarkdown, renderDiffMarkdown } from '../compare/markdown.js';
import { DEFAULT_OBJECTIVES, OBJECTIVE_NAMES, OBJECTIVES, parseObjectives, type ObjectiveName } from '../compare/pareto.js';
import { parseValueList } from '../compare/ranges.js';
import { parseCompareReport, parseReplayReport } from '../compare/read-reports.js';
import { MAX_SHARDS, mergeParts, parseShard, serializeCompareReport, type CompareReport, type RunDetail } from '../compare/report.js';
import { renderCompareTable, renderDiffTerminal } from '../compare/terminal.js';
import { FREE_LIST_CONFIGS } from '../pool/free-list.js';
import { parsePoolParams } from '../pool/index.js';
import { safeText, formatCount } from '../report/format.js';
import type { TraceEncoding } from '../trace/types.js';
import { parseCount, parseThresholds } from './args.js';
import { FORMATS, stdinFor } from './trace-options.js';
import { checkOutputs, Progress, writeOutputs, type PendingOutput } from './io.js';


/** A repeatable option: yargs gives one value as a string, several as an array. */
type Repeated = string | string[] | undefined;

function listOf(value: Repeated): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * Repeated values, each of which may also be a comma-separated list (`--policy a,b --policy c`):
 * the names in order, each once (as `parseValueList` keeps each number once). An empty name
 * (`--policy ''`, `a,,b`) is refused: dropping it would run the default instead.
 */
function namesOf(value: Repeated, option: string): string[] {
  const names: string[] = [];
  for (const item of listOf(value)) {
    for (const part of item.split(',')) {
      const name = part.trim();
      if (name === '') throw new UsageError(`${option} was given an empty name ("${item}"); list names separated by commas`);
      if (!names.includes(name)) names.push(name);
    }
  }
  return names;
}

/** The output options every command here shares. */
function outputOptions<T>(y: Argv<T>) {
  return y
    .option('json', { type: 'string', describe: 'write the result as JSON to FILE (- for stdout)' })
    .option('markdown', { type: 'string', describe: 'write a Markdown report to FILE (- for stdout)' })
    .option('html', { type: 'string', describe: 'write a self-contained HTML page to FILE (- for stdout)' });
}

interface OutputArgs {
  json?: string;
  markdown?: string;
  html?: string;
}

/** The named outputs, checked: none over an input, at most one on stdout. */
function outputPaths(args: OutputArgs, inputs: readonly string[]): string[] {
  const paths = [args.json, args.markdown, args.html].filter((p): p is string => p !== undefined);
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('only one of --json, --markdown and --html can go to stdout (-)');
  checkOutputs(paths, inputs);
  return paths;
}

/**
 * Renders and writes a comparison's outputs: JSON (streamed, it can be large), Markdown, HTML,
 * and the table on stdout unless an output went there.
 */
async function writeComparison(report: CompareReport, args: OutputArgs): Promise<void> {
  const pending: PendingOutput[] = [];
  if (args.json !== undefined) pending.push({ path: args.json, write: (out, end) => writeJsonPieces(out, end, serializeCompareReport(report)) });
  if (args.markdown !== undefined) pending.push({ path: args.markdown, content: renderCompareMarkdown(report) });
  if (args.html !== undefined) {
    const { renderCompareHtml } = await import('../compare/html.js');
    pending.push({ path: args.html, content: await renderCompareHtml(report) });
  }
  if (![args.json, args.markdown, args.html].includes('-')) pending.push({ path: '-', content: renderCompareTable(report) });
  await writeOutputs(pending);
}

/** Writes JSON text given in pieces, with back-pressure; ends `out` when `end` is true. */
async function writeJsonPieces(out: NodeJS.WritableStream, end: boolean, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  if (end) out.end();
}

/** A line on stderr while configurations replay (only on a terminal). */
class RunProgress {
  private last = 0;
  private drawn = false;
  private readonly enabled = process.stderr.isTTY === true && process.env.TERM !== 'dumb';

  update(done: number, total: number): void {
    const now = Date.now();
    if (!this.enabled || (now - this.last < 200 && done < total)) return;
    this.last = now;
    process.stderr.write(`\r\x1b[2Kreplayed ${done} of ${total} configurations`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }
}

function parseObjectivesOption(value: string | undefined): ObjectiveName[] | undefined {
  return value === undefined ? undefined : parseObjectives(value.split(',').map((name) => name.trim()));
}

// ---- compare ----------------------------------------------------------------------------------

interface CompareArgs extends OutputArgs {
  trace: string;
  format?: string;
  'max-errors': number;
  lenient: boolean;
  policy?: Repeated;
  threshold?: Repeated;
  threshold0?: string;
  threshold1?: string;
  threshold2?: string;
  gc?: Repeated;
  'old-objects'?: Repeated;
  'marked-objects'?: number;
  pool?: Repeated;
  'pool-param'?: Repeated;
  freelists?: Repeated;
  config?: string;
  objectives?: string;
  jobs?: number;
  shard?: string;
  runs: string;
}

/** Options that make configurations; `--config` excludes them. */
const CONFIGURATION_OPTIONS = ['policy', 'threshold', 'threshold0', 'threshold1', 'threshold2', 'gc', 'old-objects', 'marked-objects', 'pool', 'pool-param', 'freelists'] as const;

/** The configurations the command line asks for, with the file's objectives if it names some. */
async function configurationsOf(args: CompareArgs): Promise<{ entries: ConfigurationEntry[]; objectives?: ObjectiveName[] }> {
  if (args.config !== undefined) {
    const given = CONFIGURATION_OPTIONS.filter((name) => args[name] !== undefined);
    if (given.length > 0) throw new UsageError(`--config lists the configurations; leave out ${given.map((name) => `--${name}`).join(', ')} (or put them in the file)`);
    const text = await readFile(args.config, 'utf8').catch((error: Error) => {
      throw new UsageError(`cannot read ${args.config}: ${error.message}`);
    });
    return parseConfigFile(text, args.config);
  }
  const gc = namesOf(args.gc, '--gc').map((value) => {
    if (value !== 'on' && value !== 'off') throw new UsageError(`--gc takes on or off, got "${value}"`);
    return value;
  });
  const freeLists = namesOf(args.freelists, '--freelists');
  for (const name of freeLists) if (!Object.prototype.hasOwnProperty.call(FREE_LIST_CONFIGS, name)) throw new UsageError(`unknown free-list model "${name}"; choose one of ${Object.keys(FREE_LIST_CONFIGS).join(', ')}`);
  const thresholdList = (option: 'threshold0' | 'threshold1' | 'threshold2') => {
    const value = args[option];
    return value === undefined ? undefined : parseValueList(value, { option: `--${option}`, max: THRESHOLD_MAX });
  };
  const sweep: Sweep = {
    policies: namesOf(args.policy, '--policy'),
    // `--threshold` values hold commas themselves: one triple per option.
    thresholds: listOf(args.threshold).map((text) => parseThresholds(text).map((value) => value ?? null)),
    thresholdLists: [thresholdList('threshold0'), thresholdList('threshold1'), thresholdList('threshold2')],
    gc,
    oldObjects: listOf(args['old-objects']).flatMap((text) => parseValueList(text, { option: '--old-objects', max: MAX_OLD_OBJECTS })),
    markedObjects: args['marked-objects'] === undefined ? undefined : parseCount('--marked-objects', args['marked-objects'], 0, MAX_OLD_OBJECTS),
    pools: namesOf(args.pool, '--pool'),
    poolParams: parsePoolParams(listOf(args['pool-param'])),
    freeLists,
  };
  return { entries: expandSweep(sweep) };
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  ...COMMANDS.compare,
  builder: (y) =>
    outputOptions(y)
      .positional('trace', { type: 'string', demandOption: true, describe: 'trace file (.jsonl, .json, .csv, optionally .gz), or - for stdin' })
      .option('policy', { type: 'string', describe: 'collector model (repeatable, or comma-separated): cpython-3.7 … cpython-3.14, cpython-3.12.1, cpython-3.14.2 (the incremental collector of 3.14.1-3.14.4), refcount-only, mark-sweep; see "memreplay policies"' })
      .option('threshold', { type: 'string', describe: 'thresholds "T0,T1,T2" of one configuration (repeatable)' })
      .option('threshold0', { type: 'string', describe: 'generation-0 thresholds to sweep: 700,1000 | 100..100000x10 (geometric) | 0..1000+250 (arithmetic)' })
      .option('threshold1', { type: 'string', describe: 'generation-1 thresholds to sweep (same syntax)' })
      .option('threshold2', { type: 'string', describe: 'generation-2 thresholds to sweep (same syntax)' })
      .option('gc', { type: 'string', describe: 'on, off, or both (--gc on --gc off)' })
      .option('old-objects', { type: 'string', describe: 'GC objects in the oldest generation at the start, a list or range (0,25000 | 0..100000+25000)' })
      .option('marked-objects', { type: 'number', describe: 'cpython-3.14.2 (3.14.1-3.14.4): how many of the old objects the interpreter\'s roots reach, for every configuration (default: meta.markedObjects, else all)' })
      .option('pool', { type: 'string', describe: 'allocator model (repeatable): pymalloc-3.11, pymalloc-3.9, pymalloc-2.7, malloc, none' })
      .option('pool-param', { type: 'string', describe: 'allocator parameter key=value for every configuration (repeatable)' })
      .option('freelists', { type: 'string', describe: `free-list model (repeatable): ${Object.keys(FREE_LIST_CONFIGS).join(', ')}` })
      .option('config', { type: 'string', describe: 'read the configurations from a JSON file (schemas/compare-config.schema.json) instead' })
      .option('objectives', { type: 'string', describe: `what the Pareto front minimizes, two or more of ${OBJECTIVE_NAMES.join(', ')} (default ${DEFAULT_OBJECTIVES.join(',')})` })
      .option('jobs', { type: 'number', describe: 'threads, this one included (default: the number of cores; 1 replays in this thread)' })
      .option('shard', { type: 'string', describe: `replay only shard K of N (K/N, K from 1, N at most ${formatCount(MAX_SHARDS)}) and write a part for memreplay merge` })
      .option('runs', { type: 'string', choices: ['full', 'summary'], default: 'full', describe: 'summary leaves out each run\'s timeline samples and collection list (large sweeps)' })
      .option('format', { type: 'string', choices: FORMATS, describe: 'trace encoding (default: from the file name, else sniffed)' })
      .option('max-errors', { type: 'number', default: 20, describe: 'list up to N invalid events before stopping' })
      .option('lenient', { type: 'boolean', default: false, describe: 'skip invalid events, count them by kind, and say so in every report' })
      .example('$0 compare app.jsonl --threshold 700,10,10 --threshold 10000,10,10 --policy cpython-3.11 --policy cpython-3.13', 'four configurations: two thresholds × two collectors')
      .example('$0 compare app.jsonl --threshold0 100..100000x10 --threshold1 5,10,20 --html sweep.html', 'a 4 × 3 grid of thresholds, with a trade-off chart')
      .example('$0 compare app.jsonl --config sweep.json --shard 2/8 --json part-2.json', 'the second of eight shards of a sweep (then: memreplay merge part-*.json)')
      .epilogue(
        `Configurations cross every option given: for each policy × gc × old-objects × pool × free lists, each threshold triple. ` +
          `refcount-only is not crossed with thresholds (it has none). At most ${formatCount(MAX_CONFIGURATIONS)} configurations. ` +
          `Objectives: ${OBJECTIVE_NAMES.map((name) => `${name} (${OBJECTIVES[name].description})`).join('; ')}.`,
      ),
  handler: async (args) => {
    const shard = args.shard === undefined ? undefined : parseShard(args.shard);
    if (shard !== undefined) {
      if (args.json === undefined) throw new UsageError('--shard writes a part for memreplay merge: name it with --json FILE');
      if (args.html !== undefined || args.markdown !== undefined) throw new UsageError('a shard has no Pareto front: render --html and --markdown with memreplay merge');
    }
    outputPaths(args, [args.trace, ...(args.config === undefined ? [] : [args.config])]);
    const { entries, objectives: fileObjectives } = await configurationsOf(args);
    const objectives = parseObjectivesOption(args.objectives) ?? fileObjectives ?? [...DEFAULT_OBJECTIVES];
    const jobs = args.jobs === undefined ? availableParallelism() : parseCount('--jobs', args.jobs, 1);

    // Each thread decodes and replays at once: the events this thread has read are the progress.
    const decoding = new Progress('replaying');
    const replaying = new RunProgress();
    const report = await runCompare({
      trace: args.trace,
      format: args.format as TraceEncoding | undefined,
      stdin: stdinFor(args.trace),
      maxErrors: parseCount('--max-errors', args['max-errors'], 1),
      lenient: args.lenient,
      configurations: entries,
      objectives,
      jobs,
      shard,
      runDetail: args.runs as RunDetail,
      onDecoded: (events) => decoding.update(events),
      onRunDone: (done, total) => {
        decoding.done();
        replaying.update(done, total);
      },
    }).finally(() => {
      decoding.done();
      replaying.done();
    });
    await writeComparison(report, args);
  },
};

// ---- merge ------------------------------------------------------------------------------------

interface MergeArgs extends OutputArgs {
  parts: string[];
  objectives?: string;
}

async function readInput(path: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(path, 'utf8').catch((error: Error) => {
    throw new UsageError(`cannot read ${path}: ${error.message}`);
  });
}

export const mergeCommand: CommandModule<object, MergeArgs> = {
  ...COMMANDS.merge,
  builder: (y) =>
    outputOptions(y)
      .positional('parts', { type: 'string', array: true, demandOption: true, describe: 'the parts, one per shard, in any order' })
      .option('objectives', { type: 'string', describe: `recompute the Pareto front for these objectives (default: the parts')` })
      .example('$0 merge part-*.json --json sweep.json --html sweep.html', 'the same files an unsharded compare writes'),
  handler: async (args) => {
    outputPaths(args, args.parts);
    if (args.parts.filter((p) => p === '-').length > 1) throw new UsageError('only one part can come from stdin (-)');
    const parts: { name: string; report: CompareReport }[] = [];
    for (const name of args.parts) parts.push({ name, report: parseCompareReport(await readInput(name), name) });
    await writeComparison(mergeParts(parts, parseObjectivesOption(args.objectives)), args);
  },
};

// ---- diff -------------------------------------------------------------------------------------

/** What `--fail-on` can fail on. */
export const DIFF_VERDICTS = {
  'new-leaks': (diff: DiffReport): string[] =>
    diff.leakGroups.new.length === 0
      ? []
      : [
          `${diff.leakGroups.new.length} new leak group${diff.leakGroups.new.length === 1 ? '' : 's'} in ${diff.b.report}: ` +
            diff.leakGroups.new
              .slice(0, 3)
              .map((g) => `${LEAK_KIND_TITLES[g.kind]} ${safeText(groupTitle(g), 80)}`)
              .join('; ') +
            (diff.leakGroups.new.length > 3 ? '; …' : ''),
        ],
} satisfies Record<string, (diff: DiffReport) => string[]>;

interface DiffArgs extends OutputArgs {
  a: string;
  b: string;
  'fail-on'?: Repeated;
  top: number;
}

export const diffCommand: CommandModule<object, DiffArgs> = {
  ...COMMANDS.diff,
  builder: (y) =>
    outputOptions(y)
      .positional('a', { type: 'string', demandOption: true, describe: 'the report before (memreplay replay --json)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'the report after' })
      .option('fail-on', { type: 'string', describe: `exit 1 (after writing every output) when: ${Object.keys(DIFF_VERDICTS).join(', ')}` })
      .option('top', { type: 'number', default: 10, describe: 'leak groups and sites shown per section in the terminal' })
      .example('$0 diff main.json pr.json --fail-on new-leaks --markdown summary.md', 'a CI gate: fail when the change leaves a new kind of leak'),
  handler: async (args) => {
    const verdicts = namesOf(args['fail-on'], '--fail-on').map((name) => {
      if (!Object.prototype.hasOwnProperty.call(DIFF_VERDICTS, name)) throw new UsageError(`--fail-on takes ${Object.keys(DIFF_VERDICTS).join(', ')}, got "${name}"`);
      return name as keyof typeof DIFF_VERDICTS;
    });
    outputPaths(args, [args.a, args.b]);
    if (args.a === '-' && args.b === '-') throw new UsageError('only one report can come from stdin (-)');
    const a = parseReplayReport(await readInput(args.a), args.a);
    const b = parseReplayReport(await readInput(args.b), args.b);
    const diff = diffReports(a, b, { a: args.a, b: args.b });

    const pending: PendingOutput[] = [];
    if (args.json !== undefined) pending.push({ path: args.json, content: `${JSON.stringify(diff, null, 2)}\n` });
    if (args.markdown !== undefined) pending.push({ path: args.markdown, content: renderDiffMarkdown(diff) });
    if (args.html !== undefined) {
      const { renderDiffHtml } = await import('../compare/html.js');
      pending.push({ path: args.html, content: await renderDiffHtml(diff) });
    }
    if (![args.json, args.markdown, args.html].includes('-')) pending.push({ path: '-', content: renderDiffTerminal(diff, { top: parseCount('--top', args.top) }) });
    await writeOutputs(pending);

    const failures = verdicts.flatMap((name) => DIFF_VERDICTS[name](diff));
    if (failures.length > 0) throw new BudgetError(failures);
  },
};
