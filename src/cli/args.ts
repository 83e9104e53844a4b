/** Parsing of option values that yargs leaves as text. Every mistake is a `UsageError`. */
import { shownNumber, UsageError } from '../errors.js';

const C_INT_MIN = -2147483648;
const C_INT_MAX = 2147483647;

/**
 * `--threshold "700,10,10"`: one to three C ints; an empty position keeps that generation's
 * default ("10000" or "10000,,5").
 */
export function parseThresholds(text: string): (number | undefined)[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length > 3) throw new UsageError(`--threshold takes at most three values (generations 0, 1, 2), got "${text}"`);
  return parts.map((part, generation) => {
    if (part === '') return undefined;
    if (!/^-?\d+$/.test(part)) throw new UsageError(`--threshold: generation ${generation} threshold must be an integer, got "${part}"`);
    const value = Number(part);
    if (value < C_INT_MIN || value > C_INT_MAX) throw new UsageError(`--threshold: ${part} does not fit a C int, as gc.set_threshold requires`);
    return value;
  });
}

/** A non-negative integer option (at least `min`, at most `max`). */
export function parseCount(option: string, value: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${option} must be an integer >= ${min}, got ${shownNumber(value)}`);
  if (value > max) throw new UsageError(`${option} must be at most ${max}, got ${shownNumber(value)}`);
  return value;
}
