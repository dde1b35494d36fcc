/**
 * Typed arrays in shared memory, for batches whose parallel methods write in place on
 * worker threads.
 */
import { describeType } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';

/**
 * A copy of `array` in shared memory: a typed array of the same type (a Buffer stays a
 * Buffer) on a new SharedArrayBuffer, with the same values. A batch holding such arrays
 * (as its data, a component, or anywhere in its fields) shares them with the worker
 * threads of target `threads` instead of copying them, so that what a parallel method
 * writes into them there is seen here, as in BatchFlow's numba example.
 *
 * @example
 * class Doubler extends Batch {
 *   @action
 *   @inbatchParallel({ init: 'indices', target: 'threads' })
 *   double(i: number) { this.data[i] *= 2; }
 * }
 * const batch = new Doubler(shared(Float64Array.from([1, 2, 3])));
 * await batch.double(); // batch.data is now [2, 4, 6], written by worker threads
 * @throws ValidationError when `array` is not a typed array
 */
export function shared<T extends NodeJS.TypedArray>(array: T): T {
  if (!ArrayBuffer.isView(array) || array instanceof DataView) {
    throw new ValidationError(
      `shared() takes a typed array (e.g. a Float64Array), got ${describeType(array)}: ` +
        'for an array of numbers, use shared(Float64Array.from(numbers)).',
    );
  }
  const buffer = new SharedArrayBuffer(array.byteLength);
  const copy = Buffer.isBuffer(array)
    ? Buffer.from(buffer)
    : new (array.constructor as new (buffer: SharedArrayBuffer) => NodeJS.TypedArray)(buffer);
  new Uint8Array(buffer).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return copy as T;
}
