/**
 * What the cases of the executor conformance suite share: the executor under test, the
 * deadlines, and helpers that wait for events and settlements without sleeping.
 */
import assert from 'node:assert/strict';
import { EventBus, type TaskProgressEvent, type WeftEvent } from '../core/events.ts';
import type { Executor, TaskInvocation } from '../core/executor.ts';
import { KeyScope } from '../core/keys.ts';
import type { Progress, Task } from '../core/task.ts';
import * as tasks from './conformance-tasks.ts';

/** What a group of cases is given by the suite that declares it. */
export interface ConformanceSuite {
  /** The executor under test, made before the cases run. */
  readonly executor: () => Executor;
  /** Makes another executor like it (the `close()` case closes its own). */
  readonly makeExecutor: () => Executor;
  /**
   * Wraps a case whose tasks settle only when their signal aborts: if it fails, the
   * executor, which such a task may hold for good, is closed and replaced.
   */
  readonly replacingOnFailure: (fn: () => Promise<void>) => () => Promise<void>;
}

/** How long a case waits for an expected event or settlement before it fails. */
export const deadlineMs = 3_000;
/** Bound of one case, so that a hang fails the case instead of the whole run. */
export const caseOptions = { timeout: 10_000 } as const;

/** Records the events of one case, and waits for those it expects. */
export class EventLog {
  readonly bus = new EventBus();
  readonly events: WeftEvent[] = [];
  readonly #waiters = new Set<{
    test: (event: WeftEvent) => boolean;
    done: (event: WeftEvent) => void;
  }>();

  constructor() {
    this.bus.on((event) => {
      this.events.push(event);
      for (const waiter of this.#waiters) if (waiter.test(event)) waiter.done(event);
    });
  }

  /** Resolves with the first event, past or future, that passes `test`; fails after a deadline. */
  waitFor(what: string, test: (event: WeftEvent) => boolean): Promise<WeftEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        done: (event: WeftEvent) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`No ${what} within ${deadlineMs} ms.`));
      }, deadlineMs);
      this.#waiters.add(waiter);
    });
  }
}

/** True for a `task:progress` event carrying `message` (from item `item`, if given). */
export function isProgress(
  event: WeftEvent,
  message: string,
  item?: number,
): event is TaskProgressEvent {
  return (
    event.type === 'task:progress' &&
    typeof event.progress === 'object' &&
    event.progress.message === message &&
    (item === undefined || event.item === item)
  );
}

/** An invocation made by hand, for `run` and `runBatch`. */
export function invocation<I>(
  task: Task<I, unknown>,
  input: I,
  key: string,
  progress: (value: Progress) => void = () => {},
): TaskInvocation {
  return {
    task: task as Task,
    input,
    key,
    attempt: 1,
    signal: new AbortController().signal,
    scope: new KeyScope(key),
    progress,
    started: () => {},
  };
}

/** `executor.run` as a promise, also when it returns a value or throws synchronously. */
export async function runOne(executor: Executor, call: TaskInvocation): Promise<unknown> {
  return executor.run(call);
}

/** Raised when a promise the case waits for is still pending after the deadline. */
class StillPendingError extends Error {
  override name = 'StillPendingError';
}

/** Waits for `promise` to settle, failing the case if it is still pending after the deadline. */
export function settleWithin<T>(promise: PromiseLike<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StillPendingError(`${what} was still pending after ${deadlineMs} ms.`)),
      deadlineMs,
    );
  });
  return Promise.race([Promise.resolve(promise), deadline]).finally(() => clearTimeout(timer));
}

/** The reason `promise` rejects with; fails the case if it fulfils or stays pending. */
export async function rejectionOf(promise: PromiseLike<unknown>, what: string): Promise<unknown> {
  let value: unknown;
  try {
    value = await settleWithin(promise, what);
  } catch (error) {
    if (error instanceof StillPendingError) throw error;
    return error;
  }
  assert.fail(`${what} should have rejected, but fulfilled with ${String(value)}.`);
}

/** An error's `code` (errors that crossed a boundary are recognised by it, not by class). */
export function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | undefined)?.code;
}

/** Checks an error thrown by the conformance tasks: an Error with its message, name and code. */
export function assertTaskError(error: unknown, message: string): void {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  assert.equal(error.message, message);
  assert.equal(error.name, 'ConformanceError');
  assert.equal(codeOf(error), tasks.conformanceErrorCode);
}

/** The whole numbers from `from` to `to`, both included. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
