/**
 * Errors that reach the user. Whose fault it is decides the exit code:
 * - `UserError` and its subclasses: the input or the command line is wrong → one message, exit 2;
 * - `BudgetError`: a CI budget failed → exit 1 (raised only by the CLI, after reports are written);
 * - anything else is a bug in memreplay → the CLI prints the stack trace and exits 70.
 *
 * Engine code never calls `process.exit`; it throws one of these.
 */

export const ExitCode = {
  ok: 0,
  budget: 1,
  invalidInput: 2,
  internal: 70,
} as const;

/** A mistake in the user's input or command line. `message` is the whole text shown. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A bad option value or combination. */
export class UsageError extends UserError {
  override name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Where in a trace a problem was found. */
export interface TraceLocation {
  /** The file as the user named it ("-" for stdin). */
  file: string;
  /** 1-based line in the file; 0 when unknown. */
  line: number;
  /** 0-based index of the event in the trace; -1 for the header or the file as a whole. */
  event: number;
  /** The event's op when known. */
  op?: string;
}

/** Formats the location prefix: `traces/x.jsonl:3: event 2 (alloc)`. */
export function formatLocation(loc: TraceLocation): string {
  let text = loc.line > 0 ? `${loc.file}:${loc.line}` : loc.file;
  if (loc.event >= 0) text += `: event ${loc.event}${loc.op ? ` (${loc.op})` : ''}`;
  return text;
}

/**
 * One problem with a trace. `detail` is the text after the location, e.g.
 * `"size" must be an integer >= 0, got "big"`. `kind` is a stable identifier used to count
 * skipped events in `--lenient` mode (e.g. `schema`, `unknown-object`, `decref-without-reference`).
 */
export class TraceError extends UserError {
  override name = 'TraceError';
  constructor(
    readonly kind: string,
    readonly location: TraceLocation,
    readonly detail: string,
  ) {
    super(`TRACE_${kind.toUpperCase().replace(/-/g, '_')}`, `${formatLocation(location)}: ${detail}`);
  }
}

/** Several trace errors at once (up to `--max-errors`); the message lists one per line. */
export class TraceErrors extends UserError {
  override name = 'TraceErrors';
  constructor(
    readonly errors: readonly TraceError[],
    /** Non-zero when reading stopped at the limit with more errors left unlisted. */
    readonly more: number,
  ) {
    const lines = errors.map((e) => e.message);
    if (more > 0) lines.push(`stopped after ${errors.length} error${errors.length === 1 ? '' : 's'}; more follow (raise --max-errors to list them)`);
    super(errors[0]?.code ?? 'TRACE_INVALID', lines.join('\n'));
  }
}

/**
 * A number option's value as the user gave it, for messages: yargs turns a word into NaN, and
 * JSON.stringify turns NaN and 1e309 into "null", neither of which the user typed.
 */
export function shownNumber(value: unknown): string {
  if (typeof value !== 'number') return JSON.stringify(value) ?? String(value);
  if (Number.isNaN(value)) return 'something that is not a number';
  return String(value);
}

/**
 * A CI budget that the run broke (`--fail-on`, `--max-*`), or another verdict that failed
 * (`verify`: the model and the interpreter disagree). `label` heads each printed line.
 */
export class BudgetError extends Error {
  override name = 'BudgetError';
  constructor(
    readonly failures: readonly string[],
    readonly label = 'budget failed',
  ) {
    super(failures.join('\n'));
  }
}
