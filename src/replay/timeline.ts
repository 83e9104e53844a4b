/**
 * Time series sampled at a bounded number of points, whatever the trace length.
 *
 * A sample is taken every `stride` events. When `MAX_SAMPLES` samples are held, every other one
 * is dropped and the stride doubles, so the samples stay evenly spaced and between
 * `MAX_SAMPLES / 2` and `MAX_SAMPLES` of them cover the whole replay. The columns are named;
 * each is a `Float64Array`, so sampling allocates nothing.
 */
export const MAX_SAMPLES = 2048;

export class Timeline<Column extends string> {
  stride: number;
  length = 0;
  readonly columns: Record<Column, Float64Array>;
  private readonly names: readonly Column[];

  constructor(names: readonly Column[], initialStride = 1) {
    this.names = names;
    this.stride = initialStride;
    const columns = Object.create(null) as Record<Column, Float64Array>;
    for (const name of names) columns[name] = new Float64Array(MAX_SAMPLES);
    this.columns = columns;
  }

  /** Index at which the caller writes the next sample's values; compacts when full. */
  nextIndex(): number {
    if (this.length === MAX_SAMPLES) this.compact();
    return this.length++;
  }

  private compact(): void {
    const half = MAX_SAMPLES / 2;
    for (const name of this.names) {
      const column = this.columns[name];
      for (let i = 0; i < half; i++) column[i] = column[2 * i];
    }
    this.length = half;
    this.stride *= 2;
  }

  /** The samples as plain arrays, for reports. */
  toJSON(): Record<Column, number[]> {
    const out = Object.create(null) as Record<Column, number[]>;
    for (const name of this.names) out[name] = Array.from(this.columns[name].subarray(0, this.length));
    return out;
  }
}
