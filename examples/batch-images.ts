/**
 * A CPU-bound parallel action on typed arrays: the seed's transform x → -exp(-exp(x))
 * over 128 images of 256×256 float32, one item per image, first with target `for` (one
 * after another, in this thread), then `threads` (every core; the images are shared, so
 * each thread writes its own in place). Both give the same images; threads are faster on
 * a machine with more than one core. Prints, e.g. on 2 cores:
 *   for: 160 ms
 *   threads: 105 ms (1.5× for)
 *   same images: true
 *
 *   weft run examples/batch-images.ts
 */
import { parallel, shared } from 'weftjs/batch';
import { ImageBatch } from './lib/images.ts';

const IMAGES = 128;
const SIDE = 256;

function images(): Float32Array[] {
  return Array.from({ length: IMAGES }, (_, n) => {
    const image = shared(new Float32Array(SIDE * SIDE));
    for (let i = 0; i < image.length; i++) image[i] = ((n * 31 + i) % 1000) / 1000;
    return image;
  });
}

async function timed(batch: ReturnType<typeof make>, target: 'for' | 'threads') {
  await batch.fastParallelAction({ target }); // warm up
  batch.images = images();
  const start = performance.now();
  await batch.fastParallelAction({ target });
  return performance.now() - start;
}

function make() {
  return parallel(new ImageBatch({ images: images(), labels: [] }));
}

export default async function main(): Promise<void> {
  const serial = make();
  const forMs = await timed(serial, 'for');
  console.log(`for: ${Math.round(forMs)} ms`);
  const threaded = make();
  const threadsMs = await timed(threaded, 'threads');
  console.log(`threads: ${Math.round(threadsMs)} ms (${(forMs / threadsMs).toFixed(1)}× for)`);
  const same = serial.images.every((image, n) =>
    image.every((x, i) => x === threaded.images[n]![i]),
  );
  console.log(`same images: ${same}`);
}
