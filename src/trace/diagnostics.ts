import { TraceError, TraceErrors } from '../errors.js';

/**
 * Where decoders and the heap model report problems with a trace. There is no global logger:
 * whoever reads a trace creates one sink and passes it down.
 *
 * - Strict mode (the default): every bad event is recorded; `record` throws `TraceErrors` once
 *   `maxErrors` problems are known, and `finish()` throws if any were recorded. Bad events are
 *   skipped, never half-applied, so the rest of the trace can still be checked.
 * - Lenient mode (`--lenient`): bad events are skipped and counted by kind; nothing throws.
 *   Every report says how many events were skipped and why.
 */
export class Diagnostics {
  readonly errors: TraceError[] = [];
  /** Events skipped, by error kind (`schema`, `unknown-object`, ...). A `Map`: kinds are data. */
  readonly skippedByKind = new Map<string, number>();
  private skippedTotal = 0;

  constructor(
    readonly options: { maxErrors: number; lenient: boolean } = { maxErrors: 20, lenient: false },
  ) {}

  /** Records a bad event. Throws in strict mode once `maxErrors` errors are known. */
  record(error: TraceError): void {
    this.skippedTotal++;
    this.skippedByKind.set(error.kind, (this.skippedByKind.get(error.kind) ?? 0) + 1);
    if (this.options.lenient) return;
    // One error past the limit proves there are more: stop reading instead of counting them all.
    if (this.errors.length >= this.options.maxErrors) throw new TraceErrors(this.errors, 1);
    this.errors.push(error);
  }

  /**
   * Fails right away, without waiting for more errors: for problems after which the rest of the
   * file cannot be read (binary garbage, a malformed JSON document).
   */
  fatal(error: TraceError): never {
    this.errors.push(error);
    throw new TraceErrors(this.errors, 0);
  }

  /** Number of events skipped so far. */
  get skipped(): number {
    return this.skippedTotal;
  }

  /** Call when the whole trace has been read: throws if strict mode recorded errors. */
  finish(): void {
    if (!this.options.lenient && this.errors.length > 0) throw new TraceErrors(this.errors, 0);
  }

  /** Skipped-event counts as a plain object with a null prototype, for reports. */
  skippedSummary(): Record<string, number> {
    const out: Record<string, number> = Object.create(null);
    for (const [kind, count] of this.skippedByKind) out[kind] = count;
    return out;
  }
}
