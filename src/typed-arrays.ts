/** Growing typed arrays: the one helper behind every growable column of the engine and the models. */

export type GrowableArray = Int8Array | Uint8Array | Int32Array | Float64Array;

/**
 * A copy of `array` with room for `length` elements (at least its own length): the old elements
 * first, the new ones set to `fill`.
 */
export function grown<T extends GrowableArray>(array: T, length: number, fill = 0): T {
  const Constructor = array.constructor as new (length: number) => T;
  const copy = new Constructor(Math.max(length, array.length));
  copy.set(array as ArrayLike<number> & T);
  if (fill !== 0) copy.fill(fill, array.length);
  return copy;
}

/** `array` if it holds `length` elements, else a copy grown by doubling until it does. */
export function ensureLength<T extends GrowableArray>(array: T, length: number, fill = 0): T {
  if (length <= array.length) return array;
  let size = Math.max(1, array.length);
  while (size < length) size *= 2;
  return grown(array, size, fill);
}
