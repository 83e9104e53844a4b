/**
 * Replays inline event lists for tests: the events are encoded with the decoders' own
 * `ChunkWriter` (no file, no validation: tests build valid events), then run through the engine.
 */
import { resolvePolicy } from '../../src/gc/index.js';
import { freeListConfig } from '../../src/pool/free-list.js';
import type { PoolPolicy } from '../../src/pool/pool.js';
import { replayChunks, type ReplayResult } from '../../src/replay/index.js';
import { buildReport, type ReplayReport } from '../../src/report/json.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { ChunkWriter } from '../../src/trace/encode.js';
import { StringTable, type EventChunk, type TraceEvent } from '../../src/trace/types.js';

export interface TestReplayOptions {
  policy?: string;
  thresholds?: (number | undefined)[];
  oldObjects?: number;
  markedObjects?: number;
  builtinContainerSubclasses?: boolean;
  gcOff?: boolean;
  freeLists?: string;
  pool?: PoolPolicy | null;
  lenient?: boolean;
  maxErrors?: number;
  chunkRows?: number;
  file?: string;
}

export function encodeEvents(events: readonly TraceEvent[], chunkRows = 4096): { types: StringTable; sites: StringTable; chunks: EventChunk[] } {
  const types = new StringTable();
  const sites = new StringTable();
  const writer = new ChunkWriter(types, sites, chunkRows);
  events.forEach((event, index) => {
    const problem = writer.write(event, index, index + 1);
    if (problem !== null) throw new Error(problem);
  });
  writer.flush();
  return { types, sites, chunks: writer.ready };
}

export function replayEvents(events: readonly TraceEvent[], options: TestReplayOptions = {}): { result: ReplayResult; report: ReplayReport } {
  const { types, sites, chunks } = encodeEvents(events, options.chunkRows);
  const policy = resolvePolicy(options.policy ?? 'cpython-3.12');
  const freeLists = freeListConfig(options.freeLists ?? policy.release.freeLists);
  const diagnostics = new Diagnostics({ maxErrors: options.maxErrors ?? 20, lenient: options.lenient ?? false });
  const oldObjects = options.oldObjects ?? 0;
  const result = replayChunks(
    { file: options.file ?? 'test.jsonl', header: { format: 'memreplay', version: 1, meta: {} }, types, sites, chunks: () => chunks },
    { policy, thresholds: options.thresholds, oldObjects, markedObjects: options.markedObjects, builtinContainerSubclasses: options.builtinContainerSubclasses, automaticCollection: !options.gcOff, freeLists, pool: options.pool ?? null, diagnostics },
  );
  const report = buildReport(result, {
    toolVersion: 'test',
    skippedByKind: diagnostics.skippedSummary(),
    config: {
      thresholds: [...policy.release.defaultThresholds],
      oldObjects,
      automaticCollection: !options.gcOff,
      freeLists: freeLists.name,
      pool: options.pool?.name ?? null,
      poolParams: {},
    },
  });
  return { result, report };
}

/** Small builders for readable inline traces. */
export const ev = {
  alloc: (id: number | string, type = 'Node', extra: Partial<{ size: number; tracked: boolean; site: string; finalizer: 'del' | 'legacy' }> = {}): TraceEvent => ({
    op: 'alloc',
    id,
    type,
    size: extra.size ?? 48,
    ...(extra.tracked === undefined ? {} : { tracked: extra.tracked }),
    ...(extra.site === undefined ? {} : { site: extra.site }),
    ...(extra.finalizer === undefined ? {} : { finalizer: extra.finalizer }),
  }),
  incref: (id: number | string): TraceEvent => ({ op: 'incref', id }),
  decref: (id: number | string): TraceEvent => ({ op: 'decref', id }),
  free: (id: number | string): TraceEvent => ({ op: 'free', id }),
  link: (src: number | string, dst: number | string): TraceEvent => ({ op: 'link', src, dst }),
  unlink: (src: number | string, dst: number | string): TraceEvent => ({ op: 'unlink', src, dst }),
  collect: (gen?: number): TraceEvent => (gen === undefined ? { op: 'collect' } : { op: 'collect', gen }),
  gc: (enabled: boolean): TraceEvent => ({ op: 'gc', enabled }),
  threshold: (gen: number, value: number): TraceEvent => ({ op: 'threshold', gen, value }),
  freeze: (): TraceEvent => ({ op: 'freeze' }),
  unfreeze: (): TraceEvent => ({ op: 'unfreeze' }),
  mark: (label: string): TraceEvent => ({ op: 'mark', label }),
};
