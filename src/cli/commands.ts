/**
 * `replay` and `generate`. Each command only translates options into a request for
 * `src/analyze.ts` (or a workload), then renders and writes the outputs.
 */
import type { CommandModule } from 'yargs';
import { COMMANDS } from './command-list.js';
import { runReplay } from '../analyze.js';
import { MAX_OLD_OBJECTS } from '../config/resolve.js';
import { FREE_LIST_CONFIGS } from '../pool/free-list.js';
import { parsePoolParams } from '../pool/index.js';
import type { TraceEncoding } from '../trace/types.js';
import { writeTrace } from '../trace/write.js';
import { checkWorkloadOptions, WORKLOAD_NAMES, workloads, type WorkloadName } from '../workload/index.js';
import { parseCount, parseThresholds } from './args.js';
import { Progress, writeOutputs } from './io.js';
import { planOutputs, produceReportOutputs, reportOutputOptions, type ReportOutputArgs } from './report-command.js';
import { FORMATS, stdinFor, traceOptions } from './trace-options.js';

interface ReplayArgs extends ReportOutputArgs {
  trace: string;
  format?: string;
  'max-errors': number;
  lenient: boolean;
  policy?: string;
  threshold?: string;
  'old-objects'?: number;
  'marked-objects'?: number;
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
      .option('policy', { type: 'string', describe: 'collector model, e.g. cpython-3.11, cpython-3.12.1, refcount-only, mark-sweep (default: meta.python, else cpython-3.12); see "memreplay policies"' })
      .option('threshold', { type: 'string', describe: 'gc thresholds "T0,T1,T2" (any may be empty to keep the default), e.g. 10000,10,10' })
      .option('old-objects', { type: 'number', describe: 'GC objects already in the oldest generation at the start (default: meta.oldObjects, else 0)' })
      .option('marked-objects', { type: 'number', describe: 'cpython-3.14.1-3.14.4: how many of the old objects the interpreter\'s roots reach (default: meta.markedObjects, else all)' })
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
      stdin: stdinFor(args.trace),
      policy: args.policy,
      thresholds: args.threshold === undefined ? undefined : parseThresholds(args.threshold),
      oldObjects: args['old-objects'] === undefined ? undefined : parseCount('--old-objects', args['old-objects'], 0, MAX_OLD_OBJECTS),
      markedObjects: args['marked-objects'] === undefined ? undefined : parseCount('--marked-objects', args['marked-objects'], 0, MAX_OLD_OBJECTS),
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
    await writeOutputs([
      {
        path: args.output ?? '-',
        write: (out, end) => writeTrace(workload.generate(options), workload.generateHeader(options), format, out, { gzip: args.gzip, end }),
      },
    ]);
  },
};

