/**
 * The wire contract, compiled: ajv validators for `schemas/trace-event.schema.json` and
 * `schemas/trace-header.schema.json`, and the translation of ajv's errors into one-line messages.
 *
 * Read `eventValidators()` first. Every event the decoders' fast path does not take (see
 * scanned-event.ts) goes through one compiled ajv call (`allErrors: false`). Only when that call
 * fails does a second validator, compiled from the same schema with `allErrors: true`, look at
 * the event again, so that the one message the user sees is the most useful of all the problems
 * (an unknown field "szie" explains the missing "size"; see `ERROR_PRIORITY`).
 *
 * The first-error event validator and the header validator are compiled ahead of time
 * (validators.generated.ts, see validator-codegen.ts): importing ajv and compiling the schemas
 * took half of a short run. The all-errors validator is compiled with ajv when the first invalid
 * event needs a message.
 *
 * Messages are derived from the failing schema, never hand-written per field: the "expected"
 * part of `"size" must be an integer >= 0, got "big"` is `describeSchema()` of the `size`
 * definition. Adding a field to the schema therefore needs no new message.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import { EVENT_SCHEMA_URL, HEADER_SCHEMA_URL, VALIDATOR_OPTIONS } from './schema-options.js';
import type { TraceEvent } from './types.js';
import { validateEventFirstError, validateHeader } from './validators.generated.js';

/**
 * NOTE: numeric bounds at or beyond a C int (2^31 - 1) are representation limits (a size below
 * 1 TiB, an id below 2^53), not part of what a user means by "a size". `describeSchema` leaves
 * them out ("an integer >= 0", not "an integer from 0 to 1099511627776"); a value that breaks
 * one gets its own message ("must be <= 1099511627776").
 */
const SHOWN_BOUND_LIMIT = 2 ** 31 - 1;

/** Longest rendering of an offending value in a message, in characters. */
const MAX_RENDERED_VALUE_CHARS = 60;

/**
 * Which of several problems with one event the user sees, lowest first. A wrong top-level type
 * hides everything else; an unknown field usually explains a missing one (a typo); a missing
 * field comes before a bad value because it cannot be worked around by the next field.
 */
const ERROR_PRIORITY: Readonly<Record<string, number>> = {
  type: 0,
  additionalProperties: 1,
  required: 2,
  discriminator: 3,
};
const FIELD_ERROR_PRIORITY = 4;

/** What the validated value is, for messages about the value as a whole. */
export interface MessageSubject {
  /** "an event", "the header". */
  noun: string;
  /** Text after `unknown field "x"`, given the object that carries it. */
  whereUnknown(data: unknown): string;
}

const EVENT_SUBJECT: MessageSubject = {
  noun: 'an event',
  whereUnknown: (data) => {
    const op = isRecord(data) ? data.op : undefined;
    return typeof op === 'string' ? ` for op ${op}` : '';
  },
};

const HEADER_SUBJECT: MessageSubject = {
  noun: 'the header',
  whereUnknown: () => ' in the header',
};

/** One problem with a header, tied to the top-level key it concerns (for line numbers). */
export interface HeaderProblem {
  /** The top-level header key the problem is about, or null for the header as a whole. */
  key: string | null;
  message: string;
}

export interface EventValidators {
  /** The fast path: one compiled ajv call, first error only. */
  isEvent(value: unknown): value is TraceEvent;
  /** Error path: the one-line message for a value `isEvent` rejected. */
  explainEvent(value: unknown): string;
  /** Validates a header object; returns its problems (empty when valid). */
  checkHeader(value: unknown): HeaderProblem[];
}

let compiled: EventValidators | null = null;

/**
 * The validators, compiled on first use and cached for the life of the process (the schemas are
 * read-only files shipped with the package, so the cache never goes stale).
 */
export function eventValidators(): EventValidators {
  compiled ??= compileValidators();
  return compiled;
}

function loadSchema(url: URL): AnySchemaObject {
  return JSON.parse(readFileSync(url, 'utf8')) as AnySchemaObject;
}

function compileValidators(): EventValidators {
  const fast = validateEventFirstError;
  let eventSchema: AnySchemaObject | null = null;
  let thorough: ValidateFunction | null = null;
  let headerSchema: AnySchemaObject | null = null;

  return {
    isEvent: (value): value is TraceEvent => fast(value) === true,
    explainEvent: (value) => {
      eventSchema ??= loadSchema(EVENT_SCHEMA_URL);
      thorough ??= compileAllErrors(eventSchema);
      const errors = errorsOf(thorough, value) ?? errorsOf(fast, value) ?? [];
      const best = pickMostUseful(errors);
      return best ? formatSchemaError(best, eventSchema, EVENT_SUBJECT) : `${EVENT_SUBJECT.noun} is not valid`;
    },
    checkHeader: (value) => {
      const errors = errorsOf(validateHeader, value) ?? [];
      if (errors.length === 0) return [];
      headerSchema ??= loadSchema(HEADER_SCHEMA_URL);
      const schema = headerSchema;
      return errors.map((error) => ({
        key: topLevelKeyOf(error),
        message: formatSchemaError(error, schema, HEADER_SUBJECT),
      }));
    },
  };
}

/**
 * The all-errors event validator, compiled with ajv at run time: it is needed only for messages,
 * so ajv is loaded (synchronously, through `require`) only when the first invalid event is met.
 */
function compileAllErrors(schema: AnySchemaObject): ValidateFunction {
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  return new Ajv({ ...VALIDATOR_OPTIONS, allErrors: true }).compile(schema);
}

function errorsOf(validate: ValidateFunction, value: unknown): ErrorObject[] | null {
  return validate(value) ? null : (validate.errors ?? null);
}

function pickMostUseful(errors: readonly ErrorObject[]): ErrorObject | undefined {
  let best: ErrorObject | undefined;
  let bestRank = Infinity;
  for (const error of errors) {
    const rank = error.instancePath === '' ? (ERROR_PRIORITY[error.keyword] ?? FIELD_ERROR_PRIORITY) : FIELD_ERROR_PRIORITY;
    if (rank < bestRank) {
      best = error;
      bestRank = rank;
    }
  }
  return best;
}

function topLevelKeyOf(error: ErrorObject): string | null {
  const segments = pointerSegments(error.instancePath);
  if (segments.length > 0) return segments[0];
  const params = error.params as Record<string, unknown>;
  if (typeof params.missingProperty === 'string') return params.missingProperty;
  if (typeof params.additionalProperty === 'string') return params.additionalProperty;
  return null;
}

/**
 * Turns one ajv error (from a validator compiled with `verbose: true`, so it carries `data` and
 * `parentSchema`) into the message text after the location.
 */
export function formatSchemaError(error: ErrorObject, root: AnySchemaObject, subject: MessageSubject): string {
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as AnySchemaObject;
  const path = pointerSegments(error.instancePath);
  const prefix = path.length > 0 ? `${path.join('.')}.` : '';
  const field = path.length > 0 ? `"${path.join('.')}"` : subject.noun;

  switch (error.keyword) {
    case 'required': {
      const name = String(params.missingProperty);
      const expected = fieldSchemaOf(schema, name, root);
      return `missing required field "${prefix}${name}"${expected ? ` (${describeSchema(expected, root)})` : ''}`;
    }
    case 'additionalProperties':
      return `unknown field "${prefix}${String(params.additionalProperty)}"${subject.whereUnknown(error.data)}`;
    case 'discriminator': {
      const tag = String(params.tag);
      const expected = fieldSchemaOf(schema, tag, root);
      const description = expected ? describeSchema(expected, root) : 'valid';
      if (params.tagValue === undefined) return `missing required field "${prefix}${tag}" (${description})`;
      return `"${prefix}${tag}" must be ${description}, got ${renderValue(params.tagValue)}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const limit = Number(params.limit);
      const expected = isShownBound(limit) ? describeSchema(schema, root) : `${String(params.comparison)} ${limit}`;
      return `${field} must be ${expected}, got ${renderValue(error.data)}`;
    }
    case 'maxLength':
      return `${field} must be at most ${String(params.limit)} characters long, got ${lengthOf(error.data)} characters`;
    case 'pattern':
      return `${field} must be a string matching /${String(params.pattern)}/, got ${renderValue(error.data)}`;
    case 'type':
    case 'const':
    case 'enum':
    case 'minLength':
      return `${field} must be ${describeSchema(schema, root)}, got ${renderValue(error.data)}`;
    default:
      return `${field} ${error.message ?? 'is not valid'}, got ${renderValue(error.data)}`;
  }
}

/**
 * What a schema accepts, in words: "an integer >= 0", "an integer from 0 to 2",
 * "an integer >= 0 or a non-empty string", "one of del, legacy", "a boolean".
 * Length limits and representation-sized bounds are left out (see `SHOWN_BOUND_LIMIT`).
 */
export function describeSchema(schemaOrRef: AnySchemaObject, root: AnySchemaObject): string {
  const schema = resolveRef(schemaOrRef, root);
  if ('const' in schema) return renderValue(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v: unknown) => (typeof v === 'string' ? v : renderValue(v))).join(', ')}`;
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  if (types.length === 0) return 'a valid value';
  return types.map((type) => describeType(String(type), schema)).join(' or ');
}

function describeType(type: string, schema: AnySchemaObject): string {
  switch (type) {
    case 'integer':
    case 'number':
      return `${type === 'integer' ? 'an integer' : 'a number'}${describeBounds(schema)}`;
    case 'string': {
      const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
      if (minLength === 1) return 'a non-empty string';
      return minLength > 1 ? `a string of at least ${minLength} characters` : 'a string';
    }
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'a JSON object';
    case 'array':
      return 'an array';
    case 'null':
      return 'null';
    default:
      return type;
  }
}

function describeBounds(schema: AnySchemaObject): string {
  const lower = shownBound(schema.minimum, '>=') ?? shownBound(schema.exclusiveMinimum, '>');
  const upper = shownBound(schema.maximum, '<=') ?? shownBound(schema.exclusiveMaximum, '<');
  if (lower && upper && lower.comparison === '>=' && upper.comparison === '<=') return ` from ${lower.limit} to ${upper.limit}`;
  return [lower, upper].filter((b) => b !== null).map((b) => ` ${b.comparison} ${b.limit}`).join(' and');
}

function shownBound(limit: unknown, comparison: string): { limit: number; comparison: string } | null {
  return typeof limit === 'number' && isShownBound(limit) ? { limit, comparison } : null;
}

function isShownBound(limit: number): boolean {
  return Math.abs(limit) < SHOWN_BOUND_LIMIT;
}

/**
 * The schema of property `name` inside `schema`: its own `properties`, or, for the discriminator
 * tag of a `oneOf` (the event's `op`), the list of the branches' constants.
 */
function fieldSchemaOf(schemaOrRef: AnySchemaObject, name: string, root: AnySchemaObject): AnySchemaObject | null {
  const schema = resolveRef(schemaOrRef, root);
  const properties = schema.properties as Record<string, AnySchemaObject> | undefined;
  if (properties && Object.prototype.hasOwnProperty.call(properties, name)) return resolveRef(properties[name], root);
  if (Array.isArray(schema.oneOf)) {
    const values: unknown[] = [];
    for (const branch of schema.oneOf as AnySchemaObject[]) {
      const sub = fieldSchemaOf(branch, name, root);
      if (!sub || !('const' in sub)) return null;
      values.push(sub.const);
    }
    return { enum: values };
  }
  return null;
}

/** Follows a local `$ref` ("#/definitions/size"); the trace schemas use no other kind. */
function resolveRef(schema: AnySchemaObject, root: AnySchemaObject): AnySchemaObject {
  let current = schema;
  for (let hops = 0; typeof current.$ref === 'string' && current.$ref.startsWith('#/') && hops < 8; hops++) {
    let target: unknown = root;
    for (const segment of pointerSegments(current.$ref.slice(1))) {
      target = isRecord(target) ? target[segment] : undefined;
    }
    if (!isRecord(target)) break;
    current = target as AnySchemaObject;
  }
  return current;
}

/** "/meta/timeUnit" → ["meta", "timeUnit"] (RFC 6901 unescaping). */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The offending value as the user wrote it, shortened: `"big"`, `[1,2]`, `-1`. */
export function renderValue(value: unknown): string {
  let text: string;
  if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (value === undefined) text = 'nothing';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      // A header value nested too deep for the recursive JSON.stringify (events are depth-checked).
      text = Array.isArray(value) ? '[…]' : '{…}';
    }
  }
  return text.length > MAX_RENDERED_VALUE_CHARS ? `${text.slice(0, MAX_RENDERED_VALUE_CHARS - 1)}…` : text;
}

function lengthOf(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
