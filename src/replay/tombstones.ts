/**
 * The ids of objects the cycle collector freed, remembered for error messages: when a later event
 * touches one, the message says which collection freed it (the trace then contradicts the model).
 *
 * Bounded: the oldest of `capacity` entries is forgotten first. An id allocated again is
 * forgotten at once, and that check runs on every allocation, so numeric ids also go through a
 * counting filter (entries per hash bucket) in front of the `Map`: most allocations reuse no id
 * the collector freed, and one typed-array read rules that out without a hash lookup of a double
 * (which cost a fifth of the replay's allocation path on address-like ids).
 */

/** Where an object was freed: the collection's event index and the trace line of that event. */
export interface Tombstone {
  event: number;
  line: number;
}

const FILTER_BITS = 17;
const FILTER_MASK = (1 << FILTER_BITS) - 1;

/** The filter bucket of a numeric id (exact integers below 2^53; both 32-bit halves are mixed). */
function bucketOf(id: number): number {
  const low = id >>> 0;
  const high = (id / 4294967296) >>> 0;
  return (Math.imul(low ^ (low >>> 16) ^ high, 0x45d9f3b) >>> (32 - FILTER_BITS)) & FILTER_MASK;
}

export class Tombstones {
  private readonly entries = new Map<number | string, Tombstone>();
  /** Entries with a numeric id, per `bucketOf` (never below the true count: no false negative). */
  private readonly filter = new Uint32Array(1 << FILTER_BITS);

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  remember(id: number | string, tombstone: Tombstone): void {
    if (!this.entries.has(id)) {
      if (this.entries.size >= this.capacity) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.delete(oldest.value);
      }
      if (typeof id === 'number') this.filter[bucketOf(id)]++;
    }
    this.entries.set(id, tombstone);
  }

  /** Forgets a numeric id (its object was allocated again). */
  forgetNumber(id: number): void {
    if (this.filter[bucketOf(id)] !== 0) this.delete(id);
  }

  /** Forgets a string id. */
  forgetString(id: string): void {
    if (this.entries.size > 0) this.entries.delete(id);
  }

  get(id: number | string): Tombstone | undefined {
    return this.entries.get(id);
  }

  private delete(id: number | string): void {
    if (this.entries.delete(id) && typeof id === 'number') this.filter[bucketOf(id)]--;
  }
}
