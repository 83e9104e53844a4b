/**
 * `validate` and `info`: read a trace through the decoders and the heap rules under plain
 * reference counting, without an allocator model (the cheapest full check).
 */
import type { CommandModule } from 'yargs';
import { COMMANDS } from './command-list.js';
import { TraceErrors, UsageError, UserError } from '../errors.js';
import { refcountOnly } from '../gc/refcount.js';
import { FREE_LIST_CONFIGS } from '../pool/free-list.js';
import { replay } from '../replay/index.js';
import { atEvent, formatBytes, formatCount, safeText } from '../report/format.js';
import { Diagnostics } from '../trace/diagnostics.js';
import { openTrace } from '../trace/index.js';
import type { TraceEncoding } from '../trace/types.js';
import { parseCount } from './args.js';
import { stdinFor, traceOptions } from './trace-options.js';

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
    // Stdin can be read once: a second "-" would read as an empty, valid trace.
    if (args.traces.filter((file) => file === '-').length > 1) throw new UsageError('- (stdin) can be named once among the traces');
    const results: { file: string; valid: boolean; events: number; skipped: number; errors: string[] }[] = [];
    for (const file of args.traces) {
      const diagnostics = new Diagnostics({ maxErrors: parseCount('--max-errors', args['max-errors'], 1), lenient: args.lenient });
      try {
        const trace = await openTrace(file, { format: args.format as TraceEncoding | undefined, diagnostics, stdin: stdinFor(file) });
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
    const trace = await openTrace(args.trace, { format: args.format as TraceEncoding | undefined, diagnostics, stdin: stdinFor(args.trace) });
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
      `peak live under refcounting alone: ${formatCount(info.peakLiveObjects)} objects ${atEvent(info.peakLiveObjectsEvent)}, ${formatBytes(info.peakLiveBytes)}`,
      `live at the end: ${formatCount(info.liveAtEnd.objects)} objects (${formatCount(info.cyclicGarbageAtEnd.objects)} only in reference cycles)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

