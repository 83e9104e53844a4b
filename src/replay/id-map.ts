/**
 * Maps the numeric object ids of a trace to heap slots, in O(1) with no per-id allocation.
 *
 * Two structures, chosen per id:
 * - small ids (below `denseCapacity`) index an `Int32Array` directly: one memory access. Most
 *   generated and hand-written traces number their objects 0, 1, 2, ...;
 * - larger ids, such as the addresses `id()` returns in CPython (around 1.4e14, beyond V8's small
 *   integers, so a `Map` would box every key), go to an open-addressing table with linear
 *   probing and backward-shift deletion (no tombstones), keys and values interleaved in one
 *   `Float64Array` so that a probe touches one cache line.
 *
 * Memory stays proportional to the live objects: the dense array grows only while it is at most
 * `DENSE_FACTOR` times the number of live ids, and the hash table shrinks as it empties.
 * Invariant: an id below `denseCapacity` is never in the hash table (growing the dense array
 * moves such ids over).
 */
const DENSE_FACTOR = 8;
const DENSE_MIN = 1 << 16;
const DENSE_MAX = 1 << 28;

export class NumericIdMap {
  private dense = new Int32Array(DENSE_MIN).fill(-1);
  private denseCapacity = DENSE_MIN;
  /** `[key0, slot0, key1, slot1, ...]`; an empty entry has slot -1. */
  private table: Float64Array;
  private mask: number;
  private hashed = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.table = NumericIdMap.emptyTable(capacity);
    this.mask = capacity - 1;
  }

  private static emptyTable(capacity: number): Float64Array {
    const table = new Float64Array(capacity * 2);
    for (let i = 1; i < table.length; i += 2) table[i] = -1;
    return table;
  }

  get size(): number {
    return this.count;
  }

  /** Bucket of a non-negative integer key below 2^53: mixes its low and high 32-bit halves. */
  private bucket(key: number): number {
    const low = key >>> 0;
    const high = key > 4294967295 ? (key / 4294967296) >>> 0 : 0;
    let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  /** The slot of `key`, or -1. */
  get(key: number): number {
    // Kept small so that V8 inlines it into the replay loop; the hash probe is out of line.
    if (key < this.denseCapacity) return this.dense[key];
    return this.hashed === 0 ? -1 : this.getHashed(key);
  }

  private getHashed(key: number): number {
    const table = this.table;
    let i = this.bucket(key);
    for (;;) {
      const v = table[2 * i + 1];
      if (v < 0) return -1;
      if (table[2 * i] === key) return v;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets `key` → `slot` (slot >= 0), replacing any previous value. */
  set(key: number, slot: number): void {
    // The dense case inline (V8 inlines short methods into the replay loop), the rest out of line.
    if (key < this.denseCapacity) {
      if (this.dense[key] < 0) this.count++;
      this.dense[key] = slot;
      return;
    }
    this.setBeyondDense(key, slot);
  }

  private setBeyondDense(key: number, slot: number): void {
    if (key < DENSE_MAX) this.maybeGrowDense(key);
    if (key < this.denseCapacity) {
      this.set(key, slot);
      return;
    }
    if (this.insertHashed(key, slot)) this.count++;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: number): boolean {
    if (key < this.denseCapacity) {
      if (this.dense[key] < 0) return false;
      this.dense[key] = -1;
      this.count--;
      return true;
    }
    return this.deleteBeyondDense(key);
  }

  private deleteBeyondDense(key: number): boolean {
    if (this.hashed === 0 || !this.deleteHashed(key)) return false;
    this.count--;
    return true;
  }

  private maybeGrowDense(key: number): void {
    let capacity = this.denseCapacity;
    while (capacity <= key) capacity *= 2;
    if (capacity > DENSE_FACTOR * (this.count + DENSE_MIN)) return;
    const dense = new Int32Array(capacity).fill(-1);
    dense.set(this.dense);
    this.dense = dense;
    this.denseCapacity = capacity;
    if (this.hashed === 0) return;
    // Keep the invariant: ids now below the dense capacity leave the hash table.
    const old = this.table;
    const moved: number[] = [];
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] >= 0 && old[i] < capacity) moved.push(old[i], old[i + 1]);
    for (let i = 0; i < moved.length; i += 2) {
      this.deleteHashed(moved[i]);
      dense[moved[i]] = moved[i + 1];
    }
  }

  /** Returns true when the key was new. */
  private insertHashed(key: number, slot: number): boolean {
    if ((this.hashed + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    const table = this.table;
    let i = this.bucket(key);
    for (;;) {
      if (table[2 * i + 1] < 0) {
        table[2 * i] = key;
        table[2 * i + 1] = slot;
        this.hashed++;
        return true;
      }
      if (table[2 * i] === key) {
        table[2 * i + 1] = slot;
        return false;
      }
      i = (i + 1) & this.mask;
    }
  }

  private deleteHashed(key: number): boolean {
    const table = this.table;
    const mask = this.mask;
    let i = this.bucket(key);
    for (;;) {
      if (table[2 * i + 1] < 0) return false;
      if (table[2 * i] === key) break;
      i = (i + 1) & mask;
    }
    // Backward shift: pull later entries of the probe run into the hole unless their home
    // bucket lies cyclically in (hole, position].
    let hole = i;
    let j = (i + 1) & mask;
    while (table[2 * j + 1] >= 0) {
      const home = this.bucket(table[2 * j]);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        table[2 * hole] = table[2 * j];
        table[2 * hole + 1] = table[2 * j + 1];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    table[2 * hole + 1] = -1;
    this.hashed--;
    const capacity = mask + 1;
    if (capacity > 1024 && this.hashed * 8 < capacity) this.rehash(capacity / 2);
    return true;
  }

  private rehash(capacity: number): void {
    const old = this.table;
    this.table = NumericIdMap.emptyTable(capacity);
    this.mask = capacity - 1;
    this.hashed = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] >= 0) this.insertHashed(old[i], old[i + 1]);
  }
}
