/**
 * The default serializer of every store, built on devalue. What it keeps, and what it
 * refuses, so that a resumed run returns the values of the first run:
 * - kept as they are: JSON values; undefined (also inside arrays and objects), NaN,
 *   ±Infinity, -0; Date, Map, Set, BigInt, RegExp, URL, URLSearchParams; every typed
 *   array, DataView, ArrayBuffer; Buffer (it comes back a Buffer, not a Uint8Array);
 *   objects without a prototype; holes in arrays; circular and shared references;
 *   arrays and plain objects made in another realm (a vm context); an own `__proto__` key
 *   (JSON.parse makes one), which comes back an own key, never a prototype.
 * - Error (any subclass) comes back an Error keeping name, message, stack and every other
 *   own field, enumerable or not (`code`, `cause`, an AggregateError's `errors`, a
 *   ZodError's `issues`), each stored as any value is; the standard classes (TypeError,
 *   RangeError, AggregateError…) keep their class. weft recognises errors by `code`, not
 *   by class (see errors.ts).
 * - refused when first stored, with a {@link SerializationError} naming the key, the
 *   path inside the value, the type and the fix: functions, symbols, promises, weak
 *   collections; instances of classes (your own, or a subclass of Array, Map, Uint8Array
 *   other than Buffer…), which would come back as plain data without their methods
 *   (register a custom type for them with {@link createSerializer}); arrays with extra
 *   own enumerable properties (`arr.total = 3`, a RegExp match's `index`), and Maps,
 *   Sets, Dates, typed arrays, Buffers… with them, which JSON and devalue would drop
 *   (copy the elements with `[...match]`, or return an object holding the value and the
 *   other fields); an error with a field that cannot be stored (a ZodError's internals
 *   hold a function); an error, or an object with a `__proto__` key, reachable from its
 *   own fields (it would come back a copy of itself); objects with symbol keys; values
 *   whose text would pass the longest string JavaScript holds (about 512 MB).
 * Decoding builds only own data properties: JSON or plain devalue text with a `__proto__`
 * key is refused, and no key is ever turned into a prototype.
 *
 * Plain JSON data, what most tasks return, takes a fast path: it is written as JSON after
 * a marker (see {@link plainJsonBound}), several times faster than devalue both ways.
 */
import { parse, stringify } from 'devalue';
import { hasExtraProperties, isPlainRecord } from '../core/cloneable.ts';
import { SerializationError } from '../core/errors.ts';
import type { Serializer } from '../core/serializer.ts';
import {
  encoding,
  hasProtoKey,
  reduceError,
  refuseInCycle,
  reviveError,
} from './serializer-errors.ts';
import { guard, refusal, refuseExtraProperties } from './serializer-refusals.ts';
import { maxText, measureJson, tooLarge } from './serializer-size.ts';

/**
 * How to store values of one type the default serializer refuses, such as instances of
 * your own class.
 * @example
 * const point: CustomType<Point> = {
 *   reduce: (value) => (value instanceof Point ? [value.x, value.y] : undefined),
 *   revive: (plain) => new Point(...(plain as [number, number])),
 * };
 */
export interface CustomType<T = unknown> {
  /**
   * Returns a storable form of `value` when it is of this type, or `undefined` when it
   * is not. It is asked about every value being encoded, so it must be quick.
   */
  readonly reduce: (value: unknown) => unknown;
  /** Rebuilds the value from the form {@link reduce} returned. */
  readonly revive: (stored: unknown) => T;
}

/** Options of {@link createSerializer}. */
export interface SerializerOptions {
  /**
   * Extra types by name. The name is written with every value of the type, so it must
   * stay the same for as long as stored values are read back: letters, digits, `_`, `.`
   * and `-`.
   * @default {}
   * @example createSerializer({ types: { Point: point } })
   */
  readonly types?: Readonly<Record<string, CustomType>>;
}

type Reducers = Record<string, (value: unknown) => unknown>;

// Names of weft's own types carry a prefix that user names cannot, so they never clash.
const errorType = 'weft:Error';
const viewType = 'weft:View';
const bufferType = 'weft:Buffer';
const keysType = 'weft:Keys';
// Not a stored type: a reducer that refuses what devalue would store as something else.
const guardType = 'weft:Guard';

// devalue's text starts with '[' or '-', so text starting with the marker is JSON after it,
// and text written by devalue alone (older stores, custom types) still decodes.
const jsonMarker = 'j';
const jsonMarkerCode = jsonMarker.charCodeAt(0);
// Deeper values go to devalue, whose refusals name the path; JSON.stringify would only
// overflow the stack on them.
const maxJsonDepth = 64;

/**
 * Returns a serializer, optionally with extra types.
 * @param options See {@link SerializerOptions}.
 * @throws SerializationError when a type name is not valid
 * @example
 * const serializer = createSerializer();
 * serializer.decode(serializer.encode(new Map([[1, 2n]]))); // Map { 1 => 2n }
 */
export function createSerializer(options: SerializerOptions = {}): Serializer {
  const reducers: Reducers = {};
  const revivers: Reducers = {};
  for (const [name, type] of Object.entries(options.types ?? {})) {
    if (!/^[A-Za-z_][\w.-]{0,99}$/.test(name)) {
      throw new SerializationError(
        `Custom type name '${name}' is not valid: use letters, digits, '_', '.' and '-'.`,
      );
    }
    // devalue skips a falsy reduced form, so the form travels boxed in an array.
    reducers[name] = (value) => {
      const reduced = type.reduce(value);
      return reduced === undefined ? undefined : [reduced];
    };
    revivers[name] = (boxed) => {
      if (!Array.isArray(boxed) || boxed.length !== 1) throw new Error(`Invalid stored ${name}`);
      return type.revive(boxed[0]);
    };
  }
  // devalue asks reducers in insertion order: custom types first, so that one may take
  // over a kind weft handles itself (an Error subclass stored with its own fields).
  reducers[errorType] = reduceError;
  reducers[bufferType] = reduceBuffer;
  reducers[keysType] = reduceProtoKey;
  reducers[guardType] = guard;
  reducers[viewType] = reduceView;
  revivers[errorType] = reviveError;
  revivers[bufferType] = reviveBuffer;
  revivers[viewType] = (view) => view;
  revivers[keysType] = reviveProtoKey;

  // A custom type may claim plain data too, so with custom types everything goes to devalue.
  const fast = Object.keys(options.types ?? {}).length === 0;

  return {
    encode(value: unknown, key?: string): string {
      if (fast) {
        const bound = plainJsonBound(value);
        // Under the bound, the text surely fits in a string.
        if (bound >= 0 && bound < maxText) return jsonMarker + JSON.stringify(value);
        if (bound >= 0) {
          const json = jsonNearTheLimit(value, key);
          if (json !== undefined) return json;
        }
      }
      try {
        return encoding(value, () => stringify(value, reducers));
      } catch (error) {
        throw refusal(error, key, value);
      }
    },
    decode(text: string): unknown {
      if (typeof text !== 'string') {
        throw new SerializationError(
          `Cannot decode a ${typeof text}: stored values are text written by the serializer.`,
        );
      }
      try {
        if (text.charCodeAt(0) === jsonMarkerCode) return parseJson(text.slice(1));
        return parse(text, revivers);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SerializationError(
          `Cannot decode a stored value (${reason}): it was not written by this serializer, ` +
            'or it was changed since. Check that it was written by weft with the same custom types.',
          { cause: error },
        );
      }
    },
  };
}

/** The serializer every store uses unless given another. */
export const defaultSerializer: Serializer = createSerializer();

/**
 * An upper bound of the length of `value`'s JSON text when JSON stores it exactly as
 * devalue would, else -1. That is: finite numbers other than -0, strings, booleans, null,
 * and arrays (without holes or extra properties) and plain objects (without symbol keys,
 * undefined properties or a `__proto__` key) of those, each object reached once (a shared
 * or circular reference is devalue's to keep). Anything else, and anything that throws
 * while being read, is left to devalue, which stores it or says why it cannot.
 */
function plainJsonBound(value: unknown): number {
  try {
    return jsonBound(value, undefined, 0);
  } catch {
    return -1;
  }
}

// The longest number JSON writes, e.g. -1.2345678901234567e-100.
const maxNumberText = 25;

function jsonBound(value: unknown, seen: Set<object> | undefined, depth: number): number {
  switch (typeof value) {
    case 'string':
      // An escape (\u0001) is at most six characters.
      return value.length * 6 + 2;
    case 'boolean':
      return 5;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? maxNumberText : -1;
    case 'object':
      break;
    default:
      return -1;
  }
  if (value === null) return 4;
  if (depth === maxJsonDepth) return -1;
  // Made only for a container, so that a task returning a number allocates nothing here.
  seen ??= new Set();
  if (seen.has(value)) return -1;
  seen.add(value);
  if (Array.isArray(value)) {
    // A subclass, or extra properties, would be lost: devalue's guard refuses them.
    if (Object.getPrototypeOf(value) !== Array.prototype || hasExtraProperties(value)) return -1;
    let size = 2 + value.length;
    for (let i = 0; i < value.length; i++) {
      // A hole reads as undefined, and JSON would write both as null.
      const item: unknown = value[i];
      const bound = item === undefined ? -1 : jsonBound(item, seen, depth + 1);
      if (bound < 0) return -1;
      size += bound;
    }
    return size;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return -1;
  if (Object.getOwnPropertySymbols(value).length > 0) return -1;
  let size = 2;
  for (const key in value) {
    if (key === '__proto__') return -1;
    const bound = jsonBound((value as Record<string, unknown>)[key], seen, depth + 1);
    if (bound < 0) return -1;
    size += bound + key.length * 6 + 4;
  }
  return size;
}

/**
 * The JSON text of plain data whose bound passed the longest string: it may still fit
 * (few escapes), or devalue may write it shorter (it writes a repeated string once), or
 * no text can hold it. Measured before any text is built, so that a value too large to
 * store is refused without first filling half a gigabyte.
 * @returns the text, or undefined to leave the value to devalue
 * @throws SerializationError when no text can hold the value
 */
function jsonNearTheLimit(value: unknown, key: string | undefined): string | undefined {
  const { json, strings } = measureJson(value);
  if (json + jsonMarker.length <= maxText) return jsonMarker + JSON.stringify(value);
  if (strings >= maxText) throw tooLarge(key);
  return undefined;
}

/**
 * JSON.parse, except that a `__proto__` key is refused: JSON.parse would make it an own
 * property, harmless itself but a prototype the moment the object is merged with
 * Object.assign. The marker-free check is cheap; keys are looked at only when the text
 * has `__proto__` or an escape that could spell it.
 */
function parseJson(json: string): unknown {
  if (!json.includes('__proto__') && !json.includes('\\u')) return JSON.parse(json);
  return JSON.parse(json, (key, value: unknown) => {
    if (key === '__proto__') throw new Error('an object has a `__proto__` key');
    return value;
  });
}

/**
 * An object with an own `__proto__` key (JSON.parse makes one, and State keeps it as a
 * plain key), which devalue refuses: stored as its keys and values, a plain object or
 * one without a prototype, and revived with each key an own data property again.
 */
function reduceProtoKey(value: unknown): unknown[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (!hasProtoKey(value) || !isPlainRecord(value)) return undefined;
  refuseInCycle(value, "an object with a '__proto__' key reachable from its own values");
  if (Object.getOwnPropertySymbols(value).length > 0) return undefined; // devalue says why
  const form: unknown[] = [Object.getPrototypeOf(value) === null ? 0 : 1];
  for (const key of Object.keys(value)) form.push(key, (value as Record<string, unknown>)[key]);
  return form;
}

function reviveProtoKey(form: unknown): object {
  if (!Array.isArray(form) || form.length % 2 !== 1 || (form[0] !== 0 && form[0] !== 1)) {
    throw new Error('Invalid stored object');
  }
  const object: Record<string, unknown> = form[0] === 0 ? Object.create(null) : {};
  for (let i = 1; i < form.length; i += 2) {
    if (typeof form[i] !== 'string') throw new Error('Invalid stored object');
    // Defined, not assigned: a `__proto__` key stays a key, never a prototype.
    Object.defineProperty(object, form[i] as string, {
      value: form[i + 1],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/** A Buffer is stored as its bytes, copied out of the pool it may share. */
function reduceBuffer(value: unknown): Uint8Array | undefined {
  if (!Buffer.isBuffer(value)) return undefined;
  // Claimed before the guard sees it, which would refuse its extra properties.
  refuseExtraProperties(value);
  return new Uint8Array(value);
}

function reviveBuffer(bytes: unknown): Buffer {
  if (!(bytes instanceof Uint8Array)) throw new Error('Invalid stored Buffer');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * devalue writes a typed array's whole buffer. A view into a larger buffer (a subarray)
 * is therefore copied first, so a few bytes do not store kilobytes.
 */
function reduceView(value: unknown): ArrayBufferView | undefined {
  if (!ArrayBuffer.isView(value) || value.byteLength === value.buffer.byteLength) return undefined;
  const bytes = value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  if (value instanceof DataView) return new DataView(bytes);
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const View = (globalThis as unknown as Record<string, new (buffer: ArrayBuffer) => unknown>)[tag];
  return View ? (new View(bytes as ArrayBuffer) as ArrayBufferView) : undefined;
}
