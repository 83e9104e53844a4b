/**
 * Leak triage at the end of a replay. Everything still alive is sorted into:
 *
 * (a) cyclic garbage: unreachable from anything the program holds, kept alive only by reference
 *     cycles, waiting for a collection that has not come (or never will, under `refcount-only`);
 *     grouped into connected clusters, each with its types and sites;
 * (b) uncollectable: found by a collection with a legacy finalizer in the cycle and parked in
 *     `gc.garbage` for good;
 * (c) reachable: still referenced from a program-held object, grouped by allocation site and
 *     type, each group with its growth over the trace and one example reference chain from a
 *     program-held object (objgraph's `find_backref_chain`), found by a breadth-first search so
 *     that the chain is a shortest one; and totalled by site over every group, listed or not
 *     (what a `--max-growth SITE_GLOB` budget sums).
 *
 * The analysis is O(live objects + their edges) and runs once.
 */
import { LIST_HEADERS, ObjectFlag, type Heap } from './heap.js';
import type { AllocationGroups } from './groups.js';
import type { GroupTable } from './statistics.js';
import type { StringTable } from '../trace/types.js';

/** How many groups of each kind a report lists; the rest are counted. */
export const MAX_LEAK_GROUPS = 50;
/** How many sites the per-site growth table lists (largest growth first); the rest are counted. */
export const MAX_GROWTH_SITES = 10_000;
/** Links shown of a reference chain; longer chains are cut in the middle. */
export const MAX_CHAIN = 24;
/** Types and sites listed per garbage cluster. */
const MAX_MEMBERS = 5;

export interface ChainLink {
  id: number | string;
  type: string;
  site: string | null;
}

export interface Tally {
  name: string;
  objects: number;
}

export interface GarbageCluster {
  objects: number;
  bytes: number;
  types: Tally[];
  sites: Tally[];
  /** Objects with a `__del__` in the cluster. */
  finalizers: number;
  /** A few ids of its objects. */
  example: (number | string)[];
}

export interface ReachableGroup {
  type: string;
  site: string | null;
  objects: number;
  bytes: number;
  allocatedObjects: number;
  allocatedBytes: number;
  /** Growth of the group's live bytes over the trace (least-squares slope), or null without a series. */
  bytesPerMillionEvents: number | null;
  /** The group's live bytes kept growing over the trace (the last quarter above the first and rising). */
  growing: boolean;
  /** A shortest reference chain from a program-held object to an object of the group. */
  chain: ChainLink[];
  /** Links left out of the middle of a long chain. */
  chainOmitted: number;
}

export interface LeakSection<Group> {
  objects: number;
  bytes: number;
  groups: Group[];
  groupsOmitted: number;
}

/** The reachable memory of one allocation site, all its groups (types) together. */
export interface SiteGrowth {
  site: string | null;
  objects: number;
  bytes: number;
  /** The sum of `groupGrowthBytes` over the site's groups. */
  growthBytes: number;
}

export interface ReachableSection extends LeakSection<ReachableGroup> {
  /**
   * Every site with reachable objects, largest growth first (at most `MAX_GROWTH_SITES`): budgets
   * on growth sum these, so that groups left out of `groups` still count.
   */
  sites: SiteGrowth[];
  sitesOmitted: number;
}

export interface LeakAnalysis {
  cyclicGarbage: LeakSection<GarbageCluster>;
  uncollectable: LeakSection<GarbageCluster>;
  reachable: ReachableSection;
}

/**
 * How much a reachable group grew over a trace of `events` events: its least-squares trend
 * (bytes per million events) times the trace's length. NOTE: the trend, not "live bytes at the
 * end", so that objects of a request that happened to be in flight when the trace stopped do not
 * count as growth, while a cache that grows steadily counts in full. A group with no trend (a
 * trace of fewer than four samples) counts its live bytes at the end, as the trace starts with none.
 */
export function groupGrowthBytes(group: { bytes: number; bytesPerMillionEvents: number | null }, events: number): number {
  if (group.bytesPerMillionEvents === null) return group.bytes;
  return Math.max(0, (group.bytesPerMillionEvents * events) / 1e6);
}

export interface SeriesInput {
  /** Event index of each sample. */
  events: Float64Array;
  length: number;
}

export function analyzeLeaks(
  heap: Heap,
  allocationGroups: AllocationGroups,
  groups: GroupTable,
  types: StringTable,
  sites: StringTable,
  series: SeriesInput,
  /** Events in the trace, to turn growth rates into growth over the trace. */
  traceEvents: number,
): LeakAnalysis {
  const typeOf = (s: number) => types.get(allocationGroups.typeId[heap.group[s]]);
  const siteOf = (s: number) => {
    const site = allocationGroups.siteId[heap.group[s]];
    return site >= 0 ? sites.get(site) : null;
  };
  const end = heap.highSlot;
  const { flags, programRefs } = heap;
  const parent = new Int32Array(end).fill(-1);
  const queue = new Int32Array(Math.max(1, heap.liveObjects));
  let head = 0;
  let tail = 0;

  // Roots: objects the program (or gc.garbage) holds.
  for (let s = LIST_HEADERS; s < end; s++) {
    flags[s] &= ~ObjectFlag.mark;
    if ((flags[s] & ObjectFlag.alive) && programRefs[s] > 0) {
      flags[s] |= ObjectFlag.mark;
      queue[tail++] = s;
    }
  }
  const reachableObjects = new Float64Array(groups.length);
  const reachableBytes = new Float64Array(groups.length);
  const example = new Int32Array(groups.length).fill(-1);
  const uncollectable: number[] = [];
  while (head < tail) {
    const s = queue[head++];
    if (flags[s] & ObjectFlag.uncollectable) {
      uncollectable.push(s);
    } else {
      const g = heap.group[s];
      reachableObjects[g]++;
      reachableBytes[g] += heap.size[s];
      if (example[g] < 0) example[g] = s;
    }
    const start = heap.edgeStart[s];
    for (let e = start, stop = start + heap.edgeLength[s]; e < stop; e++) {
      const d = heap.edges[e];
      if ((flags[d] & ObjectFlag.mark) === 0) {
        flags[d] |= ObjectFlag.mark;
        parent[d] = s;
        queue[tail++] = d;
      }
    }
  }

  const describe = (s: number): ChainLink => ({
    id: heap.idOf(s),
    type: typeOf(s),
    site: siteOf(s),
  });

  // (c) reachable groups.
  const reachable: ReachableGroup[] = [];
  let reachableTotal = 0;
  let reachableTotalBytes = 0;
  for (let g = 0; g < groups.length; g++) {
    if (reachableObjects[g] === 0) continue;
    reachableTotal += reachableObjects[g];
    reachableTotalBytes += reachableBytes[g];
    const chain: ChainLink[] = [];
    for (let s = example[g]; s >= 0; s = parent[s]) chain.push(describe(s));
    chain.reverse();
    let chainOmitted = 0;
    if (chain.length > MAX_CHAIN) {
      chainOmitted = chain.length - MAX_CHAIN;
      chain.splice(MAX_CHAIN / 2, chainOmitted);
    }
    const trend = g < groups.series.length ? growthOf(groups.series[g], series) : null;
    reachable.push({
      type: types.get(allocationGroups.typeId[g]),
      site: allocationGroups.siteId[g] >= 0 ? sites.get(allocationGroups.siteId[g]) : null,
      objects: reachableObjects[g],
      bytes: reachableBytes[g],
      allocatedObjects: groups.allocatedObjects[g],
      allocatedBytes: groups.allocatedBytes[g],
      bytesPerMillionEvents: trend?.slope ?? null,
      growing: trend?.growing ?? false,
      chain,
      chainOmitted,
    });
  }
  reachable.sort((a, b) => b.bytes - a.bytes || b.objects - a.objects);
  const growthBySite = sitesOf(reachable, traceEvents);

  // (a) cyclic garbage: live but unmarked. Clusters are connected components of its edges.
  const unionParent = new Int32Array(end).fill(-1);
  const find = (x: number): number => {
    let root = x;
    while (unionParent[root] !== root) root = unionParent[root];
    while (unionParent[x] !== root) {
      const next = unionParent[x];
      unionParent[x] = root;
      x = next;
    }
    return root;
  };
  const garbage: number[] = [];
  for (let s = LIST_HEADERS; s < end; s++) {
    if ((flags[s] & (ObjectFlag.alive | ObjectFlag.mark)) === ObjectFlag.alive) {
      unionParent[s] = s;
      garbage.push(s);
    }
  }
  for (const s of garbage) {
    const start = heap.edgeStart[s];
    for (let e = start, stop = start + heap.edgeLength[s]; e < stop; e++) {
      const d = heap.edges[e];
      if (unionParent[d] >= 0) {
        const a = find(s);
        const b = find(d);
        if (a !== b) unionParent[a] = b;
      }
    }
  }
  const clusterOf = new Map<number, number[]>();
  for (const s of garbage) {
    const root = find(s);
    let members = clusterOf.get(root);
    if (members === undefined) clusterOf.set(root, (members = []));
    members.push(s);
  }
  for (let s = LIST_HEADERS; s < end; s++) flags[s] &= ~ObjectFlag.mark;

  const cyclic = summarizeClusters([...clusterOf.values()], heap, typeOf, siteOf);
  const uncollectableSection = summarizeClusters(uncollectable.length > 0 ? [uncollectable] : [], heap, typeOf, siteOf);

  return {
    cyclicGarbage: cyclic,
    uncollectable: uncollectableSection,
    reachable: {
      objects: reachableTotal,
      bytes: reachableTotalBytes,
      groups: reachable.slice(0, MAX_LEAK_GROUPS),
      groupsOmitted: Math.max(0, reachable.length - MAX_LEAK_GROUPS),
      sites: growthBySite.slice(0, MAX_GROWTH_SITES),
      sitesOmitted: Math.max(0, growthBySite.length - MAX_GROWTH_SITES),
    },
  };
}

/** The reachable groups totalled by site, largest growth first (then most bytes, then by name). */
function sitesOf(groups: readonly ReachableGroup[], traceEvents: number): SiteGrowth[] {
  // A Map, not an object: site strings come from the trace (`__proto__` is a valid site).
  const bySite = new Map<string | null, SiteGrowth>();
  for (const group of groups) {
    let entry = bySite.get(group.site);
    if (entry === undefined) bySite.set(group.site, (entry = { site: group.site, objects: 0, bytes: 0, growthBytes: 0 }));
    entry.objects += group.objects;
    entry.bytes += group.bytes;
    entry.growthBytes += groupGrowthBytes(group, traceEvents);
  }
  const byName = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
  return [...bySite.values()].sort((a, b) => b.growthBytes - a.growthBytes || b.bytes - a.bytes || byName(a.site, b.site));
}

function summarizeClusters(
  clusters: number[][],
  heap: Heap,
  typeOf: (slot: number) => string,
  siteOf: (slot: number) => string | null,
): LeakSection<GarbageCluster> {
  let objects = 0;
  let bytes = 0;
  const summaries: GarbageCluster[] = clusters.map((members) => {
    const byType = new Map<string, number>();
    const bySite = new Map<string, number>();
    let clusterBytes = 0;
    let finalizers = 0;
    for (const s of members) {
      clusterBytes += heap.size[s];
      const type = typeOf(s);
      byType.set(type, (byType.get(type) ?? 0) + 1);
      const site = siteOf(s);
      if (site !== null) bySite.set(site, (bySite.get(site) ?? 0) + 1);
      if (heap.flags[s] & ObjectFlag.finalizerDel) finalizers++;
    }
    objects += members.length;
    bytes += clusterBytes;
    return {
      objects: members.length,
      bytes: clusterBytes,
      types: topTallies(byType),
      sites: topTallies(bySite),
      finalizers,
      example: members.slice(0, MAX_MEMBERS).map((s) => heap.idOf(s)),
    };
  });
  summaries.sort((a, b) => b.bytes - a.bytes || b.objects - a.objects);
  return {
    objects,
    bytes,
    groups: summaries.slice(0, MAX_LEAK_GROUPS),
    groupsOmitted: Math.max(0, summaries.length - MAX_LEAK_GROUPS),
  };
}

function topTallies(counts: Map<string, number>): Tally[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_MEMBERS)
    .map(([name, objects]) => ({ name, objects }));
}

/**
 * Least-squares slope of a group's live bytes against the event index (bytes per million events),
 * and whether the group kept growing. Churn (objects that come and go, like the ones of requests
 * in flight) must not count as growth, so "growing" asks for more than a positive slope: the
 * smallest value over the last quarter of the samples exceeds the largest over the first quarter.
 */
function growthOf(values: Float64Array, series: SeriesInput): { slope: number; growing: boolean } | null {
  const n = series.length;
  if (n < 4) return null;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += series.events[i];
    sy += values[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = series.events[i] - mx;
    sxy += dx * (values[i] - my);
    sxx += dx * dx;
  }
  const slope = sxx === 0 ? 0 : (sxy / sxx) * 1e6;
  const quarter = Math.max(1, Math.floor(n / 4));
  let firstMax = -Infinity;
  let lastMin = Infinity;
  for (let i = 0; i < quarter; i++) {
    firstMax = Math.max(firstMax, values[i]);
    lastMin = Math.min(lastMin, values[n - 1 - i]);
  }
  return { slope, growing: slope > 0 && lastMin > firstMax };
}
