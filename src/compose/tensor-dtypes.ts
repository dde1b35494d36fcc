/**
 * A tensor's element types: the typed array behind each dtype, allocation checked against
 * what a typed array can hold, and how mixed dtypes promote when tensors combine.
 */
import { constants } from 'node:buffer';
import { ValidationError } from '../core/errors.ts';
import { checkShape, shapeText, sizeOf } from './tensor-shapes.ts';

/** The element types a tensor can hold, named as in NumPy and JAX. */
export type DType =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint8clamped';

/** The typed array that holds each dtype's elements. */
export interface TypedArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint8clamped: Uint8ClampedArray;
}

/** Any typed array a tensor can hold. */
export type TypedArray = TypedArrayOf[DType];

type TypedArrayConstructor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const constructors: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint8clamped: Uint8ClampedArray,
} as Record<DType, TypedArrayConstructor>;

/** The dtypes, for messages and checks. */
export const dtypes = Object.keys(constructors) as readonly DType[];

/** True when `dtype` is one of {@link dtypes} (an own key: `toString` is no dtype). */
export function isDType(dtype: unknown): dtype is DType {
  return typeof dtype === 'string' && Object.hasOwn(constructors, dtype);
}

/** The typed array class of `dtype`, checked. */
export function constructorOf(dtype: DType, what: string): TypedArrayConstructor {
  if (!isDType(dtype)) {
    throw new ValidationError(
      `${what}: unknown dtype '${String(dtype)}'; use one of ${dtypes.join(', ')}.`,
    );
  }
  return constructors[dtype];
}

/** The dtype of a typed array, or undefined for a BigInt64Array and the like. */
export function dtypeOf(data: ArrayBufferView): DType | undefined {
  for (const dtype of dtypes) if (data instanceof constructors[dtype]) return dtype;
  return undefined;
}

/** True when `data` is the typed array of `dtype`. */
export function holds(data: unknown, dtype: DType): boolean {
  return data instanceof constructors[dtype];
}

/** Bytes per element of `dtype`. */
export function bytesPerElement(dtype: DType): number {
  return constructorOf(dtype, 'bytesPerElement()').BYTES_PER_ELEMENT;
}

/**
 * The most elements a typed array of `dtype` may have: the runtime's limit (2^32 on
 * Node 20), and a byte length that stays an exact number.
 */
function maxElements(dtype: DType): number {
  return Math.min(
    constants.MAX_LENGTH,
    Math.floor(Number.MAX_SAFE_INTEGER / constructors[dtype].BYTES_PER_ELEMENT),
  );
}

/**
 * A new zero-filled typed array of `dtype` on `buffer`, or on a new ArrayBuffer.
 * @throws ValidationError for a length a typed array cannot have
 */
export function typedArray<D extends DType>(
  dtype: D,
  length: number,
  buffer?: ArrayBufferLike,
): TypedArrayOf[D] {
  const Ctor = constructorOf(dtype, 'typedArray()');
  if (!Number.isSafeInteger(length) || length < 0 || length > maxElements(dtype)) {
    throw new ValidationError(
      `typedArray(): ${String(length)} elements of ${dtype} is no length a typed array can have (0 to ${maxElements(dtype)}); split the data into smaller tensors.`,
    );
  }
  return (buffer === undefined ? new Ctor(length) : new Ctor(buffer, 0, length)) as TypedArrayOf[D];
}

/**
 * A new zero-filled typed array for a tensor of `shape` (a checked shape).
 * @throws ValidationError naming the shape when a typed array cannot hold that many elements
 */
export function arrayOfShape<D extends DType>(
  dtype: D,
  shape: readonly number[],
  what: string,
): TypedArrayOf[D] {
  checkFits(dtype, shape, what);
  return new (constructorOf(dtype, what))(sizeOf(shape)) as TypedArrayOf[D];
}

/**
 * Refuses what is no shape (see `checkShape`) and a shape of more elements than a typed
 * array of `dtype` can hold, naming it.
 */
export function checkFits(dtype: DType, shape: readonly number[], what: string): void {
  constructorOf(dtype, what);
  checkShape(shape, what);
  const size = sizeOf(shape);
  const max = maxElements(dtype);
  if (size > max) {
    throw new ValidationError(
      `${what}: ${shapeText(shape)} holds ${size} elements, more than a typed array of ${dtype} can hold (${max}); split the data into smaller tensors.`,
    );
  }
}

/** The range of values each integer dtype holds, narrowest first. */
const integerRanges: readonly (readonly [DType, number, number])[] = [
  ['int8', -(2 ** 7), 2 ** 7 - 1],
  ['uint8', 0, 2 ** 8 - 1],
  ['int16', -(2 ** 15), 2 ** 15 - 1],
  ['uint16', 0, 2 ** 16 - 1],
  ['int32', -(2 ** 31), 2 ** 31 - 1],
  ['uint32', 0, 2 ** 32 - 1],
];

/**
 * The dtype that tensors of `types` combine into: the same dtype stays; any float64 gives
 * float64, else any float32 gives float32; integers give the narrowest integer type that
 * holds every one's values, or int32 when none does (uint32 with a signed type, as JAX
 * does without 64-bit types).
 */
export function promoteDtypes(types: readonly DType[]): DType {
  const first = types[0] ?? 'float32';
  if (types.every((type) => type === first)) return first;
  if (types.includes('float64')) return 'float64';
  if (types.includes('float32')) return 'float32';
  let min = 0;
  let max = 0;
  for (const type of types) {
    const range = integerRanges.find(
      ([name]) => name === (type === 'uint8clamped' ? 'uint8' : type),
    )!;
    min = Math.min(min, range[1]);
    max = Math.max(max, range[2]);
  }
  return integerRanges.find(([, low, high]) => low <= min && max <= high)?.[0] ?? 'int32';
}

/** True for float32 and float64. */
export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}
