/**
 * Tensors: dense typed arrays with a shape, row-major. Small on purpose: the composite
 * needs views along the first axis (one example of a batch), element-wise maps and the
 * merges, and every one of those is a loop or a `TypedArray.set` over `data`. A tensor's
 * fields are plain own properties, so a tensor that crosses to a worker thread arrives as
 * `{ shape, dtype, data }` and {@link tensorFrom} makes it a tensor again, sharing `data`.
 */
import { inspect } from 'node:util';
import { ValidationError } from '../core/errors.ts';

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

/** A number, or arrays of numbers nested to any depth: `[[1, 2], [3, 4]]`. */
export type NestedNumbers = number | readonly NestedNumbers[];

/** What {@link tensor} makes a tensor from. */
export type TensorValues = NestedNumbers | TypedArray | Tensor;

/** Options of {@link tensor}. */
export interface TensorOptions<D extends DType = DType> {
  /**
   * The element type. Values of another type are converted (as a typed array's
   * assignment does: floats to integers truncate).
   * @default the typed array's own type, else `float32`
   */
  readonly dtype?: D;
  /**
   * The shape, when it is not the values' own: the values' count must equal its product.
   * @default the nesting of the values; `[length]` for a typed array
   */
  readonly shape?: readonly number[];
}

type TypedArrayConstructor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  from(values: ArrayLike<number>): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
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

/** More axes than this is a mistake (or hostile input), not a tensor. */
const maxAxes = 32;

const tensorBrand = Symbol.for('weft.tensor');

/**
 * A dense array of numbers with a shape. `data` holds the elements in row-major order;
 * `shape` is `[]` for a single number. Views made by {@link Tensor.at} and
 * {@link Tensor.reshape} share `data` with their tensor.
 */
export class Tensor<D extends DType = DType> {
  declare readonly [tensorBrand]: true;
  /** The length of each axis. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: D;
  /** The elements, row-major. */
  readonly data: TypedArrayOf[D];

  /** Wraps `data` (not copied) as a tensor of `shape`; see {@link tensor} to convert values. */
  constructor(data: TypedArrayOf[D], shape: readonly number[], dtype?: D) {
    const type = dtype ?? (dtypeOf(data) as D | undefined);
    if (type === undefined || !Object.hasOwn(constructors, type)) {
      throw new ValidationError(
        dtype === undefined
          ? `new Tensor(): the data is ${describe(data)}; give a typed array of numbers (Float32Array, Int32Array…).`
          : `new Tensor(): unknown dtype '${String(dtype)}'; use one of ${dtypes.join(', ')}.`,
      );
    }
    if (!(data instanceof constructors[type])) {
      throw new ValidationError(
        `new Tensor(): dtype '${type}' needs a ${constructors[type].name}, not ${describe(data)}. Convert with tensor(values, { dtype: '${type}' }).`,
      );
    }
    checkShape(shape, 'new Tensor()');
    if (sizeOf(shape) !== data.length) {
      throw new ValidationError(
        `new Tensor(): shape [${shape.join(', ')}] holds ${sizeOf(shape)} elements but the data has ${data.length}. Give a shape whose product is the data's length.`,
      );
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = type;
    this.data = data;
    Object.defineProperty(this, tensorBrand, { value: true });
  }

  /** How many elements: the product of the shape. */
  get size(): number {
    return this.data.length;
  }

  /** How many axes. */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * The `index`-th slice along the first axis, sharing `data`: one example of a batch.
   * @example tensor([[1, 2], [3, 4]]).at(1).toArray() // [3, 4]
   */
  at(index: number): Tensor<D> {
    const length = this.shape[0];
    if (length === undefined) {
      throw new ValidationError('Tensor.at(): a tensor of shape [] has no first axis to index.');
    }
    if (!Number.isInteger(index) || index < 0 || index >= length) {
      throw new ValidationError(
        length === 0
          ? `Tensor.at(${String(index)}): the first axis is empty (shape [${this.shape.join(', ')}]); there is nothing to index.`
          : `Tensor.at(${String(index)}): the first axis has length ${length}; give an integer from 0 to ${length - 1}.`,
      );
    }
    const stride = length === 0 ? 0 : this.data.length / length;
    const view = this.data.subarray(index * stride, (index + 1) * stride) as TypedArrayOf[D];
    return new Tensor(view, this.shape.slice(1), this.dtype);
  }

  /**
   * The same elements with another shape, sharing `data`; one length may be -1 (inferred).
   * @example tensor([1, 2, 3, 4]).reshape([2, -1]).shape // [2, 2]
   */
  reshape(shape: readonly number[]): Tensor<D> {
    return new Tensor(
      this.data,
      resolveShape(shape, this.data.length, 'Tensor.reshape()'),
      this.dtype,
    );
  }

  /** The element at `index` (one integer per axis). */
  get(...index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ValidationError(
        `Tensor.get(): this tensor has ${this.shape.length} axes; give ${this.shape.length} indices, not ${index.length}.`,
      );
    }
    let offset = 0;
    for (let axis = 0; axis < index.length; axis++) {
      const at = index[axis]!;
      const length = this.shape[axis]!;
      if (!Number.isInteger(at) || at < 0 || at >= length) {
        throw new ValidationError(
          `Tensor.get(): index ${String(at)} is outside axis ${axis} of length ${length}.`,
        );
      }
      offset = offset * length + at;
    }
    return this.data[offset]!;
  }

  /**
   * A new tensor of the same shape with `fn` applied to each element.
   * @example tensor([1, 2]).map((x) => x * 2).toArray() // [2, 4]
   */
  map(fn: (value: number, index: number) => number): Tensor<D>;
  map<T extends DType>(fn: (value: number, index: number) => number, dtype: T): Tensor<T>;
  map(fn: (value: number, index: number) => number, dtype: DType = this.dtype): Tensor {
    const source = this.data;
    const out = new (constructorOf(dtype, 'Tensor.map()'))(source.length);
    for (let i = 0; i < source.length; i++) out[i] = fn(source[i]!, i);
    return new Tensor(out, this.shape, dtype);
  }

  /** A copy with its own data (of `dtype`, converted). */
  copy<T extends DType = D>(dtype?: T): Tensor<T> {
    const type = (dtype ?? this.dtype) as T;
    const out = new (constructorOf(type, 'Tensor.copy()'))(this.data.length) as TypedArrayOf[T];
    out.set(this.data);
    return new Tensor(out, this.shape, type);
  }

  /** The elements as nested arrays of numbers (a number for shape `[]`). */
  toArray(): NestedNumbers {
    return nest(this.data, this.shape, stridesOf(this.shape), 0, 0);
  }

  /** JSON shows the values, as nested arrays. */
  toJSON(): NestedNumbers {
    return this.toArray();
  }

  [inspect.custom](depth: number, options: { stylize(text: string, style: string): string }) {
    const head = options.stylize(`Tensor<${this.dtype}>[${this.shape.join(', ')}]`, 'special');
    if (depth < 0 || this.size === 0) return head;
    if (this.size <= 64) {
      return `${head} ${inspect(this.toArray(), { breakLength: Number.POSITIVE_INFINITY })}`;
    }
    // A large tensor shows its first values, briefly, not millions of numbers.
    const first = Array.from(this.data.subarray(0, 4), (value) =>
      Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4))),
    ).join(', ');
    return `${head} [${first}, … ${(this.size - 4).toLocaleString('en-US')} more]`;
  }
}

/** True for a tensor, also one made by another loaded copy of weft. */
export function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && (value as Tensor)[tensorBrand] === true;
}

/**
 * Makes a tensor from nested number arrays, a typed array (wrapped, not copied, when its
 * type is the dtype's) or a tensor.
 * @example
 * tensor([[1, 2], [3, 4]])                          // float32, shape [2, 2]
 * tensor(new Float64Array(6), { shape: [2, 3] })   // float64, wraps the array
 * tensor([1, 2, 3], { dtype: 'int32' })
 * @throws ValidationError for ragged nesting, non-numbers, or a shape of another size
 */
export function tensor<D extends DType = 'float32'>(
  values: TensorValues,
  options: TensorOptions<D> = {},
): Tensor<D> {
  return tensorOf(values, options, 'tensor()');
}

/** {@link tensor}, with `what` naming the values in errors (e.g. a tree's path). */
export function tensorOf<D extends DType = 'float32'>(
  values: TensorValues,
  options: TensorOptions<D>,
  what: string,
): Tensor<D> {
  if (options.dtype !== undefined) constructorOf(options.dtype, what);
  let data: TypedArray;
  let shape: readonly number[];
  if (isTensor(values) || isTensorLike(values)) {
    ({ data, shape } = values);
  } else if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    data = values as TypedArray;
    shape = [data.length];
    if (dtypeOf(data) === undefined) {
      throw new ValidationError(
        `${what}: a ${data.constructor.name} cannot be a tensor; use a Float32Array, Float64Array, Int32Array or another typed array of numbers.`,
      );
    }
  } else {
    shape = shapeOfNested(values, what);
    const dtype = options.dtype ?? 'float32';
    data = new constructors[dtype](sizeOf(shape));
    fillNested(values as NestedNumbers, data, 0);
  }
  const dtype = (options.dtype ?? dtypeOf(data)) as D;
  if (!(data instanceof constructors[dtype])) {
    const converted = new constructors[dtype](data.length);
    converted.set(data);
    data = converted;
  }
  if (options.shape !== undefined) shape = resolveShape(options.shape, data.length, what);
  return new Tensor(data as TypedArrayOf[D], shape, dtype);
}

/**
 * A tensor from what arrived from another thread or process (`{ shape, dtype, data }`),
 * sharing its data; a tensor is returned as it is.
 */
export function tensorFrom(value: Tensor | TensorLike): Tensor {
  if (isTensor(value)) return value;
  return new Tensor(value.data, value.shape, value.dtype);
}

/** A tensor's fields without its class: what a tensor becomes after a structured clone. */
export interface TensorLike {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: TypedArray;
}

/** True for `{ shape, dtype, data }` whose data is the dtype's typed array. */
export function isTensorLike(value: unknown): value is TensorLike {
  if (typeof value !== 'object' || value === null) return false;
  const { shape, dtype, data } = value as Partial<TensorLike>;
  return (
    Array.isArray(shape) &&
    typeof dtype === 'string' &&
    Object.hasOwn(constructors, dtype) &&
    data instanceof constructors[dtype]
  );
}

/** A new zero-filled tensor. */
export function zeros<D extends DType = 'float32'>(shape: readonly number[], dtype?: D): Tensor<D> {
  checkShape(shape, 'zeros()');
  const type = (dtype ?? 'float32') as D;
  const Ctor = constructorOf(type, 'zeros()');
  return new Tensor(new Ctor(sizeOf(shape)) as TypedArrayOf[D], shape, type);
}

/** A new zero-filled typed array of `dtype` on `buffer`, or on a new ArrayBuffer. */
export function typedArray<D extends DType>(
  dtype: D,
  length: number,
  buffer?: ArrayBufferLike,
): TypedArrayOf[D] {
  const Ctor = constructorOf(dtype, 'typedArray()');
  return (buffer === undefined ? new Ctor(length) : new Ctor(buffer, 0, length)) as TypedArrayOf[D];
}

/** Bytes per element of `dtype`. */
export function bytesPerElement(dtype: DType): number {
  return constructorOf(dtype, 'bytesPerElement()').BYTES_PER_ELEMENT;
}

/** The typed array class of `dtype`, checked: a name such as `toString` is no dtype. */
function constructorOf(dtype: DType, what: string): TypedArrayConstructor {
  if (typeof dtype !== 'string' || !Object.hasOwn(constructors, dtype)) {
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

/** The product of a shape's lengths. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const length of shape) size *= length;
  return size;
}

function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape)) {
    throw new ValidationError(`${what}: the shape must be an array of lengths, e.g. [2, 3].`);
  }
  if (shape.length > maxAxes) {
    throw new ValidationError(`${what}: ${shape.length} axes; a tensor has at most ${maxAxes}.`);
  }
  for (const length of shape) {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new ValidationError(
        `${what}: shape [${shape.join(', ')}] has length ${String(length)}; each length must be a whole number ≥ 0.`,
      );
    }
  }
}

/** `shape` with its -1 (if any) worked out for `size` elements, checked. */
function resolveShape(shape: readonly number[], size: number, what: string): number[] {
  if (!Array.isArray(shape)) {
    throw new ValidationError(`${what}: the shape must be an array of lengths, e.g. [2, 3].`);
  }
  const unknown = shape.indexOf(-1);
  if (unknown >= 0 && shape.indexOf(-1, unknown + 1) >= 0) {
    throw new ValidationError(
      `${what}: shape [${shape.join(', ')}] has more than one -1; at most one length is inferred.`,
    );
  }
  // The other lengths are checked first, with the -1 standing for any length.
  checkShape(
    shape.map((length, axis) => (axis === unknown ? 1 : length)),
    what,
  );
  const resolved = [...shape];
  const known = sizeOf(shape.filter((_, axis) => axis !== unknown));
  if (unknown >= 0 && known > 0 && size % known === 0) resolved[unknown] = size / known;
  if (sizeOf(resolved) !== size || resolved[unknown] === -1) {
    throw new ValidationError(
      `${what}: shape [${shape.join(', ')}] does not hold ${size} elements; give a shape whose product is ${size}.`,
    );
  }
  return resolved;
}

/** The shape of nested number arrays, checked to be rectangular and all numbers. */
function shapeOfNested(values: unknown, what: string): number[] {
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    if (shape.length >= maxAxes) {
      throw new ValidationError(`${what}: the values nest deeper than ${maxAxes} levels.`);
    }
    shape.push(level.length);
    level = level[0];
  }
  checkNested(values, shape, 0, [], what);
  return shape;
}

function checkNested(
  value: unknown,
  shape: readonly number[],
  axis: number,
  path: number[],
  what: string,
): void {
  const at = () => (path.length === 0 ? 'the value' : `values[${path.join('][')}]`);
  if (axis === shape.length) {
    if (typeof value !== 'number') {
      throw new ValidationError(
        `${what}: ${at()} is ${describe(value)}, not a number; a tensor holds numbers in rectangular nested arrays.`,
      );
    }
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[axis]) {
    throw new ValidationError(
      `${what}: ${at()} ${Array.isArray(value) ? `has length ${value.length}` : `is ${describe(value)}`} where length ${shape[axis]} was expected; nested arrays must be rectangular.`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    path.push(i);
    checkNested(value[i], shape, axis + 1, path, what);
    path.pop();
  }
}

function fillNested(value: NestedNumbers, out: TypedArray, offset: number): number {
  if (typeof value === 'number') {
    out[offset] = value;
    return offset + 1;
  }
  let next = offset;
  for (const child of value) next = fillNested(child, out, next);
  return next;
}

/** Per axis, how many elements one step along it skips (row-major). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

function nest(
  data: TypedArray,
  shape: readonly number[],
  strides: readonly number[],
  axis: number,
  offset: number,
): NestedNumbers {
  if (axis === shape.length) return data[offset]!;
  const length = shape[axis]!;
  const stride = strides[axis]!;
  const out: NestedNumbers[] = new Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = nest(data, shape, strides, axis + 1, offset + i * stride);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  // The prototype's constructor, not the value's own `constructor` key, which input may set.
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  const name = proto?.constructor?.name;
  return `a ${typeof name === 'string' && name !== '' ? name : 'object'}`;
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
