/**
 * A log-linear histogram of non-negative integers (HdrHistogram's layout): values below 64 are
 * counted exactly; above, each power of two is split into 32 sub-buckets, so a reported
 * percentile is within 1/32 (about 3%) of the true value. Memory is fixed (a few KiB) however many
 * values are recorded, which keeps garbage-latency statistics bounded on any trace length.
 * `max`, `min`, `count` and `sum` are exact.
 */
const SUB_BUCKET_BITS = 5;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const EXACT_LIMIT = 2 * SUB_BUCKETS;
const MAX_EXPONENT = 53;

export class Histogram {
  private readonly counts = new Float64Array(EXACT_LIMIT + (MAX_EXPONENT - SUB_BUCKET_BITS) * SUB_BUCKETS);
  count = 0;
  sum = 0;
  max = 0;
  min = Infinity;

  record(value: number): void {
    const v = Math.max(0, Math.floor(value));
    this.counts[bucketOf(v)]++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  /** The value at quantile `q` (0..1): the lowest bucket value with at least q of the counts at or below it. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, lowestValueOf(b)));
    }
    return this.max;
  }
}

function bucketOf(v: number): number {
  if (v < EXACT_LIMIT) return v;
  const exponent = Math.floor(Math.log2(v));
  const shift = exponent - SUB_BUCKET_BITS;
  const sub = Math.floor(v / 2 ** shift) - SUB_BUCKETS;
  return EXACT_LIMIT + (exponent - SUB_BUCKET_BITS - 1) * SUB_BUCKETS + sub;
}

function lowestValueOf(bucket: number): number {
  if (bucket < EXACT_LIMIT) return bucket;
  const i = bucket - EXACT_LIMIT;
  const exponent = Math.floor(i / SUB_BUCKETS) + SUB_BUCKET_BITS + 1;
  const sub = i % SUB_BUCKETS;
  return (SUB_BUCKETS + sub) * 2 ** (exponent - SUB_BUCKET_BITS);
}
