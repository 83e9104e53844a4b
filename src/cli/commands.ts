/**
 * The yargs command modules. Each one only translates options into a request for
 * `src/analyze.ts` (or a trace reader), then renders and writes the outputs.
 */
import type { Argv, CommandModule } from 'yargs';
import { COMMANDS } from './command-list.js';
import { runReplay } from '../analyze.js';
import { TraceErrors, UsageError, UserError } from '../errors.js';
import { listPolicies } from '../gc/index.js';
import { refcountOnly } from '../gc/refcount.js';
import { FREE_LIST_CONFIGS } from '../pool/free-list.js';
import { replay } from '../replay/index.js';
import { formatBytes, formatCount, safeText } from '../report/format.js';
import { Diagnostics } from '../trace/diagnostics.js';
import { openTrace } from '../trace/index.js';
import type { TraceEncoding } from '../trace/types.js';
import { Progress, writeStreamAtomic } from './io.js';
import { planOutputs, produceReportOutputs, reportOutputOptions, type ReportOutputArgs } from './report-command.js';
import { parseThresholds, parseCount } from './args.js';
import { listPools, parsePoolParams } from '../pool/index.js';
import { writeTrace } from '../trace/write.js';
import { checkWorkloadOptions, WORKLOAD_NAMES, workloads, type WorkloadName } from '../workload/index.js';

const FORMATS: readonly TraceEncoding[] = ['jsonl', 'json', 'csv'];

/** Options shared by every command that reads traces. */
function traceOptions<T>(y: Argv<T>) {
  return y
    .option('format', { type: 'string', choices: FORMATS, describe: 'trace encoding (default: from the file name, else sniffed)' })
    .option('max-errors', { type: 'number', default: 20, describe: 'list up to N invalid events before stopping' })
    .option('lenient', { type: 'boolean', default: false, describe: 'skip invalid events, count them by kind, and say so in every report' });
}

interface ReplayArgs extends ReportOutputArgs {
  trace: string;
  format?: string;
  'max-errors': number;
  lenient: boolean;
  policy?: string;
  threshold?: string;
  'old-objects'?: number;
  gc: string;
  pool?: string;
  'pool-param'?: string[];
  freelists?: string;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  ...COMMANDS.replay,
  builder: (y) =>
    reportOutputOptions(traceOptions(y))
      .positional('trace', { type: 'string', demandOption: true, describe: 'trace file (.jsonl, .json, .csv, optionally .gz), or - for stdin' })
      .option('policy', { type: 'string', describe: 'collector model, e.g. cpython-3.11, cpython-3.12.1, refcount-only (default: meta.python, else cpython-3.12); see "memreplay policies"' })
      .option('threshold', { type: 'string', describe: 'gc thresholds "T0,T1,T2" (any may be empty to keep the default), e.g. 10000,10,10' })
      .option('old-objects', { type: 'number', describe: 'GC objects already in the oldest generation at the start (default: meta.oldObjects, else 0)' })
      .option('gc', { type: 'string', choices: ['on', 'off'], default: 'on', describe: 'off: no automatic collections (gc.collect() in the trace still runs)' })
      .option('pool', { type: 'string', describe: 'allocator model: pymalloc-3.11, pymalloc-3.9, pymalloc-2.7, malloc or none (default: matches the collector\'s Python version)' })
      .option('pool-param', { type: 'string', array: true, describe: 'override an allocator parameter, e.g. pool_size=4096 (repeatable)' })
      .option('freelists', { type: 'string', choices: Object.keys(FREE_LIST_CONFIGS), describe: 'per-type free-list model (default: the collector release\'s)' })
      .option('json', { type: 'string', describe: 'write the report as JSON to FILE (- for stdout)' })
      .group(['json'], 'Reports:')
      .example('$0 replay traces/web.jsonl', 'summary under the policy recorded in the trace')
      .example('$0 replay traces/web.jsonl --policy cpython-3.11 --threshold 10000,10,10', 'what if gen-0 threshold were 10,000')
      .example('$0 replay trace.csv.gz --json report.json', 'write the full report as JSON')
      .example('$0 replay trace.jsonl --html report.html --fail-on leaks --max-peak-bytes 64M', 'HTML report; exit 1 if a budget fails'),
  handler: async (args) => {
    const plan = planOutputs(args, [args.trace]);
    const progress = new Progress('replaying');
    const { report } = await runReplay({
      trace: args.trace,
      format: args.format as TraceEncoding | undefined,
      stdin: process.stdin,
      policy: args.policy,
      thresholds: args.threshold === undefined ? undefined : parseThresholds(args.threshold),
      oldObjects: args['old-objects'] === undefined ? undefined : parseCount('--old-objects', args['old-objects']),
      gcOff: args.gc === 'off',
      pool: args.pool,
      poolParams: parsePoolParams(args['pool-param'] ?? []),
      freeLists: args.freelists,
      maxErrors: parseCount('--max-errors', args['max-errors'], 1),
      lenient: args.lenient,
      onProgress: (events, expected) => progress.update(events, expected),
    }).finally(() => progress.done());
    await produceReportOutputs(report, args, plan);
  },
};

interface ValidateArgs {
  traces: string[];
  format?: string;
  'max-errors': number;
  lenient: boolean;
  json: boolean;
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  ...COMMANDS.validate,
  builder: (y) =>
    traceOptions(y)
      .positional('traces', { type: 'string', array: true, demandOption: true, describe: 'trace files, or - for stdin' })
      .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON' })
      .example('$0 validate traces/*.jsonl', 'check every sample trace')
      .epilogue('The heap rules are checked under plain reference counting: an op on an unknown or dead object, a second alloc of a live id, a decref the program cannot make, an unlink of a missing edge, a link from an untracked object, a free of a referenced object.'),
  handler: async (args) => {
    const results: { file: string; valid: boolean; events: number; skipped: number; errors: string[] }[] = [];
    for (const file of args.traces) {
      const diagnostics = new Diagnostics({ maxErrors: parseCount('--max-errors', args['max-errors'], 1), lenient: args.lenient });
      try {
        const trace = await openTrace(file, { format: args.format as TraceEncoding | undefined, diagnostics, stdin: process.stdin });
        const result = await replayForChecks(trace, diagnostics);
        results.push({ file, valid: diagnostics.skipped === 0, events: result.events, skipped: diagnostics.skipped, errors: [] });
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        const errors = error instanceof TraceErrors ? error.message.split('\n') : [error.message];
        results.push({ file, valid: false, events: 0, skipped: diagnostics.skipped, errors });
      }
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ valid: results.every((r) => r.valid), traces: results }, null, 2)}\n`);
    } else {
      for (const r of results) {
        if (r.errors.length > 0) for (const line of r.errors) process.stderr.write(`${line}\n`);
        else if (r.skipped > 0) process.stdout.write(`${r.file}: ${formatCount(r.events)} events, ${formatCount(r.skipped)} invalid events skipped (--lenient)\n`);
        else process.stdout.write(`${r.file}: valid (${formatCount(r.events)} events)\n`);
      }
    }
    if (!results.every((r) => r.valid)) process.exitCode = 2;
  },
};

/** Replays under plain reference counting with no allocator model: the cheapest full check. */
async function replayForChecks(trace: Awaited<ReturnType<typeof openTrace>>, diagnostics: Diagnostics) {
  return replay(trace, {
    policy: { requested: 'refcount-only', name: 'refcount-only', module: refcountOnly, release: refcountOnly.releases[0] },
    oldObjects: 0,
    automaticCollection: false,
    freeLists: FREE_LIST_CONFIGS.none,
    pool: null,
    diagnostics,
  });
}

interface InfoArgs {
  trace: string;
  format?: string;
  'max-errors': number;
  lenient: boolean;
  json: boolean;
}

export const infoCommand: CommandModule<object, InfoArgs> = {
  ...COMMANDS.info,
  builder: (y) =>
    traceOptions(y)
      .positional('trace', { type: 'string', demandOption: true, describe: 'trace file, or - for stdin' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .example('$0 info traces/web.jsonl', ''),
  handler: async (args) => {
    const diagnostics = new Diagnostics({ maxErrors: parseCount('--max-errors', args['max-errors'], 1), lenient: args.lenient });
    const trace = await openTrace(args.trace, { format: args.format as TraceEncoding | undefined, diagnostics, stdin: process.stdin });
    const result = await replayForChecks(trace, diagnostics);
    const byType = new Map<string, { objects: number; bytes: number }>();
    const counters = result.stats.groups;
    for (let g = 0; g < counters.length; g++) {
      const type = result.types.get(result.groups.typeId[g]);
      const entry = byType.get(type) ?? { objects: 0, bytes: 0 };
      entry.objects += counters.allocatedObjects[g];
      entry.bytes += counters.allocatedBytes[g];
      byType.set(type, entry);
    }
    const types = [...byType.entries()].sort((a, b) => b[1].bytes - a[1].bytes || (a[0] < b[0] ? -1 : 1)).map(([type, v]) => ({ type, ...v }));
    const info = {
      file: trace.file,
      encoding: trace.encoding,
      compressed: trace.compressed,
      meta: trace.header.meta,
      events: result.events,
      skippedEvents: diagnostics.skipped,
      byOp: result.opCounts,
      allocated: { objects: result.stats.allocatedObjects, bytes: result.stats.allocatedBytes },
      byType: types,
      peakLiveObjects: result.stats.peakLiveObjects,
      peakLiveObjectsEvent: result.stats.peakLiveObjectsEvent,
      peakLiveBytes: result.stats.peakLiveBytes,
      liveAtEnd: { objects: result.liveObjects, bytes: result.liveBytes },
      cyclicGarbageAtEnd: { objects: result.leaks.cyclicGarbage.objects, bytes: result.leaks.cyclicGarbage.bytes },
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return;
    }
    const lines = [
      `${safeText(info.file, 60)}: ${info.encoding}${info.compressed ? ' (gzip)' : ''}, ${formatCount(info.events)} events`,
      `meta: ${safeText(JSON.stringify(info.meta), 70)}`,
      `events by op: ${Object.entries(info.byOp).filter(([, n]) => n > 0).map(([op, n]) => `${op} ${formatCount(n)}`).join(', ')}`,
      `allocated: ${formatCount(info.allocated.objects)} objects, ${formatBytes(info.allocated.bytes)}`,
      ...types.slice(0, 15).map((t) => `  ${safeText(t.type, 30).padEnd(30)} ${formatCount(t.objects).padStart(12)} ${formatBytes(t.bytes).padStart(11)}`),
      ...(types.length > 15 ? [`  … and ${types.length - 15} more types`] : []),
      `peak live under refcounting alone: ${formatCount(info.peakLiveObjects)} objects at event ${formatCount(info.peakLiveObjectsEvent)}, ${formatBytes(info.peakLiveBytes)}`,
      `live at the end: ${formatCount(info.liveAtEnd.objects)} objects (${formatCount(info.cyclicGarbageAtEnd.objects)} only in reference cycles)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

export const policiesCommand: CommandModule<object, { json: boolean }> = {
  ...COMMANDS.policies,
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print as JSON' }),
  handler: (args) => {
    const rows = listPolicies();
    if (args.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const lines = ['policy                  covers                thresholds    free lists'];
    for (const r of rows) {
      lines.push(`${r.name.padEnd(24)}${r.covers.padEnd(22)}${(r.defaultThresholds.join('/') || '–').padEnd(14)}${r.freeLists}`);
    }
    lines.push('', 'A policy name with a full version (cpython-3.12.1) selects the model of that release;', 'cpython-X.Y means the latest patch release of X.Y.');
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

interface GenerateArgs {
  workload: string;
  events: number;
  seed: number;
  format: string;
  output?: string;
  gzip: boolean;
}

export const generateCommand: CommandModule<object, GenerateArgs> = {
  ...COMMANDS.generate,
  builder: (y) =>
    y
      .option('workload', { type: 'string', demandOption: true, choices: WORKLOAD_NAMES, describe: 'the program to imitate' })
      .option('events', { type: 'number', default: 100000, describe: 'number of events' })
      .option('seed', { type: 'number', default: 1, describe: 'random seed (same seed, same trace)' })
      .option('format', { type: 'string', choices: FORMATS, default: 'jsonl', describe: 'encoding' })
      .option('output', { alias: 'o', type: 'string', describe: 'file to write (default: stdout)' })
      .option('gzip', { type: 'boolean', default: false, describe: 'gzip the output' })
      .example('$0 generate --workload web --events 1000000 -o web.jsonl', '')
      .example('$0 generate --workload cache-leak --events 50000 --format csv | memreplay replay - --format csv', '')
      .epilogue(WORKLOAD_NAMES.map((name) => `${name}: ${workloads[name].description}`).join('\n')),
  handler: async (args) => {
    const options = { events: args.events, seed: args.seed };
    const workload = workloads[args.workload as WorkloadName];
    checkWorkloadOptions(workload.name, options);
    const format = args.format as TraceEncoding;
    if (args.output === undefined || args.output === '-') {
      await writeTrace(workload.generate(options), workload.generateHeader(options), format, process.stdout, { gzip: args.gzip, end: false });
      return;
    }
    await writeStreamAtomic(args.output, (out) =>
      writeTrace(workload.generate(options), workload.generateHeader(options), format, out, { gzip: args.gzip, end: true }),
    );
  },
};

export const poolsCommand: CommandModule<object, { json: boolean }> = {
  ...COMMANDS.pools,
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print as JSON' }),
  handler: (args) => {
    const pools = listPools();
    if (args.json) {
      process.stdout.write(`${JSON.stringify(pools, null, 2)}\n`);
      return;
    }
    const lines: string[] = [];
    for (const pool of pools) {
      lines.push(`${pool.name} — ${pool.description}`, `  models: ${pool.releases}`);
      for (const param of pool.params) lines.push(`  --pool-param ${param.name}=${param.default}`.padEnd(40) + ` ${param.doc}`);
      lines.push('');
    }
    lines.push('--pool none replays without an allocator model (free lists still shape the collector counts).');
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
