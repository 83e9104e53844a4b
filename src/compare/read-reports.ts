/**
 * Reading reports back: a comparison's part for `merge`, a replay report for `diff`. Each is
 * validated against its schema before anything reads it, so a truncated or foreign file is one
 * clear message, not a crash deep in a renderer.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { UsageError } from '../errors.js';
import { reportValueProblem, timelineProblem } from '../report/integrity.js';
import { REPORT_FORMAT, type ReplayReport } from '../report/json.js';
import { COMPARE_FORMAT, type CompareReport } from './report.js';

const REPLAY_SCHEMA_URL = new URL('../../schemas/replay-report.schema.json', import.meta.url);
const COMPARE_SCHEMA_URL = new URL('../../schemas/compare-report.schema.json', import.meta.url);

/** Problems listed per file, at most. */
const MAX_LISTED_PROBLEMS = 5;

interface Validators {
  replay: ValidateFunction<ReplayReport>;
  compare: ValidateFunction<CompareReport>;
}

let validators: Validators | undefined;

/** Both schemas in one ajv instance: the comparison schema refers to the replay schema by $id. */
function schemaValidators(): Validators {
  if (validators === undefined) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    const replaySchema: unknown = JSON.parse(readFileSync(REPLAY_SCHEMA_URL, 'utf8'));
    ajv.addSchema(replaySchema as object);
    const replay = ajv.getSchema<ReplayReport>((replaySchema as { $id: string }).$id);
    if (replay === undefined) throw new Error('the replay report schema did not register');
    validators = { replay, compare: ajv.compile<CompareReport>(JSON.parse(readFileSync(COMPARE_SCHEMA_URL, 'utf8'))) };
  }
  return validators;
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name}: not JSON: ${(error as Error).message}`);
  }
}

function problems(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, MAX_LISTED_PROBLEMS)
    .map((e) => `  ${e.instancePath === '' ? '(top level)' : e.instancePath}: ${e.message ?? 'is invalid'}`)
    .join('\n');
}

function formatOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null && 'format' in data ? data.format : undefined;
}

/** A part written by `compare --shard K/N --json` (or a whole comparison). */
export function parseCompareReport(text: string, name: string): CompareReport {
  const data = parseJson(text, name);
  if (formatOf(data) !== COMPARE_FORMAT) throw new UsageError(`${name}: not a memreplay comparison (write one with memreplay compare --json FILE)`);
  const { compare } = schemaValidators();
  if (!compare(data)) throw new UsageError(`${name}: not a valid memreplay comparison (schemas/compare-report.schema.json):\n${problems(compare.errors)}`);
  const problem = reportValueProblem(data) ?? data.runs.reduce<string | null>((found, run, i) => found ?? timelineProblem(run, `/runs/${i}`), null);
  if (problem !== null) throw new UsageError(`${name}: not a comparison memreplay wrote: ${problem}`);
  // Reports written before `--marked-objects` existed lack the field; it meant the default.
  for (const entry of data.configurations) entry.markedObjects ??= null;
  return data;
}

/**
 * A replay report (`replay --json`), or a comparison with exactly one run (which is one).
 */
export function parseReplayReport(text: string, name: string): ReplayReport {
  const data = parseJson(text, name);
  const format = formatOf(data);
  if (format === COMPARE_FORMAT) {
    const comparison = parseCompareReport(text, name);
    if (comparison.runs.length !== 1) {
      throw new UsageError(`${name} holds ${comparison.runs.length} runs; diff takes one replay report (memreplay replay TRACE --json FILE with the configuration of interest)`);
    }
    return comparison.runs[0];
  }
  if (format !== REPORT_FORMAT) throw new UsageError(`${name}: not a memreplay replay report (write one with memreplay replay TRACE --json FILE)`);
  const { replay } = schemaValidators();
  if (!replay(data)) throw new UsageError(`${name}: not a valid memreplay replay report (schemas/replay-report.schema.json):\n${problems(replay.errors)}`);
  const problem = reportValueProblem(data) ?? timelineProblem(data);
  if (problem !== null) throw new UsageError(`${name}: not a replay report memreplay wrote: ${problem}`);
  return data;
}
