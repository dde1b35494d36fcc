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
  /** An executor the call was given (`{ executor }`), instead of the target's own. */
  readonly executor: Executor | undefined;
}
