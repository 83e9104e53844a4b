/**
 * The command line: argv → a request for `src/analyze.ts` → outputs and an exit code.
 *
 * Exit codes: 0 success; 1 a CI budget or a verdict failed (after every requested report was written);
 * 2 invalid input or usage (one clear message, no stack trace, nothing written);
 * 70 an internal error (a bug in memreplay: the stack trace is printed).
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';

// yargs' ESM build wraps help text in the middle of words (its ESM cliui lacks wrap-ansi); the
// CommonJS build wraps at word boundaries.
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
import { ExitCode, UsageError, UserError, BudgetError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { COMMANDS, isCommandName, LOADERS, REPEATABLE_OPTIONS, type CommandName } from './command-list.js';

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const parser = await buildParser(argv);
    await parser.parseAsync();
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof BudgetError) {
    for (const line of error.failures) process.stderr.write(`memreplay: ${error.label}: ${line}\n`);
    return ExitCode.budget;
  }
  if (error instanceof UserError) {
    process.stderr.write(`memreplay: ${error.message}\n`);
    return ExitCode.invalidInput;
  }
  process.stderr.write(`memreplay: internal error (this is a bug in memreplay, please report it)\n`);
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.internal;
}

/**
 * yargs swallows a lone "-" (stdin/stdout by convention): it is passed through as a sentinel that
 * no real argument can contain, and turned back into "-" before any command sees it.
 */
const DASH = '\u0000-';

function restoreDashes(args: Record<string, unknown>): void {
  for (const key of Object.keys(args)) {
    const value = args[key];
    if (value === DASH) args[key] = '-';
    else if (Array.isArray(value)) args[key] = value.map((item) => (item === DASH ? '-' : item));
  }
}

/**
 * An option given twice that takes one value (`--json a.json --json b.json`) is a usage error,
 * not the last one silently winning (or a crash in code that expects one value); the command's
 * `REPEATABLE_OPTIONS` collect their values.
 */
function rejectRepeatedOptions(command: string | undefined, repeatable: readonly string[]) {
  return (args: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(args)) {
      // `_` holds the positionals; yargs also sets the value under each alias (`-o`, checked as
      // `--output`) and a camelCase copy of each dashed option.
      if (!Array.isArray(value) || key === '_' || key.length === 1 || key !== key.toLowerCase() || repeatable.includes(key)) continue;
      throw new UsageError(`--${key} was given ${value.length} times; it takes one value\nRun "memreplay ${command ?? ''} --help" for usage.`);
    }
  };
}

/**
 * A number option given an empty value (`--events ""`, `--seed=`) is a usage error: yargs reads
 * it as 0, which would silently replace a default (`--old-objects ""` dropped `meta.oldObjects`).
 * Only the raw arguments tell an empty value from a 0; the declared number options are asked of
 * the parser once the command has declared its own.
 */
function rejectEmptyNumbers(argv: readonly string[], numberOptions: () => readonly string[]) {
  return (): void => {
    const numbers = numberOptions();
    for (const [i, arg] of argv.entries()) {
      if (arg === '--') break;
      if (!arg.startsWith('--')) continue;
      const equals = arg.indexOf('=');
      const name = arg.slice(2, equals < 0 ? undefined : equals);
      const value = equals < 0 ? argv[i + 1] : arg.slice(equals + 1);
      if (value !== undefined && value.trim() === '' && numbers.includes(name)) {
        throw new UsageError(`--${name} was given an empty value; it takes a number`);
      }
    }
  };
}

/**
 * Builds the parser. Only the command being run is imported (see `command-list.ts`); the others are
 * registered by name and description, which is all the top-level help needs.
 */
async function buildParser(argv: readonly string[]): Promise<Argv> {
  const invoked = argv.find((arg) => !arg.startsWith('-'));
  // yargs lays out the command's help text as soon as its handler starts, whether or not it is
  // ever shown (yargs lib/command.js: cacheHelpMessage); wrapped to the terminal's width that
  // took 7–12 ms of a 150 ms start, unwrapped under 4. So help is wrapped only when asked for.
  const helpAsked = argv.some((arg) => arg === '--help' || arg === '-h');
  const parser: Argv = yargs(argv.map((arg) => (arg === '-' ? DASH : arg)))
    .middleware(restoreDashes, true)
    .middleware(rejectRepeatedOptions(invoked, invoked !== undefined && isCommandName(invoked) ? (REPEATABLE_OPTIONS[invoked] ?? []) : []))
    // NOTE: `getOptions` is yargs' own (yargs.js), not in its typings.
    .middleware(rejectEmptyNumbers(argv, (): string[] => (parser as unknown as { getOptions(): { number: string[] } }).getOptions().number))
    .scriptName('memreplay')
    .usage('$0 <command> [options]\n\nReplay recorded Python heap traces through models of CPython\'s garbage collector and allocator.');
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    if (name === invoked) parser.command(await LOADERS[name]());
    else parser.command(COMMANDS[name].command, COMMANDS[name].describe);
  }
  if (invoked !== undefined && !isCommandName(invoked)) {
    throw new UsageError(`unknown command "${invoked}"; commands: ${Object.keys(COMMANDS).join(', ')}\nRun "memreplay --help" for usage.`);
  }
  return parser
    .demandCommand(1, `name a command: ${Object.keys(COMMANDS).join(', ')} (see --help)`)
    .strict()
    .version(TOOL_VERSION)
    .alias('h', 'help')
    .alias('V', 'version')
    .wrap(helpAsked ? Math.min(120, process.stdout.columns || 120) : null)
    .epilogue('Exit codes: 0 ok · 1 a CI budget or a verify check failed · 2 invalid input or usage · 70 internal error.\nDocs: README.md and traces/README.md in the package.')
    .fail((message, error) => {
      if (error) throw error;
      throw new UsageError(`${message}\nRun "memreplay --help" for usage.`);
    });
}
