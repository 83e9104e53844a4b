/**
 * JSON Lines traces (`.jsonl`, `.ndjson`): one event per line, blank lines allowed, and an optional
 * header `{"format":"memreplay","version":1,"meta":{…}}` as the first non-blank line.
 *
 * Per line: the fast path (scan-json.ts) reads the common line shapes straight from the bytes;
 * any other line gets one `JSON.parse`, one compiled ajv call, one row write. Lines arrive from a
 * `LineSplitter`, which bounds memory by refusing lines over 1 MiB without keeping their bytes.
 */
import type { EventSink } from './encode.js';
import { acceptJsonText, defaultHeader, unreadableEventDetail } from './decode-json.js';
import type { PrescannedLines } from './prescanned.js';
import { scanJsonLine } from './scan-json.js';
import { ScannedEvent } from './scanned-event.js';
import { LineSplitter } from './source.js';
import type { LineSink, TraceDecoder } from './source.js';
import type { TraceHeader, TraceMeta } from './types.js';

export class JsonLinesDecoder implements TraceDecoder, LineSink {
  header: TraceHeader | null = null;
  private readonly lines: LineSplitter;
  /** Index of the next event record (skipped ones count, see encode.ts). */
  private nextIndex = 0;
  private readonly scanned = new ScannedEvent();
  /** The scan worker's results for the buffer being pushed, if any (scan-service.ts). */
  private prescanned: PrescannedLines | null = null;

  /** `fastPath`: false reads every line on the general path (to check the fast path against it). */
  constructor(
    private readonly sink: EventSink,
    private readonly fastPath = true,
  ) {
    this.lines = new LineSplitter(this);
  }

  push(bytes: Buffer, prescanned?: PrescannedLines): void {
    this.prescanned = prescanned ?? null;
    this.lines.push(bytes);
    this.prescanned = null;
  }

  end(): void {
    this.lines.end();
    this.header ??= defaultHeader();
  }

  /** Where the lines `takeLines` took last end (after the last one's LF). */
  takenEnd = 0;

  /**
   * `LineSink.takeLines`: the fast path (scan-json.ts, or the scan worker's results for the
   * buffer), once the header is known.
   */
  takeLines(bytes: Buffer, start: number, scanLimit: number, scanReach: number, lineNumber: number): number {
    if (this.header === null || !this.fastPath) return 0;
    const writer = this.sink.writer;
    const taken = writer.writeLines(scanJsonLine, this.scanned, this.prescanned, bytes, start, scanLimit, scanReach, this.nextIndex, lineNumber);
    this.nextIndex += taken;
    this.takenEnd = writer.runEnd;
    return taken;
  }

  line(text: string, lineNumber: number): void {
    if (isBlank(text)) return;
    if (this.header === null && this.readHeader(text, lineNumber)) return;
    acceptJsonText(this.sink, text, lineNumber, this.nextIndex++, 'line');
  }

  unreadableLine(lineNumber: number, reason: 'too-long' | 'encoding', byteLength: number): void {
    this.header ??= defaultHeader();
    this.sink.reject(reason, lineNumber, this.nextIndex++, unreadableEventDetail(reason, byteLength, 'line'));
  }

  /**
   * Decides whether the first non-blank line is the header: a JSON object with `format` or
   * `version` and no `op`. Returns true when it was (and was valid; an invalid header is fatal).
   */
  private readHeader(text: string, lineNumber: number): boolean {
    this.header = defaultHeader();
    // No depth limit yet (JSON.parse does not recurse): a header is checked for depth as a
    // header (`ChunkWriter.checkHeader`), anything else as an event.
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);
    if (has('op') || !(has('format') || has('version'))) return false;
    this.sink.checkHeaderText(text, value, lineNumber);
    const meta = (value as { meta?: TraceMeta }).meta;
    this.header = { format: 'memreplay', version: 1, meta: meta ?? {} };
    return true;
  }
}

/** True for an empty line or one of only whitespace. */
export function isBlank(text: string): boolean {
  return text.length === 0 || (text.charCodeAt(0) <= 0x20 && text.trim().length === 0);
}
