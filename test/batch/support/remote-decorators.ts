/**
 * A decorator made once and applied in another module (remote-decorated.ts): workers
 * find the class where the decorator is applied, not here. Nothing runs at the top level
 * but the decorator's making.
 */
import { inbatchParallel } from 'weftjs/batch';

function keep(results: unknown[]): unknown[] {
  return results;
}

/** Runs the method once per index on threads; post gives the results as they are. */
export const onThreads = inbatchParallel({ init: 'indices', post: keep, target: 'threads' });
