/**
 * `memreplay diff A.json B.json`: what changed between two replay reports, typically of one
 * program before (A) and after (B) a code change.
 *
 * - Leak groups, matched by identity across the reports:
 *   - still reachable: by type and allocation site;
 *   - cyclic garbage and uncollectable clusters: by signature, the set of types and the set of
 *     sites the cluster lists (clusters have no identity of their own; clusters of the same
 *     shape, such as one per leaked request, add up into one group).
 *   A group only in B is a **new leak**, only in A **fixed**, in both **changed** by the
 *   difference in objects, bytes and clusters.
 * - Allocation sites: objects left at the end per site, over every leak kind (a cluster tells
 *   objects per site but not bytes, so sites are compared by objects).
 * - Headline numbers: B − A for each.
 *
 * A report lists at most `MAX_LEAK_GROUPS` groups per kind; when either one left groups out,
 * a group may look new or fixed only because it was not listed, and `incomplete` says so.
 */
import type { ReplayReport } from '../report/json.js';
import type { GarbageCluster } from '../replay/leaks.js';

export const DIFF_FORMAT = 'memreplay-diff';
export const DIFF_VERSION = 1;

export type LeakKind = 'reachable' | 'cyclic-garbage' | 'uncollectable';

export interface LeakAmount {
  objects: number;
  bytes: number;
  /** Clusters (garbage kinds) or 1 (a reachable group). */
  groups: number;
}

export interface LeakGroupChange {
  kind: LeakKind;
  /** Types of the group (one for a reachable group), sorted. */
  types: string[];
  /** Allocation sites (null: objects allocated without a site), sorted. */
  sites: (string | null)[];
  a: LeakAmount | null;
  b: LeakAmount | null;
  /** B − A (an absent side counts as zero). */
  change: LeakAmount;
}

export interface SiteChange {
  site: string | null;
  /** Objects left at the end from this site, over every leak kind. */
  a: number | null;
  b: number | null;
  change: number;
}

export interface HeadlineChange {
  name: string;
  title: string;
  unit: 'events' | 'objects' | 'bytes' | 'collections' | 'arenas';
  a: number | null;
  b: number | null;
  /** B − A; null when a side lacks the number (e.g. no allocator model). */
  change: number | null;
}

export interface DiffSide {
  /** The report file as named on the command line. */
  report: string;
  trace: string;
  events: number;
  policy: string;
  thresholds: number[];
  pool: string | null;
}

export interface DiffReport {
  format: typeof DIFF_FORMAT;
  version: typeof DIFF_VERSION;
  a: DiffSide;
  b: DiffSide;
  headline: HeadlineChange[];
  leakGroups: { new: LeakGroupChange[]; fixed: LeakGroupChange[]; changed: LeakGroupChange[] };
  sites: { new: SiteChange[]; fixed: SiteChange[]; changed: SiteChange[] };
  /** Why the matching may be incomplete (groups a report did not list); empty when complete. */
  incomplete: string[];
}

interface Headline {
  name: string;
  title: string;
  unit: HeadlineChange['unit'];
  of(report: ReplayReport): number | null;
}

/** The headline numbers, in the order shown. */
const HEADLINES: readonly Headline[] = [
  { name: 'events', title: 'events', unit: 'events', of: (r) => r.events.total },
  { name: 'collections', title: 'collections', unit: 'collections', of: (r) => r.gc.totals.collections },
  ...[0, 1, 2].map(
    (g): Headline => ({ name: `collections.gen${g}`, title: `collections of generation ${g}`, unit: 'collections', of: (r) => r.gc.generations[g]?.collections ?? null }),
  ),
  { name: 'examined', title: 'objects examined', unit: 'objects', of: (r) => r.gc.totals.examined },
  { name: 'largestExamined', title: 'largest collection (objects)', unit: 'objects', of: (r) => r.gc.totals.largestExamined },
  { name: 'collected', title: 'collected by the collector', unit: 'objects', of: (r) => r.gc.totals.collected },
  { name: 'allocated.objects', title: 'objects allocated', unit: 'objects', of: (r) => r.memory.allocated.objects },
  { name: 'allocated.bytes', title: 'bytes allocated', unit: 'bytes', of: (r) => r.memory.allocated.bytes },
  { name: 'peak.objects', title: 'peak live objects', unit: 'objects', of: (r) => r.memory.peak.objects },
  { name: 'peak.bytes', title: 'peak live bytes', unit: 'bytes', of: (r) => r.memory.peak.bytes },
  { name: 'live.bytes', title: 'live bytes at the end', unit: 'bytes', of: (r) => r.memory.live.bytes },
  { name: 'garbageLatency.median', title: 'garbage latency, median', unit: 'events', of: (r) => r.garbageLatency.median },
  { name: 'garbageLatency.p95', title: 'garbage latency, p95', unit: 'events', of: (r) => r.garbageLatency.p95 },
  { name: 'garbageLatency.max', title: 'garbage latency, max', unit: 'events', of: (r) => r.garbageLatency.max },
  { name: 'cyclicGarbage.bytes', title: 'cyclic garbage left (bytes)', unit: 'bytes', of: (r) => r.leaks.cyclicGarbage.bytes },
  { name: 'uncollectable.bytes', title: 'uncollectable (bytes)', unit: 'bytes', of: (r) => r.leaks.uncollectable.bytes },
  { name: 'reachable.bytes', title: 'still reachable (bytes)', unit: 'bytes', of: (r) => r.leaks.reachable.bytes },
  { name: 'arenas.highWater', title: 'arenas, high water', unit: 'arenas', of: (r) => r.pool?.arenas.highWater ?? null },
  { name: 'reserved.peak', title: 'peak bytes reserved', unit: 'bytes', of: (r) => r.pool?.peakBytesReserved ?? null },
];

interface KeyedGroup {
  key: string;
  kind: LeakKind;
  types: string[];
  sites: (string | null)[];
  amount: LeakAmount;
}

/** Separates the parts of a key; trace strings cannot make two different groups collide. */
const keyOf = (parts: readonly unknown[]): string => JSON.stringify(parts);

const sortNames = <T extends string | null>(names: T[]): T[] => [...new Set(names)].sort((x, y) => (x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1));

function leakGroups(report: ReplayReport): Map<string, KeyedGroup> {
  const groups = new Map<string, KeyedGroup>();
  const add = (group: Omit<KeyedGroup, 'key'>) => {
    const key = keyOf([group.kind, group.types, group.sites]);
    const known = groups.get(key);
    if (known === undefined) groups.set(key, { key, ...group });
    else known.amount = sum(known.amount, group.amount);
  };
  for (const group of report.leaks.reachable.groups) {
    add({ kind: 'reachable', types: [group.type], sites: [group.site], amount: { objects: group.objects, bytes: group.bytes, groups: 1 } });
  }
  const clusters = (kind: LeakKind, list: readonly GarbageCluster[]) => {
    for (const cluster of list) {
      add({
        kind,
        types: sortNames(cluster.types.map((t) => t.name)),
        sites: sortNames(cluster.sites.map((s) => s.name)),
        amount: { objects: cluster.objects, bytes: cluster.bytes, groups: 1 },
      });
    }
  };
  clusters('cyclic-garbage', report.leaks.cyclicGarbage.groups);
  clusters('uncollectable', report.leaks.uncollectable.groups);
  return groups;
}

function siteObjects(report: ReplayReport): Map<string, { site: string | null; objects: number }> {
  const sites = new Map<string, { site: string | null; objects: number }>();
  const add = (site: string | null, objects: number) => {
    const key = keyOf([site]);
    const known = sites.get(key);
    if (known === undefined) sites.set(key, { site, objects });
    else known.objects += objects;
  };
  for (const group of report.leaks.reachable.groups) add(group.site, group.objects);
  for (const cluster of [...report.leaks.cyclicGarbage.groups, ...report.leaks.uncollectable.groups]) {
    for (const site of cluster.sites) add(site.name, site.objects);
  }
  return sites;
}

const ZERO: LeakAmount = { objects: 0, bytes: 0, groups: 0 };
const sum = (x: LeakAmount, y: LeakAmount): LeakAmount => ({ objects: x.objects + y.objects, bytes: x.bytes + y.bytes, groups: x.groups + y.groups });
const minus = (x: LeakAmount, y: LeakAmount): LeakAmount => ({ objects: x.objects - y.objects, bytes: x.bytes - y.bytes, groups: x.groups - y.groups });

/** Largest change in bytes first, then by kind, types and sites, so the order is total. */
function byChange(x: LeakGroupChange, y: LeakGroupChange): number {
  return Math.abs(y.change.bytes) - Math.abs(x.change.bytes) || Math.abs(y.change.objects) - Math.abs(x.change.objects) || compareKeys(keyOf([x.kind, x.types, x.sites]), keyOf([y.kind, y.types, y.sites]));
}

const compareKeys = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

export function diffReports(a: ReplayReport, b: ReplayReport, names: { a: string; b: string }): DiffReport {
  // Headline numbers.
  const headline = HEADLINES.map((h): HeadlineChange => {
    const va = h.of(a);
    const vb = h.of(b);
    return { name: h.name, title: h.title, unit: h.unit, a: va, b: vb, change: va === null || vb === null ? null : vb - va };
  });

  // Leak groups.
  const groupsA = leakGroups(a);
  const groupsB = leakGroups(b);
  const leak = { new: [] as LeakGroupChange[], fixed: [] as LeakGroupChange[], changed: [] as LeakGroupChange[] };
  for (const [key, group] of groupsB) {
    const before = groupsA.get(key);
    const change: LeakGroupChange = { kind: group.kind, types: group.types, sites: group.sites, a: before?.amount ?? null, b: group.amount, change: minus(group.amount, before?.amount ?? ZERO) };
    (before === undefined ? leak.new : leak.changed).push(change);
  }
  for (const [key, group] of groupsA) {
    if (!groupsB.has(key)) leak.fixed.push({ kind: group.kind, types: group.types, sites: group.sites, a: group.amount, b: null, change: minus(ZERO, group.amount) });
  }
  for (const list of Object.values(leak)) list.sort(byChange);

  // Sites.
  const sitesA = siteObjects(a);
  const sitesB = siteObjects(b);
  const sites = { new: [] as SiteChange[], fixed: [] as SiteChange[], changed: [] as SiteChange[] };
  for (const [key, site] of sitesB) {
    const before = sitesA.get(key);
    (before === undefined ? sites.new : sites.changed).push({ site: site.site, a: before?.objects ?? null, b: site.objects, change: site.objects - (before?.objects ?? 0) });
  }
  for (const [key, site] of sitesA) if (!sitesB.has(key)) sites.fixed.push({ site: site.site, a: site.objects, b: null, change: -site.objects });
  for (const list of Object.values(sites)) list.sort((x, y) => Math.abs(y.change) - Math.abs(x.change) || compareKeys(keyOf([x.site]), keyOf([y.site])));

  // Completeness.
  const incomplete: string[] = [];
  for (const [side, report] of [
    ['A', a],
    ['B', b],
  ] as const) {
    for (const [section, title] of [
      ['reachable', 'still-reachable groups'],
      ['cyclicGarbage', 'cyclic-garbage clusters'],
      ['uncollectable', 'uncollectable clusters'],
    ] as const) {
      const omitted = report.leaks[section].groupsOmitted;
      if (omitted > 0) incomplete.push(`${side} lists ${report.leaks[section].groups.length} of its ${report.leaks[section].groups.length + omitted} ${title}; an unlisted one may show as new or fixed`);
    }
  }

  return {
    format: DIFF_FORMAT,
    version: DIFF_VERSION,
    a: sideOf(a, names.a),
    b: sideOf(b, names.b),
    headline,
    leakGroups: leak,
    sites,
    incomplete,
  };
}

function sideOf(report: ReplayReport, name: string): DiffSide {
  return { report: name, trace: report.trace.file, events: report.events.total, policy: report.config.policy, thresholds: report.config.thresholds, pool: report.config.pool };
}

/** How a group reads in tables: `str @ wsgi/server.py:418`, `Request, dict, str @ 3 sites`. */
export function groupTitle(group: Pick<LeakGroupChange, 'types' | 'sites'>): string {
  const sites = group.sites.map((s) => s ?? '(no site)');
  return `${group.types.join(', ')} @ ${sites.join(', ')}`;
}

export const LEAK_KIND_TITLES: Readonly<Record<LeakKind, string>> = {
  reachable: 'still reachable',
  'cyclic-garbage': 'cyclic garbage',
  uncollectable: 'uncollectable',
};
