import { findPython, pyenvRoot } from '../../src/oracle/python.js';

/**
 * The oracle interpreters for tests. Under `CI=true` a missing interpreter is a failure, not a
 * skip: CI machines have them all, and a silently skipped oracle test proves nothing.
 */
export { findPython };

/** True when running in CI, where every oracle must be present. */
export const IN_CI = process.env.CI === 'true';

/** Returns the interpreter, or null when the test should be skipped (never in CI). */
export function pythonOrSkip(version: string): string | null {
  const exe = findPython(version);
  if (exe === null && IN_CI) {
    throw new Error(`CPython ${version} not found under ${pyenvRoot()}/versions; CI requires every oracle interpreter`);
  }
  return exe;
}
