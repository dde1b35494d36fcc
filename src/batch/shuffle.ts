/**
 * The order of a dataset's ids over epochs and their cut into batches, with seeded
 * shuffling: the same seed gives the same order on every machine and in every process,
 * which is what lets a resumed run make the same batches.
 */
import { mix32, type Random, seededRandom } from '../core/random.ts';

export { type Random, seededRandom, seedOfText } from '../core/random.ts';

/** The seed of epoch `epoch` of a shuffle seeded with `seed`: each epoch its own order. */
export function epochSeed(seed: number, epoch: number): number {
  return mix32(mix32(Math.trunc(seed) >>> 0, Math.trunc(seed / 2 ** 32) >>> 0), epoch >>> 0);
}

/** The ids `0..n-1` in an order drawn from `random` (Fisher–Yates). */
export function shuffledIds(n: number, random: Random): Uint32Array | Float64Array {
  const ids = n <= 0xffffffff ? new Uint32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const held = ids[i]!;
    ids[i] = ids[j]!;
    ids[j] = held;
  }
  return ids;
}

/** How a dataset's ids are cut into batches. */
export interface BatchCut {
  readonly batchSize: number;
  /** Whole passes over the ids; Infinity for endless. */
  readonly nEpochs: number;
  /** Leave out each epoch's last batch when it is smaller than `batchSize`. */
  readonly dropLast: boolean;
  /** Seed of the shuffle (each epoch its own order), or undefined for the ids in order. */
  readonly seed: number | undefined;
}

/** One batch to make: its number over all epochs (its key), its epoch, its dataset ids. */
export interface BatchDescriptor {
  readonly number: number;
  readonly epoch: number;
  readonly ids: readonly number[];
}

/** How many batches one epoch of `length` ids gives. */
export function batchesPerEpoch(
  length: number,
  cut: Pick<BatchCut, 'batchSize' | 'dropLast'>,
): number {
  return cut.dropLast ? Math.floor(length / cut.batchSize) : Math.ceil(length / cut.batchSize);
}

/**
 * The batches of `length` ids, made one at a time as they are read: an epoch's shuffled
 * order when its first batch is read, a batch's ids when it is, so that a dataset of
 * millions of items is never cut ahead of its processing.
 */
export function* batchesOf(length: number, cut: BatchCut): Generator<BatchDescriptor> {
  const perEpoch = batchesPerEpoch(length, cut);
  // Endless epochs of no batch would loop without yielding.
  if (perEpoch === 0) return;
  let number = 0;
  for (let epoch = 0; epoch < cut.nEpochs; epoch++) {
    const order =
      cut.seed === undefined
        ? undefined
        : shuffledIds(length, seededRandom(epochSeed(cut.seed, epoch)));
    for (let batch = 0; batch < perEpoch; batch++) {
      const start = batch * cut.batchSize;
      const end = Math.min(start + cut.batchSize, length);
      const ids = order
        ? Array.from(order.subarray(start, end))
        : Array.from({ length: end - start }, (_, offset) => start + offset);
      yield { number: number++, epoch, ids };
    }
  }
}
