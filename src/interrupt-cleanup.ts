/**
 * Temporary files and directories to remove if the process is interrupted (Ctrl-C, SIGTERM,
 * a closed terminal) before the code that made them removes or renames them. Node ends a process
 * on these signals without running `finally` blocks, so without this an interrupted `compare`
 * left its copy of stdin behind, and an interrupted report write its `.tmp` file.
 *
 * The handler removes what is registered, then raises the same signal again with Node's default
 * behaviour restored, so the process still ends as an interrupted one (exit status 128 + signal).
 */
import { rmSync } from 'node:fs';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const paths = new Set<string>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  paths.clear();
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
  paths.add(path);
  return () => {
    paths.delete(path);
  };
}
