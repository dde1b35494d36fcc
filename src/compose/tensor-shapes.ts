/**
 * Shapes: lists of axis lengths, checked (whole numbers, at most 32 axes, a product that
 * is an exact number), their sizes and strides, and the one comparison of shapes that
 * tensors, merges and the composite share.
 */
import { ValidationError } from '../core/errors.ts';

/** More axes than this is a mistake (or hostile input), not a tensor. */
export const maxAxes = 32;

/** The product of a shape's lengths: 0 when any length is 0, whatever the others. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const length of shape) {
    if (length === 0) return 0;
    size *= length;
  }
  return size;
}

/** `shape [2, 3]`, for messages. */
export function shapeText(shape: readonly number[]): string {
  return `shape [${shape.join(', ')}]`;
}

/**
 * True when `a` and `b` have as many axes and the same length on each, but for axis
 * `except` (e.g. 0 to compare examples of batches of any size).
 */
export function sameShape(a: readonly number[], b: readonly number[], except = -1): boolean {
  if (a.length !== b.length) return false;
  for (let axis = 0; axis < a.length; axis++) {
    if (axis !== except && a[axis] !== b[axis]) return false;
  }
  return true;
}

/**
 * Refuses what is no shape: not an array, more than {@link maxAxes} axes, a length that is
 * no whole number ≥ 0, or lengths whose product is past `Number.MAX_SAFE_INTEGER`.
 */
export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape)) {
    throw new ValidationError(`${what}: the shape must be an array of lengths, e.g. [2, 3].`);
  }
  if (shape.length > maxAxes) {
    throw new ValidationError(`${what}: ${shape.length} axes; a tensor has at most ${maxAxes}.`);
  }
  for (const length of shape) {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new ValidationError(
        `${what}: ${shapeText(shape)} has length ${String(length)}; each length must be a whole number ≥ 0.`,
      );
    }
  }
  if (sizeOf(shape) > Number.MAX_SAFE_INTEGER) {
    throw new ValidationError(
      `${what}: ${shapeText(shape)} holds more elements than can be counted exactly (2^53 - 1); give a smaller shape.`,
    );
  }
}

/** `shape` with its -1 (if any) worked out for `size` elements, checked. */
export function resolveShape(shape: readonly number[], size: number, what: string): number[] {
  if (!Array.isArray(shape)) {
    throw new ValidationError(`${what}: the shape must be an array of lengths, e.g. [2, 3].`);
  }
  const unknown = shape.indexOf(-1);
  if (unknown >= 0 && shape.indexOf(-1, unknown + 1) >= 0) {
    throw new ValidationError(
      `${what}: ${shapeText(shape)} has more than one -1; at most one length is inferred.`,
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
      `${what}: ${shapeText(shape)} does not hold ${size} elements; give a shape whose product is ${size}.`,
    );
  }
  return resolved;
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
