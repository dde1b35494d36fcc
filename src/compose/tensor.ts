/**
 * Tensors: dense typed arrays with a shape, row-major. Small on purpose: the composite
 * needs views along the first axis (one example of a batch), element-wise maps and the
 * merges, and every one of those is a loop or a `TypedArray.set` over `data`. A tensor's
 * fields are plain own properties, so a tensor that crosses to a worker thread arrives as
 * `{ shape, dtype, data }` and {@link tensorFrom} makes it a tensor again, sharing `data`.
 * Dtypes, shapes and nested arrays have their own modules, re-exported here.
 */
import { inspect } from 'node:util';
import { describeValue } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import {
  arrayOfShape,
  constructorOf,
  type DType,
  dtypeOf,
  dtypes,
  holds,
  isDType,
  type TypedArray,
  type TypedArrayOf,
  typedArray,
} from './tensor-dtypes.ts';
import { type NestedNumbers, readNested, toNested } from './tensor-nested.ts';
import { checkShape, resolveShape, shapeText, sizeOf } from './tensor-shapes.ts';

export {
  bytesPerElement,
  type DType,
  dtypeOf,
  dtypes,
  isFloat,
  promoteDtypes,
  type TypedArray,
  type TypedArrayOf,
  typedArray,
} from './tensor-dtypes.ts';
export type { NestedNumbers } from './tensor-nested.ts';
export { sameShape, sizeOf, stridesOf } from './tensor-shapes.ts';

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
    if (!isDType(type)) {
      throw new ValidationError(
        dtype === undefined
          ? `new Tensor(): the data is ${describeValue(data)}; give a typed array of numbers (Float32Array, Int32Array…).`
          : `new Tensor(): unknown dtype '${String(dtype)}'; use one of ${dtypes.join(', ')}.`,
      );
    }
    if (!holds(data, type)) {
      throw new ValidationError(
        `new Tensor(): dtype '${type}' needs a ${constructorOf(type, 'new Tensor()').name}, not ${describeValue(data)}. Convert with tensor(values, { dtype: '${type}' }).`,
      );
    }
    checkShape(shape, 'new Tensor()');
    if (sizeOf(shape) !== data.length) {
      throw new ValidationError(
        `new Tensor(): ${shapeText(shape)} holds ${sizeOf(shape)} elements but the data has ${data.length}. Give a shape whose product is the data's length.`,
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
    constructorOf(dtype, 'Tensor.map()');
    const out = typedArray(dtype, source.length);
    for (let i = 0; i < source.length; i++) out[i] = fn(source[i]!, i);
    return new Tensor(out, this.shape, dtype);
  }

  /** A copy with its own data (of `dtype`, converted). */
  copy<T extends DType = D>(dtype?: T): Tensor<T> {
    const type = (dtype ?? this.dtype) as T;
    constructorOf(type, 'Tensor.copy()');
    const out = typedArray(type, this.data.length);
    out.set(this.data);
    return new Tensor(out, this.shape, type);
  }

  /**
   * The elements as nested arrays of numbers (a number for shape `[]`).
   * @throws ValidationError when the shape would build more than 2^24 arrays (e.g.
   * `[2 ** 24, 0]`, which holds no number): read `data` or one example with `at(i)`
   */
  toArray(): NestedNumbers {
    return toNested(this.data, this.shape, 'Tensor.toArray()');
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
        `${what}: ${describeValue(data)} cannot be a tensor; use a Float32Array, Float64Array, Int32Array or another typed array of numbers.`,
      );
    }
  } else {
    ({ data, shape } = readNested(values, options.dtype ?? 'float32', what));
  }
  const dtype = (options.dtype ?? dtypeOf(data)) as D;
  if (!holds(data, dtype)) {
    const converted = typedArray(dtype, data.length);
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
  return Array.isArray(shape) && isDType(dtype) && holds(data, dtype);
}

/**
 * A new zero-filled tensor.
 * @throws ValidationError for no shape, or one of more elements than a typed array holds
 */
export function zeros<D extends DType = 'float32'>(shape: readonly number[], dtype?: D): Tensor<D> {
  const type = (dtype ?? 'float32') as D;
  return new Tensor(arrayOfShape(type, shape, 'zeros()'), shape, type);
}
