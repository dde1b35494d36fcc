/**
 * BatchFlow's CPU-bound example: the transform x → -exp(-exp(x)) over a batch of 256
 * images of 256×256 float32, one item per image, with each target: `for`, `async`,
 * `threads` (in place, the images on SharedArrayBuffers) and `mpc` (each child process
 * returns a transformed copy, which `post` writes back), beside a plain loop and piscina
 * running the same transform directly. Goal: threads ≥ 1.8× for on 2 cores.
 *
 * Run: node --conditions=weft-source --import tsx bench/batch-transform.ts
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { parallel, shared } from 'weftjs/batch';
import { ImageBatch, transformInPlace } from './batch/images.ts';
import { best, median, printTable } from './lib.ts';

const IMAGES = 256;
const SIDE = 256;
const RUNS = 5;

function makeImages(): Float32Array[] {
  const images: Float32Array[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const image = shared(new Float32Array(SIDE * SIDE));
    for (let j = 0; j < image.length; j++) image[j] = ((i * 31 + j) % 1000) / 1000;
    images.push(image);
  }
  return images;
}

export default async function main(): Promise<void> {
  const cores = availableParallelism();
  console.log(
    `${IMAGES} images of ${SIDE}×${SIDE} float32, ${cores} cores, load ${loadavg()[0]!.toFixed(2)}`,
  );
  const images = makeImages();
  const batch = parallel(new ImageBatch({ images }));
  // A reference result, computed once, to check that every target transforms alike.
  const expected = makeImages().map((image) => {
    transformInPlace(image);
    return image;
  });

  const rows: (string | number)[][] = [];
  const timings: Record<string, number> = {};
  const pristine = makeImages();
  // The peer: piscina running the same transform on the same shared images, one run() each.
  const piscina = new Piscina({
    filename: fileURLToPath(new URL('./batch/transform-worker.mjs', import.meta.url)),
    minThreads: cores,
    maxThreads: cores,
  });
  const targets: [string, () => Promise<unknown>][] = [
    ['plain loop (no weft)', async () => images.forEach(transformInPlace)],
    ['piscina, run() per image', () => Promise.all(images.map((image) => piscina.run(image)))],
    ['for', () => batch.transform({ target: 'for' })],
    ['async', () => batch.transform({ target: 'async' })],
    ['threads', () => batch.transform({ target: 'threads' })],
    ['mpc', () => batch.transformMpc()],
  ];
  // Rounds alternate the targets, so that a slow moment of the machine falls on all alike;
  // the images are reset from a pristine copy between runs, outside the timing.
  const times = new Map<string, number[]>(targets.map(([label]) => [label, []]));
  for (let round = 0; round <= RUNS; round++) {
    for (const [label, run] of targets) {
      for (const [i, image] of pristine.entries()) images[i]!.set(image);
      const start = performance.now();
      await run();
      const took = performance.now() - start;
      if (round > 0) times.get(label)!.push(took); // round 0 warms up
      for (let i = 0; i < IMAGES; i++) {
        if (images[i]![SIDE * 7 + 3] !== expected[i]![SIDE * 7 + 3]) {
          throw new Error(`${label}: image ${i} was not transformed`);
        }
      }
    }
  }
  for (const [label] of targets) {
    const runs = times.get(label)!;
    timings[label] = best(runs);
    rows.push([label, best(runs), median(runs), IMAGES / (best(runs) / 1000)]);
  }
  await piscina.destroy();
  printTable(['target', 'best ms', 'median ms', 'images/s'], rows);
  console.log(
    `\nthreads vs for: ${(timings.for! / timings.threads!).toFixed(2)}× (goal ≥ 1.8× on 2 cores)`,
  );
  console.log(`mpc vs for: ${(timings.for! / timings.mpc!).toFixed(2)}×`);
  console.log(
    `piscina vs plain loop: ${(timings['plain loop (no weft)']! / timings['piscina, run() per image']!).toFixed(2)}× (the machine's parallel ceiling for this work)`,
  );
  console.log(
    `threads vs plain loop: ${(timings['plain loop (no weft)']! / timings.threads!).toFixed(2)}×`,
  );
}

await main();
