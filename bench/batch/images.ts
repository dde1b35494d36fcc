/**
 * Definitions of the batch benchmarks, in a module of their own: worker threads and child
 * processes import it to find the batch class and the functions, and it does no work.
 */
import { action, Batch, inbatchParallel } from 'weftjs/batch';

/** The seed's transform, in place: x → -exp(-exp(x)). */
export function transformInPlace(image: Float32Array): void {
  for (let i = 0; i < image.length; i++) image[i] = -Math.exp(-Math.exp(image[i]!));
}

/** The same transform into a new array, for targets whose items cannot write into the batch. */
export function transformed(image: Float32Array): Float32Array {
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = -Math.exp(-Math.exp(image[i]!));
  return out;
}

/** A batch of images, each a Float32Array (on a SharedArrayBuffer for threads). */
export class ImageBatch extends Batch {
  static override components = ['images'];
  declare images: Float32Array[];

  /** One item per image, in place: for `for`, `async` and `threads` (shared memory). */
  @action
  @inbatchParallel({ init: 'images' })
  transform(image: Float32Array) {
    transformInPlace(image);
  }

  /** As BatchFlow's mpc: returns the function each child process runs on one image. */
  @action
  @inbatchParallel({ init: 'images', post: 'store', target: 'mpc' })
  transformMpc() {
    return transformed;
  }

  store(results: Float32Array[]) {
    for (let i = 0; i < results.length; i++) this.images[i]!.set(results[i]!);
    return this;
  }
}

/** A batch of numbers for the per-item overhead benchmark. */
export class Numbers extends Batch {
  @action
  @inbatchParallel({ init: 'items', post: 'store' })
  plusOne(x: number) {
    return x + 1;
  }

  store(results: number[]) {
    this.data = results;
    return this;
  }
}
