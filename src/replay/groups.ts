/**
 * Allocation groups: every distinct (type, allocation site) pair of a trace gets a dense integer.
 * An object stores only its group, from which its type and site are read; statistics and leak
 * reports aggregate by group. Groups are never freed: there are as many as distinct pairs in the
 * trace, which is bounded by the program's code, not by its run time.
 */
import { NumericIdMap } from './id-map.js';

export class AllocationGroups {
  private readonly index = new NumericIdMap(256);
  length = 0;
  typeId = new Int32Array(64);
  /** Site index, or -1 when the allocation had no site. */
  siteId = new Int32Array(64);

  /** The group of (type, site); `siteId` is -1 when the allocation had no site. */
  groupOf(typeId: number, siteId: number): number {
    // Both ids packed in one exact integer key: type ids < 2^26 and site ids < 2^26 - 1 are far
    // beyond the number of distinct strings that fit in memory.
    const key = typeId * 67108864 + (siteId + 1);
    let g = this.index.get(key);
    if (g < 0) {
      g = this.add(typeId, siteId);
      this.index.set(key, g);
    }
    return g;
  }

  private add(typeId: number, siteId: number): number {
    if (this.length === this.typeId.length) {
      const typeIds = new Int32Array(this.length * 2);
      typeIds.set(this.typeId);
      this.typeId = typeIds;
      const siteIds = new Int32Array(this.length * 2);
      siteIds.set(this.siteId);
      this.siteId = siteIds;
    }
    const g = this.length++;
    this.typeId[g] = typeId;
    this.siteId[g] = siteId;
    return g;
  }
}
