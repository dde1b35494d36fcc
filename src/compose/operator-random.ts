/**
 * The operators' random streams. One stream per (seed, operator, example), folded the way
 * datarax folds the child's index into each record's key: the stream an example draws
 * from depends on nothing else, so the same seed gives the same output however the batch
 * is cut into tasks and wherever they run.
 */
import { mix32, seededRandom } from '../core/random.ts';
import type { OperatorRandom } from './operator.ts';

/** A seed folded with an index: operator `index` of a composite, or an example. */
export function foldSeed(seed: number, index: number): number {
  // Both 32-bit halves of the seed count, so seeds above 2^32 stay distinct.
  return mix32(mix32(seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0), index);
}

/** The stream of example `example` for the operator whose seed is `operatorSeed`. */
export function operatorRandom(operatorSeed: number, example: number): OperatorRandom {
  const seed = mix32(operatorSeed, example);
  const next = seededRandom(seed);
  // Box–Muller gives two normals per two draws: the second is kept for the next call.
  let spare: number | undefined;
  const normal = (mean = 0, std = 1): number => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return mean + std * z;
    }
    // 1 - u lies in (0, 1]: its logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    spare = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  };
  return Object.assign(() => next(), {
    uniform: (low = 0, high = 1) => low + (high - low) * next(),
    normal,
    int: (low: number, high: number) => low + Math.floor((high - low) * next()),
    bool: (p = 0.5) => next() < p,
    seed,
  });
}
