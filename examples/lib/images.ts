/**
 * A batch of images for the examples: the transform of BatchFlow's numba example,
 * x → -exp(-exp(x)), once per image. Definitions only: worker threads import this
 * module to rebuild the batch, so it does no work at its top level.
 */
import { action, Batch, inbatchParallel } from 'weftjs/batch';

/** The seed's loop over one image, in place. */
export function transformInPlace(image: Float32Array): void {
  for (let i = 0; i < image.length; i++) image[i] = -Math.exp(-Math.exp(image[i]!));
}

export class ImageBatch extends Batch {
  static override components = ['images', 'labels'];
  declare images: Float32Array[];
  declare labels: string[];

  /**
   * One item per image (init 'images'), on worker threads by default: the images live on
   * SharedArrayBuffers, so each thread writes its image in place and the caller sees it.
   */
  @action
  @inbatchParallel({ init: 'images' })
  fastParallelAction(image: Float32Array) {
    transformInPlace(image);
  }

  /** The mean of each image, in init order. */
  @action
  @inbatchParallel({ init: 'images', post: 'keep', target: 'for' })
  mean(image: Float32Array) {
    let sum = 0;
    for (const x of image) sum += x;
    return sum / image.length;
  }

  keep(results: number[]) {
    return results;
  }
}
