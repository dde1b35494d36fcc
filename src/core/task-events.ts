/**
 * The events about one attempt of a task: its start, end, failure, retry and progress.
 * Every one begins with the same fields (when, in which fan-out, which task instance and
 * attempt), written here once; each builder adds what its event tells. Progress displays,
 * run stores and `weft show` read these shapes, field order included, so a change here is
 * a change of what is persisted.
 *
 * They run for every task of a fan-out (a million a second with nobody slow listening):
 * each event is one object, built only when someone listens for its type.
 */
import type {
  TaskEndEvent,
  TaskFailEvent,
  TaskProgressEvent,
  TaskRetryEvent,
  TaskStartEvent,
} from './events.ts';
import type { Progress } from './task.ts';

const timeOrigin = performance.timeOrigin;

/** What the events of an attempt tell of it: an invocation. */
export interface EventfulAttempt {
  readonly key: string;
  readonly task: { readonly name: string };
  readonly item: number | string;
  readonly attempt: number;
  /** How long the attempt waited between its hand-over and its start. */
  readonly queuedMs: number;
  /** How long the attempt ran, if it ended at clock reading `now`. */
  durationUntil(now: number): number;
}

type TaskEvent = TaskStartEvent | TaskEndEvent | TaskFailEvent | TaskRetryEvent | TaskProgressEvent;
type Building<E> = { -readonly [K in keyof E]: E[K] };

/**
 * The fields every event of an attempt starts with. The caller sets the fields its type
 * adds at once, in a fixed order, so that each type keeps one shape.
 */
function taskEvent<E extends TaskEvent>(
  type: E['type'],
  scope: string,
  attempt: EventfulAttempt,
  time: number,
): Building<E> {
  return {
    type,
    time,
    scope,
    key: attempt.key,
    task: attempt.task.name,
    item: attempt.item,
    attempt: attempt.attempt,
  } as Building<E>;
}

/**
 * The attempt was handed to its executor.
 * @param scope the path of the fan-out's scope
 * @param time milliseconds since the epoch
 */
export function taskStarted(scope: string, attempt: EventfulAttempt, time: number): TaskStartEvent {
  return taskEvent<TaskStartEvent>('task:start', scope, attempt, time);
}

/**
 * The attempt finished; how long it ran and waited are taken from it.
 * @param now the clock reading (performance.now()) at its end, which is also the event's time
 */
export function taskEnded(scope: string, attempt: EventfulAttempt, now: number): TaskEndEvent {
  const event = taskEvent<TaskEndEvent>('task:end', scope, attempt, timeOrigin + now);
  event.durationMs = attempt.durationUntil(now);
  event.queuedMs = attempt.queuedMs;
  return event;
}

/** The task's output was taken from an earlier attempt of the run: it did not run now. */
export function taskResumed(scope: string, attempt: EventfulAttempt, time: number): TaskEndEvent {
  const event = taskEvent<TaskEndEvent>('task:end', scope, attempt, time);
  event.durationMs = 0;
  event.queuedMs = 0;
  event.resumed = true;
  return event;
}

/** The attempt failed for good (see {@link taskEnded} for `now`). */
export function taskFailed(
  scope: string,
  attempt: EventfulAttempt,
  now: number,
  error: unknown,
): TaskFailEvent {
  const event = taskEvent<TaskFailEvent>('task:fail', scope, attempt, timeOrigin + now);
  event.durationMs = attempt.durationUntil(now);
  event.queuedMs = attempt.queuedMs;
  event.error = error;
  return event;
}

/** The attempt failed and another follows after `delayMs`. */
export function taskRetrying(
  scope: string,
  attempt: EventfulAttempt,
  time: number,
  error: unknown,
  delayMs: number,
): TaskRetryEvent {
  const event = taskEvent<TaskRetryEvent>('task:retry', scope, attempt, time);
  event.error = error;
  event.delayMs = delayMs;
  return event;
}

/** The task reported its progress. */
export function taskProgressed(
  scope: string,
  attempt: EventfulAttempt,
  time: number,
  progress: Progress,
): TaskProgressEvent {
  const event = taskEvent<TaskProgressEvent>('task:progress', scope, attempt, time);
  event.progress = progress;
  return event;
}
