/**
 * The Python side of the CPython oracle (see cpython.ts): one program, written to a temporary
 * file and run as `python -I -S driver.py <data file> [probe]`. It must run unchanged on
 * CPython 3.7 to 3.13, so it uses no syntax newer than 3.7.
 *
 * The op codes, object kinds and file magic below are interpolated from the constants in this
 * file, so the compiler and the driver cannot disagree.
 */

/** Driver op codes (column `op` of an `OracleProgram`). */
export const DRIVER_OP = {
  /** `R[arg] = kinds[slot1]()` */
  alloc: 1,
  /** `R[arg] = <operand 1>` (incref) */
  hold: 2,
  /** `R[arg] = None` (decref, or one program reference dropped by free) */
  drop: 3,
  /** `<operand 1>.append(<operand 2>)` */
  link: 4,
  /** `del <operand 1>[arg]` */
  unlink: 5,
  /** `gc.collect(arg)` */
  collect: 6,
  enable: 7,
  disable: 8,
  /** `gc.set_threshold(*T[arg])`, T built by the driver from the threshold changes */
  threshold: 9,
  freeze: 10,
  unfreeze: 11,
} as const;

/** Index into the driver's `kinds` tuple, stored in column `slot1` of an `alloc` row. */
export const OBJECT_KIND = { plain: 0, del: 1, legacy: 2, untracked: 3 } as const;

/** First int32 of the data file ("mro1"). */
export const ORACLE_DATA_MAGIC = 0x6d726f31;

export const DRIVER_SOURCE = `# memreplay CPython oracle driver (format 1).
#
# Replays a trace compiled by src/oracle/cpython.ts and prints, as one JSON line, the
# interpreter's gc.get_stats() before and after the replay loop and gc.get_count() at its end.
#
# The loop must allocate no GC-tracked object other than the trace's own objects, or the counts
# drift [cpython-memory.md section 9]. Everything is therefore prepared before the baseline:
# - the op stream is a set of array('i') columns (arrays are not GC objects);
# - program references live in R, a list allocated once; the compiler assigns the slots;
# - an object the program does not hold is reached through its holders: a root slot of R
#   followed by list indexes (PATH), all computed by the compiler;
# - calls take no arguments, or C ints, or a pre-built tuple passed with * (CALL_FUNCTION_EX
#   hands an exact tuple to a METH_VARARGS function as is [v3.11.2 Python/ceval.c:
#   CALL_FUNCTION_EX, do_call_core]), so no argument tuple is built: a built tuple would come
#   from the tuple free list, which every generation-2 collection empties [cpython-memory.md 8];
# - the loop runs in a function (fast locals; no frame object on 3.11+) and clears every local
#   that held a trace object, since a local is an outside reference for the collector.
import gc
import json
import sys
from array import array

MAGIC = ${ORACLE_DATA_MAGIC}

OP_ALLOC = ${DRIVER_OP.alloc}
OP_HOLD = ${DRIVER_OP.hold}
OP_DROP = ${DRIVER_OP.drop}
OP_LINK = ${DRIVER_OP.link}
OP_UNLINK = ${DRIVER_OP.unlink}
OP_COLLECT = ${DRIVER_OP.collect}
OP_ENABLE = ${DRIVER_OP.enable}
OP_DISABLE = ${DRIVER_OP.disable}
OP_THRESHOLD = ${DRIVER_OP.threshold}
OP_FREEZE = ${DRIVER_OP.freeze}
OP_UNFREEZE = ${DRIVER_OP.unfreeze}


class O(list):
    # A list subclass is a GC container whose instances never use the list free list
    # [v3.11.2 Objects/listobject.c: list_dealloc pushes only PyList_CheckExact objects] and are
    # allocated by PyType_GenericAlloc [v3.11.2 Objects/typeobject.c: _PyType_AllocNoTrack calls
    # _PyObject_GC_Link]: each O() counts +1, each death -1 (tp_free = PyObject_GC_Del).
    # __slots__ = () keeps out the instance dict and weakref list.
    __slots__ = ()


class OD(O):
    # PEP 442 finalizer, called once [v3.11.2 Objects/typeobject.c: slot_tp_finalize looks
    # __del__ up with lookup_maybe_method and calls it unbound, so no bound method is made].
    __slots__ = ()

    def __del__(self):
        pass


def _tp_del(self=None):
    pass


class OL(O):
    __slots__ = ()
    # Made legacy by _testcapi.with_tp_del (sets tp_del, so the collector treats it as
    # uncollectable in a cycle). The tp_del it installs changed in 3.12:
    # - up to 3.11 [v3.11.2 Modules/_testcapimodule.c: slot_tp_del] it binds __tp_del__ with
    #   _PyObject_LookupSpecial and calls the result without arguments: a plain function would
    #   allocate a bound method (+1, which can trigger a collection inside the dealloc), a
    #   staticmethod binds to the bare function;
    # - from 3.12 [Modules/_testcapi/gc.c: slot_tp_del] it calls the raw type attribute with
    #   self (_PyType_Lookup + PyObject_CallOneArg): a staticmethod would be called with self and
    #   raise, a plain function is right.
    if sys.version_info >= (3, 12):
        __tp_del__ = _tp_del
    else:
        __tp_del__ = staticmethod(_tp_del)


# The incremental collector of 3.14.1-3.14.4 [cpython-memory.md 5.3, 5.4] marks, at the start of
# each scan, every object the interpreter's roots reach; how many there are sets its work budget.
# The calibration at the start of main() measures it.
INCREMENTAL = sys.version_info[:2] == (3, 14) and 1 <= sys.version_info[2] <= 4
FINALIZED = array("q", [0])


class OC(list):
    # A calibration object: its __del__ tells that a collecting increment ran.
    __slots__ = ()

    def __del__(self):
        FINALIZED[0] += 1


def main():
    data_path = sys.argv[1]
    probe = len(sys.argv) > 2 and sys.argv[2] == "probe"
    with open(data_path, "rb") as f:
        raw = f.read()
    d = array("i")
    if d.itemsize != 4:
        raise SystemExit("array('i') is not 4 bytes on this platform")
    d.frombytes(raw)
    raw = None
    if d[0] != MAGIC:
        raise SystemExit("bad oracle data file")
    rows, n_path, n_thresholds, max_refs, needs_legacy = d[1], d[2], d[3], d[4], d[5]
    pos = 6
    threshold_changes = d[pos:pos + 2 * n_thresholds]
    pos += 2 * n_thresholds
    cols = []
    for c in range(8):
        cols.append(d[pos:pos + rows])
        pos += rows
    OP, ARG, S1, P1, L1, S2, P2, L2 = cols
    PATH = d[pos:pos + n_path]
    d = cols = None

    # Indexed by OBJECT_KIND (cpython.ts): plain, del, legacy, untracked.
    if needs_legacy:
        import _testcapi
        kinds = (O, OD, _testcapi.with_tp_del(OL), bytearray)
    else:
        kinds = (O, OD, O, bytearray)

    # Threshold triples, in trace order, built from the interpreter's own starting values.
    t = list(gc.get_threshold())
    T = []
    for j in range(n_thresholds):
        t[threshold_changes[2 * j]] = threshold_changes[2 * j + 1]
        T.append(tuple(t))
    t = None

    errors = []
    if hasattr(sys, "unraisablehook"):
        def hook(unraisable, errors=errors):
            errors.append("%s: %r" % (unraisable.exc_type.__name__, unraisable.exc_value))
        sys.unraisablehook = hook

    # Warm up what the loop uses once, so that nothing is allocated for a first use: the
    # __del__ and __tp_del__ code (zombie frames up to 3.10, quickening on 3.11+).
    for k in kinds:
        x = k()
        x = None

    R = [None] * max(max_refs, 1)
    from time import perf_counter
    # Unbound method descriptors called with the list as first argument: no bound method is
    # made, and the call takes the METH_O / fast-call path. Plain x[i] on a list subclass goes
    # through slot_mp_subscript (list.__getitem__ is a METH_COEXIST method, not a slot wrapper),
    # which on 3.7 calls it through a tuple: +1 on the young count after each full collection.
    getitem = list.__getitem__
    append = list.append
    collect = gc.collect
    enable = gc.enable
    disable = gc.disable
    set_threshold = gc.set_threshold
    freeze = gc.freeze
    unfreeze = gc.unfreeze
    get_count = gc.get_count
    get_stats = gc.get_stats
    get_objects = gc.get_objects
    garbage = gc.garbage
    it = iter(range(rows))
    x = y = None
    before = array("q", [0]) * 9

    marked_objects = -1
    if INCREMENTAL:
        # Calibration, in this frame so that the roots are the loop's. After a full collection
        # the budget is 0 and the next increment marks what the roots reach (M objects) and
        # subtracts 2M. With threshold (1, 2**30) every second tracking runs an increment that
        # adds 2 to the budget and nothing for the heap (heap_size / 10 / 2**30 = 0), and each
        # increment returns at once while the budget is negative. So the first increment that
        # collects, and finalizes the garbage made here, is increment M, at iteration 2M. The
        # object just made is on the stack at the first increment and is one of the M. The
        # threshold tuple is read before the full collection, which untracks it.
        saved = gc.get_threshold()
        FINALIZED[0] = 0
        collect()
        set_threshold(1, 1 << 30)
        n = 0
        while FINALIZED[0] == 0:
            x = OC()
            append(x, x)
            x = None
            n += 1
        set_threshold(*saved)
        saved = None
        marked_objects = n // 2 - 1

    # Baseline: full collections until the oldest generation stops shrinking (a tuple is
    # untracked only once the tuples it holds are, and one pass may see them in the wrong order,
    # so the second collection still untracks a few co_consts tuples), then its size and the
    # stats as plain ints.
    collect()
    old_objects = len(get_objects())
    for attempt in range(8):
        collect()
        n = len(get_objects())
        if n == old_objects:
            break
        old_objects = n
    st = get_stats()
    for g in range(3):
        s = st[g]
        before[3 * g] = s["collections"]
        before[3 * g + 1] = s["collected"]
        before[3 * g + 2] = s["uncollectable"]
    st = s = None
    # The last full collection empties the free lists and zeroes the counts; it is charged to
    # the baseline, so the deltas cover the loop only. Nothing is read between it and the loop.
    r = collect()
    if len(garbage):
        raise SystemExit("the baseline left objects in gc.garbage")
    before[6] += 1
    before[7] += r
    if probe:
        # Diagnostic run (no loop): what the loop would start from. get_count() reads the counts
        # before it builds its tuple, and that tuple is gone before get_objects() walks the
        # generations, so every object it lists is in the oldest generation.
        c0, c1, c2 = get_count()
        tracked = len(get_objects())
        print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "oldObjects": old_objects,
                          "countAtLoopStart": [c0, c1, c2], "trackedAtLoopStart": tracked,
                          "markedObjects": marked_objects,
                          "baselineCollected": r, "garbage": len(garbage)}))
        return

    t0 = perf_counter()
    # The path walks below are written out in each branch on purpose: a helper function would make
    # every call create a frame object, a GC allocation on 3.7-3.10 that would move the young count.
    for i in it:
        op = OP[i]
        if op == OP_ALLOC:
            R[ARG[i]] = kinds[S1[i]]()
        elif op == OP_DROP:
            R[ARG[i]] = None
        elif op == OP_LINK:
            x = R[S1[i]]
            n = L1[i]
            if n:
                p = P1[i]
                n += p
                while p < n:
                    x = getitem(x, PATH[p])
                    p += 1
            y = R[S2[i]]
            n = L2[i]
            if n:
                p = P2[i]
                n += p
                while p < n:
                    y = getitem(y, PATH[p])
                    p += 1
            append(x, y)
            x = y = None
        elif op == OP_HOLD:
            x = R[S1[i]]
            n = L1[i]
            if n:
                p = P1[i]
                n += p
                while p < n:
                    x = getitem(x, PATH[p])
                    p += 1
            R[ARG[i]] = x
            x = None
        elif op == OP_UNLINK:
            x = R[S1[i]]
            n = L1[i]
            if n:
                p = P1[i]
                n += p
                while p < n:
                    x = getitem(x, PATH[p])
                    p += 1
            del x[ARG[i]]
            x = None
        elif op == OP_COLLECT:
            collect(ARG[i])
        elif op == OP_ENABLE:
            enable()
        elif op == OP_DISABLE:
            disable()
        elif op == OP_THRESHOLD:
            set_threshold(*T[ARG[i]])
        elif op == OP_FREEZE:
            freeze()
        elif op == OP_UNFREEZE:
            unfreeze()
        else:
            raise SystemExit("bad op %d at row %d" % (op, i))
    t1 = perf_counter()

    # Reading must not trigger a collection: disable first. get_count() reads the counts before
    # it builds its tuple; get_stats() comes after it.
    disable()
    count = get_count()
    after = get_stats()

    print(json.dumps({
        "python": "%d.%d.%d" % sys.version_info[:3],
        "oldObjects": old_objects,
        "before": list(before),
        "after": [[s["collections"], s["collected"], s["uncollectable"]] for s in after],
        "count": list(count),
        "garbage": len(garbage),
        "markedObjects": marked_objects,
        "loopSeconds": t1 - t0,
        "errors": errors,
    }))


main()
`;
