/**
 * The targets that run items in this thread: `for` (one after another) and `async`
 * (concurrently on the event loop, at most `nWorkers` at once). Either way each item is a
 * task of a map: keyed `<scope>/<method>/<i>`, recorded in a run and skipped on resume
 * when the call has a post (see ItemRun.record), shown as a progress bar of its own.
 */
import { TaskFailedError } from '../core/errors.ts';
import { type Executor, makeExecutor, sharedExecutor } from '../core/executor.ts';
import { localTask } from '../core/task.ts';
import type { ItemRun } from './item-run.ts';
import { mapItems } from './run-items.ts';

/**
 * Runs the items one after another in this thread. Returns every result in init order,
 * an Error in place of each failure; with `debug`, the first failure is thrown as it is
 * and later items never run.
 */
export function runFor(run: ItemRun, debug: boolean): Promise<unknown[]> {
  // An inline executor of its own: one shared by calls would hold its single slot for an
  // item whose method makes a nested `for` call, which would then wait for ever.
  return runItems(run, run.executor ?? makeExecutor('inline'), 1, debug);
}

/** Runs the items concurrently in this thread, at most `run.concurrency` at once. */
export function runAsync(run: ItemRun): Promise<unknown[]> {
  return runItems(run, run.executor ?? sharedExecutor('asyncPool'), run.concurrency, false);
}

async function runItems(
  run: ItemRun,
  executor: Executor,
  concurrency: number,
  failFast: boolean,
): Promise<unknown[]> {
  const { batch, spec, items } = run;
  const method = spec.method;
  const item = localTask(run.label, (index: number) => method.apply(batch, items[index]!));
  const indices = items.map((_, index) => index);
  try {
    return await mapItems(run, executor, item, indices, { concurrency, failFast });
  } catch (error) {
    // Failing fast, the item's own error is what the caller debugs, not the engine's wrapper.
    if (failFast && error instanceof TaskFailedError && error.task === run.label) {
      throw error.cause;
    }
    throw error;
  }
}
