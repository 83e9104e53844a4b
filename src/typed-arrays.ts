/**
 * Growing typed arrays: the one helper behind every growable column of the engine and the models;
 * and word-wide reads of a byte buffer.
 */

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

/** The buffer `bytesView` reads (the last one asked about). */
let viewedBytes: Uint8Array | null = null;
let bytesView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * A `DataView` over `bytes` (indices as in `bytes`), for reading four bytes at a time. The fast
 * path's readers ask for it per line of one buffer, so the view of the last buffer asked about is
 * kept rather than made again. NOTE: a DataView throws past its end where a typed array reads
 * undefined: callers check their bounds.
 */
export function dataViewOf(bytes: Uint8Array): DataView<ArrayBufferLike> {
  if (bytes !== viewedBytes) {
    bytesView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    viewedBytes = bytes;
  }
  return bytesView;
}
