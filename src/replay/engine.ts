/**
 * The replay loop: applies a trace's events, chunk by chunk, to the heap model, the collector
 * policy, the free lists and the allocator policy, and feeds the statistics observer.
 *
 *   EventChunk ──► ReplayEngine.feed ──► Heap (refcounts, edges, deallocation cascade)
 *                        │                 │ onDeallocate
 *                        │                 ▼
 *                        ├──► Collector (counts, tracking, collections) ──► CollectionRecord
 *                        ├──► FreeLists / PoolPolicy (memory blocks)
 *                        └──► ReplayStatistics (peaks, series, latency, groups)
 *
 * Every event is checked before it changes anything (semantic validation): an event that would
 * make the heap inconsistent is reported to the `Diagnostics` sink and skipped, never half-applied.
 * Time inside the engine is the event index, never the wall clock.
 */
import type { Collector, CollectorHost, CollectionRecord } from '../gc/collector.js';
import type { ResolvedPolicy } from '../gc/index.js';
import { TraceError } from '../errors.js';
import { FreeLists, isGcKind, TypeKind, typeKindOf, type FreeListConfig, type TypeKindCode } from '../pool/free-list.js';
import type { PoolPolicy } from '../pool/pool.js';
import type { Diagnostics } from '../trace/diagnostics.js';
import { AllocFlag, Finalizer, HEX_ID_KEY_LIMIT, Op, OP_COUNT, OP_NAMES, objectIdOf, type EventChunk, type StringTable } from '../trace/types.js';
import { AllocationGroups } from './groups.js';
import { Heap, ObjectFlag, type DeallocationObserver, type ListId } from './heap.js';
import { NumericIdMap } from './id-map.js';
import { ReplayStatistics, type MemorySampleSource } from './statistics.js';
import { Tombstones } from './tombstones.js';
import { ensureLength } from '../typed-arrays.js';

/** How a replay is configured (resolved from the options and the trace's header). */
export interface ReplaySettings {
  policy: ResolvedPolicy;
  /** `--threshold`: entries left undefined keep the release's defaults. */
  thresholds?: readonly (number | undefined)[];
  /** `--old-objects`, else `meta.oldObjects`, else 0. */
  oldObjects: number;
  /** `--marked-objects`, else `meta.markedObjects`; absent: all of `oldObjects` (see `CollectorOptions`). */
  markedObjects?: number;
  /** See `CollectorOptions.builtinContainerSubclasses` (set when comparing with the oracle). */
  builtinContainerSubclasses?: boolean;
  /** False for `--gc off`. */
  automaticCollection: boolean;
  freeLists: FreeListConfig;
  pool: PoolPolicy | null;
  diagnostics: Diagnostics;
  /** Called after each chunk with the number of events replayed so far (progress bars). */
  onProgress?: (events: number) => void;
}

export interface EngineConfig extends ReplaySettings {
  /** The trace's name as the user gave it, for messages. */
  file: string;
  /** The trace's interned type names and allocation sites (they grow as chunks are decoded). */
  types: StringTable;
  sites: StringTable;
}

/** Freed-by-collector ids remembered for error messages; older ones are forgotten (bounded memory). */
const TOMBSTONES = 65536;

export class ReplayEngine implements CollectorHost, DeallocationObserver {
  readonly heap = new Heap();
  readonly groups = new AllocationGroups();
  readonly collector: Collector;
  readonly freeLists: FreeLists;
  readonly pool: PoolPolicy | null;
  readonly stats: ReplayStatistics;
  /** Events applied per op code: one skipped as breaking a heap rule is taken back (`reject`). */
  readonly opCounts = new Float64Array(OP_COUNT);
  events = 0;

  private readonly numericIds = new NumericIdMap();
  /** Hex address ids ("0x7f3a00000010"), by address (see `EventChunk`). */
  private readonly addressIds = new NumericIdMap();
  private readonly stringIds = new Map<string, number>();
  private typeKinds = new Int8Array(64).fill(-1);

  /** The event being replayed and its line, for collection records and messages. */
  private event = 0;
  private chunk: EventChunk | null = null;
  private row = 0;
  /** Event index of the collection running now, or -1. */
  private collectingAt = -1;
  private collectingLine = 0;

  private readonly tombstones = new Tombstones(TOMBSTONES);
  /** An object the running frame holds during the event (see `Collector.onDeallocationStart`), or -1. */
  private frameHeld = -1;
  /** Whether the collector wants `onEventEnd` after events that deallocate. */
  private readonly eventEndHook: boolean;

  /** What the sampler reads, made once so that a sample allocates nothing here. */
  private readonly generationSize: (generation: number) => number;
  private readonly memorySource: MemorySampleSource | null;

  constructor(private readonly config: EngineConfig) {
    this.freeLists = new FreeLists(config.freeLists);
    this.pool = config.pool;
    this.stats = new ReplayStatistics(this.heap);
    this.collector = config.policy.module.create(this, {
      release: config.policy.release.id,
      thresholds: config.thresholds,
      oldObjects: config.oldObjects,
      markedObjects: config.markedObjects,
      builtinContainerSubclasses: config.builtinContainerSubclasses,
      automatic: config.automaticCollection,
    });
    this.heap.deallocations = this;
    this.heap.observeDeallocationStart = this.collector.onDeallocationStart !== undefined;
    this.eventEndHook = this.collector.onEventEnd !== undefined;
    const collector = this.collector;
    const pool = this.pool;
    const freeLists = this.freeLists;
    this.generationSize = (g) => collector.generationSize(g);
    this.memorySource = pool === null ? null : { sample: () => pool.sample(), freeListParked: () => freeLists.parkedNow };
  }

  // ---------------------------------------------------------------------------------------------
  // The loop

  /** Replays one chunk of events. */
  feed(chunk: EventChunk): void {
    this.chunk = chunk;
    const { op, obj, arg, aux, time } = chunk;
    const heap = this.heap;
    const stats = this.stats;
    const counts = this.opCounts;
    for (let i = 0; i < chunk.length; i++) {
      const event = chunk.firstIndex + i;
      this.event = event;
      this.row = i;
      heap.now = event;
      const code = op[i];
      counts[code]++;
      switch (code) {
        case Op.alloc:
          this.alloc(chunk, i);
          break;
        case Op.incref: {
          const slot = this.lookup(obj[i], 'id');
          if (slot >= 0) heap.programRefs[slot]++;
          break;
        }
        case Op.decref:
          this.decref(obj[i]);
          if (this.eventEndHook) this.collector.onEventEnd?.();
          break;
        case Op.link:
          this.link(obj[i], arg[i]);
          break;
        case Op.unlink:
          this.unlink(obj[i], arg[i]);
          if (this.eventEndHook) this.collector.onEventEnd?.();
          break;
        case Op.free:
          this.free(obj[i]);
          if (this.eventEndHook) this.collector.onEventEnd?.();
          break;
        case Op.resize:
          this.resize(obj[i], arg[i]);
          break;
        case Op.collect:
          this.collector.collect(arg[i]);
          break;
        case Op.gc:
          this.collector.setEnabled(arg[i] !== 0);
          break;
        case Op.threshold:
          this.collector.setThreshold(aux[i], arg[i]);
          break;
        case Op.freeze:
          this.collector.freeze();
          break;
        case Op.unfreeze:
          this.collector.unfreeze();
          break;
        case Op.mark:
          stats.mark(event, time[i], chunk.strings[arg[i]]);
          break;
        default:
          throw new Error(`bug: unknown op code ${code} in a decoded chunk`);
      }
      if (event >= stats.nextSampleAt) this.sample(event, time[i]);
    }
    this.events = chunk.firstIndex + chunk.length;
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  private alloc(chunk: EventChunk, i: number): void {
    const heap = this.heap;
    const key = chunk.obj[i];
    const existing = key >= 0 ? this.numericIds.get(key) : this.slotOf(key);
    if (existing >= 0) {
      this.rejectAlloc(existing);
      return;
    }
    const flags = chunk.flags[i];
    const typeId = chunk.aux[i];
    const gc = (flags & AllocFlag.untracked) === 0;
    let kind = this.kindOfType(typeId);
    // The special treatment of list/dict/tuple (GC containers) and float/int (not) applies only
    // when the trace agrees with CPython about what the type is.
    if (isGcKind(kind) !== gc) kind = TypeKind.plain;
    const finalizer = (flags >> AllocFlag.finalizerShift) & 3;
    let objectFlags = gc ? ObjectFlag.gc : 0;
    if (finalizer === Finalizer.del) objectFlags |= ObjectFlag.finalizerDel;
    else if (finalizer === Finalizer.legacy) objectFlags |= ObjectFlag.finalizerLegacy;
    const size = chunk.arg[i];
    // A hex address id is a number here (see `EventChunk`), kept apart from integer ids.
    const idString = key < 0 && key > HEX_ID_KEY_LIMIT ? chunk.strings[-key - 1] : undefined;
    const group = this.groups.groupOf(typeId, chunk.site[i]);
    const slot = heap.createObject(idString === undefined ? key : NaN, idString, group, kind, size, objectFlags);
    if (idString === undefined) {
      if (key >= 0) this.numericIds.set(key, slot);
      else this.addressIds.set(HEX_ID_KEY_LIMIT - key, slot);
      this.tombstones.forgetNumber(key);
    } else {
      this.stringIds.set(idString, slot);
      this.tombstones.forgetString(idString);
    }

    // Without an allocator model, blocks are a placeholder handle (0): the free lists still decide
    // what counts as a GC allocation.
    let block = kind === TypeKind.plain ? -1 : this.freeLists.reuse(kind, size);
    const fromFreeList = block >= 0;
    if (!fromFreeList) block = this.pool === null ? 0 : this.pool.allocate(size);
    heap.block[slot] = block;
    this.stats.onAllocate(slot, this.event);
    if (gc) this.collector.onAllocate(slot, fromFreeList);
  }

  // NOTE: the event methods keep their error messages in separate methods (`reject*`): short
  // methods are what V8 inlines into the replay loop.

  private rejectAlloc(existing: number): void {
    this.reject('duplicate-id', 'id', `${this.describe(existing)} is already alive; an id can be reused only once its object is gone`);
  }

  private decref(key: number): void {
    const slot = this.lookup(key, 'id');
    if (slot < 0) return;
    const heap = this.heap;
    if (heap.programRefs[slot] === 0) {
      this.rejectDecref(slot);
      return;
    }
    heap.dropReference(slot, true);
  }

  private rejectDecref(slot: number): void {
    const incoming = this.heap.incomingRefs[slot];
    this.reject('decref-without-reference', 'id', `the program holds no reference to ${this.describe(slot)} (its ${incoming} reference${incoming === 1 ? ' comes' : 's come'} from other objects)`);
  }

  private link(srcKey: number, dstKey: number): void {
    const src = this.lookup(srcKey, 'src');
    if (src < 0) return;
    const dst = this.lookup(dstKey, 'dst');
    if (dst < 0) return;
    const heap = this.heap;
    if (!heap.isGc(src)) {
      this.rejectLink(src);
      return;
    }
    heap.addEdge(src, dst);
    this.collector.onLink(src, dst);
  }

  private rejectLink(src: number): void {
    this.reject('link-from-untracked', 'src', `${this.describe(src)} was allocated with "tracked": false (not a GC container), so it cannot reference other objects`);
  }

  private unlink(srcKey: number, dstKey: number): void {
    const src = this.lookup(srcKey, 'src');
    if (src < 0) return;
    const dst = this.lookup(dstKey, 'dst');
    if (dst < 0) return;
    if (!this.heap.removeEdge(src, dst)) {
      this.rejectUnlink(src, dst);
      return;
    }
    // `del src[i]`: src is held by the running frame while dst's deallocation runs.
    this.frameHeld = src;
    this.heap.dropReference(dst, false);
    this.frameHeld = -1;
  }

  private rejectUnlink(src: number, dst: number): void {
    this.reject('no-such-edge', 'dst', `${this.describe(src)} has no reference to ${this.describe(dst)} to remove`);
  }

  private free(key: number): void {
    const slot = this.lookup(key, 'id');
    if (slot < 0) return;
    const heap = this.heap;
    const referrers = heap.incomingRefs[slot];
    if (referrers > 0) {
      this.rejectFree(slot, referrers);
      return;
    }
    heap.programRefs[slot] = 0;
    heap.lastDrop[slot] = this.event;
    heap.releaseCascade(slot);
  }

  private rejectFree(slot: number, referrers: number): void {
    this.reject('free-referenced', 'id', `${this.describe(slot)} is still referenced by ${referrers} link${referrers === 1 ? '' : 's'} from other objects; unlink them first`);
  }

  private resize(key: number, size: number): void {
    const slot = this.lookup(key, 'id');
    if (slot < 0) return;
    const heap = this.heap;
    const oldSize = heap.size[slot];
    if (this.pool !== null) heap.block[slot] = this.pool.resize(heap.block[slot], size);
    heap.resizeObject(slot, size);
    this.stats.onResize(slot, oldSize, this.event);
  }

  // ---------------------------------------------------------------------------------------------
  // Deallocation (called by the heap for every object that dies)

  /** `DeallocationObserver`: a deallocation starts (asked for by collectors that define `onDeallocationStart`). */
  deallocating(slot: number): void {
    if (this.heap.flags[slot] & ObjectFlag.gc) this.collector.onDeallocationStart?.(slot, this.frameHeld);
  }

  /** `DeallocationObserver`: the heap reports every object that dies (refcount 0 or collected). */
  deallocate(slot: number): void {
    const heap = this.heap;
    const kind = heap.kind[slot] as TypeKindCode;
    const block = heap.block[slot];
    const parked = kind !== TypeKind.plain && this.freeLists.park(kind, heap.size[slot], block);
    if (!parked && this.pool !== null) this.pool.release(block);
    if (heap.flags[slot] & ObjectFlag.gc) this.collector.onDeallocate(slot, parked);
    const byCollector = this.collectingAt >= 0;
    this.stats.onDeallocate(slot, byCollector);
    const idNumber = heap.idNumber[slot];
    if (!Number.isNaN(idNumber)) {
      if (idNumber >= 0) this.numericIds.delete(idNumber);
      else this.addressIds.delete(HEX_ID_KEY_LIMIT - idNumber);
      if (byCollector) this.remember(idNumber);
    } else {
      const idString = heap.idStrings.get(slot) as string;
      this.stringIds.delete(idString);
      if (byCollector) this.remember(idString);
    }
  }

  private remember(id: number | string): void {
    this.tombstones.remember(id, this.collectingAt, this.collectingLine);
  }

  // ---------------------------------------------------------------------------------------------
  // CollectorHost

  clearFreeLists(): number {
    const pool = this.pool;
    return this.freeLists.clear(pool === null ? () => {} : (block) => pool.release(block));
  }

  beforeDeleteGarbage(list: ListId): void {
    this.collectingAt = this.event;
    this.collectingLine = this.chunk?.line[this.row] ?? 0;
    this.stats.beforeDeleteGarbage(list, this.event);
  }

  onCollection(record: CollectionRecord): void {
    this.collectingAt = -1;
    this.stats.onCollection(this.event, record);
  }

  // ---------------------------------------------------------------------------------------------
  // Ids and messages

  private slotOf(key: number): number {
    if (key >= 0) return this.numericIds.get(key);
    if (key <= HEX_ID_KEY_LIMIT) return this.addressIds.get(HEX_ID_KEY_LIMIT - key);
    const slot = this.stringIds.get(this.chunk!.strings[-key - 1]);
    return slot === undefined ? -1 : slot;
  }

  /** The slot of a live object, or -1 after reporting the event as touching a dead or unknown one. */
  private lookup(key: number, field: string): number {
    const slot = key >= 0 ? this.numericIds.get(key) : this.slotOf(key);
    return slot >= 0 ? slot : this.rejectNotAlive(key, field);
  }

  /** Reports the event as touching a dead or unknown object; returns -1. */
  private rejectNotAlive(key: number, field: string): number {
    const id = objectIdOf(this.chunk!, key);
    const shown = typeof id === 'string' ? JSON.stringify(id) : String(id);
    // Tombstones of hex address ids are kept under their key, as the heap keeps the id.
    const freed = this.tombstones.get(key <= HEX_ID_KEY_LIMIT ? key : id);
    if (freed !== undefined) {
      const where = freed.line > 0 ? `${this.config.file}:${freed.line}` : this.config.file;
      this.reject(
        'freed-by-collector',
        field,
        `object ${shown} was freed as unreachable cyclic garbage by the collection at event ${freed.event} (${where}); the trace contradicts itself under ${this.config.policy.name}`,
      );
    } else {
      this.reject('unknown-object', field, `object ${shown} is not alive (never allocated, or already freed)`);
    }
    return -1;
  }

  private describe(slot: number): string {
    const heap = this.heap;
    const id = heap.idOf(slot);
    const shown = typeof id === 'string' ? JSON.stringify(id) : String(id);
    return `object ${shown} (${JSON.stringify(this.config.types.get(this.groups.typeId[heap.group[slot]]))})`;
  }

  private reject(kind: string, field: string, detail: string): void {
    const chunk = this.chunk!;
    // Skipped (--lenient): not counted under its op, as the events the decoder skipped are not,
    // so that the counts by op and the skipped events add up to the trace's events.
    this.opCounts[chunk.op[this.row]]--;
    const op = OP_NAMES[chunk.op[this.row]];
    this.config.diagnostics.record(
      new TraceError(kind, { file: this.config.file, line: chunk.line[this.row], event: this.event, op }, `"${field}": ${detail}`),
    );
  }

  private kindOfType(typeId: number): TypeKindCode {
    const kind = typeId < this.typeKinds.length ? this.typeKinds[typeId] : -1;
    return kind >= 0 ? (kind as TypeKindCode) : this.learnKindOfType(typeId);
  }

  /** `kindOfType` for a type met for the first time. */
  private learnKindOfType(typeId: number): TypeKindCode {
    this.typeKinds = ensureLength(this.typeKinds, typeId + 1, -1);
    const kind = typeKindOf(this.config.types.get(typeId));
    this.typeKinds[typeId] = kind;
    return kind;
  }

  // ---------------------------------------------------------------------------------------------
  // Sampling

  private sample(event: number, time: number): void {
    this.stats.sample(event, time, this.generationSize, this.collector.youngCount(), this.memorySource);
  }

  /** Takes the final sample (so the series end at the last event). */
  finishSampling(): void {
    if (this.events > 0) {
      const last = this.events - 1;
      const tl = this.stats.timeline;
      const lastSampled = tl.length > 0 ? tl.columns.event[tl.length - 1] : -1;
      if (lastSampled !== last) {
        const time = this.chunk ? this.chunk.time[this.chunk.length - 1] : NaN;
        this.sample(last, time);
      }
    }
  }
}
