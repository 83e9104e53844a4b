/**
 * The wire contract, compiled straight from `schemas/` (not through `src/trace/schema.ts`), to
 * check that generated headers and events are what any consumer of format v1 accepts.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type AnySchemaObject, type ValidateFunction } from 'ajv';

function compile(file: string): ValidateFunction {
  const schema = JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8')) as AnySchemaObject;
  return new Ajv({ discriminator: true, strictNumbers: true, allowUnionTypes: true, allErrors: true }).compile(schema);
}

export const isSchemaEvent = compile('trace-event.schema.json');
export const isSchemaHeader = compile('trace-header.schema.json');

/** The first few values that fail a validator, with ajv's reasons. */
export function schemaFailures(validate: ValidateFunction, values: Iterable<unknown>, limit = 5): string[] {
  const failures: string[] = [];
  for (const value of values) {
    if (!validate(value)) failures.push(`${JSON.stringify(value)}: ${JSON.stringify(validate.errors)}`);
    if (failures.length >= limit) break;
  }
  return failures;
}
