/**
 * Bounding the points a chart draws. The report's time series hold up to 2,048 samples per
 * column and the collection list up to 20,000 entries; a page that drew all of them for a long
 * trace would be large and slow to open, so every chart takes at most `MAX_CHART_POINTS` rows.
 */

/**
 * Rows of data in one chart's time series: well below the bound of 2,000 points per series, and
 * with extremes kept, as much as a chart 820 pixels wide can show.
 */
export const MAX_CHART_POINTS = 500;

/**
 * Sample indices (ascending) that keep every column's extremes: the samples are cut into equal
 * buckets and, per bucket, the index of each column's minimum and maximum is kept, plus the first
 * and last sample. A peak of live memory is what a reader looks for, so plain decimation (every
 * k-th sample) is rejected: it can step over the peak.
 * Postcondition: at most `maxPoints` indices (for `maxPoints` ≥ 2 + 2·columns), all distinct.
 */
export function extremaIndices(columns: readonly ArrayLike<number>[], length: number, maxPoints = MAX_CHART_POINTS): number[] {
  if (length <= maxPoints) return Array.from({ length }, (_, i) => i);
  const perBucket = 2 * Math.max(1, columns.length);
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / perBucket));
  const keep = new Set<number>([0, length - 1]);
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * length) / buckets);
    const end = Math.floor(((b + 1) * length) / buckets);
    for (const column of columns) {
      let low = start;
      let high = start;
      for (let i = start + 1; i < end; i++) {
        if (column[i] < column[low]) low = i;
        if (column[i] > column[high]) high = i;
      }
      keep.add(low);
      keep.add(high);
    }
  }
  return [...keep].sort((a, b) => a - b);
}

/** At most `maxPoints` evenly spaced indices of `length` items, first and last included. */
export function evenIndices(length: number, maxPoints: number): number[] {
  if (length <= maxPoints) return Array.from({ length }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < maxPoints; k++) out.push(Math.round((k * (length - 1)) / (maxPoints - 1)));
  return out;
}

/** A number rounded for embedding in a chart: integers stay, others keep 4 significant digits. */
export function compactNumber(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  return Number(value.toPrecision(4));
}
