/**
 * The runner shared by every fan-out (map, dag, and the front ends built on them): it
 * launches invocations on an executor, applies timeouts and retries, counts what is in
 * flight, reports events and stops everything through one AbortController. What to run
 * next and what to do with results is the business of the subclasses.
 */
import { setMaxListeners } from 'node:events';
import { isWeftError, TimeoutError, toWire, ValidationError, type WireError } from './errors.ts';
import { type EventBus, events as sharedEvents } from './events.ts';
import { type Executor, isThenable } from './executor.ts';
import type { FanOutDisplay, FanOutOptions } from './fan-out-options.ts';
import { Invocation } from './invocation.ts';
import type { KeyScope } from './keys.ts';
import { Fifo } from './queue.ts';
import type { RecordListener } from './recorder.ts';
import { type Completed, lookahead, lookupBatch } from './resume.ts';
import type { Run } from './run.ts';
import { WithArtifacts } from './staged.ts';
import type { TaskRecord } from './store.ts';
import type { Task } from './task.ts';
import { taskEnded, taskFailed, taskResumed, taskRetrying, taskStarted } from './task-events.ts';

// Types a fan-out is built from, for the modules that import them with the runner.
export type { Invocation } from './invocation.ts';

const clock = performance;
const timeOrigin = performance.timeOrigin;

/** Base of every fan-out: the runner. Subclasses decide what to launch and what results mean. */
export abstract class FanOut {
  readonly executor: Executor;
  readonly bus: EventBus;
  readonly scope: KeyScope;
  readonly limit: number;
  /**
   * Items launched and not yet settled: executing (retries waiting included), finished
   * and being recorded, and, when resuming, being looked up or waiting for an executor slot.
   */
  protected running = 0;
  /**
   * How many launched items the fan-out may hold unsettled: its concurrency; when it
   * records, as many again finished and waiting for their records to be written, so that
   * new tasks start while a group is committed (a crash repeats at most the tasks in
   * flight and one group of records); when resuming, also the items ahead whose keys are
   * being looked up (they need no executor slot until an earlier attempt is found not to
   * have completed them).
   */
  protected readonly capacity: number;
  /**
   * Room a full fan-out waits for before it launches more items: when resuming, a whole
   * lookup batch, so that keys are looked up many at a time even when results are read
   * one by one; otherwise 1.
   */
  protected readonly refill: number;
  /** Set once the fan-out fails fast, is cancelled, or its consumer stops reading. */
  protected stopped = false;
  protected completed = 0;
  protected failed = 0;
  protected readonly startedAt = clock.now();
  readonly #controller = new AbortController();
  readonly #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  /** The run this fan-out records to (inside withRun), if any. */
  readonly #run: Run | undefined;
  /** True when earlier attempts of the run completed tasks: each key is looked up first. */
  readonly #resuming: boolean;
  /** Items handed to the executor and not settled, retries waiting included: at most `limit`. */
  #executing = 0;
  /** Items that finished and whose records are being written: with `#executing`, at most 2 × `limit`. */
  #unrecorded = 0;
  /** Resumed items that must run after all, waiting for an executor slot, oldest first. */
  readonly #waiting = new Fifo<Invocation>();
  #draining = false;

  /** True when earlier attempts of the run completed tasks: each key is looked up first. */
  protected get resuming(): boolean {
    return this.#resuming;
  }

  get run(): Run | undefined {
    return this.#run;
  }
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort = () => this.stop(this.#userSignal!.reason);
  /** A run taken over by another process: its fan-outs stop, so nothing runs twice. */
  readonly #onRunLost = () => this.stop(this.#run!.signal.reason);
  /**
   * Clock reading at the end of the last task, reused as the start of the next one when
   * both happen in the same synchronous burst: tiny tasks then pay for one clock read.
   */
  #burstClock = -1;
  #inBurst = false;

  /**
   * @param run the run of the code that called map or dag — captured at the call, since
   *   the work starts later, when the result is awaited or iterated
   */
  constructor(executor: Executor, scope: KeyScope, options: FanOutOptions, run: Run | undefined) {
    this.executor = executor;
    this.#run = run;
    this.bus = options.events ?? this.#run?.events ?? sharedEvents;
    this.scope = scope;
    const wanted = options.concurrency ?? executor.concurrency;
    // Invalid values are reported by checkFanOutOptions; here they must not stall the runner.
    this.limit = Math.max(1, Math.min(Number.isNaN(wanted) ? 1 : wanted, executor.maxConcurrency));
    this.#resuming = run !== undefined && run.resumable > 0;
    this.capacity = this.limit + (run ? this.limit : 0) + (this.#resuming ? lookahead : 0);
    this.refill = this.#resuming ? lookupBatch : 1;
    // Many tasks (fetch calls, timers) listen on one fan-out signal: that is expected.
    setMaxListeners(0, this.#controller.signal);
    this.#userSignal = options.signal;
    this.#userSignal?.addEventListener('abort', this.#onUserAbort, { once: true });
    this.#run?.signal.addEventListener('abort', this.#onRunLost, { once: true });
  }

  /**
   * Stops the fan-out at once when the caller's signal, or its run's, was aborted before it began
   * (an abort listener never fires for that). Returns true when it did.
   */
  protected stopIfCallerAborted(): boolean {
    const aborted = this.#userSignal?.aborted ? this.#userSignal : this.#run?.signal;
    if (!aborted?.aborted) return false;
    this.stop(aborted.reason);
    return true;
  }

  /** Aborted when the fan-out stops; every task's signal follows it. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The deterministic key of an item. */
  abstract keyOf(item: number | string): string;
  /** An item's task finished (after retries). */
  protected abstract succeeded(invocation: Invocation, value: unknown): void;
  /** An item's task failed for good. */
  protected abstract failedFinally(invocation: Invocation, error: unknown): void;
  /** The fan-out was stopped with `reason`. */
  protected abstract onStop(reason: unknown): void;

  /** Marks a synchronous stretch of launches (see `#burstClock`). */
  protected beginBurst(): void {
    this.#inBurst = true;
    this.#burstClock = -1;
  }

  protected endBurst(): void {
    this.#inBurst = false;
    this.#burstClock = -1;
  }

  #now(): number {
    const cached = this.#burstClock;
    if (cached >= 0) {
      this.#burstClock = -1;
      return cached;
    }
    return clock.now();
  }

  /**
   * Starts an item: its first attempt, or, when resuming, a lookup of its key, then its
   * stored output or its first attempt. `key` when the subclass computed it already;
   * `lookup` when it looked the key up ahead ({@link lookUpAhead}).
   */
  protected launch(
    task: Task,
    input: unknown,
    item: number | string,
    key?: string,
    lookup?: Promise<Completed>,
  ): void {
    this.running++;
    const invocation = new Invocation(this, task, input, item, 1, key);
    if (!this.#resuming) {
      this.#start(invocation);
      return;
    }
    (lookup ?? this.#run!.completedOutput(invocation.key)).then(
      (done) => {
        if (this.stopped) return;
        if (done.found) this.#resume(invocation, done.value);
        else this.#start(invocation);
      },
      (storeError: unknown) => this.stop(storeError),
    );
  }

  /**
   * When resuming, starts looking up the key of an item that is not ready to launch yet,
   * so that items launched one after another (a chain) are looked up together; pass the
   * result to {@link launch}. Undefined when not resuming.
   */
  protected lookUpAhead(item: number | string): Promise<Completed> | undefined {
    if (!this.#resuming) return undefined;
    const lookup = this.#run!.completedOutput(this.keyOf(item));
    // A failed lookup is reported by the launch that uses it; one never used is not a fault.
    lookup.catch(() => {});
    return lookup;
  }

  /** Hands an item to the executor, or queues it until a slot is free. */
  #start(invocation: Invocation): void {
    if (this.#canStart()) {
      this.#executing++;
      this.#attempt(invocation);
    } else this.#waiting.push(invocation);
  }

  /**
   * True when a task may start: an executor slot is free, and the tasks executing and
   * those finished but not yet recorded are at most twice the concurrency, which bounds
   * what a crash repeats to the tasks in flight and one group of records, whatever else
   * the fan-out holds (items ahead being looked up when resuming).
   */
  #canStart(): boolean {
    return (
      this.#executing < this.limit &&
      (this.#run === undefined || this.#executing + this.#unrecorded < 2 * this.limit)
    );
  }

  /** An executor slot was freed: hands it to the items waiting for one. */
  #freeSlot(): void {
    this.#executing--;
    this.#drain();
  }

  /** Starts the items waiting, as far as {@link canStart} allows. */
  #drain(): void {
    // An item that finishes at once frees its slot inside this loop, which goes on.
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#waiting.length > 0 && this.#canStart() && !this.stopped) {
        this.#executing++;
        this.#attempt(this.#waiting.shift()!);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Stops the fan-out: no new work, running tasks are aborted with `reason`. Idempotent. */
  stop(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.#waiting.clear();
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    this.#controller.abort(reason);
    this.detach();
    this.onStop(reason);
  }

  /** Removes listeners on the caller's signal; call when the fan-out is over. */
  protected detach(): void {
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
    this.#run?.signal.removeEventListener('abort', this.#onRunLost);
  }

  /** Reports the start of the fan-out, named and sized for progress displays. */
  protected emitStart(
    type: 'map:start' | 'dag:start',
    task: string | undefined,
    label: string,
    total: number | undefined,
    display: FanOutDisplay | false | undefined,
  ): void {
    if (!this.bus.active) return;
    const shown = display === false ? undefined : display;
    this.bus.emit({
      type,
      time: Date.now(),
      scope: this.scope.path,
      task,
      total: shown?.total ?? total,
      label: shown?.label ?? label,
      ...(display === false ? { hidden: true } : {}),
    });
  }

  protected emitFanOut(type: 'map:end' | 'dag:end', error: unknown): void {
    if (!this.bus.active) return;
    this.bus.emit({
      type,
      time: Date.now(),
      scope: this.scope.path,
      completed: this.completed,
      failed: this.failed,
      durationMs: clock.now() - this.startedAt,
      error,
    });
  }

  #attempt(invocation: Invocation): void {
    const bus = this.bus;
    if (!bus.listens('task:start')) {
      // Durations are measured from here for records and for end or failure events.
      if (this.#run || bus.active) invocation.handedAt = clock.now();
    } else {
      const now = this.#now();
      invocation.handedAt = now;
      bus.emit(taskStarted(this.scope.path, invocation, timeOrigin + now));
    }
    let result: unknown;
    invocation.handing = true;
    try {
      result =
        invocation.task.options.timeoutMs === undefined
          ? this.executor.run(invocation)
          : this.#runWithTimeout(invocation, invocation.task.options.timeoutMs);
    } catch (error) {
      invocation.handing = false;
      this.#attemptFailed(invocation, error);
      return;
    }
    invocation.handing = false;
    if (isThenable(result)) {
      result.then(
        (value) => this.#attemptSucceeded(invocation, value),
        (error) => this.#attemptFailed(invocation, error),
      );
    } else {
      this.#attemptSucceeded(invocation, result);
    }
  }

  #runWithTimeout(invocation: Invocation, timeoutMs: number): Promise<unknown> {
    const controller = invocation.ownController();
    return new Promise<unknown>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const startTimer = () => {
        timer = setTimeout(() => {
          const error = TimeoutError.forAttempt(
            invocation.task.name,
            invocation.key,
            timeoutMs,
            invocation.attempt,
          );
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      };
      // Count from the real start when the executor reports it, so queueing is not charged.
      if (this.executor.reportsStart) invocation.onStarted(startTimer);
      else startTimer();
      const settle = (fn: () => void) => {
        invocation.onStarted(() => {});
        if (timer !== undefined) clearTimeout(timer);
        fn();
      };
      try {
        const result = this.executor.run(invocation);
        Promise.resolve(result).then(
          (value) => settle(() => resolve(value)),
          (error) => settle(() => reject(error)),
        );
      } catch (error) {
        settle(() => reject(error));
      }
    }).finally(() => invocation.release());
  }

  #attemptSucceeded(invocation: Invocation, result: unknown): void {
    const run = this.#run;
    // Artifacts handed with the output are stored with its record, in one transaction.
    let value = result;
    let artifacts: TaskRecord['artifacts'];
    if (result instanceof WithArtifacts) {
      value = result.value;
      artifacts = result.artifacts;
      if (!run) {
        this.#attemptFailed(
          invocation,
          new ValidationError(
            `Task '${invocation.task.name}' (${invocation.key}) returned artifacts to store with ` +
              'its record, but its fan-out records nothing: run it inside withRun, without record: false.',
          ),
        );
        return;
      }
    }
    if (this.stopped) {
      // Its result is not wanted any more, but the work is done: keep it, so a resume
      // does not pay for it again, and count it, so the display says what the store holds.
      if (run)
        this.#record(run, invocation, 'completed', value, artifacts, {
          written: (_, failures) => {
            if (!failures.has(invocation.key)) this.#emitEnd(invocation, clock.now());
          },
          failed: () => {},
        });
      return;
    }
    if (!run) {
      this.#succeed(invocation, value);
      return;
    }
    // Finished once recorded: a crash after this point does not run the task again. Its
    // slot goes to the next task meanwhile, within the bound of #canStart.
    this.#unrecorded++;
    invocation.output = value;
    this.#record(run, invocation, 'completed', value, artifacts, this.#completedRecorded);
    this.#freeSlot();
  }

  /** Hears of the records of completed tasks (the token is the invocation): one for all. */
  readonly #completedRecorded: RecordListener = {
    written: (token, failures) => {
      const invocation = token as Invocation;
      const value = invocation.output;
      invocation.output = undefined;
      const unstorable = failures.get(invocation.key);
      if (unstorable !== undefined && !this.stopped) {
        // Recorded as failed, so that weft show lists it and a resume runs it again. It
        // stays counted until then, so that nothing starts before a fail-fast stop is known.
        this.#failRecorded(this.#run!, invocation, unstorable, false, true);
        return;
      }
      this.#unrecorded--;
      this.#drain();
      if (this.stopped) {
        // Stopped while it was being written: recorded all the same, so counted.
        if (unstorable === undefined) this.#emitEnd(invocation, clock.now());
        return;
      }
      this.#succeed(invocation, value, false);
    },
    failed: (_, storeError) => {
      this.#unrecorded--;
      this.stop(storeError);
    },
  };

  /** Queues the record of an invocation's last attempt with the run. */
  #record(
    run: Run,
    invocation: Invocation,
    status: TaskRecord['status'],
    /** The output of a completed task, or the error of a failed one. */
    outcome: unknown,
    artifacts: TaskRecord['artifacts'],
    listener: RecordListener,
  ): void {
    // The duration is fixed here, so that the events sent once it is written agree with it.
    invocation.ranFor = invocation.durationUntil(clock.now());
    // One object a record: this runs for every task of a recorded fan-out.
    const record: { -readonly [K in keyof TaskRecord]: TaskRecord[K] } = {
      key: invocation.key,
      task: invocation.task.name,
      status,
      attempts: invocation.attempt,
      startedAt: timeOrigin + invocation.ranAt,
      durationMs: invocation.ranFor,
      queuedMs: invocation.queuedMs,
    };
    if (status === 'completed') record.output = outcome;
    else record.error = outcome as WireError;
    if (artifacts !== undefined) record.artifacts = artifacts;
    // Groups of at most the concurrency: its tasks run on while one commits.
    run.recorder.recordThen(record, listener, invocation, this.limit);
  }

  /** Replays a task completed by an earlier attempt of the run: its stored output, no execution. */
  #resume(invocation: Invocation, value: unknown): void {
    this.running--;
    this.completed++;
    const bus = this.bus;
    if (bus.listens('task:end')) bus.emit(taskResumed(this.scope.path, invocation, Date.now()));
    this.succeeded(invocation, value);
  }

  /** @param holdsSlot the item still holds its executor slot, to free now */
  #succeed(invocation: Invocation, value: unknown, holdsSlot = true): void {
    this.running--;
    this.completed++;
    if (this.bus.listens('task:end')) {
      const now = clock.now();
      if (this.#inBurst) this.#burstClock = now;
      this.#emitEnd(invocation, now);
    }
    this.succeeded(invocation, value);
    if (holdsSlot) this.#freeSlot();
  }

  #emitEnd(invocation: Invocation, now: number): void {
    if (!this.bus.listens('task:end')) return;
    this.bus.emit(taskEnded(this.scope.path, invocation, now));
  }

  #attemptFailed(invocation: Invocation, failure: unknown): void {
    if (this.stopped) return;
    let error = failure;
    let delayMs: number | undefined;
    try {
      delayMs = retryDelay(invocation, error);
    } catch (retryIfError) {
      // A retryIf that throws is a bug to surface, not a reason to retry.
      error = retryIfError;
    }
    const bus = this.bus;
    if (delayMs !== undefined) {
      if (bus.active) {
        bus.emit(taskRetrying(this.scope.path, invocation, Date.now(), error, delayMs));
      }
      const timer = setTimeout(() => {
        this.#retryTimers.delete(timer);
        if (!this.stopped) this.#attempt(invocation.retry());
      }, delayMs);
      this.#retryTimers.add(timer);
      return;
    }
    const run = this.#run;
    if (!run) {
      this.#fail(invocation, error);
      return;
    }
    this.#failRecorded(run, invocation, error, true);
  }

  /**
   * Records the failure with the run, then fails the item.
   * @param holdsSlot the item still holds its executor slot: kept until the record is
   *   written, so that no task starts before a failure that stops the fan-out is known
   */
  #failRecorded(
    run: Run,
    invocation: Invocation,
    error: unknown,
    holdsSlot: boolean,
    unrecorded = false,
  ): void {
    // An item counted among the unrecorded (its output could not be stored) stays so until
    // its failure is written.
    const release = () => {
      if (!unrecorded) return;
      this.#unrecorded--;
      this.#drain();
    };
    this.#record(run, invocation, 'failed', toWire(error), undefined, {
      written: () => {
        if (!this.stopped) this.#fail(invocation, error, holdsSlot);
        // Stopped while it was being written: recorded all the same, so counted.
        else this.#emitFail(invocation, error);
        release();
      },
      failed: (_, storeError) => {
        release();
        this.stop(storeError);
      },
    });
  }

  /** @param holdsSlot the item still holds its executor slot, to free now */
  #fail(invocation: Invocation, error: unknown, holdsSlot = true): void {
    this.running--;
    this.failed++;
    this.#emitFail(invocation, error);
    this.failedFinally(invocation, error);
    if (holdsSlot) this.#freeSlot();
  }

  #emitFail(invocation: Invocation, error: unknown): void {
    if (!this.bus.active) return;
    this.bus.emit(taskFailed(this.scope.path, invocation, clock.now(), error));
  }
}

/** Milliseconds to wait before retrying, or undefined when the attempt should not be retried. */
function retryDelay(invocation: Invocation, error: unknown): number | undefined {
  const { retries = 0, backoff = {}, retryIf } = invocation.task.options;
  if (invocation.attempt > retries) return undefined;
  // An abort by the fan-out or the caller is not the task's fault: never retried.
  if (invocation.signal.aborted && !(invocation.signal.reason instanceof TimeoutError)) {
    return undefined;
  }
  // Faults of the set-up, not of the attempt: trying again would only fail again.
  for (const code of ['WEFT_EXECUTOR_CLOSED', 'WEFT_TOP_LEVEL_WORK', 'WEFT_NESTED_POOL']) {
    if (isWeftError(error, code)) return undefined;
  }
  if (retryIf && !retryIf(error, invocation.attempt)) return undefined;
  const { delayMs = 100, factor = 2, maxDelayMs = 30_000, jitter = true } = backoff;
  const full = Math.min(maxDelayMs, delayMs * factor ** (invocation.attempt - 1), maxTimerMs);
  if (typeof jitter === 'number') return Math.min(maxTimerMs, full + Math.random() * jitter);
  return jitter ? full / 2 + (Math.random() * full) / 2 : full;
}

/** The longest delay a Node timer can wait. */
const maxTimerMs = 2_147_483_647;
