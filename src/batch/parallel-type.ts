/**
 * TypeScript types a decorated method by the signature it was written with, which is
 * the per-item one (`square(i: number)`); a parallel method is called with the call's own
 * arguments and resolves to post's value or the batch. {@link Parallel} types a batch so.
 * Types cannot tell a parallel method from another (a decorator does not change the
 * method's type): the caller says which are, by name, or takes every method as one.
 */
import { ValidationError } from '../core/errors.ts';
import type { Batch } from './batch.ts';
import { parallelSpecOf } from './parallel-spec.ts';

/** A parallel call: the call's own arguments, a promise of post's value or of the batch. */
// biome-ignore lint/suspicious/noExplicitAny: a call's arguments are the init's business, and post decides what it resolves to
export type ParallelCall = (...args: any[]) => Promise<any>;

/** The names of the methods of `B` that are not Batch's own (`get`, `position`, …). */
export type MethodNames<B extends Batch> = {
  [K in keyof B]: K extends keyof Batch
    ? never
    : B[K] extends (...args: never[]) => unknown
      ? K
      : never;
}[keyof B];

/**
 * `B` with the methods named `K` typed as parallel calls; every other member keeps its
 * type. Without `K`, every method of `B` but Batch's own is typed as a parallel call,
 * also ordinary ones (whose result then reads as a promise): call only parallel methods
 * through it, or name them.
 * @example
 * const batch = new MyBatch(data) as Parallel<MyBatch, 'someAction'>;
 * await batch.someAction(3, { nWorkers: 2 });
 * const total: number = batch.total();  // an ordinary method keeps its type
 */
export type Parallel<B extends Batch, K extends keyof B = MethodNames<B>> = {
  [P in keyof B]: P extends K ? ParallelCall : B[P];
};

/**
 * `batch` itself, typed as {@link Parallel}: for calling its parallel methods with the
 * call's arguments from TypeScript. No copy, no wrapper.
 *
 * Without names, every method of the batch but Batch's own is typed as a parallel call:
 * call only parallel methods through it. With names, only those are, and each is checked
 * to be a parallel method of the batch; the others keep their types.
 * @throws ValidationError when a name given is no parallel method of the batch
 * @example await parallel(new MyBatch(data)).someAction(3, { nWorkers: 2 });
 * @example
 * const batch = parallel(new MyBatch(data), 'someAction');
 * await batch.someAction(3);
 * const total: number = batch.total();
 */
export function parallel<B extends Batch>(batch: B): Parallel<B>;
export function parallel<B extends Batch, K extends MethodNames<B>>(
  batch: B,
  ...names: [K, ...K[]]
): Parallel<B, K>;
export function parallel<B extends Batch>(batch: B, ...names: PropertyKey[]): Parallel<B> {
  for (const name of names) {
    const method = (batch as unknown as Record<PropertyKey, unknown>)[name];
    if (parallelSpecOf(method) === undefined) {
      const where = `${batch?.constructor?.name ?? 'the batch'}.${String(name)}`;
      throw new ValidationError(
        `parallel(batch, ${names.map((given) => JSON.stringify(String(given))).join(', ')}): ${where} is ${typeof method === 'function' ? 'no parallel method' : 'no method'}; name only methods decorated with @inbatchParallel, and call the others on the batch itself.`,
      );
    }
  }
  return batch as unknown as Parallel<B>;
}
