/** Helpers shared by the serializer test files of this folder (serializer*.test.ts). */
import assert from 'node:assert/strict';
import { defaultSerializer, isWeftError, SerializationError } from 'weftjs';

export const { encode, decode } = defaultSerializer;

export function roundTrip<T>(value: T): T {
  const text = encode(value);
  assert.equal(typeof text, 'string');
  return decode(text) as T;
}

/** The SerializationError that encoding `value` throws. */
export function refusal(value: unknown, key?: string): SerializationError {
  try {
    encode(value, key);
  } catch (error) {
    assert.ok(error instanceof SerializationError, `a SerializationError, not ${error}`);
    assert.equal(error.code, 'WEFT_SERIALIZATION');
    return error;
  }
  assert.fail('encode accepted a value it cannot store');
}

export function decodeRefusal(text: unknown): SerializationError {
  try {
    decode(text as string);
  } catch (error) {
    assert.ok(isWeftError(error, 'WEFT_SERIALIZATION'), `WEFT_SERIALIZATION, not ${error}`);
    return error as SerializationError;
  }
  assert.fail(`decode accepted ${String(text)}`);
}

/** A class the serializer knows only through a custom type. */
export class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** `[first, <hole>, last]`, written so because a literal hole reads like a typo. */
export function sparse(first: number, last: number): number[] {
  const array = new Array<number>(3);
  array[0] = first;
  array[2] = last;
  return array;
}

/** True when `text` was written by devalue rather than by the JSON fast path. */
export function isDevalueText(text: string): boolean {
  return text.startsWith('[') || text.startsWith('-');
}
