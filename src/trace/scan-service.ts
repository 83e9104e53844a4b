/**
 * Decoding on two cores: a worker thread runs the fast-path scanners (scan-json.ts,
 * scan-csv.ts) over the buffers of a trace ahead of time, while this thread decodes and replays.
 *
 *   this thread                                              scan worker (scan-worker.ts)
 *   ───────────                                              ───────────
 *   read buffer r+1, r+2, … ──── ScanRequest (transferred) ──► scan every line start of the buffer
 *   push buffer r to the decoder ◄── ScanResponse: the buffer ── with the scanners' results
 *     with its PrescannedLines        and its results           (PrescannedLines, prescanned.ts)
 *   (the same decoder, sink, writer, Diagnostics), replay
 *
 * NOTE: why this and not the whole decoding in the worker. Scanning is most of the decoding
 * cost (about 100 of 150 ns per event) and is a pure function of the bytes: it needs no state,
 * so it can run anywhere, ahead of time, and its results are the results. Everything with state —
 * line and event numbers, the header, time order, the ids of type and site names, chunk
 * boundaries, the general path and every error — stays in this thread, in the order it always
 * had, so decoding with the worker is decoding without it, minus the scanning. (The worker also
 * gives each type and site spelling an id of its own, by its bytes; this thread maps those ids
 * to the trace's as rows are written, which costs an array read instead of a hash lookup.)
 * A first version decoded in the worker and forwarded errors in order; the worker then carried
 * ~200 ns per event while this thread, replaying at ~70, waited. Both threads now carry about
 * the same load. This thread takes the results in runs of consecutive lines (`LineSink.takeLines`,
 * `ChunkWriter.writePrescannedRun`), which halved its cost per line.
 *
 * Memory is bounded: at most `READ_AHEAD_BUFFERS` buffers (with their results) are in flight.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PrescannedLines } from './prescanned.js';
import type { TraceEncoding } from './types.js';

/**
 * Files at least this large get a scan worker (`decodeInWorker: 'auto'`); below, the worker costs
 * more than it saves. Measured on 2-core machines with `web` traces (about 62 bytes an event):
 * the worker saves about 55 ns per event once both threads are warm, but costs about 175 ms up
 * front (the thread's start, its cold scanner, and this thread waiting for the first results), so
 * it breaks even near 3 million events: 1M events replay 19% faster without it, 5M 8% faster
 * with it (bench/run.js and `node bench/run.js --baseline` measure both sides).
 */
export const WORKER_MIN_FILE_BYTES = 192 * 1024 * 1024;

/** Buffers read and sent to the worker ahead of the one being decoded. */
export const READ_AHEAD_BUFFERS = 16;

/** This thread → the worker: one buffer to scan. */
export interface ScanRequest {
  id: number;
  encoding: 'jsonl' | 'csv';
  /** The buffer's bytes: `buffer[0, length)`. */
  buffer: ArrayBuffer;
  length: number;
  /** The buffer starts a line (it is the first, or the one before ended with a newline). */
  atLineStart: boolean;
  /** CSV: the header row's field names, once known (before, nothing is scanned). */
  columns: readonly string[] | null;
  /** Memory of a `PrescannedLines` this thread is done with, to fill again (or null). */
  memory: ArrayBuffer | null;
}

/** `workerData` of the scan worker. */
export interface ScanWorkerInit {
  /** `[started]`: the worker stores 1 once it has loaded (`ScanService.ready`). */
  started: Int32Array;
}

/** The worker → this thread: the buffer back, and what scanning it gave. */
export interface ScanResponse {
  id: number;
  buffer: ArrayBuffer;
  length: number;
  /** `PrescannedLines` columns over `memory`, for `capacity` lines, `count` of them recorded. */
  memory: ArrayBuffer;
  capacity: number;
  count: number;
}

/** A buffer ready for the decoder, with the scanners' results for its lines. */
export interface PrescannedBuffer {
  bytes: Buffer;
  lines: PrescannedLines;
}

/**
 * The worker's entry file. Built, it sits next to this module (dist/trace/scan-worker.js). Run
 * from the TypeScript sources (vitest), this module is a .ts file, which a worker thread cannot
 * load: the build's worker is used then (npm test builds before testing).
 */
export function scanWorkerEntry(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/trace/scan-worker.js', here) : new URL('./scan-worker.js', here);
}

/**
 * True when `path` deserves a scan worker under `decodeInWorker: 'auto'`: a regular file of at
 * least `WORKER_MIN_FILE_BYTES`, a built worker, and a second core to run it on (on one core, as
 * under `taskset -c 0` or a one-CPU container, the two threads take turns and the worker's own
 * costs make a 10M-event replay 40% slower).
 */
export async function worthAWorker(path: string): Promise<boolean> {
  if (path === '-' || availableParallelism() < 2) return false;
  try {
    const info = await stat(path);
    return info.isFile() && info.size >= WORKER_MIN_FILE_BYTES && existsSync(fileURLToPath(scanWorkerEntry()));
  } catch {
    // Let the decoding report why the file cannot be read.
    return false;
  }
}

/**
 * One scan worker for one trace. `scan` sends a buffer and resolves with it and its results;
 * requests are answered in order. The worker is unreferenced while no answer is awaited, so it
 * never keeps the process alive.
 */
export class ScanService {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: PrescannedBuffer) => void; reject: (error: Error) => void }>();
  /** Result memory the decoder is done with, sent with the next requests to be filled again. */
  private readonly spare: ArrayBuffer[] = [];
  private failure: Error | null = null;
  private closed = false;
  /**
   * `[started]`, set by the worker once it can scan (shared memory, so that this thread sees it
   * without a turn of its event loop, which a decoding thread may not take for a while).
   */
  private readonly started = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

  constructor(private readonly encoding: 'jsonl' | 'csv') {
    const init: ScanWorkerInit = { started: this.started };
    this.worker = new Worker(scanWorkerEntry(), { workerData: init });
    this.worker.unref();
    this.worker.on('message', (response: ScanResponse) => this.answer(response));
    this.worker.on('error', (error) => this.fail(error));
    // The worker never ends by itself, so an exit before `close()` is a crash.
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the memreplay scan worker thread stopped (exit code ${code})`));
    });
  }

  /** The worker has started: until then, scanning in this thread beats waiting for it. */
  get ready(): boolean {
    return Atomics.load(this.started, 0) === 1;
  }

  static encodingFor(encoding: TraceEncoding): 'jsonl' | 'csv' | null {
    return encoding === 'jsonl' || encoding === 'csv' ? encoding : null;
  }

  /** Sends `bytes` to be scanned (it is moved, or copied when it shares its memory). */
  scan(bytes: Buffer, atLineStart: boolean, columns: readonly string[] | null): Promise<PrescannedBuffer> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const buffer = owned ? (bytes.buffer as ArrayBuffer) : new Uint8Array(bytes).buffer;
    const memory = this.spare.pop() ?? null;
    const request: ScanRequest = { id: this.nextId++, encoding: this.encoding, buffer, length: bytes.length, atLineStart, columns, memory };
    const transfer = memory === null ? [buffer] : [buffer, memory];
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(request, transfer);
    });
  }

  /** The decoder is done with these results: their memory serves again. */
  recycle(lines: PrescannedLines): void {
    if (this.spare.length < READ_AHEAD_BUFFERS) this.spare.push(lines.memory);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }

  private answer(response: ScanResponse): void {
    const waiter = this.waiting.get(response.id);
    if (waiter === undefined) return;
    this.waiting.delete(response.id);
    if (this.waiting.size === 0) this.worker.unref();
    waiter.resolve({
      bytes: Buffer.from(response.buffer, 0, response.length),
      lines: new PrescannedLines(response.capacity, response.memory, response.count),
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.waiting.values()) reject(this.failure);
    this.waiting.clear();
    this.worker.unref();
  }
}
