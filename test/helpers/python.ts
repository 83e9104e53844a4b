import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Locates the real CPython interpreters that the differential tests use as oracles.
 *
 * pyenv installs them at `~/.pyenv/versions/X.Y.Z/bin/pythonX.Y` (or `$PYENV_ROOT/versions/...`).
 * The bare `python3.12` on the PATH is a pyenv shim that fails unless PYENV_VERSION is set, so
 * we never rely on the PATH. Under `CI=true` a missing interpreter is a failure, not a skip:
 * CI machines have them all, and a silently skipped oracle test proves nothing.
 */

const PYENV_ROOT = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');

/** Path of the interpreter for an exact version ("3.11.7") or the newest patch of "3.11"; null if absent. */
export function findPython(version: string): string | null {
  const versionsDir = join(PYENV_ROOT, 'versions');
  if (!existsSync(versionsDir)) return null;
  const minor = version.split('.').slice(0, 2).join('.');
  const candidates = readdirSync(versionsDir)
    .filter((v) => v === version || (version.split('.').length === 2 && v.startsWith(`${minor}.`)))
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]));
  for (const v of candidates) {
    const exe = join(versionsDir, v, 'bin', `python${minor}`);
    if (existsSync(exe)) return exe;
  }
  return null;
}

/** True when running in CI, where every oracle must be present. */
export const IN_CI = process.env.CI === 'true';

/**
 * Returns the interpreter, or null when the test should be skipped. In CI a missing interpreter
 * throws, so the test fails instead of passing vacuously.
 */
export function pythonOrSkip(version: string): string | null {
  const exe = findPython(version);
  if (exe === null && IN_CI) {
    throw new Error(`CPython ${version} not found under ${PYENV_ROOT}/versions; CI requires every oracle interpreter`);
  }
  return exe;
}
