/**
 * CPython 3.14.2 as an oracle, through pyodide (CPython compiled to WebAssembly, the npm package
 * `pyodide`, a development dependency): the only 3.14.1–3.14.4 interpreter on these machines, so
 * the one that checks the incremental collector's model (src/gc/incremental.ts).
 *
 * The driver (driver.ts) runs unchanged, in one interpreter loaded once per process. Each run
 * first puts the collector back as a fresh interpreter has it (enabled, default thresholds,
 * nothing frozen, `gc.garbage` empty): the driver disables it and may freeze or change
 * thresholds, and its baseline then measures the heap the run starts from.
 */
import type { DriverRunner } from './cpython.js';

interface Pyodide {
  version: string;
  runPython(code: string): unknown;
  setStdout(options: { batched: (text: string) => void }): void;
  setStderr(options: { batched: (text: string) => void }): void;
  FS: { writeFile(path: string, data: string | Uint8Array): void; mkdirTree(path: string): void };
}

let loading: Promise<Pyodide> | null = null;

/** Loads pyodide once; null when the package is not installed (it is only a development dependency). */
export async function loadPyodideOnce(): Promise<Pyodide | null> {
  let module: { loadPyodide: (options?: object) => Promise<Pyodide> };
  // A specifier in a variable: the build must not need the package or its types.
  const specifier = 'pyodide';
  try {
    module = (await import(specifier)) as typeof module;
  } catch {
    return null;
  }
  loading ??= module.loadPyodide();
  return loading;
}

const RESET = `
import gc, sys
gc.unfreeze()
gc.callbacks.clear()
gc.set_threshold(2000, 10, 0)
gc.enable()
# The driver's objects with a legacy finalizer are lists: emptied, their cycles end by refcount.
# A collection may find more of them (some were frozen), hence the loop.
while True:
    gc.collect()
    if not gc.garbage:
        break
    for o in gc.garbage:
        if isinstance(o, list):
            del o[:]
    del gc.garbage[:]
`;

/** A `DriverRunner` for `runOracle` (cpython.ts) on pyodide's interpreter. */
export function pyodideRunner(pyodide: Pyodide): DriverRunner {
  return async (driverSource, data, extraArgs) => {
    const dir = '/tmp/memreplay-oracle';
    pyodide.FS.mkdirTree(dir);
    pyodide.FS.writeFile(`${dir}/driver.py`, driverSource);
    pyodide.FS.writeFile(`${dir}/trace.bin`, data);
    const stdout: string[] = [];
    const stderr: string[] = [];
    pyodide.setStdout({ batched: (text) => stdout.push(text) });
    pyodide.setStderr({ batched: (text) => stderr.push(text) });
    pyodide.runPython(RESET);
    const argv = JSON.stringify([`${dir}/driver.py`, `${dir}/trace.bin`, ...extraArgs]);
    // A fresh namespace per run, as `python driver.py` would have; the driver ends by calling main().
    pyodide.runPython(`import sys\nsys.argv = ${argv}\nexec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"), {"__name__": "__main__"})`);
    return { stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  };
}
