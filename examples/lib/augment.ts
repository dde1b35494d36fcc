/**
 * Image augmentations for examples/compose-augment.ts: each operator takes one example,
 * `{ image }` with a greyscale image of [height, width] pixels in [0, 1], and returns
 * one of the same shape. Definitions only: worker threads import this module to find the
 * operators by name, so it does no work at its top level.
 */
import { operator, type Tensor, tensor, withState } from 'weftjs/compose';

/** One example of the batch. */
export interface Example {
  readonly image: Tensor;
}

/** Mirrors each row of the image: a horizontal flip. */
export const flip = operator('flip', ({ image }: Example) => {
  const [height = 0, width = 0] = image.shape;
  const pixels = image.data;
  const flipped = new Float32Array(pixels.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) flipped[row + x] = pixels[row + width - 1 - x]!;
  }
  return { image: tensor(flipped, { shape: image.shape }) };
});

/** Adds Gaussian noise (σ 0.05) drawn from the operator's seeded stream for this image. */
export const noise = operator('noise', ({ image }: Example, { random }) => ({
  image: image.map((x) => x + random.normal(0, 0.05)),
}));

/**
 * Scales the image by one random factor in [0.8, 1.2), clipped at 1, and reports the
 * factor as the example's metadata.
 */
export const brightness = operator('brightness', ({ image }: Example, { random }) => {
  const factor = random.uniform(0.8, 1.2);
  return withState(
    { image: image.map((x) => Math.min(1, x * factor)) },
    { metadata: { factor: Number(factor.toFixed(3)) } },
  );
});

/**
 * `count` greyscale images of `side`×`side` float32, as one tensor [count, side, side]:
 * smooth patterns from a formula, different per image and the same on every run.
 */
export function greyscaleImages(count: number, side: number): Tensor {
  const pixels = new Float32Array(count * side * side);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const value = 0.5 + 0.5 * Math.sin((x + n) / (3 + (n % 5))) * Math.cos(y / (4 + (n % 3)));
        pixels[(n * side + y) * side + x] = value;
      }
    }
  }
  return tensor(pixels, { shape: [count, side, side] });
}
