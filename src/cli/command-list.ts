/**
 * The commands: their names and one-line descriptions, and where each is implemented. This file
 * is all `memreplay --help` and `--version` load; a command's module (and everything it imports:
 * decoders, the engine, vega…) is imported only when that command runs, so start-up stays fast.
 */
import type { CommandModule } from 'yargs';

export interface CommandInfo {
  /** yargs command string: the name and its positionals. */
  command: string;
  describe: string;
}

export const COMMANDS = {
  replay: { command: 'replay <trace>', describe: 'replay a trace through a collector and allocator model and report what they did' },
  report: {
    command: 'report <report>',
    describe: 'render a saved JSON report (replay --json) again as HTML, Markdown, CSV or a summary, and judge budgets, without replaying',
  },
  compare: {
    command: 'compare <trace>',
    describe: 'replay one trace under many collector configurations, in parallel, and compare them (Pareto front of collector work vs memory held)',
  },
  merge: { command: 'merge <parts..>', describe: 'join the parts of a sharded comparison (compare --shard K/N --json) into the whole comparison' },
  diff: { command: 'diff <a> <b>', describe: 'compare two replay reports (before and after a change): new and fixed leaks, changes in each headline number' },
  validate: { command: 'validate <traces..>', describe: 'check traces against the format (JSON Schema) and the heap rules; exit 0 if all are valid, 2 otherwise' },
  info: {
    command: 'info <trace>',
    describe: 'summarize a trace: events by op, objects and bytes allocated by type, peak live objects under plain refcounting, header meta',
  },
  policies: { command: 'policies', describe: 'list the collector models and the CPython releases each covers' },
  pools: { command: 'pools', describe: 'list the allocator models (--pool) and their parameters (--pool-param)' },
  generate: { command: 'generate', describe: 'write a deterministic synthetic trace from a workload model (for exploring, tests and benchmarks)' },
  verify: {
    command: 'verify <trace>',
    describe: "run a trace in a real CPython and check that memreplay's model gives the same gc.get_stats() and gc.get_count()",
  },
} as const satisfies Record<string, CommandInfo>;

export type CommandName = keyof typeof COMMANDS;

/**
 * The options (and variadic positionals) a command takes more than once. yargs gives an option
 * given twice as an array; every option not listed here must come once (main.ts).
 */
const BUDGETS = ['fail-on', 'max-collections', 'max-growth'] as const;
export const REPEATABLE_OPTIONS: Partial<Record<CommandName, readonly string[]>> = {
  replay: ['pool-param', ...BUDGETS],
  report: BUDGETS,
  compare: ['policy', 'threshold', 'gc', 'old-objects', 'pool', 'pool-param', 'freelists'],
  merge: ['parts'],
  diff: ['fail-on'],
  validate: ['traces'],
};

// eslint-style note: the loaders return modules typed loosely on purpose: each command has its own
// argument type, and yargs only needs the builder and handler.
type AnyCommand = CommandModule<object, never>;

/** Imports the module that implements a command. */
export const LOADERS: Record<CommandName, () => Promise<AnyCommand>> = {
  replay: async () => (await import('./commands.js')).replayCommand as AnyCommand,
  report: async () => (await import('./report-command.js')).reportCommand as AnyCommand,
  compare: async () => (await import('./compare-commands.js')).compareCommand as AnyCommand,
  merge: async () => (await import('./compare-commands.js')).mergeCommand as AnyCommand,
  diff: async () => (await import('./compare-commands.js')).diffCommand as AnyCommand,
  validate: async () => (await import('./validate-command.js')).validateCommand as AnyCommand,
  info: async () => (await import('./validate-command.js')).infoCommand as AnyCommand,
  policies: async () => (await import('./listing-commands.js')).policiesCommand as AnyCommand,
  pools: async () => (await import('./listing-commands.js')).poolsCommand as AnyCommand,
  generate: async () => (await import('./commands.js')).generateCommand as AnyCommand,
  verify: async () => (await import('./verify-command.js')).verifyCommand as AnyCommand,
};

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}
