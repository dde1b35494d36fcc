/**
 * One job's task run on the worker's executor: the invocation the executor is handed
 * (it is also the task's context), its signal, its timeout, its replies on the way
 * (progress, and `started` for a timed task) and its timings. A run ends once: with the
 * task's output or error, or with the reason its signal aborted (a cancel message, the
 * timeout, the worker stopping at once), also when the task ignores its signal; the
 * task is then given a short grace to wind down, so that what it reports on its way out
 * (a last progress) is sent before the outcome when it can be; what comes later is sent
 * all the same (a pool's worker reports after the pool gave up waiting).
 *
 * Tiny tasks are the common case, so a run allocates little: its signal is made when
 * first read or aborted, and a task that returns synchronously ends the run without a
 * promise.
 */
import { TimeoutError } from '../core/errors.ts';
import { type Executor, isThenable, type TaskInvocation } from '../core/executor.ts';
import { KeyScope } from '../core/keys.ts';
import type { Progress, Task } from '../core/task.ts';
import type { ReplyWriter } from './reply-writer.ts';

/** After an abort, how long a task may take to wind down before its run ends without it. */
const abortGraceMs = 1000;

const clock = performance;
const timeOrigin = performance.timeOrigin;

/** How a run ended. `startedAt` is ms since the epoch, -1 when the task never started. */
export interface RunEnd {
  readonly ok: boolean;
  /** The output when ok, else the error. */
  readonly result: unknown;
  readonly startedAt: number;
  readonly durationMs: number;
  /** Progress replies sent before the end. */
  readonly progress: number;
}

/** Where a run's replies go. */
export interface RunReplies {
  readonly writer: ReplyWriter;
  /** The job's reply stream, and its id. */
  readonly stream: string;
  readonly job: string;
  /** Whether the orchestrator waits for a `started` reply (the task has a timeout). */
  readonly timed: boolean;
}

/** One task run; see the module comment. */
export class JobRun implements TaskInvocation {
  readonly task: Task;
  readonly input: unknown;
  readonly key: string;
  readonly attempt: number;
  /** When its job was added (BullMQ's timestamp, ms since the epoch): cancels sent before do not apply. */
  readonly addedAt: number;
  readonly #replies: RunReplies;
  #controller: AbortController | undefined;
  #scope: KeyScope | undefined;
  /** Clock readings: hand-over to the executor, and the real start when it said. */
  #handedAt = -1;
  #startedAt = -1;
  /** Start (epoch ms) and duration measured where the task ran, when the executor gives them. */
  #ranAt = -1;
  #ranFor = 0;
  #progress = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #end: RunEnd | undefined;
  #resolve: ((end: RunEnd) => void) | undefined;

  constructor(
    task: Task,
    input: unknown,
    key: string,
    attempt: number,
    addedAt: number,
    replies: RunReplies,
  ) {
    this.task = task;
    this.input = input;
    this.key = key;
    this.attempt = attempt;
    this.addedAt = addedAt;
    this.#replies = replies;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  get scope(): KeyScope {
    // One scope per attempt, so nested fan-outs get distinct keys (as in this thread).
    this.#scope ??= new KeyScope(this.key);
    return this.#scope;
  }

  progress(value: Progress): void {
    // Also after the run ended: an aborted task reports how it wound down (from a pool's
    // worker, after the pool gave up waiting), and its orchestrator still hears it.
    const { writer, stream, job } = this.#replies;
    try {
      writer.send(stream, { type: 'progress', job, value });
      this.#progress++;
    } catch {
      // A report that is not JSON (a BigInt) is dropped rather than failing the task.
    }
  }

  started(): void {
    if (this.#startedAt >= 0 || this.#end !== undefined) return;
    this.#startedAt = clock.now();
    if (this.task.options.timeoutMs !== undefined) {
      const { writer, stream, job, timed } = this.#replies;
      if (timed) writer.send(stream, { type: 'started', job });
      this.#startTimer();
    }
  }

  ran(startedAt: number, durationMs: number): void {
    this.#ranAt = startedAt;
    this.#ranFor = durationMs;
  }

  /**
   * Hands the task to `executor`. Returns how the run ended, or a promise of it when the
   * task did not end at once.
   */
  start(executor: Executor): RunEnd | Promise<RunEnd> {
    if (this.#end !== undefined) return this.#end;
    this.#handedAt = clock.now();
    // Without a start report, the timeout counts from the hand-over.
    if (this.task.options.timeoutMs !== undefined && !executor.reportsStart) this.#startTimer();
    let result: unknown;
    try {
      result = executor.run(this);
    } catch (error) {
      return this.#taskEnded(false, error);
    }
    if (!isThenable(result)) return this.#taskEnded(true, result);
    if (this.#end !== undefined) return this.#end;
    return new Promise((resolve) => {
      this.#resolve = resolve;
      result.then(
        (value) => this.#taskEnded(true, value),
        (error: unknown) => this.#taskEnded(false, error),
      );
    });
  }

  /**
   * Aborts the task's signal with `reason`; the run ends with it once the task settles,
   * or after `graceMs` if it does not.
   */
  abort(reason: unknown, graceMs = abortGraceMs): void {
    if (this.#end !== undefined) return;
    this.#controller ??= new AbortController();
    if (this.#controller.signal.aborted) {
      // Aborted already (a timeout, then a cancel): only stopping at once shortens the grace.
      if (graceMs <= 0) this.#finish(false, this.#controller.signal.reason);
      return;
    }
    this.#controller.abort(reason);
    clearTimeout(this.#timer);
    if (graceMs <= 0 || this.#handedAt < 0) {
      this.#finish(false, reason);
      return;
    }
    this.#timer = setTimeout(() => this.#finish(false, reason), graceMs);
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    const timeoutMs = this.task.options.timeoutMs!;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.abort(TimeoutError.forAttempt(this.task.name, this.key, timeoutMs, this.attempt));
    }, timeoutMs);
  }

  #taskEnded(ok: boolean, outcome: unknown): RunEnd {
    const signal = this.#controller?.signal;
    // Aborted first: the run ends with the reason, whatever the task made of it.
    if (signal?.aborted) return this.#finish(false, signal.reason);
    return this.#finish(ok, outcome);
  }

  #finish(ok: boolean, result: unknown): RunEnd {
    if (this.#end !== undefined) return this.#end;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    let startedAt = -1;
    let durationMs = 0;
    if (this.#ranAt >= 0) {
      startedAt = this.#ranAt;
      durationMs = this.#ranFor;
    } else if (this.#handedAt >= 0) {
      const from = this.#startedAt >= 0 ? this.#startedAt : this.#handedAt;
      startedAt = timeOrigin + from;
      durationMs = clock.now() - from;
    }
    const end: RunEnd = { ok, result, startedAt, durationMs, progress: this.#progress };
    this.#end = end;
    this.#resolve?.(end);
    return end;
  }
}
