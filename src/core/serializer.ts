/**
 * The serializer contract: how stores turn values into text and back. The default,
 * in `src/stores/serializer.ts`, round-trips JSON values, undefined, NaN, Infinity, -0,
 * Date, Map, Set, BigInt, RegExp, typed arrays, ArrayBuffer and Error.
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
