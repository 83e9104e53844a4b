/**
 * `compare --config FILE`: configurations from JSON, validated against
 * `schemas/compare-config.schema.json` (the contract; its description is the documentation)
 * before anything else reads them.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { MAX_OLD_OBJECTS } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { completeEntry, expandSweep, MAX_CONFIGURATIONS, sweepSize, THRESHOLD_MAX, tooMany, type ConfigurationEntry, type ConfigurationInput, type Sweep } from './configurations.js';
import type { ObjectiveName } from './pareto.js';
import { parseValueList } from './ranges.js';

const SCHEMA_URL = new URL('../../schemas/compare-config.schema.json', import.meta.url);

/** The file as the schema describes it. */
export interface ConfigFile {
  configurations?: ConfigurationInput[];
  grid?: {
    policy?: string[];
    threshold0?: string | number[];
    threshold1?: string | number[];
    threshold2?: string | number[];
    gc?: ('on' | 'off')[];
    oldObjects?: string | number[];
    markedObjects?: number;
    pool?: string[];
    poolParams?: Record<string, number>;
    freeLists?: string[];
  };
  objectives?: ObjectiveName[];
}

/** Problems listed per file, at most. */
const MAX_LISTED_PROBLEMS = 10;

let validator: ValidateFunction<ConfigFile> | undefined;

/** The compiled schema, compiled on first use (compare is the only command that needs it). */
function validateConfigFile(): ValidateFunction<ConfigFile> {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile<ConfigFile>(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')));
  return validator;
}

/** Reads a configuration file's text: every configuration, in order, and the file's objectives. */
export function parseConfigFile(text: string, file: string): { entries: ConfigurationEntry[]; objectives?: ObjectiveName[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON: ${(error as Error).message}`);
  }
  const validate = validateConfigFile();
  if (!validate(data)) throw new UsageError(`${file}: not a compare configuration file (schemas/compare-config.schema.json):\n${describeErrors(validate.errors ?? [])}`);
  const inputs = data.configurations ?? [];
  const sweep = data.grid === undefined ? undefined : sweepOf(data.grid, file);
  const size = inputs.length + (sweep === undefined ? 0 : sweepSize(sweep));
  if (size > MAX_CONFIGURATIONS) throw tooMany(size, `in ${file}`);
  const entries = inputs.map((input, i) => {
    try {
      return completeEntry(input);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${file}: configurations/${i}: ${error.message}`);
      throw error;
    }
  });
  if (sweep !== undefined) entries.push(...expandSweep(sweep));
  if (entries.length === 0) throw new UsageError(`${file}: lists no configurations; give at least one in "configurations", or a "grid"`);
  return { entries, objectives: data.objectives };
}

function sweepOf(grid: NonNullable<ConfigFile['grid']>, file: string): Sweep {
  const values = (key: 'threshold0' | 'threshold1' | 'threshold2' | 'oldObjects', max: number): number[] | undefined => {
    const given = grid[key];
    const option = `${file}: grid.${key}`;
    if (given === undefined) return undefined;
    if (typeof given === 'string') return parseValueList(given, { option, max });
    const tooLarge = given.find((value) => value > max);
    if (tooLarge !== undefined) throw new UsageError(`${option}: ${tooLarge} is above the largest allowed value, ${max}`);
    return once(given);
  };
  return {
    policies: once(grid.policy),
    thresholdLists: [values('threshold0', THRESHOLD_MAX), values('threshold1', THRESHOLD_MAX), values('threshold2', THRESHOLD_MAX)],
    gc: once(grid.gc),
    oldObjects: values('oldObjects', MAX_OLD_OBJECTS),
    markedObjects: grid.markedObjects,
    pools: once(grid.pool),
    poolParams: grid.poolParams,
    freeLists: once(grid.freeLists),
  };
}

/** A grid's list with each value once, in order: `[700, 700]` is one value, as `"700,700"` is. */
function once<T>(list: readonly T[] | undefined): T[] | undefined {
  return list === undefined ? undefined : [...new Set(list)];
}

/** One line per problem: `/configurations/2/thresholds/0: must be integer`. */
function describeErrors(errors: readonly ErrorObject[]): string {
  // `anyOf`/`oneOf` failures repeat what their branches said; the branches are the useful part.
  const useful = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  const shown = (useful.length > 0 ? useful : errors)
    .slice(0, MAX_LISTED_PROBLEMS)
    .map((e) => `  ${e.instancePath === '' ? '(top level)' : e.instancePath}: ${e.message ?? 'is invalid'}${detailOf(e)}`);
  if (errors.length > MAX_LISTED_PROBLEMS) shown.push(`  … and ${errors.length - MAX_LISTED_PROBLEMS} more`);
  return shown.join('\n');
}

/** What ajv's message leaves out: the unknown key's name, the allowed values. */
function detailOf(error: ErrorObject): string {
  const params: Record<string, unknown> = error.params;
  if (error.keyword === 'additionalProperties') return ` ("${String(params.additionalProperty)}")`;
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) return `: ${params.allowedValues.join(', ')}`;
  return '';
}
