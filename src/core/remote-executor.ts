/**
 * What executors that run tasks elsewhere share (the `threads` and `processes` pools,
 * the `bullmq` executor): the check that a task can travel there (a named task of a
 * module the other side imports, never a plain closure), and the gathering of the
 * invocations launched in one turn into one batch.
 */
import { PlainFunctionError, ValidationError } from './errors.ts';
import type { Task } from './task.ts';

/** How an executor says where its tasks go, in {@link checkRemoteTask}'s messages. */
export interface RemotePlace {
  /** The executor's name: `threads`, `bullmq`. */
  readonly executor: string;
  /** Where its tasks run: `in other threads`, `on weft workers, in other processes and machines`. */
  readonly where: string;
  /** The module a task must be defined in: `a module`, `a module that the workers also have`. */
  readonly module: string;
  /** Who imports the module: `threads workers`, `weft workers`. */
  readonly workers: string;
  /** Also refuse a task without a portable module reference (one that another machine resolves). */
  readonly needsRef?: boolean;
}

/**
 * Checks that `task` can run where `place` says.
 * @throws PlainFunctionError for a plain function (a closure cannot travel)
 * @throws ValidationError for a task without a module its workers could import
 */
export function checkRemoteTask(task: Task, place: RemotePlace): void {
  if (task.local) {
    throw new PlainFunctionError(
      `The ${place.executor} executor runs tasks ${place.where}, ` +
        `which cannot receive a plain function ('${task.name}'). Define it with task('name', fn) at the ` +
        `top level of ${place.module}, or use the asyncPool or inline executor.`,
    );
  }
  if (task.module === undefined || (place.needsRef === true && task.ref === undefined)) {
    throw new ValidationError(
      `Task '${task.name}' has no module that ${place.workers} could import (it was defined ` +
        `at ${task.definedAt ?? 'an unknown place'}). Pass { module: import.meta.url } to task().`,
    );
  }
}

/**
 * Items gathered until a flush that `schedule` runs once per batch (a microtask, the
 * next turn of the event loop): everything pushed before it goes in one batch.
 */
export class BatchBuffer<T> {
  readonly #schedule: (flush: () => void) => void;
  readonly #flush: (batch: T[]) => void;
  #items: T[] = [];
  #scheduled = false;

  constructor(schedule: (flush: () => void) => void, flush: (batch: T[]) => void) {
    this.#schedule = schedule;
    this.#flush = flush;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.#flush(this.take());
    });
  }

  /** What was gathered and not flushed yet, no longer gathered. */
  take(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
