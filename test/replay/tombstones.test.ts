import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tombstones, type Tombstone } from '../../src/replay/tombstones.js';

/**
 * The tombstones of the replay engine against the plainest model of them: a Map that forgets its
 * oldest entry when a new id would exceed the capacity. The ring, its holes and its compaction
 * must never change an answer.
 */
class ModelTombstones {
  readonly entries = new Map<number | string, Tombstone>();
  constructor(private readonly capacity: number) {}

  remember(id: number | string, tombstone: Tombstone): void {
    if (!this.entries.has(id) && this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as number | string);
    this.entries.set(id, tombstone);
  }

  forget(id: number | string): void {
    this.entries.delete(id);
  }
}

/** Ids as traces write them: small integers, address-like ones (multiples of 16 near 2^47), up to 2^53 - 1, and strings. */
const id: fc.Arbitrary<number | string> = fc.oneof(
  fc.nat({ max: 40 }),
  fc.nat({ max: 40 }).map((k) => 0x7f3a_0000_0000 + 16 * k),
  fc.constantFrom(2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53 - 2),
  // Hex address ids, as the engine keeps them (HEX_ID_KEY_LIMIT - address).
  fc.nat({ max: 40 }).map((k) => -(2 ** 52) - 16 * k),
  fc.constantFrom(-(2 ** 53) + 1, -(2 ** 52)),
  fc.constantFrom('a', 'b', '0x10', '__proto__'),
);

const step = fc.oneof(
  fc.tuple(fc.constant('remember' as const), id, fc.nat({ max: 1000 })),
  fc.tuple(fc.constant('forget' as const), id, fc.constant(0)),
  fc.tuple(fc.constant('get' as const), id, fc.constant(0)),
);

describe('replay/tombstones', () => {
  it('answers as a bounded Map of the freed ids does, whatever the ids', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(step, { maxLength: 300 }), (capacity, steps) => {
        const tombstones = new Tombstones(capacity);
        const model = new ModelTombstones(capacity);
        for (const [kind, key, event] of steps) {
          if (kind === 'remember') {
            tombstones.remember(key, event, event + 1);
            model.remember(key, { event, line: event + 1 });
          } else if (kind === 'forget') {
            if (typeof key === 'number') tombstones.forgetNumber(key);
            else tombstones.forgetString(key);
            model.forget(key);
          }
          expect(tombstones.get(key)).toEqual(model.entries.get(key));
          expect(tombstones.size).toBe(model.entries.size);
        }
        for (const key of model.entries.keys()) expect(tombstones.get(key)).toEqual(model.entries.get(key));
      }),
      { numRuns: 500 },
    );
  });

  it('forgets an id that is allocated again, also after it was evicted and remembered anew', () => {
    const tombstones = new Tombstones(4);
    const address = 0x7f3a_0000_0010;
    tombstones.remember(address, 3, 4);
    expect(tombstones.get(address)).toEqual({ event: 3, line: 4 });
    tombstones.forgetNumber(address);
    expect(tombstones.get(address)).toBeUndefined();
    // Evicted by capacity, then remembered again: the index must follow.
    for (let k = 0; k < 6; k++) tombstones.remember(address + 16 * k, k, k);
    tombstones.remember(address, 9, 9);
    tombstones.forgetNumber(address);
    expect(tombstones.get(address)).toBeUndefined();
    expect(tombstones.size).toBe(3);
  });

  it('keeps its eviction queue bounded however many ids are remembered and forgotten', () => {
    const tombstones = new Tombstones(8);
    let maxQueued = 0;
    for (let k = 0; k < 100_000; k++) {
      tombstones.remember(k, k, k);
      if (k % 3 !== 0) tombstones.forgetNumber(k);
      maxQueued = Math.max(maxQueued, tombstones.queued);
    }
    // Forgotten at once: nothing is ever evicted, and the stale records must still go.
    const forgetful = new Tombstones(8);
    for (let k = 0; k < 100_000; k++) {
      forgetful.remember(`id${k}`, k, k);
      forgetful.forgetString(`id${k}`);
      maxQueued = Math.max(maxQueued, forgetful.queued);
    }
    expect(forgetful.size).toBe(0);
    expect(maxQueued).toBeLessThanOrEqual(2 * 8);
    expect(tombstones.size).toBe(8);
    // The eight newest ids that were not forgotten are the ones kept.
    for (let k = 99_999, kept = 0; kept < 8; k--) {
      if (k % 3 !== 0) continue;
      expect(tombstones.get(k)).toEqual({ event: k, line: k });
      kept++;
    }
  });
});
