/**
 * Tensors inside values of any shape (an operator's states and metadata, an apply's
 * `extraParams`) as they cross a thread, a process or the run store: each becomes its
 * plain fields (`{ shape, dtype, data }`), which structured clone and the store keep, and
 * its path is listed, so that exactly those places become tensors again on arrival. A
 * user's own object that happens to look like a tensor is never taken for one.
 */
import { isPlainObject } from '../core/describe.ts';
import { isTensor, isTensorLike, type TypedArray, tensorFrom } from './tensor.ts';
import { setOwn } from './tree.ts';

/** Where a value sits inside plain objects (by key) and arrays (by index). */
export type ValuePath = readonly (string | number)[];

/** A value with its tensors as their fields, and where they were. */
export interface Packed<T> {
  readonly value: T;
  readonly tensors: readonly ValuePath[];
}

/**
 * `value` with every tensor in its plain objects and arrays, at any depth, replaced by its
 * fields (sharing its data). Only the objects and arrays on the way to a tensor are
 * copied; `value` itself is left as it is.
 * @param unshare also copy data in shared memory (of tensors and typed arrays) into
 * buffers of its own, for a store, which keeps no shared memory
 */
export function packTensors<T>(value: T, unshare = false): Packed<T> {
  const tensors: ValuePath[] = [];
  const packed = pack(value, [], { found: tensors, ancestors: new Set(), unshare });
  return { value: packed as T, tensors };
}

/**
 * `value` with the fields at `tensors` (from {@link packTensors}) tensors again, sharing
 * their data. Only the objects and arrays on the way to them are copied; a path that
 * leads nowhere, or to no tensor's fields, is left as it is.
 */
export function unpackTensors<T>(value: T, tensors: readonly ValuePath[] | undefined): T {
  if (tensors === undefined || tensors.length === 0) return value;
  const trie: Trie = new Map();
  for (const path of tensors) {
    if (!Array.isArray(path)) continue;
    let node = trie;
    path.forEach((key, depth) => {
      if (depth === path.length - 1) {
        node.set(key, true);
        return;
      }
      let next = node.get(key);
      if (next === undefined || next === true) {
        next = new Map();
        node.set(key, next);
      }
      node = next;
    });
  }
  return rebuild(value, trie) as T;
}

/** The paths as a tree: `true` where a tensor's fields are. */
type Trie = Map<string | number, Trie | true>;

/** What one packing gathers and how. */
interface Packing {
  readonly found: ValuePath[];
  /** The objects and arrays being walked: one met again closes a cycle, left as it is. */
  readonly ancestors: Set<object>;
  readonly unshare: boolean;
}

function pack(value: unknown, path: (string | number)[], packing: Packing): unknown {
  if (isTensor(value)) {
    packing.found.push([...path]);
    const data = packing.unshare ? unshared(value.data) : value.data;
    return { shape: [...value.shape], dtype: value.dtype, data };
  }
  if (packing.unshare && ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return unshared(value as TypedArray);
  }
  const array = Array.isArray(value);
  const { ancestors } = packing;
  if (!(array || isPlainObject(value)) || ancestors.has(value as object)) return value;
  ancestors.add(value as object);
  let copy: Record<string | number, unknown> | undefined;
  const source = value as Record<string | number, unknown>;
  for (const key of array ? indices(value as unknown[]) : Object.keys(source)) {
    path.push(key);
    const child = source[key];
    const packed = pack(child, path, packing);
    path.pop();
    if (packed === child) continue;
    copy ??= (array ? (value as unknown[]).slice() : copyOwn(source)) as typeof source;
    setOwn(copy, key, packed);
  }
  ancestors.delete(value as object);
  return copy ?? value;
}

function rebuild(value: unknown, trie: Trie | true): unknown {
  if (trie === true) return isTensorLike(value) && !isTensor(value) ? tensorFrom(value) : value;
  const array = Array.isArray(value);
  if (!(array || isPlainObject(value))) return value;
  const source = value as Record<string | number, unknown>;
  const copy = array ? (value as unknown[]).slice() : copyOwn(source);
  for (const [key, below] of trie) {
    // Indices into arrays, keys into objects, own places only: never a prototype's.
    if (array ? typeof key !== 'number' : typeof key !== 'string') continue;
    if (!Object.hasOwn(source, key)) continue;
    setOwn(copy as Record<string | number, unknown>, key, rebuild(source[key], below));
  }
  return copy;
}

/** `data`, or a copy in a buffer of its own when it is in shared memory. */
function unshared(data: TypedArray): TypedArray {
  return data.buffer instanceof SharedArrayBuffer ? (data.slice() as TypedArray) : data;
}

/** The indices of an array's elements (holes skipped). */
function indices(array: readonly unknown[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < array.length; i++) if (Object.hasOwn(array, i)) out.push(i);
  return out;
}

/** A plain object's own enumerable keys and values, under its prototype (Object's or none). */
function copyOwn(source: Record<string, unknown>): Record<string, unknown> {
  const copy = Object.create(Object.getPrototypeOf(source)) as Record<string, unknown>;
  for (const key of Object.keys(source)) setOwn(copy, key, source[key]);
  return copy;
}
