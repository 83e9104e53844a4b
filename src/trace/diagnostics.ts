import { TraceError, TraceErrors } from '../errors.js';
import { CHUNK_ROWS } from './types.js';

/**
 * Where decoders and the heap model report problems with a trace. There is no global logger:
 * whoever reads a trace creates one sink and passes it down.
 *
 * - Strict mode (the default): bad events are recorded; the first `maxErrors` of them in file
 *   order are listed. Bad events are skipped, never half-applied, so the rest of the trace can
 *   still be checked. `finish()` throws if any were recorded.
 * - Lenient mode (`--lenient`): bad events are skipped and counted by kind; nothing throws.
 *   Every report says how many events were skipped and why.
 *
 * NOTE: why errors are kept in order and the stop waits for `checkpoint`. The decoder finds the
 * format errors of a whole chunk of events before the heap model replays that chunk and finds its
 * heap-rule errors, so errors arrive out of file order: stopping at the `maxErrors`-th to arrive
 * listed a later format error and hid an earlier heap error. The errors are therefore kept sorted
 * (the earliest `maxErrors`), and reading stops only once those are known to be the first:
 * when every event before the last of them has been replayed (`checkpoint`).
 */
export class Diagnostics {
  /** Strict mode: the earliest errors in file order, at most `maxErrors`. */
  readonly errors: TraceError[] = [];
  /** Events skipped, by error kind (`schema`, `unknown-object`, ...). A `Map`: kinds are data. */
  readonly skippedByKind = new Map<string, number>();
  private skippedTotal = 0;
  /** Strict mode: an error was left out of `errors` (more than `maxErrors` are known). */
  private more = false;
  /** Errors recorded since the last checkpoint (see `SAFETY_VALVE`). */
  private sinceCheckpoint = 0;

  constructor(
    readonly options: { maxErrors: number; lenient: boolean } = { maxErrors: 20, lenient: false },
  ) {}

  /** Records a bad event. */
  record(error: TraceError): void {
    this.skippedTotal++;
    this.skippedByKind.set(error.kind, (this.skippedByKind.get(error.kind) ?? 0) + 1);
    if (this.options.lenient) return;
    this.keep(error);
    // A trace with no valid event reaches no checkpoint: stop once far more errors than one
    // chunk's worth of heap-rule errors could precede are known.
    if (++this.sinceCheckpoint > this.options.maxErrors + SAFETY_VALVE) throw new TraceErrors(this.errors, 1);
  }

  /**
   * The events before `events` have all been replayed (their heap-rule errors are recorded):
   * stops reading if the first `maxErrors` errors are now known and more follow.
   */
  checkpoint(events: number): void {
    this.sinceCheckpoint = 0;
    if (this.options.lenient || !this.more) return;
    // An event's errors are all known once it is replayed; one of the header or the file as a
    // whole (event -1) as soon as it is found.
    if (this.errors.every((error) => error.location.event < events)) throw new TraceErrors(this.errors, 1);
  }

  /**
   * Fails right away, without waiting for more errors: for problems after which the rest of the
   * file cannot be read (binary garbage, a malformed JSON document).
   */
  fatal(error: TraceError): never {
    // Last, whatever its location says (often the file as a whole): reading stopped there.
    this.errors.push(error);
    throw new TraceErrors(this.errors, this.more ? 1 : 0);
  }

  /** Inserts `error` in file order, keeping the first `maxErrors`. */
  private keep(error: TraceError): void {
    const errors = this.errors;
    let at = errors.length;
    while (at > 0 && before(error, errors[at - 1])) at--;
    errors.splice(at, 0, error);
    if (errors.length > this.options.maxErrors) {
      errors.pop();
      this.more = true;
    }
  }

  /** Number of events skipped so far. */
  get skipped(): number {
    return this.skippedTotal;
  }

  /** Call when the whole trace has been read: throws if strict mode recorded errors. */
  finish(): void {
    if (!this.options.lenient && this.errors.length > 0) throw new TraceErrors(this.errors, this.more ? 1 : 0);
  }

  /** Skipped-event counts as a plain object with a null prototype, for reports. */
  skippedSummary(): Record<string, number> {
    const out: Record<string, number> = Object.create(null);
    for (const [kind, count] of this.skippedByKind) out[kind] = count;
    return out;
  }
}

/**
 * See `Diagnostics.record`: the events decoded but not yet replayed are at most about a chunk's;
 * a stretch of twice that many errors with no checkpoint is a trace made of invalid lines.
 */
const SAFETY_VALVE = 2 * CHUNK_ROWS;

/** `a` comes before `b` in the file: by line (0, unknown, last), then by event index. */
function before(a: TraceError, b: TraceError): boolean {
  const lineA = a.location.line > 0 ? a.location.line : Number.POSITIVE_INFINITY;
  const lineB = b.location.line > 0 ? b.location.line : Number.POSITIVE_INFINITY;
  return lineA < lineB || (lineA === lineB && a.location.event < b.location.event);
}
