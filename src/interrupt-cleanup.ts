/**
 * Temporary files and directories to remove if the process is interrupted (Ctrl-C, SIGTERM,
 * a closed terminal) or exits (`process.exit`: the launcher's handler of a stdout that cannot
 * be written) before the code that made them removes or renames them. Node ends a process on
 * these signals, and on `process.exit`, without running `finally` blocks, so without this an
 * interrupted `compare` left its copy of stdin behind, and a report write its `.tmp` file.
 *
 * The signal handler removes what is registered, then raises the same signal again with Node's
 * default behaviour restored, so the process still ends as an interrupted one (exit status 128
 * + signal). The exit handler only removes (it must be synchronous, as `rmSync` is).
 */
import { rmSync } from 'node:fs';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const paths = new Set<string>();
let installed = false;
let exitHandlerInstalled = false;

function removeAll(): void {
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  paths.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  installed = false;
  process.kill(process.pid, signal);
}

/**
 * Removes `path` (a file or a directory) if the process is interrupted before the returned
 * function is called; call it once the path is gone or renamed.
 */
export function removeOnInterrupt(path: string): () => void {
  if (!installed) {
    for (const s of SIGNALS) process.on(s, onSignal);
    installed = true;
  }
  if (!exitHandlerInstalled) {
    process.on('exit', removeAll);
    exitHandlerInstalled = true;
  }
  paths.add(path);
  return () => {
    paths.delete(path);
  };
}
