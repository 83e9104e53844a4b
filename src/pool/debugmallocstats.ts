/**
 * Parser of the text `sys._debugmallocstats()` writes to the C-level stderr (fd 2): pymalloc's
 * size-class table, the arena counters, the byte accounting, the radix-tree lines (3.10+) and the
 * free-list lines. The layout [v3.11.2 Objects/obmalloc.c: _PyObject_DebugMallocStats, printone;
 * Objects/object.c: _PyObject_DebugTypeStats] is described in `cpython-memory.md` §7; the same
 * parser reads the output of 3.6 through 3.13 (3.6–3.9 have no "arena map" section).
 *
 * The names of the fields follow the rows of the report, so that a capture and a replay's
 * `PoolSnapshot` can be compared field by field: `poolsInUse` is "num pools", `blocksInUse`
 * "blocks in use", `availBlocks` "avail blocks"; the arena counters are those of `ArenaStats`.
 */
import { UserError } from '../errors.js';
import type { ArenaStats } from './pool.js';

/** One row of the size-class table (printed only for classes with at least one pool in use). */
export interface DebugSizeClassRow {
  index: number;
  size: number;
  poolsInUse: number;
  blocksInUse: number;
  availBlocks: number;
}

export interface DebugFreeListLine {
  /** The type as printed, e.g. "PyDictObject" or "1-sized PyTupleObject". */
  type: string;
  count: number;
  bytesEach: number;
}

export interface DebugMallocStats {
  smallThreshold: number;
  sizeClassCount: number;
  /** The printed rows, in class order. */
  sizeClasses: DebugSizeClassRow[];
  arenas: ArenaStats;
  arenaSize: number;
  poolSize: number;
  /** Free pools over all arenas: cached empty pools plus never-carved pools. */
  unusedPools: number;
  bytes: {
    allocatedBlocks: number;
    availableBlocks: number;
    poolHeaders: number;
    quantization: number;
    arenaAlignment: number;
    total: number;
  };
  /** Radix-tree node counts (3.10+), or null when the section is absent. */
  arenaMap: { midNodes: number; botNodes: number } | null;
  freeLists: DebugFreeListLine[];
}

/** The row of a class, or a row of zeros when the class has no pool in use (no line printed). */
export function sizeClassRow(stats: DebugMallocStats, index: number): DebugSizeClassRow {
  return (
    stats.sizeClasses.find((row) => row.index === index) ?? {
      index,
      size: ((index + 1) * stats.smallThreshold) / stats.sizeClassCount,
      poolsInUse: 0,
      blocksInUse: 0,
      availBlocks: 0,
    }
  );
}

function formatError(detail: string): UserError {
  return new UserError('DEBUGMALLOCSTATS_FORMAT', `not the output of sys._debugmallocstats() with pymalloc: ${detail}`);
}

function number(text: string): number {
  return Number(text.replace(/,/g, ''));
}

const HEADER = /^Small block threshold = (\d+), in (\d+) size classes\.$/;
const ROW = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;
const LABELLED = /^(.*?)\s*=\s*([\d,]+)\s*$/;
const ARENAS_LINE = /^(\d+) arenas \* (\d+) bytes\/arena$/;
const UNUSED_POOLS = /^(\d+) unused pools \* (\d+) bytes$/;
const FREE_LIST = /^(\d+) free (.+)s \* (\d+) bytes each$/;

/** Parses one capture; throws `UserError` (`DEBUGMALLOCSTATS_FORMAT`) when a required line is missing. */
export function parseDebugMallocStats(text: string): DebugMallocStats {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => HEADER.test(line.trim()));
  if (start < 0) throw formatError('no "Small block threshold = ..." line');
  const header = HEADER.exec(lines[start].trim()) as RegExpExecArray;
  const sizeClasses: DebugSizeClassRow[] = [];
  const values = new Map<string, number>();
  const freeLists: DebugFreeListLine[] = [];
  let arenaSize = NaN;
  let poolSize = NaN;
  let unusedPools = NaN;
  let section: 'pymalloc' | 'arena map' | 'types' = 'pymalloc';
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (trimmed === 'arena map counts') {
      section = 'arena map';
      continue;
    }
    const row = ROW.exec(line);
    if (row && section === 'pymalloc') {
      sizeClasses.push({ index: number(row[1]), size: number(row[2]), poolsInUse: number(row[3]), blocksInUse: number(row[4]), availBlocks: number(row[5]) });
      continue;
    }
    const labelled = LABELLED.exec(trimmed);
    if (!labelled) continue;
    const label = labelled[1];
    const value = number(labelled[2]);
    const freeList = FREE_LIST.exec(label);
    if (freeList) {
      section = 'types';
      freeLists.push({ type: freeList[2], count: number(freeList[1]), bytesEach: number(freeList[3]) });
      continue;
    }
    const arenas = ARENAS_LINE.exec(label);
    if (arenas) {
      arenaSize = number(arenas[2]);
      continue;
    }
    const unused = UNUSED_POOLS.exec(label);
    if (unused) {
      unusedPools = number(unused[1]);
      poolSize = number(unused[2]);
      continue;
    }
    // "Total" closes both the pymalloc and the arena-map sections: keep the pymalloc one.
    const key = label === 'Total' ? `${section} total` : label;
    if (!values.has(key)) values.set(key, value);
  }
  const required = (key: string): number => {
    const value = values.get(key);
    if (value === undefined) throw formatError(`no "${key}" line`);
    return value;
  };
  if (Number.isNaN(arenaSize)) throw formatError('no "N arenas * S bytes/arena" line');
  if (Number.isNaN(unusedPools)) throw formatError('no "N unused pools * S bytes" line');
  const mid = values.get('# arena map mid nodes');
  const bot = values.get('# arena map bot nodes');
  return {
    smallThreshold: number(header[1]),
    sizeClassCount: number(header[2]),
    sizeClasses,
    arenas: {
      allocated: required('# arenas allocated total'),
      reclaimed: required('# arenas reclaimed'),
      highWater: required('# arenas highwater mark'),
      current: required('# arenas allocated current'),
    },
    arenaSize,
    poolSize,
    unusedPools,
    bytes: {
      allocatedBlocks: required('# bytes in allocated blocks'),
      availableBlocks: required('# bytes in available blocks'),
      poolHeaders: required('# bytes lost to pool headers'),
      quantization: required('# bytes lost to quantization'),
      arenaAlignment: required('# bytes lost to arena alignment'),
      total: required('pymalloc total'),
    },
    arenaMap: mid !== undefined && bot !== undefined ? { midNodes: mid, botNodes: bot } : null,
    freeLists,
  };
}
