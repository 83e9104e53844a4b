/**
 * Python-level operations on top of the mutator: `lst.append(x)`, `d[k] = v`, `s = 'text'`…
 * Each records the events CPython's heap would see, in its order: a container that must grow is
 * reallocated (`resize`) before the new reference is stored [v3.12.5 Objects/listobject.c:
 * app1 → list_resize; Objects/dictobject.c: insertdict → insertion_resize].
 */
import type { Handle, Mutator } from './mutator.js';
import { DictShape, FLOAT_BYTES, SMALL_INT_MAX, bytesBytes, intBytes, listBytes, listCapacityAfterAppend, strBytes } from './sizes.js';

/** A list a workload appends to; its capacity decides when `append` reallocates. */
export interface ListObject {
  readonly handle: Handle;
  /** Items in the list. */
  length: number;
  /** Room in the item array. */
  capacity: number;
}

/** A dict a workload inserts into. */
export interface DictObject {
  readonly handle: Handle;
  readonly shape: DictShape;
}

/** `[]` */
export function newList(m: Mutator, site?: string): ListObject {
  return { handle: m.allocContainer('list', listBytes(0), site), length: 0, capacity: 0 };
}

/** `{}` (with str keys unless `strKeys` is false). */
export function newDict(m: Mutator, site?: string, strKeys = true): DictObject {
  const shape = new DictShape(strKeys);
  return { handle: m.allocContainer('dict', shape.bytes, site), shape };
}

/** `lst.append(item)`: the list takes a reference; the program keeps its own. */
export function appendKeep(m: Mutator, list: ListObject, item: Handle): void {
  const capacity = listCapacityAfterAppend(list.capacity, list.length + 1);
  if (capacity !== list.capacity) {
    list.capacity = capacity;
    m.resize(list.handle, listBytes(capacity));
  }
  list.length++;
  m.link(list.handle, item);
}

/** `lst.append(make())`: the list takes the reference the program held (a temporary). */
export function append(m: Mutator, list: ListObject, item: Handle): void {
  appendKeep(m, list, item);
  m.decref(item);
}

/** `d[new_key] = value`: the dict takes a reference; the program keeps its own. */
export function setItemKeep(m: Mutator, dict: DictObject, value: Handle): void {
  if (dict.shape.insert()) m.resize(dict.handle, dict.shape.bytes);
  m.link(dict.handle, value);
}

/** `d[new_key] = make()`: the dict takes the program's temporary reference. */
export function setItem(m: Mutator, dict: DictObject, value: Handle): void {
  setItemKeep(m, dict, value);
  m.decref(value);
}

/** `del d[key]` for the entry holding `value`. */
export function deleteItem(m: Mutator, dict: DictObject, value: Handle): void {
  dict.shape.delete();
  m.unlink(dict.handle, value);
}

/** A new ASCII str of `length` ≥ 2 characters (shorter ones are interpreter singletons). */
export function newStr(m: Mutator, length: number, site?: string): Handle {
  return m.allocAtom('str', strBytes(Math.max(2, length)), site);
}

/** A new bytes object of `length` ≥ 2 bytes. */
export function newBytes(m: Mutator, length: number, site?: string): Handle {
  return m.allocAtom('bytes', bytesBytes(Math.max(2, length)), site);
}

/** A new int; only values outside the small-int cache are ever allocated, so pass one > 256. */
export function newInt(m: Mutator, value: number, site?: string): Handle {
  return m.allocAtom('int', intBytes(Math.max(SMALL_INT_MAX + 1, value)), site);
}

export function newFloat(m: Mutator, site?: string): Handle {
  return m.allocAtom('float', FLOAT_BYTES, site);
}
