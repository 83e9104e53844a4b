/**
 * Value lists for sweeps: `--threshold0 100..100000x10`, `--old-objects 0..100000+25000`,
 * `"threshold1": "5,10,20"` in a configuration file.
 *
 * A list is comma-separated items; each item is an integer or a range:
 *
 *   A..BxF   geometric: A, A·F, A·F², … up to B (F > 1, may be a decimal such as 3.16; each value
 *            is rounded to the nearest integer, and a value equal to the previous one is dropped)
 *   A..B+S   arithmetic: A, A+S, A+2S, … up to B (S a positive integer)
 *
 * B is included when the steps land on it. Values repeated across items are dropped (the first
 * occurrence keeps its place), so `100..1000x10,1000` is 100, 1000.
 */
import { UsageError } from '../errors.js';
import { formatCount } from '../report/format.js';

/** Longest list one option may produce; the whole grid has its own cap (`MAX_CONFIGURATIONS`). */
export const MAX_LIST_VALUES = 10_000;

const INTEGER = /^\d+$/;
const RANGE = /^(\d+)\.\.(\d+)(?:x(\d+(?:\.\d+)?)|\+(\d+))?$/;

export interface ListBounds {
  /** The option as the user wrote it, for messages: `--threshold0`. */
  option: string;
  /** Largest allowed value. */
  max: number;
}

/** Parses a value list; every mistake is a `UsageError` naming the option and the item. */
export function parseValueList(text: string, bounds: ListBounds): number[] {
  const values: number[] = [];
  const seen = new Set<number>();
  const add = (value: number, item: string): void => {
    if (value > bounds.max) throw new UsageError(`${bounds.option}: ${value} (from "${item}") is above the largest allowed value, ${bounds.max}`);
    if (seen.has(value)) return;
    seen.add(value);
    values.push(value);
    if (values.length > MAX_LIST_VALUES) throw new UsageError(`${bounds.option}: "${text}" gives more than ${formatCount(MAX_LIST_VALUES)} values`);
  };
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new UsageError(`${bounds.option}: empty item in "${text}"; write values separated by commas, e.g. 700,1000 or 100..100000x10`);
  for (const item of items) {
    if (INTEGER.test(item)) {
      add(Number(item), item);
      continue;
    }
    const range = RANGE.exec(item);
    if (range === null) throw new UsageError(`${bounds.option}: cannot read "${item}"; expected an integer, A..BxF (geometric, e.g. 100..100000x10) or A..B+S (arithmetic, e.g. 0..1000+250)`);
    const [, fromText, toText, factorText, stepText] = range;
    const from = Number(fromText);
    const to = Number(toText);
    if (from > to) throw new UsageError(`${bounds.option}: the range "${item}" ends below its start`);
    if (factorText === undefined && stepText === undefined) {
      throw new UsageError(`${bounds.option}: the range "${item}" needs a step: ${from}..${to}x10 multiplies by 10, ${from}..${to}+100 adds 100`);
    }
    if (factorText !== undefined) {
      const factor = Number(factorText);
      if (!(factor > 1)) throw new UsageError(`${bounds.option}: the factor in "${item}" must be above 1`);
      if (from === 0) throw new UsageError(`${bounds.option}: a geometric range cannot start at 0 ("${item}"); list 0 on its own: 0,1..${to}x${factorText}`);
      // A factor barely above 1 would loop for long while rounding to repeated values: refuse
      // ranges whose number of steps alone passes the cap.
      if (Math.log(to / from) / Math.log(factor) >= MAX_LIST_VALUES) {
        throw new UsageError(`${bounds.option}: "${item}" gives more than ${formatCount(MAX_LIST_VALUES)} values`);
      }
      // NOTE: the exact product is carried and only the emitted value is rounded, so that
      // 100..100000x10 ends at 100000 even though 100·10³ is 100000.00000000001 in binary.
      for (let exact = from; Math.round(exact) <= to; exact *= factor) add(Math.round(exact), item);
    } else {
      const step = Number(stepText);
      if (step < 1) throw new UsageError(`${bounds.option}: the step in "${item}" must be at least 1`);
      for (let value = from; value <= to; value += step) add(value, item);
    }
  }
  return values;
}
