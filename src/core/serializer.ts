/**
 * The serializer contract: how stores turn values into text and back. A value decoded is
 * the value encoded, or encoding refused it (a resumed run never returns anything else);
 * decoding builds only own data properties, never a prototype. The default, in
 * `src/stores/serializer.ts`, round-trips JSON values, undefined, NaN, Infinity, -0, Date,
 * Map, Set, BigInt, RegExp, typed arrays, Buffer, ArrayBuffer and Error, and refuses class
 * instances and arrays with extra properties.
 */

/** Turns values into text and back. */
export interface Serializer {
  /**
   * @param key what the value belongs to, named in the error when it cannot be stored
   * @throws SerializationError naming the key, the path inside the value and its type
   */
  encode(value: unknown, key?: string): string;
  decode(text: string): unknown;
}

/**
 * True for V8's error when text grows past the longest string it can hold: a value too large
 * to serialize, which fails its task alone (a SerializationError), not the run.
 */
export function isStringTooLong(error: unknown): boolean {
  return error instanceof RangeError && /Invalid string length/.test(error.message);
}
