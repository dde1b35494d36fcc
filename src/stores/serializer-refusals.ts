/**
 * What the default serializer refuses beyond what devalue refuses itself, and how a
 * refusal is said: the key, the path inside the value, the type found there and the fix.
 */
import {
  className,
  foreignClass,
  hasExtraProperties,
  isPlainRecord,
  pathTo,
} from '../core/cloneable.ts';
import { SerializationError } from '../core/errors.ts';
import { isStringTooLong } from '../core/serializer.ts';
import { tooLarge } from './serializer-size.ts';

// devalue stores these itself, though structured clone cannot carry them.
const alsoStored = new Set<object>([URL.prototype, URLSearchParams.prototype]);

// The tags by which devalue stores an object as a built-in, whatever its class.
const devalueTags = new Set([
  'Array',
  'Date',
  'Map',
  'Set',
  'RegExp',
  'ArrayBuffer',
  'DataView',
  'Number',
  'String',
  'Boolean',
  'BigInt',
  'URL',
  'URLSearchParams',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

/** What devalue would store as something else, refused by {@link guard}. */
class Unfaithful extends Error {
  constructor(
    readonly value: object,
    readonly type: string,
    readonly fix: string,
  ) {
    super(type);
  }
}

/**
 * Asked about every object devalue meets, after the types that claim it: refuses what
 * devalue would store as something else, namely an array whose extra properties it would
 * drop, and a class instance it would take for a built-in by its tag (a subclass of Array
 * or Map comes back a plain one) or for a plain object (its prototype's prototype is
 * null). Other class instances are left to devalue, which refuses them itself.
 */
export function guard(value: unknown): undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const name = foreignClass(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (name === undefined || alsoStored.has(proto as object)) {
    if (!isPlainRecord(value)) refuseExtraProperties(value);
    return undefined;
  }
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  if (devalueTags.has(tag) || Object.getPrototypeOf(proto) === null) {
    throw new Unfaithful(value, `an instance of class ${name}`, instanceFix(name, tag));
  }
  return undefined;
}

/**
 * Refuses a built-in (an array, a Map, a Date, a typed array, a Buffer…) with own
 * enumerable properties besides its elements: devalue and JSON would store it without.
 */
export function refuseExtraProperties(value: object): void {
  if (!hasExtraProperties(value)) return;
  if (Array.isArray(value)) {
    throw new Unfaithful(
      value,
      'an array with extra properties',
      'They would be lost: return the elements alone ([...value]), or an object holding ' +
        'the elements and the other fields.',
    );
  }
  const name = className(value);
  const extra = [...Object.getOwnPropertySymbols(value), ...Object.keys(value)]
    .map(String)
    .find((key) => !/^\d+$/.test(key));
  throw new Unfaithful(
    value,
    `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name} with extra properties (${extra})`,
    `They would be lost: return an object holding the ${name} and the other fields.`,
  );
}

/** Refuses `value`, found where devalue would store it as something else. */
export function unfaithful(value: object, type: string, fix: string): never {
  throw new Unfaithful(value, type, fix);
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
export function refusal(
  error: unknown,
  key: string | undefined,
  root: unknown,
): SerializationError {
  const subject = key === undefined ? 'The value' : key;
  if (isStringTooLong(error)) return tooLarge(key, error);
  if (error instanceof Unfaithful) {
    const via: { error?: string } = {};
    const path = pathTo(root, error.value, via);
    const where = path === undefined ? 'a value inside it' : describePath(path);
    return new SerializationError(
      `${subject} cannot be stored: ${where} is ${error.type}. ${error.fix}${inError(via)}`,
      { cause: error },
    );
  }
  if (!isDevalueFailure(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new SerializationError(
      `${subject} cannot be stored: reading it threw (${reason}). Return plain data instead.`,
      { cause: error },
    );
  }
  const found = describeSafely(error.value, error.message);
  // devalue's path runs through the stored form of an error; the value's own path does not.
  const via: { error?: string } = {};
  const path = error.path.includes('.fields') ? pathTo(root, error.value, via) : undefined;
  return new SerializationError(
    `${subject} cannot be stored: ${describePath(path ?? error.path)} is ${found.type}. ` +
      found.fix +
      inError(via),
    { cause: error },
  );
}

/** What to do when what cannot be stored is a field of an error. */
function inError(via: { error?: string }): string {
  if (via.error === undefined) return '';
  return (
    ` It is a field of the error at ${describePath(via.error)}, and errors are stored with ` +
    'all their fields: return the fields you need instead (for example ' +
    '{ message: error.message, issues: error.issues }).'
  );
}

function describePath(path: string): string {
  return path === '' ? 'the value itself' : `value${path}`;
}

const plainData =
  'Return plain data: objects, arrays, strings, numbers, booleans, null, undefined, ' +
  'BigInt, Date, Map, Set, RegExp, typed arrays, Buffer, ArrayBuffer or Error.';

// How to copy an instance of a subclass of a collection into the collection itself.
const collectionCopies: Readonly<Record<string, string>> = {
  Array: '[...value]',
  Map: 'new Map(value)',
  Set: 'new Set(value)',
};

function instanceFix(name: string, tag?: string): string {
  const copy =
    tag !== undefined && Object.hasOwn(collectionCopies, tag) ? collectionCopies[tag] : undefined;
  if (copy !== undefined) {
    return (
      `Copy the ${name} instance into a plain ${tag} (${copy}) before returning it, or ` +
      `register it as a custom type with createSerializer({ types }).`
    );
  }
  return (
    `Convert the ${name} instance to a plain object (for example { ...value } or a ` +
    'toJSON-like method) before returning it, or register it as a custom type with ' +
    `createSerializer({ types }). ${plainData}`
  );
}

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
  const name = className(value);
  return { type: `an instance of class ${name}`, fix: instanceFix(name) };
}
