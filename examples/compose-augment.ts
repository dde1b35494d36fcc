/**
 * Image augmentation as a datarax composite: a horizontal flip, Gaussian noise and a
 * random brightness applied to the same batch of 64 greyscale images of 64×64 float32,
 * concurrently on two worker threads, their outputs stacked, so that each image becomes
 * three: [64, 64, 64] → [64, 3, 64, 64]. The noise and the brightness draw from each
 * operator's own stream of the seed, so the checksum is the same on every executor.
 * `weft run` applies the default export to the exported batch and prints what the run
 * returns (the merged data, and every operator's states and metadata). The time includes
 * starting the worker threads, which for work this small is most of it. Prints, e.g.:
 *   batch: image [64, 64, 64] float32
 *   augmented on threads in 881 ms: image [64, 3, 64, 64] float32, checksum 393102.313
 *   {
 *     data: { image: Tensor<float32>[64, 3, 64, 64] … },
 *     states: [ [ undefined, undefined, undefined, undefined, ... 60 more items ], … ],
 *     metadata: [ …, [ { factor: 0.954 }, { factor: 1.149 }, … ] ]
 *   }
 *
 *   weft run examples/compose-augment.ts
 *   weft run examples/compose-augment.ts --executor inline   # the same checksum
 */
import { threads } from 'weftjs';
import {
  type ApplyOptions,
  CompositeOperator,
  type CompositeResult,
  leavesOf,
  ParallelStrategy,
  type Tree,
  type TreeInput,
  toTree,
} from 'weftjs/compose';
import { brightness, flip, greyscaleImages, noise } from './lib/augment.ts';

/** What `weft run` applies the composite to: 64 images, made when the run starts. */
export const batch = () => ({ image: greyscaleImages(64, 64) });

/** The composite with a fixed seed, saying what it made and how long it took. */
class Augmentation extends CompositeOperator {
  override async run(input: TreeInput, options: ApplyOptions = {}): Promise<CompositeResult> {
    console.log(`batch: ${shapes(toTree(input, 'the batch'))}`);
    const start = performance.now();
    const result = await super.run(input, { seed: 7, ...options });
    const ms = Math.round(performance.now() - start);
    const where = options.executor?.name ?? 'threads';
    console.log(
      `augmented on ${where} in ${ms} ms: ${shapes(result.data)}, checksum ${checksum(result.data)}`,
    );
    return result;
  }
}

export default new Augmentation({
  name: 'augment',
  operators: [flip, noise, brightness],
  strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
  executor: threads({ workers: 2 }),
});

/** Each leaf's path, shape and dtype: `image [64, 64, 64] float32`. */
function shapes(tree: Tree): string {
  return leavesOf(tree)
    .map(({ path, leaf }) => `${path.slice(1)} [${leaf.shape.join(', ')}] ${leaf.dtype}`)
    .join(', ');
}

/** The sum of every value, to three decimals. */
function checksum(tree: Tree): string {
  let sum = 0;
  for (const { leaf } of leavesOf(tree)) for (const x of leaf.data) sum += x;
  return sum.toFixed(3);
}
