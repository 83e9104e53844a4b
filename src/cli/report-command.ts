/**
 * The report outputs and CI budgets that `replay` and `report` share, and the `report` command
 * (`memreplay report REPORT.json --html FILE`: render a saved JSON report again, no replay).
 *
 * Order of work, the same for both commands:
 *   1. parse the budgets and check the output paths   (a mistake: exit 2, before any work)
 *   2. get the report                                  (replay, or read and validate the JSON)
 *   3. judge the budgets, render every output          (HTML loads vega only now)
 *   4. write every output atomically                   (`writeOutputs`)
 *   5. a broken budget: throw `BudgetError`            (exit 1, one line each, reports on disk)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv';
import type { Argv, CommandModule } from 'yargs';
import { COMMANDS } from './command-list.js';
import { BudgetError, UsageError, UserError } from '../errors.js';
import { evaluateBudgets, FAIL_ON_CONDITIONS, parseBudgets, type Budget } from '../report/budgets.js';
import { CSV_FILE_NAMES, renderCsvTables } from '../report/csv.js';
import { reportValueProblem, timelineProblem } from '../report/integrity.js';
import { REPORT_FORMAT, REPORT_VERSION, type ReplayReport } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderTerminal } from '../report/terminal.js';
import { checkOutputs, useColor, writeOutputs, type PendingOutput } from './io.js';

const REPORT_SCHEMA_URL = new URL('../../schemas/replay-report.schema.json', import.meta.url);

/** The options of every command that produces reports. */
export interface ReportOutputArgs {
  json?: string;
  html?: string;
  markdown?: string;
  csv?: string;
  'fail-on'?: string[];
  'max-peak-bytes'?: string;
  'max-collections'?: string[];
  'max-growth'?: string[];
  color?: boolean;
  top: number;
}

/** Adds the report and budget options (all but `--json`, which `replay` documents itself). */
export function reportOutputOptions<T>(y: Argv<T>) {
  return y
    .option('html', { type: 'string', describe: 'write a self-contained HTML report (charts, leak triage) to FILE' })
    .option('markdown', { type: 'string', describe: 'write a compact Markdown summary to FILE (e.g. "$GITHUB_STEP_SUMMARY"; - for stdout)' })
    .option('csv', { type: 'string', describe: `write the tables as CSV files into DIR (${CSV_FILE_NAMES.join(', ')})` })
    .option('fail-on', { type: 'string', array: true, choices: FAIL_ON_CONDITIONS, describe: 'exit 1 if there is cyclic garbage left at the end or anything uncollectable' })
    .option('max-peak-bytes', { type: 'string', describe: 'exit 1 if peak live bytes exceed N (suffixes K, M, G: powers of 1024)' })
    .option('max-collections', { type: 'string', array: true, describe: 'exit 1 if generation GEN collected more than N times: GEN=N (repeatable)' })
    .option('max-growth', { type: 'string', array: true, describe: 'exit 1 if reachable memory allocated at sites matching SITE_GLOB grew more than BYTES: SITE_GLOB=BYTES (repeatable)' })
    .option('color', { type: 'boolean', describe: 'color the terminal summary (default: when stdout is a terminal and NO_COLOR is unset)' })
    .option('top', { type: 'number', default: 5, describe: 'leak groups shown per section in the summary' })
    .group(['html', 'markdown', 'csv'], 'Reports:')
    .group(['fail-on', 'max-peak-bytes', 'max-collections', 'max-growth'], 'CI budgets (exit 1 after writing every report):');
}

/** Step 1, before any work: the budgets, parsed, and every output path, checked. */
export interface OutputPlan {
  budgets: Budget[];
}

export function planOutputs(args: ReportOutputArgs, inputs: readonly string[]): OutputPlan {
  const budgets = parseBudgets({
    failOn: args['fail-on'],
    maxPeakBytes: args['max-peak-bytes'],
    maxCollections: args['max-collections'],
    maxGrowth: args['max-growth'],
  });
  if (args.csv === '-') throw new UsageError('--csv writes several files: name a directory, not "-"');
  if (args.csv === '') throw new UsageError('--csv was given an empty path; name a directory');
  if (args.top !== undefined && (!Number.isInteger(args.top) || args.top < 0)) throw new UsageError(`--top must be an integer >= 0, got ${String(args.top)}`);
  checkOutputs(outputPaths(args), inputs);
  return { budgets };
}

function outputPaths(args: ReportOutputArgs): string[] {
  const paths = [args.json, args.html, args.markdown].filter((p): p is string => p !== undefined);
  if (args.csv !== undefined) for (const name of CSV_FILE_NAMES) paths.push(join(args.csv, name));
  return paths;
}

/** Steps 3-5: render what was asked for, write it all, then fail on a broken budget. */
export async function produceReportOutputs(report: ReplayReport, args: ReportOutputArgs, plan: OutputPlan): Promise<void> {
  const verdicts = evaluateBudgets(report, plan.budgets);
  const pending: PendingOutput[] = [];
  if (args.json !== undefined) pending.push({ path: args.json, content: `${JSON.stringify(report, null, 2)}\n` });
  if (args.html !== undefined) {
    // Loaded here, not at the top: the HTML renderer pulls in vega, which other commands never need.
    const { renderHtml } = await import('../report/html.js');
    pending.push({ path: args.html, content: await renderHtml(report, { verdicts, generatedAt: generatedAt() }) });
  }
  if (args.markdown !== undefined) pending.push({ path: args.markdown, content: renderMarkdown(report, { verdicts }) });
  if (args.csv !== undefined) for (const file of renderCsvTables(report)) pending.push({ path: join(args.csv, file.name), content: file.content });
  if (!pending.some((output) => output.path === '-')) {
    pending.push({ path: '-', content: renderTerminal(report, { color: useColor(args.color, process.stdout), top: args.top, verdicts }) });
  }
  await writeOutputs(pending);
  const failures = verdicts.filter((v) => !v.passed);
  if (failures.length > 0) throw new BudgetError(failures.map((v) => v.message));
}

/**
 * The HTML header's timestamp: `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention,
 * for byte-identical pages in tests and pipelines), else now.
 */
function generatedAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const date = epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  return `${date.toISOString().slice(0, 19)}Z`;
}

// ---- memreplay report ---------------------------------------------------------------------------

interface ReportArgs extends ReportOutputArgs {
  report: string;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  ...COMMANDS.report,
  builder: (y) =>
    reportOutputOptions(y)
      .positional('report', { type: 'string', demandOption: true, describe: 'a JSON report written by "memreplay replay --json", or - for stdin' })
      .example('$0 report report.json --html report.html', 'the HTML report of a saved replay')
      .example('$0 report report.json --fail-on leaks --max-peak-bytes 64M', 'judge budgets again (exit 1 if one fails)'),
  handler: async (args) => {
    const plan = planOutputs(args, [args.report]);
    const report = await readReport(args.report);
    await produceReportOutputs(report, args, plan);
  },
};

/** Reads a JSON report and checks it against its schema; every problem is a `UserError` (exit 2). */
export async function readReport(path: string): Promise<ReplayReport> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError('REPORT_INVALID', `${path}: not JSON (${(error as Error).message}); expected a report written by "memreplay replay --json"`);
  }
  const head = value as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== REPORT_FORMAT) {
    throw new UserError('REPORT_INVALID', `${path}: not a memreplay report (expected "format": "${REPORT_FORMAT}"); write one with "memreplay replay TRACE --json FILE"`);
  }
  if (head.version !== REPORT_VERSION) {
    throw new UserError('REPORT_VERSION', `${path}: report version ${JSON.stringify(head.version)} is not supported by this memreplay (it reads version ${REPORT_VERSION})`);
  }
  // ajv is loaded here, not at start-up: only reading a saved report needs it.
  const { Ajv } = await import('ajv');
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(await readFile(REPORT_SCHEMA_URL, 'utf8')) as object);
  if (!validate(value)) {
    const errors = (validate.errors ?? []).slice(0, 5).map((e: ErrorObject) => `  ${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    throw new UserError('REPORT_INVALID', `${path}: does not follow schemas/replay-report.schema.json:\n${errors.join('\n')}`);
  }
  const report = value as ReplayReport;
  const problem = reportValueProblem(report) ?? timelineProblem(report);
  if (problem !== null) throw new UserError('REPORT_INVALID', `${path}: not a report memreplay wrote: ${problem}`);
  return report;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
