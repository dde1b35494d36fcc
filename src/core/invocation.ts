/**
 * One attempt of one task instance, as a fan-out hands it to an executor: the task, its
 * input, its key and signal, and its timings. It doubles as the task's context, so that
 * tiny tasks cost one object. Its times are clock readings (performance.now()): when it
 * was handed over, when it really started (after waiting for a worker or a slot), and
 * how long it ran, as measured where it ran when the executor says so.
 */
import type { EventBus } from './events.ts';
import type { TaskInvocation } from './executor.ts';
import { KeyScope } from './keys.ts';
import type { Run } from './run.ts';
import type { Progress, Task } from './task.ts';
import { taskProgressed } from './task-events.ts';

const clock = performance;
const timeOrigin = performance.timeOrigin;

/** What an invocation needs of the fan-out that made it. */
export interface InvocationOwner {
  readonly bus: EventBus;
  readonly scope: KeyScope;
  readonly signal: AbortSignal;
  readonly run: Run | undefined;
  keyOf(item: number | string): string;
}

/** One attempt of one task instance. Doubles as the task's context to keep tiny tasks cheap. */
export class Invocation implements TaskInvocation {
  readonly task: Task;
  readonly input: unknown;
  readonly item: number | string;
  readonly attempt: number;
  /** performance.now() when this attempt was handed to the executor; 0 when nobody listens. */
  handedAt = 0;
  /**
   * performance.now() when the attempt really started, when that was after the hand-over
   * (it waited for a slot, or ran on a worker); -1 when it started at the hand-over.
   */
  ranFrom = -1;
  /** How long the attempt ran, as measured where it ran or when it was recorded; -1 until known. */
  ranFor = -1;
  /** True while the executor's `run` is being called: a start reported then is the hand-over itself. */
  handing = false;
  /** The attempt's output, kept while its record is written. */
  output: unknown;
  readonly #fanOut: InvocationOwner;
  #key: string | undefined;
  #controller: AbortController | undefined;
  #unlink: (() => void) | undefined;
  #scope: KeyScope | undefined;
  #onStarted: (() => void) | undefined;

  constructor(
    fanOut: InvocationOwner,
    task: Task,
    input: unknown,
    item: number | string,
    attempt: number,
    key?: string,
  ) {
    this.#fanOut = fanOut;
    this.task = task;
    this.input = input;
    this.item = item;
    this.attempt = attempt;
    this.#key = key;
  }

  get key(): string {
    this.#key ??= this.#fanOut.keyOf(this.item);
    return this.#key;
  }

  get signal(): AbortSignal {
    return this.#controller?.signal ?? this.#fanOut.signal;
  }

  get scope(): KeyScope {
    // One scope per attempt: nested fan-outs of the same attempt get distinct keys, and a
    // retry, starting afresh, gets the same keys as the attempt it repeats.
    this.#scope ??= new KeyScope(this.key, this.#fanOut.run);
    return this.#scope;
  }

  started(): void {
    // A start reported during the hand-over is the hand-over: no clock read for tiny tasks.
    // One measured where the task ran (see `ran`) is more exact than this one.
    if (!this.handing && this.handedAt !== 0 && this.ranFor < 0) this.ranFrom = clock.now();
    const onStarted = this.#onStarted;
    if (onStarted) {
      this.#onStarted = undefined;
      onStarted();
    }
  }

  /** Takes the start and run time measured where the attempt ran (see TaskInvocation). */
  ran(startedAt: number, durationMs: number): void {
    this.ranFrom = startedAt - timeOrigin;
    this.ranFor = durationMs;
  }

  /** Clock reading when the attempt started: the hand-over, unless it waited after it. */
  get ranAt(): number {
    return Math.max(this.ranFrom, this.handedAt);
  }

  /** How long the attempt waited between the hand-over and its start (0 when not timed). */
  get queuedMs(): number {
    return this.handedAt === 0 ? 0 : this.ranAt - this.handedAt;
  }

  /** How long the attempt ran, if it ended at clock reading `now`. */
  durationUntil(now: number): number {
    return this.ranFor >= 0 ? this.ranFor : Math.max(0, now - this.ranAt);
  }

  /** Runs `fn` once, when the executor reports that the task started. */
  onStarted(fn: () => void): void {
    this.#onStarted = fn;
  }

  progress(value: Progress): void {
    const bus = this.#fanOut.bus;
    if (!bus.active) return;
    bus.emit(taskProgressed(this.#fanOut.scope.path, this, Date.now(), value));
  }

  /** The next attempt of the same task instance. */
  retry(): Invocation {
    return new Invocation(
      this.#fanOut,
      this.task,
      this.input,
      this.item,
      this.attempt + 1,
      this.#key,
    );
  }

  /** Gives this attempt its own signal, aborted with the fan-out's or on its own (timeouts). */
  ownController(): AbortController {
    if (this.#controller) return this.#controller;
    const controller = new AbortController();
    const parent = this.#fanOut.signal;
    if (parent.aborted) controller.abort(parent.reason);
    else {
      const onAbort = () => controller.abort(parent.reason);
      parent.addEventListener('abort', onAbort, { once: true });
      this.#unlink = () => parent.removeEventListener('abort', onAbort);
    }
    this.#controller = controller;
    return controller;
  }

  /** Drops the link to the fan-out's signal once the attempt is over. */
  release(): void {
    this.#unlink?.();
    this.#unlink = undefined;
  }
}
