/**
 * One remote call: one definition run with one input on any executor, handing back the
 * definition's own result or its own error. Front ends that orchestrate in this thread
 * and ship their leaves to workers (an application step, a flow's ForEach task, a batch
 * method, a compose operator) build an input and call this; none of them handles the
 * fan-out's wrapper error or its options.
 */
import { TaskFailedError } from './errors.ts';
import type { Executor } from './executor.ts';
import type { FanOutOptions } from './fan-out-options.ts';
import { map } from './map.ts';
import type { Task } from './task.ts';

/** Options of {@link callRemote}. */
export interface RemoteCallOptions extends Omit<FanOutOptions, 'concurrency' | 'executor'> {
  /** Where the leaf runs: a worker pool, or any other executor. */
  readonly executor: Executor;
  /**
   * The call's name in its key (`<scope>/<name>/0`) and in progress.
   * @default `map:<task name>`
   */
  readonly name?: string;
}

/**
 * Runs `leaf(input)` on `options.executor` as one task: retried, timed out and aborted as
 * the task's options say, and recorded under its key when its scope belongs to a run
 * (resumed from there on a re-run). Resolves with the task's output; rejects with the
 * task's own error (not a `TaskFailedError` around it), or with the signal's reason.
 * @example const output = await callRemote(runActionStep, input, { executor, scope, name: 'action' });
 */
export async function callRemote<I, O>(
  leaf: Task<I, O>,
  input: I,
  options: RemoteCallOptions,
): Promise<O> {
  try {
    const [output] = await map([input], leaf, options);
    return output as O;
  } catch (error) {
    // An abort's reason is handed on as it is, even when it is a TaskFailedError (a fan-out
    // failing fast aborts its other tasks with the failure of one of them).
    if (options.signal?.aborted === true && error === options.signal.reason) throw error;
    throw error instanceof TaskFailedError ? error.cause : error;
  }
}
