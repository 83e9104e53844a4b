/**
 * The replay's statistics observer: everything a report shows that is not the collector's own
 * `gc` state. Collectors and pools compute none of this; the engine calls these hooks at
 * allocation, deallocation, collection and sample points (MMTk's analysis hooks).
 *
 * Memory is bounded by the live heap and by fixed caps, never by the trace length: time series
 * are sampled (`Timeline`), garbage latency is a histogram, collections are kept as compact
 * columns, marks and per-group series are capped.
 */
import type { CollectionRecord } from '../gc/collector.js';
import { List, type Heap, type ListId } from './heap.js';
import { Histogram } from './histogram.js';
import { MAX_SAMPLES, Timeline } from './timeline.js';
import { ensureLength, grown } from '../typed-arrays.js';

export const TIMELINE_COLUMNS = [
  'event',
  'time',
  'liveObjects',
  'liveBytes',
  'generation0',
  'generation1',
  'generation2',
  'permanent',
  'count0',
  'arenas',
  'poolsInUse',
  'bytesRequested',
  'bytesReserved',
  'blocksFresh',
  'blocksReused',
  'freeListParked',
] as const;
export type TimelineColumn = (typeof TIMELINE_COLUMNS)[number];

/** Groups (allocation site × type) that get a time series of their live bytes. */
export const MAX_SERIES_GROUPS = 256;
/** Marks kept for charts; later ones are counted only. */
export const MAX_MARKS = 5000;

/** Growable columns of the collections of a replay. */
export class CollectionLog {
  length = 0;
  event = new Float64Array(256);
  generation = new Uint8Array(256);
  automatic = new Uint8Array(256);
  examined = new Float64Array(256);
  collected = new Float64Array(256);
  promoted = new Float64Array(256);
  uncollectable = new Float64Array(256);
  finalizers = new Float64Array(256);

  add(event: number, r: CollectionRecord): void {
    if (this.length === this.event.length) this.grow();
    const i = this.length++;
    this.event[i] = event;
    this.generation[i] = r.generation;
    this.automatic[i] = r.reason === 'automatic' ? 1 : 0;
    this.examined[i] = r.examined;
    this.collected[i] = r.collected;
    this.promoted[i] = r.promoted;
    this.uncollectable[i] = r.uncollectable;
    this.finalizers[i] = r.finalizers;
  }

  private grow(): void {
    const n = this.event.length * 2;
    this.event = grown(this.event, n);
    this.generation = grown(this.generation, n);
    this.automatic = grown(this.automatic, n);
    this.examined = grown(this.examined, n);
    this.collected = grown(this.collected, n);
    this.promoted = grown(this.promoted, n);
    this.uncollectable = grown(this.uncollectable, n);
    this.finalizers = grown(this.finalizers, n);
  }
}

/** Live and cumulative numbers per allocation group (type × site, see `groups.ts`). */
export class GroupTable {
  /** Groups with counters so far (grows with the allocation groups). */
  length = 0;
  liveObjects = new Float64Array(64);
  liveBytes = new Float64Array(64);
  allocatedObjects = new Float64Array(64);
  allocatedBytes = new Float64Array(64);
  /** Live bytes per sample, for the first `MAX_SERIES_GROUPS` groups. */
  readonly series: Float64Array[] = [];

  /** Makes room for counters of groups up to `group`. */
  ensure(group: number): void {
    if (group < this.length) return;
    this.liveObjects = ensureLength(this.liveObjects, group + 1);
    this.liveBytes = ensureLength(this.liveBytes, group + 1);
    this.allocatedObjects = ensureLength(this.allocatedObjects, group + 1);
    this.allocatedBytes = ensureLength(this.allocatedBytes, group + 1);
    while (this.series.length < Math.min(group + 1, MAX_SERIES_GROUPS)) this.series.push(new Float64Array(MAX_SAMPLES));
    this.length = group + 1;
  }
}

/** What the sampler reads from the pool policy and the free lists. */
export interface MemorySampleSource {
  sample(): { arenas: number; poolsInUse: number; bytesRequested: number; bytesReserved: number; blocksFresh: number; blocksReused: number };
  freeListParked(): number;
}

export interface GarbageLatency {
  /** Objects freed by the cycle collector whose latency was measured. */
  objects: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

export class ReplayStatistics {
  readonly collections = new CollectionLog();
  readonly groups = new GroupTable();
  readonly timeline = new Timeline<TimelineColumn>(TIMELINE_COLUMNS);
  readonly latency = new Histogram();
  readonly marks: { event: number; time: number | null; label: string }[] = [];
  marksDropped = 0;

  allocatedObjects = 0;
  allocatedBytes = 0;
  freedByRefcount = 0;
  freedByCollector = 0;
  peakLiveObjects = 0;
  peakLiveObjectsEvent = -1;
  peakLiveBytes = 0;
  peakLiveBytesEvent = -1;
  /** Event index at which the next sample is due. */
  nextSampleAt = 0;

  /** Scratch for latency propagation: garbage in order of last drop, and a traversal stack. */
  private order = new Int32Array(256);
  private stack = new Int32Array(256);

  constructor(private readonly heap: Heap) {}

  onAllocate(slot: number, event: number): void {
    const heap = this.heap;
    const size = heap.size[slot];
    const g = heap.group[slot];
    if (g >= this.groups.length) this.groups.ensure(g);
    this.groups.liveObjects[g]++;
    this.groups.liveBytes[g] += size;
    this.groups.allocatedObjects[g]++;
    this.groups.allocatedBytes[g] += size;
    this.allocatedObjects++;
    this.allocatedBytes += size;
    if (heap.liveObjects > this.peakLiveObjects) {
      this.peakLiveObjects = heap.liveObjects;
      this.peakLiveObjectsEvent = event;
    }
    this.checkBytesPeak(event);
  }

  onResize(slot: number, oldSize: number, event: number): void {
    const g = this.heap.group[slot];
    this.groups.liveBytes[g] += this.heap.size[slot] - oldSize;
    this.checkBytesPeak(event);
  }

  private checkBytesPeak(event: number): void {
    if (this.heap.liveBytes > this.peakLiveBytes) {
      this.peakLiveBytes = this.heap.liveBytes;
      this.peakLiveBytesEvent = event;
    }
  }

  onDeallocate(slot: number, byCollector: boolean): void {
    const g = this.heap.group[slot];
    this.groups.liveObjects[g]--;
    this.groups.liveBytes[g] -= this.heap.size[slot];
    if (byCollector) this.freedByCollector++;
    else this.freedByRefcount++;
  }

  onCollection(event: number, record: CollectionRecord): void {
    this.collections.add(event, record);
  }

  /**
   * Garbage latency of the objects a collection is about to free: how many events ago each became
   * unreachable. An object became unreachable when the last reference from outside the garbage was
   * dropped: the latest of its own last reference drop and the moments the garbage objects that
   * point to it became unreachable. Processing the objects from the latest drop down, a traversal
   * inside the garbage assigns each object the first (largest) value that reaches it.
   */
  beforeDeleteGarbage(list: ListId, event: number): void {
    const heap = this.heap;
    const n = heap.listLength[list];
    if (n === 0) return;
    if (this.order.length < n) {
      this.order = new Int32Array(n * 2);
      this.stack = new Int32Array(n * 2);
    }
    const order = this.order.subarray(0, n);
    let k = 0;
    for (let s = heap.next[list]; s !== list; s = heap.next[s]) order[k++] = s;
    const lastDrop = heap.lastDrop;
    order.sort((a, b) => lastDrop[b] - lastDrop[a]);
    // `gcRefs` is free to use here: the collector is done with it for this collection.
    const visited = heap.gcRefs;
    for (let i = 0; i < n; i++) visited[order[i]] = 0;
    const stack = this.stack;
    for (let i = 0; i < n; i++) {
      const root = order[i];
      if (visited[root]) continue;
      const became = lastDrop[root];
      let top = 0;
      stack[top++] = root;
      visited[root] = 1;
      while (top > 0) {
        const s = stack[--top];
        this.latency.record(event - became);
        const start = heap.edgeStart[s];
        for (let e = start + heap.edgeLength[s] - 1; e >= start; e--) {
          const d = heap.edges[e];
          if (heap.listOf[d] === list && !visited[d]) {
            visited[d] = 1;
            stack[top++] = d;
          }
        }
      }
    }
  }

  garbageLatency(): GarbageLatency {
    const h = this.latency;
    return {
      objects: h.count,
      median: h.quantile(0.5),
      p95: h.quantile(0.95),
      max: h.count ? h.max : 0,
      mean: h.count ? h.sum / h.count : 0,
    };
  }

  mark(event: number, time: number, label: string): void {
    if (this.marks.length < MAX_MARKS) this.marks.push({ event, time: Number.isNaN(time) ? null : time, label });
    else this.marksDropped++;
  }

  /** Records one sample of every series at `event`. */
  sample(event: number, time: number, generationSize: (g: number) => number, count0: number, memory: MemorySampleSource | null): void {
    const tl = this.timeline;
    const strideBefore = tl.stride;
    const i = tl.nextIndex();
    if (tl.stride !== strideBefore) this.compactGroupSeries();
    const c = tl.columns;
    const heap = this.heap;
    c.event[i] = event;
    c.time[i] = time;
    c.liveObjects[i] = heap.liveObjects;
    c.liveBytes[i] = heap.liveBytes;
    c.generation0[i] = generationSize(0);
    c.generation1[i] = generationSize(1);
    c.generation2[i] = generationSize(2);
    c.permanent[i] = heap.listLength[List.permanent];
    c.count0[i] = count0;
    if (memory !== null) {
      const m = memory.sample();
      c.arenas[i] = m.arenas;
      c.poolsInUse[i] = m.poolsInUse;
      c.bytesRequested[i] = m.bytesRequested;
      c.bytesReserved[i] = m.bytesReserved;
      c.blocksFresh[i] = m.blocksFresh;
      c.blocksReused[i] = m.blocksReused;
      c.freeListParked[i] = memory.freeListParked();
    }
    const series = this.groups.series;
    const liveBytes = this.groups.liveBytes;
    for (let g = 0; g < series.length; g++) series[g][i] = liveBytes[g];
    this.nextSampleAt = event + tl.stride;
  }

  private compactGroupSeries(): void {
    const half = MAX_SAMPLES / 2;
    for (const column of this.groups.series) for (let i = 0; i < half; i++) column[i] = column[2 * i];
  }
}
