/**
 * TypeScript types a decorated method by the signature it was written with, which is
 * the per-item one (`square(i: number)`); a parallel method is called with the call's own
 * arguments and resolves to post's value or the batch. {@link Parallel} types a batch so.
 */
import type { Batch } from './batch.ts';

/** A parallel call: the call's own arguments, a promise of post's value or of the batch. */
// biome-ignore lint/suspicious/noExplicitAny: a call's arguments are the init's business, and post decides what it resolves to
export type ParallelCall = (...args: any[]) => Promise<any>;

/**
 * `B` with each of its own methods typed as a parallel call (Batch's own members keep
 * their types).
 * @example
 * const batch = new MyBatch(data) as Parallel<MyBatch>;
 * await batch.someAction(3, { nWorkers: 2 });
 */
export type Parallel<B extends Batch> = {
  [K in keyof B]: K extends keyof Batch
    ? B[K]
    : B[K] extends (...args: never[]) => unknown
      ? ParallelCall
      : B[K];
};

/**
 * `batch` itself, typed as {@link Parallel}: for calling its parallel methods with the
 * call's arguments from TypeScript. No copy, no wrapper.
 * @example await parallel(new MyBatch(data)).someAction(3, { nWorkers: 2 });
 */
export function parallel<B extends Batch>(batch: B): Parallel<B> {
  return batch as unknown as Parallel<B>;
}
