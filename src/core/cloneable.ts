/**
 * Which values weft carries as they are. Values cross threads and processes by
 * structured clone, which rejects functions, symbols, promises, weak collections and the
 * like with an unhelpful message, and silently turns a class instance into a plain object
 * and a Buffer into a Uint8Array; stores keep a narrower set still. What is here finds
 * the value that would not arrive as it left, so that the error names it.
 */
import { inspect } from 'node:util';
import { describeType } from './describe.ts';

/** Where a value that cannot be cloned sits, and what it is. */
export interface Uncloneable {
  /** Path inside the inspected value, e.g. `input.options.onDone`. */
  readonly path: string;
  /** Its type, e.g. `a function`, `a Promise`. */
  readonly type: string;
}

const rejected = [Promise, WeakMap, WeakSet, WeakRef] as const;

/** True for the objects structured clone rejects: promises and weak collections. */
export function cloneRejects(value: object): boolean {
  return rejected.some((kind) => value instanceof kind);
}

/**
 * The first value inside `value` that structured clone would reject, or undefined.
 * Walks plain objects, arrays, Maps and Sets; stops at typed arrays and buffers, so it
 * costs little on large binary data.
 */
export function findUncloneable(
  value: unknown,
  path = 'value',
  seen = new Set<object>(),
): Uncloneable | undefined {
  switch (typeof value) {
    case 'function':
      return { path, type: describeType(value) };
    case 'symbol':
      return { path, type: 'a symbol' };
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  if (seen.has(value)) return undefined;
  seen.add(value);
  if (cloneRejects(value)) return { path, type: describeType(value) };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUncloneable(value[i], `${path}[${i}]`, seen);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Map) {
    for (const [key, entry] of value) {
      const found =
        findUncloneable(key, `${path}.keys()`, seen) ??
        findUncloneable(entry, `${path}.get(${String(key)})`, seen);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const entry of value) {
      const found = findUncloneable(entry, `${path}.values()`, seen);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = findUncloneable((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
    if (found) return found;
  }
  return undefined;
}

/**
 * Prototypes of the built-ins that both structured clone and the stores keep, class and
 * all. Errors are kept apart (any subclass, see {@link foreignClass}).
 */
const keptPrototypes = new Set<object | null>([
  null,
  Object.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  SharedArrayBuffer.prototype,
  DataView.prototype,
  Buffer.prototype,
  Int8Array.prototype,
  Uint8Array.prototype,
  Uint8ClampedArray.prototype,
  Int16Array.prototype,
  Uint16Array.prototype,
  Int32Array.prototype,
  Uint32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
  Number.prototype,
  String.prototype,
  Boolean.prototype,
]);

const objectPrototypeNames = Object.getOwnPropertyNames(Object.prototype).sort().join('\0');

/**
 * The class name of `value` when it is an instance of a class that weft cannot carry as
 * it is (a class of your own, a subclass of Array, Map or Uint8Array other than Buffer, a
 * URL…), or undefined for plain objects, `Object.create(null)`, plain objects of another
 * realm, Errors and the built-ins kept by both structured clone and the stores.
 */
export function foreignClass(value: object): string | undefined {
  const proto: unknown = Object.getPrototypeOf(value);
  // An array is kept with some realm's Array.prototype only (one of a vm context too):
  // a subclass's prototype is no array, and one without comes back with one.
  if (Array.isArray(value)) return isArrayPrototype(proto) ? undefined : className(value);
  if (keptPrototypes.has(proto as object | null)) return undefined;
  if (value instanceof Error || Object.prototype.toString.call(value) === '[object Error]') {
    return undefined;
  }
  // An object literal made in another realm (a vm context) is plain data too.
  if (
    typeof proto === 'object' &&
    proto !== null &&
    Object.getPrototypeOf(proto) === null &&
    Object.getOwnPropertyNames(proto).sort().join('\0') === objectPrototypeNames
  ) {
    return undefined;
  }
  return className(value);
}

/**
 * Whether `proto` is the Array.prototype of some realm: the only arrays that are
 * prototypes, their own prototype being that realm's Object.prototype (whose is null).
 */
function isArrayPrototype(proto: unknown): boolean {
  if (proto === Array.prototype) return true;
  if (!Array.isArray(proto)) return false;
  const objectPrototype: unknown = Object.getPrototypeOf(proto);
  return (
    typeof objectPrototype === 'object' &&
    objectPrototype !== null &&
    Object.getPrototypeOf(objectPrototype) === null
  );
}

/** The name a person knows an object's class by: its constructor's, else its tag. */
export function className(value: object): string {
  try {
    const maker = (value as { constructor?: { name?: unknown } }).constructor;
    if (typeof maker?.name === 'string' && maker.name !== '') return maker.name;
  } catch {
    // A throwing getter or a revoked proxy: fall back to the tag, which cannot throw.
  }
  return Object.prototype.toString.call(value).slice(8, -1);
}

// Below this length, listing an array's keys is cheaper than asking `inspect`.
const shortArray = 128;
const keysOnly = {
  maxArrayLength: 0,
  depth: 0,
  customInspect: false,
  getters: false,
  showHidden: false,
  showProxy: false,
  compact: true,
  breakLength: Number.POSITIVE_INFINITY,
} as const;

/**
 * True when an array, a typed array or another built-in (a Map, a Date…) has own
 * enumerable properties besides its elements (`arr.total = 3`, the `index` and `input` of
 * a RegExp match, `map.total = 3`), which JSON and the stores would drop.
 */
export function hasExtraProperties(value: object): boolean {
  if (Object.getOwnPropertySymbols(value).length > 0) return true;
  const length = indexedLength(value);
  if (length === undefined) return Object.keys(value).length > 0;
  if (length <= shortArray) {
    // Keys list indices first, in order: an extra property, if any, comes last.
    const keys = Object.keys(value);
    const last = keys[keys.length - 1];
    return last !== undefined && !isArrayIndex(last);
  }
  // Listing a long array's keys names every index (a million strings for a million
  // elements); `inspect`, told to show no element, lists only the other properties,
  // after the elements it leaves out.
  return !inspect(value, keysOnly).endsWith(` ${length} more item${length === 1 ? '' : 's'} ]`);
}

/** The number of elements of what has elements as own properties, else undefined. */
function indexedLength(value: object): number | undefined {
  if (Array.isArray(value)) return value.length;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return (value as unknown as ArrayLike<unknown>).length;
  }
  // A String object has its characters as properties: listed, whatever its length (rare).
  if (value instanceof String) return 0;
  return undefined;
}

function isArrayIndex(key: string): boolean {
  const index = Number(key);
  return Number.isInteger(index) && index >= 0 && index < 2 ** 32 - 1 && String(index) === key;
}

/**
 * Where `target` sits inside `root`, written as devalue writes paths (`.rows[2].get("k")`,
 * empty for `root` itself), looking where structured clone and the stores look (and in
 * the fields of errors, setting `via.error` to the path of the outermost error passed);
 * meant for error messages, once something was found wrong.
 */
export function pathTo(
  root: unknown,
  target: unknown,
  via?: { error?: string },
): string | undefined {
  const seen = new Set<object>();
  const search = (item: unknown, path: string): string | undefined => {
    if (item === target) return path;
    if (typeof item !== 'object' || item === null || seen.has(item)) return undefined;
    seen.add(item);
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const found = search(item[i], `${path}[${i}]`);
        if (found !== undefined) return found;
      }
    } else if (item instanceof Map) {
      for (const [key, entry] of item) {
        const at = `${path}.get(${mapKey(key)})`;
        const found = search(key, `${path}.keys()`) ?? search(entry, at);
        if (found !== undefined) return found;
      }
    } else if (item instanceof Set) {
      for (const entry of item) {
        const found = search(entry, `${path}.values()`);
        if (found !== undefined) return found;
      }
    } else if (item instanceof Error) {
      // An error's fields are stored too, the hidden ones (cause, errors) with them.
      for (const key of errorFieldNames(item)) {
        const found = search((item as unknown as Record<string, unknown>)[key], path + step(key));
        if (found === undefined) continue;
        // Unwinding: the outermost error on the path is the last one set.
        if (via !== undefined) via.error = path;
        return found;
      }
    } else if (isPlainRecord(item)) {
      for (const [key, entry] of Object.entries(item)) {
        const found = search(entry, path + step(key));
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  try {
    return search(root, '');
  } catch {
    return undefined;
  }
}

function step(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function mapKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'bigint') return `${key}n`;
  return typeof key === 'object' || typeof key === 'function' ? '...' : String(key);
}

/**
 * The own fields of an error that the stores keep beside its name, message and stack:
 * enumerable or not (`cause`, an AggregateError's `errors`, a ZodError's `issues`).
 */
export function errorFieldNames(error: Error): string[] {
  return Object.getOwnPropertyNames(error).filter(
    (key) => key !== 'name' && key !== 'message' && key !== 'stack',
  );
}

/** A plain object, of this realm or another, or one without a prototype. */
export function isPlainRecord(object: object): boolean {
  const proto: unknown = Object.getPrototypeOf(object);
  return proto === Object.prototype || proto === null || className(object) === 'Object';
}
