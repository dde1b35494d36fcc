/**
 * The default serializer of every store, built on devalue. Beyond JSON it round-trips
 * undefined (also inside arrays and objects), NaN, ±Infinity, -0, Date, Map, Set, BigInt,
 * RegExp, every typed array, ArrayBuffer, circular and shared references, and Error (any
 * subclass, as an Error that keeps name, message, stack, `code`, `cause` and other own
 * primitive properties). Anything else — functions, symbols, promises, class instances —
 * is refused with a {@link SerializationError} that names the key, the path inside the
 * value, the type found there and the fix.
 *
 * Plain JSON data, what most tasks return, takes a fast path: it is written as JSON after
 * a marker (see {@link isPlainJson}), several times faster than devalue both ways.
 */
import { parse, stringify } from 'devalue';
import { fromWire, SerializationError, toWire, type WireError } from '../core/errors.ts';
import type { Serializer } from '../core/serializer.ts';

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
  reducers[viewType] = reduceView;
  revivers[errorType] = reviveError;
  revivers[viewType] = (view) => view;

  // A custom type may claim plain data too, so with custom types everything goes to devalue.
  const fast = Object.keys(options.types ?? {}).length === 0;

  return {
    encode(value: unknown, key?: string): string {
      if (fast && isPlainJson(value)) return jsonMarker + JSON.stringify(value);
      try {
        return stringify(value, reducers);
      } catch (error) {
        throw refusal(error, key);
      }
    },
    decode(text: string): unknown {
      if (typeof text !== 'string') {
        throw new SerializationError(
          `Cannot decode a ${typeof text}: stored values are text written by the serializer.`,
        );
      }
      try {
        if (text.charCodeAt(0) === jsonMarkerCode) return JSON.parse(text.slice(1));
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
 * True when JSON stores `value` exactly as devalue would: finite numbers other than -0,
 * strings, booleans, null, and arrays (without holes) and plain objects (without symbol
 * keys, undefined properties or a `__proto__` key) of those, each object reached once (a
 * shared or circular reference is devalue's to keep). Anything else, and anything that
 * throws while being read, is left to devalue, which stores it or says why it cannot.
 */
function isPlainJson(value: unknown): boolean {
  try {
    return isJsonIn(value, undefined, 0);
  } catch {
    return false;
  }
}

function isJsonIn(value: unknown, seen: Set<object> | undefined, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth === maxJsonDepth) return false;
  // Made only for a container, so that a task returning a number allocates nothing here.
  seen ??= new Set();
  if (seen.has(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // A hole reads as undefined, and JSON would write both as null.
      const item: unknown = value[i];
      if (item === undefined || !isJsonIn(item, seen, depth + 1)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key in value) {
    if (key === '__proto__') return false;
    if (!isJsonIn((value as Record<string, unknown>)[key], seen, depth + 1)) return false;
  }
  return true;
}

function reduceError(value: unknown): WireError | undefined {
  return isError(value) ? toWire(value) : undefined;
}

function reviveError(wire: unknown): Error {
  if (!isWire(wire)) throw new Error('Invalid stored error');
  return fromWire(wire);
}

function isError(value: unknown): value is Error {
  if (typeof value !== 'object' || value === null) return false;
  // The tag also recognises errors made in another realm (vm contexts), where instanceof fails.
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

function isWire(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const { name, message, cause } = value as Record<string, unknown>;
  return (
    typeof name === 'string' &&
    typeof message === 'string' &&
    (cause === undefined || isWire(cause))
  );
}

/**
 * devalue writes a typed array's whole buffer. A view into a larger buffer (a pooled
 * Buffer, a subarray) is therefore copied first, so a few bytes do not store kilobytes.
 */
function reduceView(value: unknown): ArrayBufferView | undefined {
  if (!ArrayBuffer.isView(value) || value.byteLength === value.buffer.byteLength) return undefined;
  const bytes = value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  if (value instanceof DataView) return new DataView(bytes);
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const View = (globalThis as unknown as Record<string, new (buffer: ArrayBuffer) => unknown>)[tag];
  // A Buffer is a Uint8Array by tag, so it comes back as a plain Uint8Array.
  return View ? (new View(bytes as ArrayBuffer) as ArrayBufferView) : undefined;
}

interface DevalueFailure {
  readonly path: string;
  readonly value: unknown;
}

function isDevalueFailure(error: unknown): error is Error & DevalueFailure {
  return (
    error instanceof Error &&
    error.name === 'DevalueError' &&
    typeof (error as { path?: unknown }).path === 'string'
  );
}

/** Turns what devalue (or a reducer) threw into a message that says what and where. */
function refusal(error: unknown, key: string | undefined): SerializationError {
  const subject = key === undefined ? 'The value' : key;
  if (!isDevalueFailure(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new SerializationError(
      `${subject} cannot be stored: reading it threw (${reason}). Return plain data instead.`,
      { cause: error },
    );
  }
  const where = error.path === '' ? 'the value itself' : `value${error.path}`;
  const found = describeSafely(error.value, error.message);
  return new SerializationError(
    `${subject} cannot be stored: ${where} is ${found.type}. ${found.fix}`,
    { cause: error },
  );
}

const plainData =
  'Return plain data: objects, arrays, strings, numbers, booleans, null, undefined, ' +
  'BigInt, Date, Map, Set, RegExp, typed arrays, ArrayBuffer or Error.';

function describeSafely(value: unknown, reason: string): { type: string; fix: string } {
  try {
    return describe(value, reason);
  } catch {
    // Inspecting the value threw (a throwing getter, a revoked proxy): say so plainly.
    return { type: 'a value that cannot be inspected', fix: plainData };
  }
}

function describe(value: unknown, reason: string): { type: string; fix: string } {
  if (typeof value === 'function') {
    const name = value.name ? ` (${value.name})` : '';
    return { type: `a function${name}`, fix: plainData };
  }
  if (typeof value === 'symbol') return { type: `a symbol (${String(value)})`, fix: plainData };
  if (typeof value !== 'object' || value === null) return { type: typeof value, fix: plainData };
  if (typeof (value as { then?: unknown }).then === 'function') {
    return { type: 'a Promise', fix: 'Await it, and return the value it resolves to.' };
  }
  if (/symbolic keys/.test(reason)) {
    return { type: 'an object with symbol keys', fix: 'Use string keys, or a Map.' };
  }
  if (/__proto__/.test(reason)) {
    return { type: "an object with a '__proto__' key", fix: 'Rename that key.' };
  }
  const name = constructorName(value);
  return {
    type: `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name} instance`,
    fix:
      `Convert the ${name} instance to a plain object (for example { ...value } or a ` +
      'toJSON-like method) before returning it, or register it as a custom type with ' +
      `createSerializer({ types }). ${plainData}`,
  };
}

function constructorName(value: object): string {
  try {
    const maker = (value as { constructor?: { name?: unknown } }).constructor;
    if (typeof maker?.name === 'string' && maker.name !== '') return maker.name;
  } catch {
    // A throwing getter or a revoked proxy: fall back to the tag, which cannot throw.
  }
  return Object.prototype.toString.call(value).slice(8, -1);
}
