import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { ObjectId, TraceEvent } from '../trace/types.js';
import { DRIVER_OP, DRIVER_SOURCE, OBJECT_KIND, ORACLE_DATA_MAGIC } from './driver.js';
import { cannotRunInterpreter } from './python.js';
import { ReferenceHeap, objectKey, type FinalizerName, type ObjectPath } from './reference-model.js';

/**
 * The CPython oracle: runs a trace in a real interpreter and reads back what its collector did.
 *
 *   events ──compileOracleProgram──▶ OracleProgram ──encode──▶ data file ─┐
 *                                                                       ├─▶ python -I -S driver.py
 *   DRIVER_SOURCE (driver.ts) ──────────────────────────────▶ driver.py ─┘          │
 *                                            OracleResult ◀── deltas ◀── JSON line ◀┘
 *
 * 1. Compile (TypeScript side, `compileOracleProgram`). Every decision that would make the
 *    interpreter allocate is taken here: which slot of the driver's reference list `R` holds each
 *    program reference, the list index of every unlink, and the path (root slot + list indexes)
 *    to every object the program touches without holding it. `ReferenceHeap` is the model.
 * 2. Run (`runInCPython`). The driver builds everything, takes the baseline (full collection,
 *    size of the oldest generation, `gc.get_stats()` as ints, one more full collection charged to
 *    the baseline), times the replay loop, then disables the collector and reads
 *    `gc.get_count()`, `gc.get_stats()` and `len(gc.garbage)`.
 * 3. Report the deltas of `gc.get_stats()` over the loop, the final counts and the garbage.
 *
 * Why the driver looks the way it does (every rule is in cpython-memory.md §1, §8, §9): the
 * young count is raised by every GC allocation, including argument tuples, bound methods and
 * iterators, and free lists hide a first allocation until a full collection empties them. The
 * loop therefore calls only argument-less constructors, METH_NOARGS/fast-call functions with
 * C ints, and `set_threshold(*t)` with a pre-built tuple; it navigates to objects by list
 * indexing instead of `_ctypes.PyObj_FromPtr` (a METH_VARARGS function: each call builds a
 * 1-tuple, which costs +1 on the young count after every full collection; measured on
 * 3.7.16–3.13.0).
 */

export interface GenerationStats {
  collections: number;
  collected: number;
  uncollectable: number;
}

export interface OracleResult {
  /** The interpreter's version, e.g. "3.11.7". */
  python: string;
  /** GC-tracked objects in the oldest generation when the loop starts (`len(gc.get_objects())` after a full collection). */
  oldObjects: number;
  /** `gc.get_stats()` deltas over the loop, one entry per generation. */
  generations: GenerationStats[];
  /** `gc.get_count()` at the end of the loop. */
  count: [number, number, number];
  /** `len(gc.garbage)` at the end: objects with a legacy finalizer found in unreachable cycles. */
  garbage: number;
  /**
   * 3.14.1–3.14.4 only: of `oldObjects`, those the interpreter's roots reach, measured by the
   * driver (the value of `meta.markedObjects`); absent elsewhere.
   */
  markedObjects?: number;
  /** Wall time of the replay loop alone (`time.perf_counter()`), in seconds. */
  loopSeconds: number;
}

export interface OracleOptions {
  /** Path of the interpreter (see `findPython()` in test/helpers/python.ts). */
  python: string;
  /** Kill the interpreter after this long. Default: 60000. */
  timeoutMs?: number;
}

/** What the loop starts from, measured by a diagnostic run of the driver that stops before the loop. */
export interface BaselineProbe {
  python: string;
  /** The value `runInCPython` reports as `oldObjects`. */
  oldObjects: number;
  /** `gc.get_count()` right after the baseline's last full collection: (0, 0, 0) when nothing leaks. */
  countAtLoopStart: [number, number, number];
  /** GC-tracked objects right after that collection; equals `oldObjects` when nothing survives the baseline reads. */
  trackedAtLoopStart: number;
  /** What the baseline's last full collection returned (collected + uncollectable). */
  baselineCollected: number;
  garbage: number;
}

/**
 * Tracked allocations of these types cannot be reproduced: the trace semantics give them CPython's
 * own treatment (free lists, tuple and dict untracking, per the `type` field of
 * schemas/trace-event.schema.json), while the oracle always allocates an instance of a list
 * subclass.
 */
const TYPES_WITH_OWN_TREATMENT: ReadonlySet<string> = new Set(['list', 'dict', 'tuple', 'float']);

const DEFAULT_TIMEOUT_MS = 60_000;

/** Driver ops that occupy columns; see `DRIVER_SOURCE`. */
const COLUMN_COUNT = 8;

/** A growable column of 32-bit ints (the driver reads them as `array('i')`). */
class IntColumn {
  values = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  view(): Int32Array {
    return this.values.subarray(0, this.length);
  }
}

/**
 * A trace compiled for the driver. Row `i` is one driver op; the columns are
 * `op, arg, slot1, pathStart1, pathLength1, slot2, pathStart2, pathLength2`
 * (operand 1 is the target or link source, operand 2 the link destination).
 */
export interface OracleProgram {
  rows: number;
  columns: Int32Array[];
  /** List indexes of all operand paths, concatenated. */
  path: Int32Array;
  /** `(generation, value)` pairs, one per `threshold` event, in order. */
  thresholdChanges: Int32Array;
  /** Size of the driver's reference list `R`. */
  referenceSlots: number;
  /** True when some object has a legacy (`tp_del`) finalizer: the driver then imports `_testcapi`. */
  needsLegacyFinalizer: boolean;
}

function describeId(id: ObjectId): string {
  return JSON.stringify(id);
}

/** A trace the oracle cannot run exactly, and the index of the event that makes it so. */
export class OracleTraceError extends UserError {
  constructor(
    readonly event: number,
    message: string,
  ) {
    super('ORACLE_TRACE_NOT_RUNNABLE', message);
  }
}

function notRunnable(index: number, event: TraceEvent, detail: string): OracleTraceError {
  return new OracleTraceError(index, `event ${index} (${event.op}): ${detail}; the CPython oracle cannot run this trace exactly`);
}

/**
 * Compiles a trace for the driver. Throws `UserError` (code `ORACLE_TRACE_NOT_RUNNABLE`) when the
 * trace cannot be run exactly: an event touches an object that is dead or that no held object
 * leads to (it may already be cyclic garbage, freed by the real collector), a decref without a
 * program reference, an unlink of a missing edge, a link from an untracked object, a `free` of an
 * object that others still reference, or an allocation the oracle cannot reproduce.
 */
export function compileOracleProgram(events: readonly TraceEvent[]): OracleProgram {
  const heap = new ReferenceHeap();
  const columns = Array.from({ length: COLUMN_COUNT }, () => new IntColumn());
  const [opColumn, argColumn, slot1, pathStart1, pathLength1, slot2, pathStart2, pathLength2] = columns;
  const path = new IntColumn();
  const thresholdChanges = new IntColumn();
  let needsLegacyFinalizer = false;

  /** Appends one driver row; an operand is a path, or null when the op has none. */
  const emit = (op: number, arg: number, first: ObjectPath | null, second: ObjectPath | null): void => {
    opColumn.push(op);
    argColumn.push(arg);
    emitOperand(first, slot1, pathStart1, pathLength1);
    emitOperand(second, slot2, pathStart2, pathLength2);
  };
  const emitOperand = (operand: ObjectPath | null, slot: IntColumn, start: IntColumn, length: IntColumn): void => {
    slot.push(operand?.rootSlot ?? 0);
    start.push(path.length);
    length.push(operand?.indexes.length ?? 0);
    if (operand) for (const index of operand.indexes) path.push(index);
  };

  /** The live object named by `id`, and how to reach it; throws if event `index` cannot touch it. */
  const reach = (index: number, event: TraceEvent, id: ObjectId): { object: number; path: ObjectPath } => {
    const object = heap.lookup(objectKey(id));
    if (object < 0) throw notRunnable(index, event, `object ${describeId(id)} is not alive`);
    const found = heap.pathTo(object);
    if (found === null) {
      throw notRunnable(index, event, `object ${describeId(id)} is not reachable from any object the program holds (it may have been collected as cyclic garbage)`);
    }
    return { object, path: found };
  };

  for (let index = 0; index < events.length; index++) {
    const event = events[index];
    switch (event.op) {
      case 'alloc': {
        const key = objectKey(event.id);
        const previous = heap.lookup(key);
        if (previous >= 0 && heap.isReachable(previous)) {
          throw notRunnable(index, event, `object ${describeId(event.id)} is allocated while an object with that id is still alive`);
        }
        const tracked = event.tracked !== false;
        const finalizer: FinalizerName = event.finalizer ?? 'none';
        if (!tracked && finalizer !== 'none') {
          throw notRunnable(index, event, `an untracked object cannot have a ${finalizer} finalizer`);
        }
        if (tracked && TYPES_WITH_OWN_TREATMENT.has(event.type)) {
          throw notRunnable(index, event, `a tracked "${event.type}" gets CPython's own ${event.type} treatment, which the oracle does not reproduce (it allocates a list subclass)`);
        }
        if (finalizer === 'legacy') needsLegacyFinalizer = true;
        const kind = !tracked ? OBJECT_KIND.untracked : finalizer === 'del' ? OBJECT_KIND.del : finalizer === 'legacy' ? OBJECT_KIND.legacy : OBJECT_KIND.plain;
        const object = heap.alloc(key, tracked, finalizer);
        // An alloc row has no operand: column slot1 carries the object kind instead.
        emit(DRIVER_OP.alloc, heap.lastSlot(object), { rootSlot: kind, indexes: [] }, null);
        break;
      }
      case 'incref': {
        const target = reach(index, event, event.id);
        emit(DRIVER_OP.hold, heap.incref(target.object), target.path, null);
        break;
      }
      case 'decref': {
        const object = heap.lookup(objectKey(event.id));
        if (object < 0) throw notRunnable(index, event, `object ${describeId(event.id)} is not alive`);
        if (!heap.isHeld(object)) throw notRunnable(index, event, `the program holds no reference to object ${describeId(event.id)}`);
        emit(DRIVER_OP.drop, heap.decref(object), null, null);
        break;
      }
      case 'link': {
        const src = reach(index, event, event.src);
        const dst = reach(index, event, event.dst);
        if (!heap.tracked[src.object]) throw notRunnable(index, event, `object ${describeId(event.src)} is untracked and cannot reference anything`);
        emit(DRIVER_OP.link, 0, src.path, dst.path);
        heap.link(src.object, dst.object);
        break;
      }
      case 'unlink': {
        const src = reach(index, event, event.src);
        const dst = heap.lookup(objectKey(event.dst));
        if (dst < 0 || heap.edgeCount(src.object, dst) === 0) {
          throw notRunnable(index, event, `object ${describeId(event.src)} does not reference object ${describeId(event.dst)}`);
        }
        const listIndex = heap.unlink(src.object, dst);
        emit(DRIVER_OP.unlink, listIndex, src.path, null);
        break;
      }
      case 'free': {
        const object = heap.lookup(objectKey(event.id));
        if (object < 0) throw notRunnable(index, event, `object ${describeId(event.id)} is not alive`);
        if (heap.incomingEdges[object] > 0) {
          throw notRunnable(index, event, `object ${describeId(event.id)} is still referenced by ${heap.incomingEdges[object]} edge(s), so dropping the program's references would not free it`);
        }
        for (const slot of heap.free(object)) emit(DRIVER_OP.drop, slot, null, null);
        break;
      }
      case 'collect': {
        const generation = event.gen ?? 2;
        if (!Number.isInteger(generation) || generation < 0 || generation > 2) {
          throw notRunnable(index, event, `generation must be 0, 1 or 2, got ${JSON.stringify(event.gen)}`);
        }
        emit(DRIVER_OP.collect, generation, null, null);
        break;
      }
      case 'gc':
        emit(event.enabled ? DRIVER_OP.enable : DRIVER_OP.disable, 0, null, null);
        break;
      case 'threshold': {
        if (!Number.isInteger(event.gen) || event.gen < 0 || event.gen > 2) {
          throw notRunnable(index, event, `generation must be 0, 1 or 2, got ${JSON.stringify(event.gen)}`);
        }
        if (!Number.isInteger(event.value) || event.value < -(2 ** 31) || event.value >= 2 ** 31) {
          throw notRunnable(index, event, `threshold must be a C int, got ${JSON.stringify(event.value)}`);
        }
        emit(DRIVER_OP.threshold, thresholdChanges.length / 2, null, null);
        thresholdChanges.push(event.gen);
        thresholdChanges.push(event.value);
        break;
      }
      case 'freeze':
        emit(DRIVER_OP.freeze, 0, null, null);
        break;
      case 'unfreeze':
        emit(DRIVER_OP.unfreeze, 0, null, null);
        break;
      case 'resize':
      case 'mark':
        // Nothing happens in the interpreter: a resize is a realloc of the object's memory
        // (no effect on GC counts [cpython-memory.md §1.1]) and a mark is a label.
        break;
    }
  }

  return {
    rows: opColumn.length,
    columns: columns.map((column) => column.view()),
    path: path.view(),
    thresholdChanges: thresholdChanges.view(),
    referenceSlots: heap.slotCount,
    needsLegacyFinalizer,
  };
}

/** Throws `UserError` if the trace cannot be run exactly by the CPython oracle (see `compileOracleProgram`). */
export function checkOracleTrace(events: readonly TraceEvent[]): void {
  compileOracleProgram(events);
}

/** The data file the driver reads: a header, the threshold changes, the columns, the path, all as native-endian int32. */
export function encodeOracleProgram(program: OracleProgram): Uint8Array {
  const header = [ORACLE_DATA_MAGIC, program.rows, program.path.length, program.thresholdChanges.length / 2, program.referenceSlots, program.needsLegacyFinalizer ? 1 : 0];
  const total = header.length + program.thresholdChanges.length + COLUMN_COUNT * program.rows + program.path.length;
  const data = new Int32Array(total);
  data.set(header, 0);
  let offset = header.length;
  data.set(program.thresholdChanges, offset);
  offset += program.thresholdChanges.length;
  for (const column of program.columns) {
    data.set(column, offset);
    offset += program.rows;
  }
  data.set(program.path, offset);
  return new Uint8Array(data.buffer);
}

interface DriverOutput {
  python: string;
  oldObjects: number;
  before: number[];
  after: number[][];
  count: number[];
  garbage: number;
  /** -1 unless the interpreter is 3.14.1–3.14.4. */
  markedObjects: number;
  loopSeconds: number;
  errors: string[];
}

/** Runs a trace in the interpreter at `options.python` and returns what its collector did. */
export async function runInCPython(events: readonly TraceEvent[], options: OracleOptions): Promise<OracleResult> {
  return runOracle(events, processRunner(options));
}

/**
 * Runs the driver on `data` with `extraArgs` after the data file's path, and returns what it
 * printed: a Python process (`processRunner`), or CPython compiled to WebAssembly (pyodide.ts).
 */
export type DriverRunner = (driverSource: string, data: Uint8Array, extraArgs: string[]) => Promise<{ stdout: string; stderr: string }>;

/** `runInCPython` with any way of running the driver. */
export async function runOracle(events: readonly TraceEvent[], runner: DriverRunner): Promise<OracleResult> {
  const program = compileOracleProgram(events);
  const { output: parsed, stderr } = await runDriver(encodeOracleProgram(program), runner, []);
  const output = parsed as DriverOutput;
  // 3.8+ report exceptions raised in finalizers through the driver's sys.unraisablehook; 3.7
  // only prints "Exception ignored in" on stderr.
  if (stderr.includes('Exception ignored')) output.errors.push(stderr.trim());
  if (output.errors.length > 0) {
    // A finalizer raised: the driver's class design does not fit this interpreter.
    throw new Error(`CPython ${output.python} reported exceptions in finalizers during the oracle run (this is a bug in the oracle driver):\n${output.errors.join('\n')}`);
  }
  const generations: GenerationStats[] = output.after.map((after, generation) => ({
    collections: after[0] - output.before[3 * generation],
    collected: after[1] - output.before[3 * generation + 1],
    uncollectable: after[2] - output.before[3 * generation + 2],
  }));
  return {
    python: output.python,
    oldObjects: output.oldObjects,
    generations,
    count: [output.count[0], output.count[1], output.count[2]],
    garbage: output.garbage,
    ...(output.markedObjects >= 0 ? { markedObjects: output.markedObjects } : {}),
    loopSeconds: output.loopSeconds,
  };
}

/**
 * Diagnostic: runs the driver's setup and baseline for this trace, then measures what the loop
 * would start from instead of running it. Used to check that the baseline leaves the counts at (0, 0, 0)
 * and the oldest generation at `oldObjects`.
 */
export async function probeOracleBaseline(events: readonly TraceEvent[], options: OracleOptions): Promise<BaselineProbe> {
  const program = compileOracleProgram(events);
  return (await runDriver(encodeOracleProgram(program), processRunner(options), ['probe'])).output as BaselineProbe;
}

async function runDriver(data: Uint8Array, runner: DriverRunner, extraArgs: string[]): Promise<{ output: unknown; stderr: string }> {
  const { stdout, stderr } = await runner(DRIVER_SOURCE, data, extraArgs);
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return { output: JSON.parse(line) as unknown, stderr };
  } catch {
    throw new Error(`the oracle driver printed no result (stdout: ${JSON.stringify(stdout.slice(0, 500))})`);
  }
}

/** The driver in a Python process: `python -I -S driver.py DATA …`, from a temporary directory. */
export function processRunner(options: OracleOptions): DriverRunner {
  return async (driverSource, data, extraArgs) => {
    const dir = await mkdtemp(join(tmpdir(), 'memreplay-oracle-'));
    try {
      const driverPath = join(dir, 'driver.py');
      const dataPath = join(dir, 'trace.bin');
      await writeFile(driverPath, driverSource);
      await writeFile(dataPath, data);
      // -I: isolated (no PYTHON* environment variables such as PYTHONMALLOC, no user site);
      // -S: no site module, so fewer objects to walk in the baseline collections.
      return await runProcess(options.python, ['-I', '-S', driverPath, dataPath, ...extraArgs], options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

function runProcess(executable: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        reject(cannotRunInterpreter(executable, error));
      } else {
        reject(error);
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString('utf8');
      const err = Buffer.concat(stderr).toString('utf8');
      if (timedOut) {
        reject(new UserError('ORACLE_TIMEOUT', `the CPython oracle (${executable}) did not finish within ${timeoutMs} ms`));
      } else if (code !== 0) {
        reject(new Error(`the CPython oracle (${executable}) failed with ${signal ?? `exit code ${code}`}:\n${err.trim()}`));
      } else {
        resolve({ stdout: out, stderr: err });
      }
    });
  });
}
