/**
 * What every target does with a call's items: one `map` of them, keyed under the call's
 * own scope, recorded when the call records, shown as a progress bar labelled with the
 * call.
 */
import type { Executor } from '../core/executor.ts';
import { map } from '../core/map.ts';
import type { Task } from '../core/task.ts';
import type { ItemRun } from './item-run.ts';

/** How a target runs its items. */
export interface MapItemsOptions {
  /** Most items in flight at once. */
  readonly concurrency: number;
  /**
   * Stop at the first failure and reject with it (target `for` with `debug`), instead of
   * putting each item's error in its place.
   * @default false
   */
  readonly failFast?: boolean;
}

/** Runs `itemTask` once per input on `executor`, as the items of `run`. */
export function mapItems<I>(
  run: ItemRun,
  executor: Executor,
  itemTask: Task<I, unknown>,
  inputs: readonly I[],
  { concurrency, failFast = false }: MapItemsOptions,
): Promise<unknown[]> {
  return Promise.resolve(
    map(inputs, itemTask, {
      executor,
      concurrency,
      onError: failFast ? 'throw' : 'collect',
      signal: run.signal,
      scope: run.scope,
      name: run.name,
      keyScope: run.keyScope,
      record: run.record,
      display: { label: run.label, total: inputs.length },
    }),
  );
}
