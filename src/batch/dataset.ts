/**
 * BatchFlow's `Dataset`: the whole data (or only its size), cut into batches of a batch
 * class on demand. Its item ids are the positions `0..length-1`; a batch made from some
 * of them carries them as its index, so `batch.indices` are dataset ids.
 */
import { describeType } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import { Batch, type BatchClass, type BatchOptions, componentNames } from './batch.ts';
import { Pipeline } from './pipeline.ts';

/**
 * What a dataset is made from: an array or a typed array of items (the data), an object
 * of components (`{ images, labels }`, for a batch class that declares them; all of one
 * length), or a number `n`: an index `0..n-1` whose batches carry ids and no data, for
 * actions that load their items.
 */
export type DatasetSource =
  | ArrayLike<unknown>
  | Readonly<Record<string, ArrayLike<unknown>>>
  | number;

/**
 * A class of batches a dataset makes: `Batch` or a subclass, whatever data its
 * constructor declares (a dataset gives it its slice of the data and their ids).
 */
export type DatasetBatchClass<B extends Batch> = (new (
  data: never,
  options: BatchOptions,
) => B) & { readonly prototype: B; readonly components?: readonly string[] };

type TypedArray = ArrayLike<number | bigint> & {
  subarray(start: number, end: number): TypedArray;
  readonly buffer: ArrayBufferLike;
  readonly constructor: new (buffer: ArrayBufferLike | number) => TypedArray;
};

/**
 * A dataset: items, cut into batches of `BatchClass`. A batch holds a copy of its items
 * (of the array, or of each component), so what an action does to a batch in place never
 * reaches the dataset nor another batch — except for typed arrays in a SharedArrayBuffer
 * (see `shared`): shared memory is shared on purpose, so a batch of consecutive ids is a
 * view of it and writes to the batch are writes to the dataset, seen by every later batch
 * and epoch. The copy is shallow: items that are objects (an array of images) are the
 * dataset's own.
 *
 * @example
 * const dataset = new Dataset(new Float64Array(1000), MyBatch);
 * for await (const batch of dataset.pipeline().normalize().gen({ batchSize: 100 })) use(batch);
 * @example
 * new Dataset({ images, labels }, ImageBatch);  // components, as ImageBatch.components declares
 * new Dataset(1_000_000, FileBatch);             // ids only: a `load` action reads each batch's items
 */
export class Dataset<B extends Batch = Batch> {
  /** The class of the batches this dataset makes. */
  readonly BatchClass: BatchClass<B>;
  /** How many items the dataset holds. */
  readonly length: number;
  /** The data: an array or typed array, an object of components, or undefined for an index only. */
  readonly source: ArrayLike<unknown> | Readonly<Record<string, ArrayLike<unknown>>> | undefined;

  constructor(
    source: DatasetSource,
    BatchClass: DatasetBatchClass<B> = Batch as unknown as DatasetBatchClass<B>,
  ) {
    if (typeof BatchClass !== 'function' || typeof BatchClass.prototype !== 'object') {
      throw new ValidationError(
        `Dataset: the batch class must be a class that extends Batch, got ${describeType(BatchClass)}.`,
      );
    }
    this.BatchClass = BatchClass as unknown as BatchClass<B>;
    const components = componentNames(this.BatchClass);
    if (typeof source === 'number') {
      if (!(Number.isSafeInteger(source) && source >= 0)) {
        throw new ValidationError(
          `Dataset: a size must be a whole number ≥ 0, got ${String(source)}.`,
        );
      }
      this.length = source;
      this.source = undefined;
    } else if (isItems(source)) {
      if (components.length > 0) {
        throw new ValidationError(
          `Dataset: ${BatchClass.name} has components (${components.join(', ')}): give an object of them, e.g. new Dataset({ ${components[0]}: … }, ${BatchClass.name}).`,
        );
      }
      this.length = source.length;
      this.source = source;
    } else if (typeof source === 'object' && source !== null) {
      this.length = componentsLength(source, this.BatchClass);
      this.source = source;
    } else {
      throw new ValidationError(
        `Dataset: the source must be an array or typed array of items, an object of components, or a number of items; got ${describeType(source)}.`,
      );
    }
  }

  /** The ids of the items: `0..length-1`. Made on each read: a large index costs memory. */
  get indices(): number[] {
    return Array.from({ length: this.length }, (_, id) => id);
  }

  /**
   * A batch of the items with ids `ids`, in that order, whose index is `ids`. Its items
   * are a copy of the dataset's, except in shared memory: a typed array in a
   * SharedArrayBuffer is cut with `subarray` when the ids follow each other (the batch
   * writes into the dataset), else copied into new shared memory (threads still share it).
   * @throws ValidationError when an id is not one of the dataset's, or repeats
   */
  createBatch(ids: ArrayLike<number>): B {
    const list = Array.from(ids);
    for (const id of list) {
      if (!(Number.isInteger(id) && id >= 0 && id < this.length)) {
        throw new ValidationError(
          `Dataset.createBatch: ${JSON.stringify(id)} is not an id of this dataset (ids are 0 to ${this.length - 1}).`,
        );
      }
    }
    const source = this.source;
    const options = { index: list };
    if (source === undefined) return new this.BatchClass(undefined, options);
    if (isItems(source)) return new this.BatchClass(pick(source, list), options);
    // Defined, not assigned: a component may be named '__proto__'.
    const picked = Object.fromEntries(
      Object.entries(source).map(([name, component]) => [name, pick(component, list)]),
    );
    return new this.BatchClass(picked as never, options);
  }

  /**
   * A pipeline over this dataset, with no actions yet: chain actions on it
   * (`dataset.pipeline().load().normalize(3)`), then `gen` or `run` it.
   */
  pipeline(): Pipeline<B> {
    return new Pipeline(this);
  }
}

/**
 * The items of `data` at `ids`: a copy, or a view when the ids follow each other in a
 * typed array in shared memory.
 */
function pick(data: ArrayLike<unknown>, ids: readonly number[]): unknown {
  if (!isTypedArray(data)) return ids.map((id) => data[id]);
  const isShared =
    typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
  const first = ids[0] ?? 0;
  const consecutive = ids.every((id, position) => id === first + position);
  if (consecutive && isShared) return data.subarray(first, first + ids.length);
  // %TypedArray%.prototype.slice copies (Buffer's own slice is a view) and keeps the type.
  if (consecutive) return typedSlice.call(data, first, first + ids.length);
  // A copy of shared data is shared too, so that thread targets still write in place.
  const copy = emptyLike(data, ids.length, isShared);
  const writable = copy as unknown as { [position: number]: unknown };
  for (let position = 0; position < ids.length; position++)
    writable[position] = data[ids[position]!];
  return copy;
}

const typedSlice = Object.getPrototypeOf(Uint8Array.prototype).slice as (
  this: TypedArray,
  start: number,
  end: number,
) => TypedArray;

/** A typed array of `data`'s type (a Buffer stays a Buffer) of `length` zeros. */
function emptyLike(data: TypedArray, length: number, isShared: boolean): TypedArray {
  const bytes = (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const memory = isShared ? new SharedArrayBuffer(length * bytes) : new ArrayBuffer(length * bytes);
  // `new Buffer(…)` is deprecated: Buffer.from of memory makes a Buffer over it.
  return Buffer.isBuffer(data)
    ? (Buffer.from(memory) as unknown as TypedArray)
    : new data.constructor(memory);
}

/** The length of a dataset of components, checked against the batch class. */
function componentsLength(source: object, BatchClass: BatchClass): number {
  const components = componentNames(BatchClass);
  const names = Object.keys(source);
  if (components.length === 0) {
    throw new ValidationError(
      `Dataset: ${BatchClass.name} has no components, so the source must be an array or a typed array; to give components (${names.join(', ')}), declare static components = [${names.map((name) => `'${name}'`).join(', ')}] on the class.`,
    );
  }
  if (names.length === 0) {
    throw new ValidationError(
      `Dataset: the object of components is empty; give at least one of ${components.join(', ')}.`,
    );
  }
  let length: number | undefined;
  let first = '';
  for (const name of names) {
    if (!components.includes(name)) {
      throw new ValidationError(
        `Dataset: ${BatchClass.name} has no component '${name}': its components are ${components.join(', ')}.`,
      );
    }
    const component = (source as Record<string, unknown>)[name];
    if (!isItems(component)) {
      throw new ValidationError(
        `Dataset: component '${name}' must be an array or a typed array, got ${describeType(component)}.`,
      );
    }
    if (length === undefined) {
      length = component.length;
      first = name;
    } else if (component.length !== length) {
      throw new ValidationError(
        `Dataset: components must all have one length, but '${first}' has ${length} items and '${name}' has ${component.length}.`,
      );
    }
  }
  return length!;
}

function isItems(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || isTypedArray(value);
}

function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}
