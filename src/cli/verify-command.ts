/**
 * `memreplay verify TRACE`: runs the trace in a real CPython (src/oracle) and through memreplay's
 * model of that release, and compares what `gc.get_stats()` and `gc.get_count()` say. Exit 0 when
 * they agree, 1 when they differ, 2 when the trace cannot be run exactly in an interpreter.
 */
import type { CommandModule } from 'yargs';
import { COMMANDS } from './command-list.js';
import { BudgetError, UsageError, UserError } from '../errors.js';
import { resolvePolicy } from '../gc/index.js';
import { checkOracleTrace, OracleTraceError, processRunner, runOracle, type DriverRunner } from '../oracle/cpython.js';
import { loadPyodideOnce, pyodideRunner } from '../oracle/pyodide.js';
import { checkOracleInterpreter, findPython, installedPythons } from '../oracle/python.js';
import { freeListConfig } from '../pool/free-list.js';
import { replayChunks } from '../replay/index.js';
import { Diagnostics } from '../trace/diagnostics.js';
import { eventsOf } from '../trace/events.js';
import { openTrace, readAllChunks } from '../trace/index.js';
import type { TraceEncoding } from '../trace/types.js';
import { stdinFor } from './trace-options.js';

/**
 * CPython 3.7 counts two trashcan levels per deallocation of a list subclass (`subtype_dealloc`
 * and `list_dealloc` each enter one) and defers what lies beyond `PyTrash_UNWIND_LEVEL` (50); the
 * deferred objects are never freed (bpo-35983). Measured on 3.7.16: a chain of n such objects
 * dropped at once leaves n - 25 of them counted as alive.
 */
const TRASHCAN_SAFE_DEPTH_3_7 = 25;

/** The oracle keeps the whole trace in memory, twice: beyond this, ask for a shorter trace. */
const MAX_VERIFY_EVENTS = 2_000_000;

interface VerifyArgs {
  trace: string;
  python?: string;
  policy?: string;
  format?: string;
  json: boolean;
}

export const verifyCommand: CommandModule<object, VerifyArgs> = {
  ...COMMANDS.verify,
  builder: (y) =>
    y
      .positional('trace', { type: 'string', demandOption: true, describe: 'trace file, or - for stdin' })
      .option('python', {
        type: 'string',
        describe: 'interpreter: a path, a version found under ~/.pyenv/versions, or "pyodide" (CPython 3.14.2 in WebAssembly, used for 3.14.2 when pyenv has none; needs the pyodide package) (default: the trace\'s meta.python)',
      })
      .option('policy', { type: 'string', describe: 'model to check (default: the interpreter\'s release)' })
      .option('format', { type: 'string', choices: ['jsonl', 'json', 'csv'], describe: 'trace encoding' })
      .option('json', { type: 'boolean', default: false, describe: 'print the comparison as JSON' })
      .example('$0 verify traces/cycle.jsonl --python 3.11.7', '')
      .epilogue(
        'The interpreter runs every traced object as an instance of a list subclass (a bytearray for "tracked": false), so traces whose ' +
          'objects are of type list, dict, tuple or float (which CPython treats specially) cannot be verified exactly and are refused; ' +
          'the model is told so (in 3.14.1-3.14.4 deallocating such an instance tracks it once more).',
      ),
  handler: async (args) => {
    const diagnostics = new Diagnostics();
    const trace = await openTrace(args.trace, { format: args.format as TraceEncoding | undefined, diagnostics, stdin: stdinFor(args.trace) });
    const chunks = await readAllChunks(trace);
    diagnostics.finish();
    const total = chunks.reduce((n, c) => n + c.length, 0);
    if (total > MAX_VERIFY_EVENTS) throw new UsageError(`verify runs the whole trace in memory; ${total} events is more than ${MAX_VERIFY_EVENTS}: verify a shorter trace`);
    const events = eventsOf(chunks, trace.types, trace.sites);
    try {
      checkOracleTrace(events);
    } catch (error) {
      if (!(error instanceof OracleTraceError)) throw error;
      // Where the event is, as every message about a trace says.
      const chunk = chunks.find((c) => error.event >= c.firstIndex && error.event < c.firstIndex + c.length);
      const line = chunk === undefined ? 0 : chunk.line[error.event - chunk.firstIndex];
      throw new UserError(error.code, `${trace.file}${line > 0 ? `:${line}` : ''}: ${error.message}`);
    }

    const { runner, path: python } = await locateInterpreter(args.python ?? (typeof trace.header.meta.python === 'string' ? trace.header.meta.python : undefined));
    const oracle = await runOracle(events, runner);
    const policy = resolvePolicy(args.policy ?? `cpython-${oracle.python}`);
    const result = replayChunks(
      { file: trace.file, header: trace.header, types: trace.types, sites: trace.sites, chunks: () => chunks },
      {
        policy,
        oldObjects: oracle.oldObjects,
        markedObjects: oracle.markedObjects,
        // The driver's objects are list subclasses (see the epilogue).
        builtinContainerSubclasses: true,
        automaticCollection: true,
        freeLists: freeListConfig(policy.release.freeLists),
        pool: null,
        diagnostics: new Diagnostics(),
      },
    );
    if (oracle.python.startsWith('3.7.') && result.deepestCascade > TRASHCAN_SAFE_DEPTH_3_7) {
      throw new UserError(
        'ORACLE_TRACE_NOT_RUNNABLE',
        `${trace.file}: one deallocation here nests ${result.deepestCascade} deallocations; CPython 3.7 never finishes deallocating a list subclass ` +
          `more than ${TRASHCAN_SAFE_DEPTH_3_7} levels down (its trashcan, bpo-35983, fixed in 3.8), and the oracle's objects are list subclasses, ` +
          'so CPython 3.7 cannot run this trace exactly; verify it with 3.8 or later',
      );
    }
    const model = { generations: result.gc.generations, count: result.gc.count };
    const interpreter = { generations: oracle.generations, count: oracle.count };
    const same = JSON.stringify(model) === JSON.stringify(interpreter);

    if (args.json) {
      process.stdout.write(`${JSON.stringify({ match: same, python: oracle.python, interpreterPath: python, policy: policy.name, oldObjects: oracle.oldObjects, interpreter, model }, null, 2)}\n`);
    } else {
      const lines = [`${trace.file}: ${total} events · CPython ${oracle.python} (${oracle.oldObjects} old objects) vs ${policy.name}`, ''];
      lines.push(`${''.padEnd(26)}${'CPython'.padStart(24)}${'memreplay'.padStart(24)}`);
      const cell = (g: { collections: number; collected: number; uncollectable: number }) => `${g.collections}/${g.collected}/${g.uncollectable}`;
      for (let g = 0; g < 3; g++) {
        const mark = cell(oracle.generations[g]) === cell(result.gc.generations[g]) ? '' : '  ✗';
        lines.push(`${`gc.get_stats()[${g}]`.padEnd(26)}${cell(oracle.generations[g]).padStart(24)}${cell(result.gc.generations[g]).padStart(24)}${mark}`);
      }
      lines.push(`${'gc.get_count()'.padEnd(26)}${oracle.count.join(', ').padStart(24)}${result.gc.count.join(', ').padStart(24)}${oracle.count.join() === result.gc.count.join() ? '' : '  ✗'}`);
      lines.push('(gc.get_stats() per generation: collections/collected/uncollectable over the trace)');
      lines.push('', same ? 'match: the model reproduces the interpreter exactly' : 'MISMATCH: the model and the interpreter differ');
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!same) throw new BudgetError([`${policy.name} does not reproduce CPython ${oracle.python} on ${trace.file}`], 'check failed');
  },
};

/** The release pyodide's interpreter is (the `pyodide` development dependency, 314.0.7). */
const PYODIDE_PYTHON = '3.14.2';

/**
 * How to run the driver: a Python process, or pyodide for `pyodide` and for 3.14.2 when pyenv
 * has no such interpreter.
 */
async function locateInterpreter(wanted: string | undefined): Promise<{ runner: DriverRunner; path: string }> {
  if (wanted === 'pyodide' || ((wanted === '3.14' || wanted === PYODIDE_PYTHON) && findPython(wanted) === null)) {
    const pyodide = await loadPyodideOnce();
    if (pyodide === null) throw new UsageError(`CPython ${PYODIDE_PYTHON} runs here only through pyodide, which is not installed: npm install pyodide@314.0.7`);
    return { runner: pyodideRunner(pyodide), path: 'pyodide' };
  }
  const path = locatePython(wanted);
  checkOracleInterpreter(path);
  return { runner: processRunner({ python: path }), path };
}

/** An interpreter path from a path or a version; the error lists what is installed. */
function locatePython(wanted: string | undefined): string {
  if (wanted !== undefined && wanted.includes('/')) return wanted;
  const installed = installedPythons();
  if (wanted === undefined) {
    if (installed.length === 0) throw new UsageError('no CPython found under ~/.pyenv/versions; pass --python PATH');
    throw new UsageError(`the trace names no Python version (meta.python); choose one with --python (installed: ${installed.join(', ')})`);
  }
  const version = /^\d+\.\d+(\.\d+)?/.exec(wanted)?.[0];
  const path = version === undefined ? null : findPython(version);
  if (path === null) throw new UsageError(`CPython ${wanted} is not installed under ~/.pyenv/versions (installed: ${installed.join(', ') || 'none'}); pass --python PATH or VERSION`);
  return path;
}
