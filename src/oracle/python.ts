/**
 * Locates real CPython interpreters, the oracles memreplay's models are checked against.
 *
 * pyenv installs them at `$PYENV_ROOT/versions/X.Y.Z/bin/pythonX.Y` (`~/.pyenv` by default). The
 * bare `python3.12` on the PATH may be a pyenv shim that fails unless PYENV_VERSION is set, so
 * versions are looked up there, never through the PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';

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

/** The error for an interpreter that cannot be started at all (no such file, not executable). */
export function cannotRunInterpreter(executable: string, error: Error): UserError {
  return new UserError('ORACLE_PYTHON_NOT_FOUND', `cannot run the Python interpreter ${JSON.stringify(executable)}: ${error.message}`);
}

/** The oldest CPython the oracle driver runs on (it calls `gc.freeze`, new in 3.7). */
const OLDEST_ORACLE_PYTHON: readonly [number, number] = [3, 7];

/**
 * Python 2 and 3 alike print the implementation and the version; `-S -E` (not `-I`, which
 * Python 2 lacks) keep site and environment variables out.
 */
const IDENTIFY = "import sys; i = getattr(sys, 'implementation', None); sys.stdout.write('%s %d.%d.%d' % (((i.name if i else 'python'),) + tuple(sys.version_info[:3])))";

/**
 * Checks that `executable` is a CPython the oracle driver runs on, so that a wrong `--python`
 * is one clear message instead of the driver failing in it; returns its version ("3.11.7").
 */
export function checkOracleInterpreter(executable: string): string {
  const run = spawnSync(executable, ['-S', '-E', '-c', IDENTIFY], { encoding: 'utf8', timeout: 60_000 });
  const error = run.error as NodeJS.ErrnoException | undefined;
  if (error !== undefined) throw cannotRunInterpreter(executable, error);
  const identity = /^(\w+) (\d+)\.(\d+)\.(\d+)$/.exec(run.status === 0 ? run.stdout.trim() : '');
  if (identity === null) {
    const said = (run.stderr || run.stdout).trim().split('\n')[0] ?? '';
    const how = run.status === null ? `killed by ${run.signal ?? 'a signal'}` : `exit code ${run.status}`;
    throw new UserError('ORACLE_PYTHON_UNSUITABLE', `${executable} does not run as a Python interpreter (${how}${said === '' ? '' : `: ${said.slice(0, 120)}`})`);
  }
  const [, implementation, major, minor, patch] = identity;
  const version = `${major}.${minor}.${patch}`;
  const [oldestMajor, oldestMinor] = OLDEST_ORACLE_PYTHON;
  if (Number(major) < oldestMajor || (Number(major) === oldestMajor && Number(minor) < oldestMinor)) {
    throw new UserError('ORACLE_PYTHON_UNSUITABLE', `${executable} is Python ${version}; the oracle runs on CPython ${oldestMajor}.${oldestMinor} and later`);
  }
  if (implementation !== 'cpython') throw new UserError('ORACLE_PYTHON_UNSUITABLE', `${executable} is ${implementation} ${version}, not CPython: verify checks the models against CPython's own collector`);
  return version;
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
