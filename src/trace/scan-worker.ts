/**
 * The scan worker thread (started by scan-service.ts, which explains the division of labour).
 * For each buffer it is sent, it runs the fast-path scanner at every line start the decoder's
 * `LineSplitter` will ask about, with the same scan limit, and sends the buffer back with the
 * results. It keeps no state between buffers but the CSV scanner of the last header row.
 * It never exits by itself: the starting thread terminates it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ByteInterner } from './byte-interner.js';
import { PrescannedLines } from './prescanned.js';
import { CsvLineScanner } from './scan-csv.js';
import { scanJsonLine } from './scan-json.js';
import type { ScanRequest, ScanResponse, ScanWorkerInit } from './scan-service.js';
import { ScannedEvent } from './scanned-event.js';
import { MAX_EVENT_BYTES, SCAN_SLACK_BYTES } from './source.js';
import { Op, StringTable } from './types.js';

const port = parentPort;
if (port === null) throw new Error('src/trace/scan-worker.ts runs as a worker thread only');

const NEWLINE = 0x0a;
/** Lines expected per buffer at first (traces average ~60 bytes a line); results grow past it. */
const INITIAL_LINES = 8192;

const event = new ScannedEvent();
/** The worker's own ids for type and site spellings (the starting thread maps them to the trace's). */
const types = new ByteInterner(new StringTable());
const sites = new ByteInterner(new StringTable());
let csv: { columns: readonly string[]; scanner: CsvLineScanner } | null = null;

/**
 * The line starts are those of `LineSplitter.push`: the buffer's first byte when it starts a
 * line, then the byte after each newline, as long as they are before `length - SCAN_SLACK_BYTES`;
 * the limit is `min(length - SCAN_SLACK_BYTES, start + MAX_EVENT_BYTES + 1)`, as there. After a
 * line the scanner takes, the next starts after its newline; after one it leaves, after the next
 * newline.
 */
function scanBuffer(request: ScanRequest): ScanResponse {
  const bytes = Buffer.from(request.buffer, 0, request.length);
  const length = request.length;
  let lines = request.memory === null ? new PrescannedLines(INITIAL_LINES) : new PrescannedLines(PrescannedLines.capacityOf(request.memory), request.memory);
  const scanner = scannerFor(request);
  if (scanner !== null) {
    const limit = length - SCAN_SLACK_BYTES;
    const reach = MAX_EVENT_BYTES + 1;
    // Without a line start at 0, the first line is the end of one carried over from the buffer before.
    const first = request.atLineStart ? 0 : bytes.indexOf(NEWLINE) + 1;
    let start = request.atLineStart || first > 0 ? first : length;
    // As in `LineSplitter.push`, lines that start at or after the limit are not scanned.
    while (start < limit) {
      const end = Math.min(limit, start + reach);
      const newline = scanner(bytes, start, end);
      if (lines.count === lines.capacity) lines = grown(lines);
      if (newline >= 0 && event.op === Op.alloc) {
        lines.record(start, end, newline, event, types.intern(bytes, event.typeStart, event.typeEnd), event.siteStart < 0 ? -1 : sites.intern(bytes, event.siteStart, event.siteEnd));
      } else {
        lines.record(start, end, newline, event, -1, -1);
      }
      if (newline >= 0) {
        start = newline + 1;
      } else {
        const next = bytes.indexOf(NEWLINE, start);
        if (next === -1) break;
        start = next + 1;
      }
    }
  }
  return { id: request.id, buffer: request.buffer, length, memory: lines.memory, capacity: lines.capacity, count: lines.count };
}

/** The scanner for the request's encoding, or null (CSV before its header row is known). */
function scannerFor(request: ScanRequest): ((bytes: Buffer, start: number, end: number) => number) | null {
  if (request.encoding === 'jsonl') return (bytes, start, end) => scanJsonLine(bytes, start, end, event);
  const columns = request.columns;
  if (columns === null) return null;
  if (csv === null || !sameColumns(csv.columns, columns)) csv = { columns, scanner: new CsvLineScanner(columns) };
  const scanner = csv.scanner;
  return (bytes, start, end) => scanner.scan(bytes, start, end, event);
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** Twice the room, with what is recorded so far. */
function grown(lines: PrescannedLines): PrescannedLines {
  const bigger = new PrescannedLines(lines.capacity * 2);
  bigger.copyFrom(lines);
  return bigger;
}

// Also what keeps the thread alive between requests, until the starting thread terminates it.
port.on('message', (request: ScanRequest) => {
  const response = scanBuffer(request);
  port.postMessage(response, [response.buffer, response.memory]);
});
Atomics.store((workerData as ScanWorkerInit).started, 0, 1);
