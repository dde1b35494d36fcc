/**
 * BatchFlow's `@action`: marks a batch method that pipelines may call. A method's value
 * is the next batch of the pipeline when it returns a batch (or a promise of one); any
 * other value leaves the pipeline on the same batch.
 */
import { parallelSpecOf } from './parallel-spec.ts';

// A brand on the method, not a set of this module's: another copy of weft (its sources
// and its build in one thread) must recognise actions marked through this one.
const actionKey = Symbol.for('weft.action');

/**
 * Marks a method as an action, callable in a pipeline (`dataset.pipeline().someAction()`).
 * A standard (TC39) method decorator; put it above `@inbatchParallel`.
 * @example
 * class MyBatch extends Batch {
 *   @action
 *   load(src: string) { this.data = read(src); return this; }
 * }
 */
export function action<This, Args extends unknown[], Return>(
  method: (this: This, ...args: Args) => Return,
  _context?: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
): (this: This, ...args: Args) => Return {
  Object.defineProperty(method, actionKey, { value: true, enumerable: false });
  return method;
}

/** True for methods marked with {@link action}, and for parallel methods (which are actions too). */
export function isAction(method: unknown): boolean {
  return (
    typeof method === 'function' &&
    ((method as { [actionKey]?: boolean })[actionKey] === true ||
      parallelSpecOf(method) !== undefined)
  );
}
