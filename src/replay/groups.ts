/**
 * Allocation groups: every distinct (type, allocation site) pair of a trace gets a dense integer.
 * An object stores only its group, from which its type and site are read; statistics and leak
 * reports aggregate by group. Groups are never freed: there are as many as distinct pairs in the
 * trace, which is bounded by the program's code, not by its run time.
 */
import { NumericIdMap } from './id-map.js';
import { grown } from '../typed-arrays.js';

/** Entries of the direct-mapped cache in front of the group index (a power of two). */
const CACHE_ENTRIES = 1024;

export class AllocationGroups {
  private readonly index = new NumericIdMap(256);
  /**
   * NOTE: a direct-mapped cache of recent (type, site) → group lookups, in front of the hash
   * index: a program allocates from a few hot sites, and the hash lookup was the costliest step
   * of an allocation's bookkeeping. A slot holds the packed key (-1: empty) and its group.
   */
  private readonly cacheKey = new Float64Array(CACHE_ENTRIES).fill(-1);
  private readonly cacheGroup = new Int32Array(CACHE_ENTRIES);
  length = 0;
  typeId = new Int32Array(64);
  /** Site index, or -1 when the allocation had no site. */
  siteId = new Int32Array(64);

  /** The group of (type, site); `siteId` is -1 when the allocation had no site. */
  groupOf(typeId: number, siteId: number): number {
    // Both ids packed in one exact integer key: type ids < 2^26 and site ids < 2^26 - 1 are far
    // beyond the number of distinct strings that fit in memory.
    const key = typeId * 67108864 + (siteId + 1);
    const entry = (Math.imul(typeId, 0x9e3779b1) ^ siteId) & (CACHE_ENTRIES - 1);
    if (this.cacheKey[entry] === key) return this.cacheGroup[entry];
    let g = this.index.get(key);
    if (g < 0) {
      g = this.add(typeId, siteId);
      this.index.set(key, g);
    }
    this.cacheKey[entry] = key;
    this.cacheGroup[entry] = g;
    return g;
  }

  private add(typeId: number, siteId: number): number {
    if (this.length === this.typeId.length) {
      this.typeId = grown(this.typeId, this.length * 2);
      this.siteId = grown(this.siteId, this.length * 2);
    }
    const g = this.length++;
    this.typeId[g] = typeId;
    this.siteId[g] = siteId;
    return g;
  }
}
