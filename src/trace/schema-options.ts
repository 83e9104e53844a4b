/**
 * Where the wire contract lives and how ajv compiles it: shared by schema.ts (which loads the
 * compiled validators) and validator-codegen.ts (which compiles them ahead of time), so that
 * both always compile the same schemas with the same options.
 */
import type { Options } from 'ajv';

export const EVENT_SCHEMA_URL = new URL('../../schemas/trace-event.schema.json', import.meta.url);
export const HEADER_SCHEMA_URL = new URL('../../schemas/trace-header.schema.json', import.meta.url);

/**
 * `verbose` makes errors carry the failing value and schema (messages are built from them);
 * `strictNumbers` rejects NaN and Infinity (JSON.parse turns 1e400 into Infinity);
 * `allowUnionTypes` admits the objectId definition, which is an integer or a string.
 * Each validator adds `allErrors` (true on the error path and for the header, false on the fast path).
 */
export const VALIDATOR_OPTIONS = { discriminator: true, verbose: true, strictNumbers: true, allowUnionTypes: true } as const satisfies Options;
