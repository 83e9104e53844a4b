import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolPolicy } from '../../src/pool/pool.js';

/**
 * Runs a sequence of allocator calls through a real CPython's `PyObject_Malloc` /
 * `PyObject_Free` / `PyObject_Realloc` (ctypes) and captures `sys._debugmallocstats()` right
 * before and right after, as raw text. The TypeScript side parses both captures afterwards and
 * compares their difference with a model replaying the same calls.
 *
 * What makes the per-class numbers comparable exactly:
 * 1. Nothing the driver makes stays alive across the measured window except the trace's blocks.
 *    The ops, the pointer table (a ctypes array, whose buffer is malloc'd), the iterator over the
 *    ops and the capture files all exist before the first capture. Captures go to files opened in
 *    advance and are read only after the second one, so no text from the first is alive during
 *    the second. The garbage collector is disabled. The fill loops of 3 and 5 below use `while`
 *    and ints only: an iterator alive during a fill would free its block after it, leaving a
 *    free block in a class that must have none.
 * 2. A warm-up runs the whole sequence once (then frees what it left) and exercises the capture
 *    code, so that lazily created objects (method caches, free-list entries of tuples used by the
 *    call machinery, the frame a 3.6–3.10 function keeps for reuse) exist before the baseline.
 * 3. The interpreter's partially used pools would absorb the trace's first blocks of a class, so
 *    that fewer new pools appear than in a model starting empty. Before the baseline the driver
 *    fills every free block of the trace's size classes (held until exit), so that each block of
 *    the trace lands in a pool the trace alone uses, as in the model.
 * 4. Each ctypes call makes short-lived objects: a `CArgObject` per argument (64 bytes, class 3;
 *    80 bytes with the GC header in 3.12+, class 4) and the returned pointer as an int (32 bytes,
 *    class 1). Allocated between the trace's blocks, they would shift pool boundaries, so traces
 *    avoid those classes (`TEMP_CLASSES`) and the driver makes sure each has free room, so that
 *    the temporaries never need a pool of their own.
 * 5. Free pools in the interpreter's arenas would serve the trace's first pools, so the driver
 *    also fills them (with blocks of a "filler" class the trace does not use). At the baseline
 *    every arena is then full, and the trace's pools come from arenas made for them, as in the
 *    model. One exception cannot be removed: on 3.9+ the garbage of the last fill check may leave
 *    one wholly free arena, kept by the keep-one-free-arena rule; the comparison then seeds the
 *    model with one such arena (`seedArena`).
 */

/** The size classes of the ctypes temporaries (see 4 above). */
export const TEMP_CLASSES: readonly number[] = [1, 3, 4];

export type AllocatorOp =
  | { op: 'malloc'; slot: number; size: number }
  | { op: 'free'; slot: number }
  | { op: 'realloc'; slot: number; size: number };

export interface OracleSpec {
  ops: AllocatorOp[];
  /** Classes the trace uses (blocks of these sizes), filled before the baseline. */
  traceClasses: number[];
  /** The class whose blocks fill the free pools of the arenas. */
  fillerClass: number;
  alignment: number;
  poolHeader: number;
}

export interface OracleResult {
  before: string;
  after: string;
  /** `sys.getallocatedblocks()` right before the first capture and right after the second. */
  allocatedBlocksBefore: number;
  allocatedBlocksAfter: number;
  /** Fill rounds until the state was ready (1 when the first check found nothing to fill). */
  fillRounds: number;
}

const DRIVER = String.raw`
import ctypes, gc, json, os, sys

gc.disable()
with open(sys.argv[1]) as spec_file:
    SPEC = json.load(spec_file)
OPS = [tuple(op) for op in SPEC['ops']]
LIVE = SPEC['live']
TRACE_CLASSES = tuple(SPEC['traceClasses'])
TEMP_CLASSES = tuple(c for c in SPEC['tempClasses'] if c not in TRACE_CLASSES)
FILLER_CLASS = SPEC['fillerClass']
ALIGNMENT = SPEC['alignment']
POOL_HEADER = SPEC['poolHeader']
OUT = sys.argv[2]

api = ctypes.pythonapi
malloc = api.PyObject_Malloc
malloc.restype = ctypes.c_void_p
malloc.argtypes = [ctypes.c_size_t]
free = api.PyObject_Free
free.restype = None
free.argtypes = [ctypes.c_void_p]
realloc = api.PyObject_Realloc
realloc.restype = ctypes.c_void_p
realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

slots = (ctypes.c_void_p * max(1, SPEC['slots']))()
MAX_FILL = 400000
filled = (ctypes.c_void_p * MAX_FILL)()
counts = (ctypes.c_ssize_t * 3)()
avail = (ctypes.c_long * 256)()
pool_state = (ctypes.c_long * 2)()
flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC
scratch = os.open(OUT + '.scratch', flags)
fd_before = os.open(OUT + '.before', flags)
fd_after = os.open(OUT + '.after', flags)


def run(it, slots=slots, malloc=malloc, free=free, realloc=realloc):
    for kind, slot, size in it:
        if kind == 0:
            slots[slot] = malloc(size)
        elif kind == 1:
            free(slots[slot])
        else:
            slots[slot] = realloc(slots[slot], size)


def capture(fd):
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(fd, 2)
    sys._debugmallocstats()
    os.dup2(saved, 2)
    os.close(saved)


def read_scratch():
    # Fills avail[] and pool_state[]; every object made here is garbage before the fills start.
    os.lseek(scratch, 0, 0)
    os.ftruncate(scratch, 0)
    capture(scratch)
    os.lseek(scratch, 0, 0)
    chunks = []
    while True:
        chunk = os.read(scratch, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    for c in range(len(avail)):
        avail[c] = 0
    for line in b''.join(chunks).decode().splitlines():
        parts = line.split()
        if len(parts) == 5 and all(p.isdigit() for p in parts):
            avail[int(parts[0])] = int(parts[4])
        elif 'unused pools *' in line:
            pool_state[0] = int(parts[0])
            pool_state[1] = int(parts[4])


def fill(size, count):
    # Objects alive during a fill would free their blocks after it: only ints (class 1) here,
    # and no iterator (a range or list iterator is a 48-byte block).
    n = counts[2]
    end = n + count
    if end > MAX_FILL:
        raise SystemExit('fill needs more than %d blocks' % MAX_FILL)
    while n < end:
        filled[n] = malloc(size)
        n += 1
    counts[2] = n


def fill_round():
    read_scratch()
    todo = 0
    i = 0
    while i < len(TRACE_CLASSES):
        c = TRACE_CLASSES[i]
        if avail[c] > 0:
            fill((c + 1) * ALIGNMENT, avail[c])
            todo = 1
        i += 1
    carved = 0
    i = 0
    while i < len(TEMP_CLASSES):
        c = TEMP_CLASSES[i]
        if avail[c] < 3:
            fill((c + 1) * ALIGNMENT, avail[c] + 1)
            carved += 1
            todo = 1
        i += 1
    spare = pool_state[0] - carved
    if spare > 0:
        size = (FILLER_CLASS + 1) * ALIGNMENT
        fill(size, avail[FILLER_CLASS] + spare * ((pool_state[1] - POOL_HEADER) // size))
        todo = 1
    return todo


# Warm-up: the whole sequence once, then free what it left; exercise the capture code.
run(iter(OPS))
for slot in LIVE:
    free(slots[slot])
counts[0] = sys.getallocatedblocks()
capture(fd_after)
os.lseek(fd_after, 0, 0)
os.ftruncate(fd_after, 0)

# The iterator over the ops is a 48-byte block (class 2, 3.8+): make it before filling.
it = iter(OPS)
rounds = 1
while fill_round():
    rounds += 1
    if rounds > 6:
        raise SystemExit('the interpreter state did not settle after 6 fill rounds')

counts[0] = sys.getallocatedblocks()
capture(fd_before)
run(it)
capture(fd_after)
counts[1] = sys.getallocatedblocks()

texts = []
for fd in (fd_before, fd_after):
    os.lseek(fd, 0, 0)
    texts.append(os.read(fd, 1 << 20).decode())
for fd in (scratch, fd_before, fd_after):
    os.close(fd)
sys.stdout.write(json.dumps({
    'before': texts[0],
    'after': texts[1],
    'allocatedBlocksBefore': counts[0],
    'allocatedBlocksAfter': counts[1],
    'fillRounds': rounds,
}))
`;

/** The slots that hold a block after the ops (the driver's warm-up frees them). */
export function liveSlotsAfter(ops: readonly AllocatorOp[]): number[] {
  const live = new Set<number>();
  for (const op of ops) {
    if (op.op === 'free') live.delete(op.slot);
    else live.add(op.slot);
  }
  return [...live].sort((a, b) => a - b);
}

/** Runs the ops in a fresh interpreter; the script and its files live in a temporary directory. */
export function runOracle(python: string, spec: OracleSpec): OracleResult {
  const dir = mkdtempSync(join(tmpdir(), 'memreplay-pymalloc-'));
  try {
    const script = join(dir, 'driver.py');
    const specFile = join(dir, 'spec.json');
    writeFileSync(script, DRIVER);
    const slots = spec.ops.reduce((max, op) => Math.max(max, op.slot + 1), 0);
    const kinds = { malloc: 0, free: 1, realloc: 2 } as const;
    writeFileSync(
      specFile,
      JSON.stringify({
        ops: spec.ops.map((op) => [kinds[op.op], op.slot, op.op === 'free' ? 0 : op.size]),
        live: liveSlotsAfter(spec.ops),
        slots,
        traceClasses: spec.traceClasses,
        tempClasses: TEMP_CLASSES,
        fillerClass: spec.fillerClass,
        alignment: spec.alignment,
        poolHeader: spec.poolHeader,
      }),
    );
    // -E ignores PYTHONMALLOC and friends (debug hooks would change every number); -S skips site.
    const run = spawnSync(python, ['-E', '-S', script, specFile, join(dir, 'capture')], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
    if (run.status !== 0) throw new Error(`${python} failed (${run.error?.message ?? `status ${run.status}`}):\n${run.stderr}`);
    return JSON.parse(run.stdout) as OracleResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replays the ops through a policy; returns the handle of each slot (-1 when free). */
export function replayOps(policy: PoolPolicy, ops: readonly AllocatorOp[]): Map<number, number> {
  const handles = new Map<number, number>();
  for (const op of ops) {
    if (op.op === 'malloc') handles.set(op.slot, policy.allocate(op.size));
    else if (op.op === 'free') {
      policy.release(handles.get(op.slot) as number);
      handles.delete(op.slot);
    } else handles.set(op.slot, policy.resize(handles.get(op.slot) as number, op.size));
  }
  return handles;
}
