/**
 * Readings of a `ReplayReport` that more than one rendering shows (HTML, Markdown, terminal):
 * the headline numbers and the allocator's share of "memory not freed". Pure.
 */
import type { ReplayReport } from './json.js';
import type { ReachableGroup } from '../replay/leaks.js';
import { atEvent, formatBytes, formatCount, formatPercent } from './format.js';

/**
 * An arena is "sparse" when its blocks in use fill less than this share of it.
 * NOTE: pymalloc frees an arena only when every pool in it is empty, so an arena holding a handful
 * of long-lived blocks stays reserved whole (1 MiB from 3.10, 256 KiB before). A quarter is the
 * point below which most of the arena is reserved for nothing; the exact cut matters little,
 * because fragmentation shows up as arenas near 0%, not near 25%.
 */
export const SPARSE_ARENA_SHARE = 0.25;

/** Memory kept by the allocator rather than by live objects. */
export interface AllocatorPinning {
  /** Live arenas, and the bytes each reserves. */
  arenas: number;
  arenaBytes: number;
  /** Listed arenas less than `SPARSE_ARENA_SHARE` full, with what they reserve and what is in use. */
  sparseArenas: number;
  sparseReservedBytes: number;
  sparseBlockBytes: number;
  /** Arenas the snapshot did not list (it lists the least used first, so none of these is sparser). */
  arenasOmitted: number;
  /** Free blocks inside pools in use, pool headers and tail waste: `fragmentation.pool`. */
  freeBlockBytes: number;
  /** Empty pools cached in live arenas. */
  emptyPools: number;
  emptyPoolBytes: number;
  /** Dead objects parked on the per-type free lists now (their blocks stay allocated). */
  freeListParked: number;
}

/** The allocator's pinning, or null without an allocator model. */
export function allocatorPinning(report: ReplayReport): AllocatorPinning | null {
  const pool = report.pool;
  if (pool === null) return null;
  const usage = pool.arenaUsage;
  const sparse = usage.arenas.filter((a) => a.blockBytes < SPARSE_ARENA_SHARE * usage.arenaBytes);
  const poolSize = pool.params.pool_size ?? 0;
  return {
    arenas: pool.arenas.current,
    arenaBytes: usage.arenaBytes,
    sparseArenas: sparse.length,
    sparseReservedBytes: sparse.length * usage.arenaBytes,
    sparseBlockBytes: sparse.reduce((sum, a) => sum + a.blockBytes, 0),
    arenasOmitted: usage.omitted,
    freeBlockBytes: pool.fragmentation.pool,
    emptyPools: pool.pools.empty,
    emptyPoolBytes: pool.pools.empty * poolSize,
    freeListParked: report.freeLists.reduce((sum, f) => sum + f.current, 0),
  };
}

/** Reachable groups in reading order: the growing ones first (fastest first), then by bytes. */
export function reachableInReadingOrder(report: ReplayReport): ReachableGroup[] {
  const groups = report.leaks.reachable.groups;
  const growing = groups.filter((g) => g.growing).sort((a, b) => (b.bytesPerMillionEvents ?? 0) - (a.bytesPerMillionEvents ?? 0));
  return [...growing, ...groups.filter((g) => !g.growing)];
}

export type CardTone = 'neutral' | 'good' | 'warn';

/** One headline number. */
export interface HeadlineCard {
  label: string;
  value: string;
  detail: string;
  tone: CardTone;
}

/** The numbers a reader wants first, in order. */
export function headlineCards(report: ReplayReport): HeadlineCard[] {
  const mem = report.memory;
  const gc = report.gc;
  const leaks = report.leaks;
  const growing = leaks.reachable.groups.filter((g) => g.growing);
  const cards: HeadlineCard[] = [
    { label: 'peak live memory', value: formatBytes(mem.peak.bytes), detail: atEvent(mem.peak.bytesEvent), tone: 'neutral' },
    { label: 'peak live objects', value: formatCount(mem.peak.objects), detail: atEvent(mem.peak.objectsEvent), tone: 'neutral' },
    { label: 'live at the end', value: formatBytes(mem.live.bytes), detail: `${formatCount(mem.live.objects)} objects`, tone: 'neutral' },
  ];
  if (report.config.tracesCycles) {
    cards.push({
      label: 'collections',
      value: formatCount(gc.totals.collections),
      detail: `gen 0/1/2: ${gc.generations.map((g) => formatCount(g.collections)).join(' / ')}`,
      tone: 'neutral',
    });
  }
  cards.push(
    {
      label: 'cyclic garbage',
      value: formatCount(leaks.cyclicGarbage.objects),
      detail: leaks.cyclicGarbage.objects > 0 ? `${formatBytes(leaks.cyclicGarbage.bytes)} ${report.config.tracesCycles ? 'awaiting a collection' : 'never collected'}` : 'none at the end',
      tone: leaks.cyclicGarbage.objects > 0 ? 'warn' : 'good',
    },
    {
      label: 'uncollectable',
      value: formatCount(leaks.uncollectable.objects),
      detail: leaks.uncollectable.objects > 0 ? `${formatBytes(leaks.uncollectable.bytes)} in gc.garbage` : 'nothing in gc.garbage',
      tone: leaks.uncollectable.objects > 0 ? 'warn' : 'good',
    },
    {
      label: 'growing groups',
      value: formatCount(growing.length),
      detail: growing.length > 0 ? `${formatBytes(growing.reduce((s, g) => s + g.bytes, 0))} reachable` : 'no reachable group keeps growing',
      tone: growing.length > 0 ? 'warn' : 'good',
    },
  );
  const pool = report.pool;
  if (pool !== null) {
    const served = pool.blocksFresh + pool.blocksReused;
    cards.push({
      label: 'reserved',
      value: formatBytes(pool.bytesReserved),
      detail: `${formatBytes(pool.bytesRequested)} requested · ${formatCount(pool.arenas.current)} arena${pool.arenas.current === 1 ? '' : 's'}${served > 0 ? ` · ${formatPercent(pool.blocksReused, served)} reused` : ''}`,
      tone: 'neutral',
    });
  }
  return cards;
}

/**
 * What the generation columns mean under the incremental collector of 3.14.1–3.14.4, where
 * `gc.get_stats()` and `gc.get_count()` keep three entries that are not generations.
 */
export const INCREMENTAL_COLUMNS_NOTE = 'Incremental collector: gen 1 = increments and the visited space, gen 2 = full collections and the pending space.';
