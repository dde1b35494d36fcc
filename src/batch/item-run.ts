/**
 * One parallel call, ready to run: the argument list of every item in init order, and
 * where they run. The runner (`inbatch-parallel.ts`) builds it; the targets run it and
 * return every item's result in init order, with an Error in place of each failure.
 */
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import type { Batch } from './batch.ts';
import type { ParallelSpec } from './parallel-spec.ts';

/** A parallel call of one method over its items. */
export interface ItemRun {
  readonly batch: Batch;
  /** The method as installed on the batch's class (or made by the function form). */
  readonly wrapper: object;
  readonly spec: ParallelSpec;
  /** How people see the call: `MyBatch.someAction`. */
  readonly label: string;
  /** The arguments of each item's call, in init order: `[...initPositional, ...callPositional, named?]`. */
  readonly items: readonly (readonly unknown[])[];
  /** The call's own arguments, without the options weft takes out (mpc calls the method once with them). */
  readonly callArgs: readonly unknown[];
  /** Most items at once (`nWorkers`). */
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
  /** The scope the call's fan-out is recorded under (undefined: the run's). */
  readonly scope: KeyScope | undefined;
  /** The fan-out's name, the key segment of the call: the method's name. */
  readonly name: string;
  /**
   * The call's own key scope (`<scope>/<name>`, `~2` for a second call), taken when the
   * call was made, before its init ran: pass it to `map` as `keyScope`.
   */
  readonly keyScope: KeyScope;
  /**
   * Whether the items are recorded in the run and skipped on resume: only when the call
   * has a `post`, which builds its value from the results. Without one, an item's effect
   * is what it wrote into the batch in place, which a resume could not give back.
   */
  readonly record: boolean;
  /** An executor the call was given (`{ executor }`), instead of the target's own. */
  readonly executor: Executor | undefined;
}
