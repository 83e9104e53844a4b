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
  /** Each remembered id's tombstone and the sequence number of its first `remember`. */
  private readonly entries = new Map<number | string, { tombstone: Tombstone; sequence: number }>();
  /** Entries with a numeric id, per `bucketOf` (never below the true count: no false negative). */
  private readonly filter = new Uint32Array(1 << FILTER_BITS);
  /**
   * The ids remembered, oldest first from `head` (id and sequence number): the eviction order. A
   * record whose id was forgotten since (or forgotten and remembered anew) is stale and skipped. The oldest
   * entry is not found with `entries.keys().next()`: after many deletions V8 walks every deleted
   * slot at the front of the map's table on each call (a 1M-event trace with 150k collected
   * objects spent 2.7 s there).
   */
  private queueIds: (number | string)[] = [];
  private queueSequences: number[] = [];
  private head = 0;
  private nextSequence = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records the eviction queue holds, stale and evicted ones included: at most 2 × capacity + 64 (bounded memory). */
  get queued(): number {
    return this.queueIds.length;
  }

  remember(id: number | string, tombstone: Tombstone): void {
    // Remembered again: a new tombstone, the same age (as a Map keeps a key's place on `set`).
    const existing = this.entries.get(id);
    if (existing !== undefined) {
      existing.tombstone = tombstone;
      return;
    }
    if (this.entries.size >= this.capacity) this.evictOldest();
    if (typeof id === 'number') this.filter[bucketOf(id)]++;
    const sequence = this.nextSequence++;
    this.entries.set(id, { tombstone, sequence });
    this.queueIds.push(id);
    this.queueSequences.push(sequence);
    // Records before `head` and stale ones are dropped once they outnumber the live entries:
    // memory stays bounded.
    if (this.queueIds.length > 2 * this.capacity + 64) this.compact();
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
    return this.entries.get(id)?.tombstone;
  }

  private evictOldest(): void {
    while (this.head < this.queueIds.length) {
      const id = this.queueIds[this.head];
      const sequence = this.queueSequences[this.head];
      this.head++;
      if (this.entries.get(id)?.sequence === sequence) {
        this.delete(id);
        return;
      }
    }
  }

  /** Rebuilds the queue from the live entries, oldest first. */
  private compact(): void {
    const live = [...this.entries].sort((a, b) => a[1].sequence - b[1].sequence);
    this.queueIds = live.map(([id]) => id);
    this.queueSequences = live.map(([, entry]) => entry.sequence);
    this.head = 0;
  }

  private delete(id: number | string): void {
    if (this.entries.delete(id) && typeof id === 'number') this.filter[bucketOf(id)]--;
  }
}
