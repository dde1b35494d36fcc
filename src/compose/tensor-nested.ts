/**
 * Nested number arrays, a tensor's values as people write them: read into a typed array
 * (checked rectangular and all numbers) and built back by `toArray()`, within bounds, so
 * that a huge shape is refused rather than walked for hours.
 */
import { describeValue } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import {
  arrayOfShape,
  checkFits,
  type DType,
  type TypedArray,
  type TypedArrayOf,
} from './tensor-dtypes.ts';
import { maxAxes, shapeText, stridesOf } from './tensor-shapes.ts';

/** A number, or arrays of numbers nested to any depth: `[[1, 2], [3, 4]]`. */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * `toArray()` builds at most this many arrays: a shape such as `[2 ** 24, 0]` holds no
 * number but would build millions of empty arrays.
 */
export const maxNestedArrays = 2 ** 24;

/**
 * The values of nested number arrays in a new typed array of `dtype`, and their shape.
 * The size is checked before any element is read: the arrays may repeat one row.
 * @throws ValidationError for ragged nesting, non-numbers, or more values than fit
 */
export function readNested<D extends DType>(
  values: unknown,
  dtype: D,
  what: string,
): { data: TypedArrayOf[D]; shape: number[] } {
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    if (shape.length >= maxAxes) {
      throw new ValidationError(`${what}: the values nest deeper than ${maxAxes} levels.`);
    }
    shape.push(level.length);
    level = level[0];
  }
  checkFits(dtype, shape, what);
  checkNested(values, shape, 0, [], what);
  const data = arrayOfShape(dtype, shape, what);
  fillNested(values as NestedNumbers, data, 0);
  return { data, shape };
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
        `${what}: ${at()} is ${describeValue(value)}, not a number; a tensor holds numbers in rectangular nested arrays.`,
      );
    }
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[axis]) {
    throw new ValidationError(
      `${what}: ${at()} ${Array.isArray(value) ? `has length ${value.length}` : `is ${describeValue(value)}`} where length ${shape[axis]} was expected; nested arrays must be rectangular.`,
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

/**
 * `data` of `shape` as nested arrays (a number for shape `[]`).
 * @throws ValidationError naming the shape when it would build more than
 * {@link maxNestedArrays} arrays
 */
export function toNested(data: TypedArray, shape: readonly number[], what: string): NestedNumbers {
  // Axis k holds one array per index of the axes before it.
  let arrays = 0;
  let count = 1;
  for (let axis = 0; axis < shape.length && count > 0; axis++) {
    arrays += count;
    count *= shape[axis]!;
  }
  if (arrays > maxNestedArrays) {
    throw new ValidationError(
      `${what}: ${shapeText(shape)} would be ${arrays} nested arrays, more than ${maxNestedArrays}; read its data (row-major) or one example at a time with at(i).`,
    );
  }
  return nest(data, shape, stridesOf(shape), 0, 0);
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
