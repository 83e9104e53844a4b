/**
 * The ids of objects the cycle collector freed, remembered for error messages: when a later event
 * touches one, the message says which collection freed it (the trace then contradicts the model).
 *
 * Bounded: the oldest of `capacity` entries is forgotten first. An id allocated again is
 * forgotten at once. Both happen on hot paths (a collection may free hundreds of thousands of
 * objects, and every allocation forgets its id), so the entries live in typed arrays: a ring in
 * the order ids were remembered, with forgotten entries left as holes, and indexes from id to
 * ring position (`NumericIdMap`s for numeric ids, a `Map` for string ids). A `Map` of all entries
 * cost a third of the replay of a trace whose collections freed many objects: its number keys
 * beyond small integers are boxed, and finding its oldest key walks the deleted ones first.
 */

import { NumericIdMap } from './id-map.js';

/** Where an object was freed: the collection's event index and the trace line of that event. */
export interface Tombstone {
  event: number;
  line: number;
}

export class Tombstones {
  /** Ring positions: twice the capacity, so that holes are compacted away at most once per `capacity` insertions. */
  private readonly ringSize: number;
  /** Numeric id of each ring entry (NaN for a string id, then in `ringStrings`). */
  private ringIds: Float64Array;
  private ringStrings: (string | undefined)[];
  private ringEvents: Float64Array;
  private ringLines: Float64Array;
  /** 1 for an entry still remembered, 0 for a hole. */
  private ringLive: Uint8Array;
  /** Oldest and next ring positions, as counters (position = counter % ringSize). */
  private head = 0;
  private tail = 0;
  private count = 0;
  /** Ring position by id: ids >= 0, ids < 0 (negated: hex address keys), string ids. */
  private byId = new NumericIdMap();
  private byNegatedId = new NumericIdMap();
  private byString = new Map<string, number>();

  constructor(private readonly capacity: number) {
    this.ringSize = 2 * Math.max(1, capacity);
    // The ring (3.5 MB for 65,536 entries) is made when the first id is remembered: most
    // replays of small traces, and every `validate`, never need it.
    this.ringIds = new Float64Array(0);
    this.ringStrings = [];
    this.ringEvents = new Float64Array(0);
    this.ringLines = new Float64Array(0);
    this.ringLive = new Uint8Array(0);
  }

  get size(): number {
    return this.count;
  }

  /** Ring positions in use, holes included: at most twice the capacity (bounded memory). */
  get queued(): number {
    return this.tail - this.head;
  }

  /** Remembers that `id` was freed by the collection of `event` (trace line `line`). */
  remember(id: number | string, event: number, line: number): void {
    // Remembered again: a new tombstone, the same age (as a Map keeps a key's place on `set`).
    const existing = this.positionOf(id);
    if (existing >= 0) {
      this.ringEvents[existing] = event;
      this.ringLines[existing] = line;
      return;
    }
    if (this.ringLive.length === 0) this.compact();
    if (this.count >= this.capacity) this.evictOldest();
    if (this.tail - this.head === this.ringSize) this.compact();
    const position = this.tail % this.ringSize;
    this.tail++;
    if (typeof id === 'number') {
      this.ringIds[position] = id;
      this.ringStrings[position] = undefined;
      if (id >= 0) this.byId.set(id, position);
      else this.byNegatedId.set(-id, position);
    } else {
      this.ringIds[position] = NaN;
      this.ringStrings[position] = id;
      this.byString.set(id, position);
    }
    this.ringEvents[position] = event;
    this.ringLines[position] = line;
    this.ringLive[position] = 1;
    this.count++;
  }

  /** Forgets a numeric id (its object was allocated again). */
  forgetNumber(id: number): void {
    if (this.count === 0) return;
    const position = id >= 0 ? this.byId.get(id) : this.byNegatedId.get(-id);
    if (position >= 0) this.remove(position);
  }

  /** Forgets a string id. */
  forgetString(id: string): void {
    if (this.count === 0) return;
    const position = this.byString.get(id);
    if (position !== undefined) this.remove(position);
  }

  get(id: number | string): Tombstone | undefined {
    const position = this.positionOf(id);
    return position < 0 ? undefined : { event: this.ringEvents[position], line: this.ringLines[position] };
  }

  private positionOf(id: number | string): number {
    if (typeof id === 'string') return this.byString.get(id) ?? -1;
    return id >= 0 ? this.byId.get(id) : this.byNegatedId.get(-id);
  }

  /** Takes the entry at `position` out of the indexes and leaves a hole in the ring. */
  private remove(position: number): void {
    const id = this.ringIds[position];
    if (Number.isNaN(id)) this.byString.delete(this.ringStrings[position] as string);
    else if (id >= 0) this.byId.delete(id);
    else this.byNegatedId.delete(-id);
    this.ringStrings[position] = undefined;
    this.ringLive[position] = 0;
    this.count--;
  }

  private evictOldest(): void {
    while (this.head < this.tail) {
      const position = this.head % this.ringSize;
      this.head++;
      if (this.ringLive[position]) {
        this.remove(position);
        return;
      }
    }
  }

  /** Moves the remembered entries, oldest first, to the start of fresh arrays, dropping the holes (or makes the first arrays). */
  private compact(): void {
    const size = this.ringSize;
    const ids = new Float64Array(size);
    const strings = new Array<string | undefined>(size).fill(undefined);
    const events = new Float64Array(size);
    const lines = new Float64Array(size);
    const live = new Uint8Array(size);
    let next = 0;
    for (let counter = this.head; counter < this.tail; counter++) {
      const from = counter % size;
      if (!this.ringLive[from]) continue;
      ids[next] = this.ringIds[from];
      strings[next] = this.ringStrings[from];
      events[next] = this.ringEvents[from];
      lines[next] = this.ringLines[from];
      live[next] = 1;
      const id = ids[next];
      if (Number.isNaN(id)) this.byString.set(strings[next] as string, next);
      else if (id >= 0) this.byId.set(id, next);
      else this.byNegatedId.set(-id, next);
      next++;
    }
    this.ringIds = ids;
    this.ringStrings = strings;
    this.ringEvents = events;
    this.ringLines = lines;
    this.ringLive = live;
    this.head = 0;
    this.tail = next;
  }
}
