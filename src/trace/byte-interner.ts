/**
 * Interns ASCII strings given as bytes (`type` and `site` on the decoders' fast path) into a
 * `StringTable` without making a string per event: the bytes are hashed and looked up in a cache
 * of the spellings seen before, and only a spelling seen for the first time becomes a string.
 *
 * The cache maps bytes → the id `StringTable.intern` returned for them, so a hit returns exactly
 * what `intern(bytes as a string)` would. It is bounded (`MAX_CACHED_SPELLINGS`,
 * `MAX_CACHED_BYTES`): a trace with more distinct sites than that still decodes, its further
 * spellings just go through `StringTable.intern` every time.
 *
 * State: an open-addressing table (linear probing, no deletion, load at most 1/2) whose buckets
 * are 4 consecutive ints — hash, offset of the bytes in `arena`, their length, table id + 1
 * (0: an empty bucket) — so that a probe reads one array.
 */
import { dataViewOf } from '../typed-arrays.js';
import type { StringTable } from './types.js';

const MAX_CACHED_SPELLINGS = 1 << 16;
const MAX_CACHED_BYTES = 1 << 22;
const INITIAL_BUCKETS = 1 << 10;
const BUCKET_INTS = 4;

export class ByteInterner {
  private buckets = new Int32Array(INITIAL_BUCKETS * BUCKET_INTS);
  private mask = INITIAL_BUCKETS - 1;
  private count = 0;
  private arena = new Uint8Array(1 << 14);
  private arenaView = new DataView(this.arena.buffer);
  private arenaUsed = 0;

  constructor(readonly table: StringTable) {}

  /** The table id of the ASCII string at `bytes[start, end)`. */
  intern(bytes: Buffer, start: number, end: number): number {
    const length = end - start;
    const hash = sampledHash(bytes, start, end);
    const buckets = this.buckets;
    const mask = this.mask;
    for (let b = hash & mask; ; b = (b + 1) & mask) {
      const at = b * BUCKET_INTS;
      const idPlusOne = buckets[at + 3];
      if (idPlusOne === 0) break;
      if (buckets[at] !== hash || buckets[at + 2] !== length) continue;
      if (this.sameBytes(bytes, start, end, buckets[at + 1])) return idPlusOne - 1;
    }
    const id = this.table.intern(bytes.toString('latin1', start, end));
    if (this.count < MAX_CACHED_SPELLINGS && this.arenaUsed + length <= MAX_CACHED_BYTES) this.remember(hash, bytes, start, end, id);
    return id;
  }

  /**
   * True when `bytes[start, end)` equals the `end - start` bytes at `offset` in the arena:
   * compared four bytes at a time through DataViews (sites are tens of bytes long, and this runs
   * for the type and the site of every allocation), then byte by byte.
   */
  private sameBytes(bytes: Buffer, start: number, end: number, offset: number): boolean {
    const view = dataViewOf(bytes);
    const arenaView = this.arenaView;
    const from = offset - start;
    let k = start;
    for (; k + 4 <= end; k += 4) if (view.getInt32(k, true) !== arenaView.getInt32(from + k, true)) return false;
    const arena = this.arena;
    for (; k < end; k++) if (arena[from + k] !== bytes[k]) return false;
    return true;
  }

  private remember(hash: number, bytes: Buffer, start: number, end: number, id: number): void {
    const length = end - start;
    if (this.arenaUsed + length > this.arena.length) {
      let size = this.arena.length * 2;
      while (this.arenaUsed + length > size) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
      this.arenaView = new DataView(grown.buffer);
    }
    this.arena.set(bytes.subarray(start, end), this.arenaUsed);
    this.place(this.buckets, this.mask, hash, this.arenaUsed, length, id + 1);
    this.arenaUsed += length;
    this.count++;
    if (this.count * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
  }

  private place(buckets: Int32Array, mask: number, hash: number, offset: number, length: number, idPlusOne: number): void {
    let b = hash & mask;
    while (buckets[b * BUCKET_INTS + 3] !== 0) b = (b + 1) & mask;
    const at = b * BUCKET_INTS;
    buckets[at] = hash;
    buckets[at + 1] = offset;
    buckets[at + 2] = length;
    buckets[at + 3] = idPlusOne;
  }

  private rehash(bucketCount: number): void {
    const old = this.buckets;
    const buckets = new Int32Array(bucketCount * BUCKET_INTS);
    const mask = bucketCount - 1;
    for (let at = 0; at < old.length; at += BUCKET_INTS) {
      if (old[at + 3] !== 0) this.place(buckets, mask, old[at], old[at + 1], old[at + 2], old[at + 3]);
    }
    this.buckets = buckets;
    this.mask = mask;
  }
}

/**
 * A hash of the length and up to 12 of the bytes: all of a short string, else the first, middle
 * and last four. NOTE: names and sites that differ only outside the sampled bytes share a hash,
 * which costs a longer probe, never a wrong id (the bytes are compared in full); hashing every
 * byte of a long site made a lookup cost as much as scanning the line.
 */
function sampledHash(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let hash = Math.imul(length, 0x9e3779b1);
  if (length <= 12) {
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  } else {
    const middle = start + ((length - 4) >> 1);
    for (let k = 0; k < 4; k++) {
      hash = Math.imul(hash ^ bytes[start + k], 0x01000193);
      hash = Math.imul(hash ^ bytes[middle + k], 0x01000193);
      hash = Math.imul(hash ^ bytes[end - 4 + k], 0x01000193);
    }
  }
  return hash ^ (hash >>> 15);
}
