/**
 * Locates real CPython interpreters, the oracles memreplay's models are checked against.
 *
 * pyenv installs them at `$PYENV_ROOT/versions/X.Y.Z/bin/pythonX.Y` (`~/.pyenv` by default). The
 * bare `python3.12` on the PATH may be a pyenv shim that fails unless PYENV_VERSION is set, so
 * versions are looked up there, never through the PATH.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function pyenvRoot(): string {
  return process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
}

/** Path of the interpreter for an exact version ("3.11.7") or the newest patch of "3.11"; null if absent. */
export function findPython(version: string): string | null {
  const versionsDir = join(pyenvRoot(), 'versions');
  if (!existsSync(versionsDir)) return null;
  const parts = version.split('.');
  const minor = parts.slice(0, 2).join('.');
  const candidates = readdirSync(versionsDir)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    .filter((v) => v === version || (parts.length === 2 && v.startsWith(`${minor}.`)))
    .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]));
  for (const v of candidates) {
    const exe = join(versionsDir, v, 'bin', `python${minor}`);
    if (existsSync(exe)) return exe;
  }
  return null;
}

/** Versions installed under pyenv, newest first. */
export function installedPythons(): string[] {
  const versionsDir = join(pyenvRoot(), 'versions');
  if (!existsSync(versionsDir)) return [];
  const key = (v: string) => v.split('.').map((n) => n.padStart(4, '0')).join('.');
  return readdirSync(versionsDir)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && findPython(v) !== null)
    .sort((a, b) => (key(a) < key(b) ? 1 : -1));
}
