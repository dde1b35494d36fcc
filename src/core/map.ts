/**
 * `map`: one task over many items, with bounded concurrency. The result is both
 * awaitable (every output, in input order) and async-iterable (outputs streamed as they
 * finish, in input order or completion order). Input may be any iterable or async
 * iterable; it is read only as fast as tasks can start, so an endless stream runs in
 * bounded memory.
 */
import { refuseTopLevelWork } from './definitions.ts';
import { TaskFailedError, ValidationError } from './errors.ts';
import { getDefaultExecutor } from './executor.ts';
import { FanOut, type Invocation } from './fan-out.ts';
import {
  checkFanOutOptions,
  type FanOutOptions,
  parentScope,
  recordingRun,
} from './fan-out-options.ts';
import type { KeyScope } from './keys.ts';
import { Outlet } from './outlet.ts';
import { currentRun, type Run } from './run.ts';
import { type Task, type TaskFn, toTask } from './task.ts';
import { unwrapTransfer } from './transfer.ts';

/** What `map` does when a task fails for good (after its retries). */
export type OnError = 'throw' | 'collect';

/** Options of {@link map}. */
export interface MapOptions<I = unknown> extends FanOutOptions {
  /**
   * `'throw'` fails fast: no new task starts, running ones are aborted, and the map
   * rejects with a `TaskFailedError`. `'collect'` puts the task's error in place of its
   * output and goes on.
   * @default 'throw'
   */
  readonly onError?: OnError;
  /**
   * When iterating: yield outputs in input order (`true`) or as they finish (`false`).
   * @default true
   */
  readonly ordered?: boolean;
  /**
   * Name of this fan-out in keys and progress.
   * @default `map:<task name>`
   */
  readonly name?: string;
  /**
   * The key segment of one item. Give a stable, unique value (an id, a file name) when
   * items may be reordered between runs that should resume each other.
   * @default the item's position
   */
  readonly itemKey?: (item: I, index: number) => string | number;
  /**
   * The fan-out's own scope, made beforehand with `parent.child(name)`: its keys are
   * `<keyScope>/<item>`. For callers that start a fan-out after an await (an init that
   * reads files) and must take its place among sibling fan-outs when they are called, so
   * that keys never depend on which of them finished awaiting first.
   * @default `<scope>.child(name)`, made when the fan-out starts
   */
  readonly keyScope?: KeyScope;
}

/** The result of {@link map}: await it for every output, or iterate it for a stream. */
export interface MapResult<O> extends PromiseLike<O[]>, AsyncIterable<O> {
  readonly [Symbol.toStringTag]: string;
  then<A = O[], B = never>(
    onFulfilled?: ((value: O[]) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B>;
  catch<R = never>(onRejected: (reason: unknown) => R | PromiseLike<R>): Promise<O[] | R>;
  finally(onFinally: () => void): Promise<O[]>;
}

type Input<I> = Iterable<I> | AsyncIterable<I>;

/**
 * Runs `task` over every item of `input`.
 *
 * @example
 * const squares = await map([1, 2, 3], square, { executor: threads({ workers: 2 }) }); // [1, 4, 9]
 * for await (const page of map(urls, fetchPage, { ordered: false })) console.log(page);
 * const settled = await map(items, risky, { onError: 'collect' }); // Error in place of failures
 */
export function map<I, O>(
  input: Input<I>,
  task: Task<I, O> | TaskFn<I, O>,
  options: MapOptions<I> & { readonly onError: 'collect' },
): MapResult<O | Error>;
export function map<I, O>(
  input: Input<I>,
  task: Task<I, O> | TaskFn<I, O>,
  options?: MapOptions<I>,
): MapResult<O>;
export function map<I, O>(
  input: Input<I>,
  task: Task<I, O> | TaskFn<I, O>,
  options: MapOptions<I> = {},
): MapResult<O | Error> {
  refuseTopLevelWork(`map(${(task as { name?: unknown })?.name || 'anonymous'})`);
  return new MapCall<I, O>(input, task, options);
}

class MapCall<I, O> implements MapResult<O> {
  readonly [Symbol.toStringTag] = 'MapResult';
  readonly #input: Input<I>;
  readonly #task: Task<I, O> | TaskFn<I, O>;
  readonly #options: MapOptions<I>;
  #all: Promise<O[]> | undefined;
  #iterated = false;
  // The caller's run, read now: the work starts later, when the result is consumed.
  readonly #run: Run | undefined;

  constructor(input: Input<I>, task: Task<I, O> | TaskFn<I, O>, options: MapOptions<I>) {
    this.#input = input;
    this.#task = task;
    this.#options = options;
    this.#run = recordingRun(options, currentRun());
  }

  // biome-ignore lint/suspicious/noThenProperty: a map result is awaitable by design.
  then<A = O[], B = never>(
    onFulfilled?: ((value: O[]) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#collect().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected: (reason: unknown) => R | PromiseLike<R>): Promise<O[] | R> {
    return this.#collect().catch(onRejected);
  }

  finally(onFinally: () => void): Promise<O[]> {
    return this.#collect().finally(onFinally);
  }

  [Symbol.asyncIterator](): AsyncIterator<O> {
    if (this.#all || this.#iterated) {
      throw new ValidationError(
        'This map result is already being consumed; iterate it or await it once. Call map() again for a second pass.',
      );
    }
    this.#iterated = true;
    const runner = new MapRunner<I, O>(this.#input, this.#task, this.#options, true, this.#run);
    return runner.iterator();
  }

  #collect(): Promise<O[]> {
    if (this.#iterated) {
      return Promise.reject(
        new ValidationError(
          'This map result is already being iterated; it cannot also be awaited.',
        ),
      );
    }
    this.#all ??= new Promise<O[]>((resolve, reject) => {
      const runner = new MapRunner<I, O>(this.#input, this.#task, this.#options, false, this.#run);
      runner.collect(resolve, reject);
    });
    return this.#all;
  }
}

/** Tasks started in one synchronous burst before yielding to the event loop. */
const burstLimit = 4096;

/** Largest output array allocated up front; V8 keeps arrays made this large in fast mode. */
const presizedOutputsLimit = 1 << 24;

class MapRunner<I, O> extends FanOut {
  readonly #task: Task<I, O>;
  readonly #collectErrors: boolean;
  readonly #ordered: boolean;
  readonly #streaming: boolean;
  readonly #itemKey: ((item: I, index: number) => string | number) | undefined;
  readonly #display: MapOptions<I>['display'];
  readonly #label: string;
  /** Keys given by itemKey so far, to refuse duplicates. */
  #keys: Set<string> | undefined;
  #sync: Iterator<I> | undefined;
  #async: AsyncIterator<I> | undefined;
  #setupError: unknown;
  readonly #total: number | undefined;
  #nextIndex = 0;
  #inputDone = false;
  #pulling = false;
  #pumping = false;
  #yieldScheduled = false;
  /** Room the pump waits for before launching again (see `refill`). */
  #waitFor = 1;
  #finished = false;
  // Collect mode.
  #results: unknown[] = [];
  #resolve: ((value: O[]) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  // Stream mode: outputs waiting to be read, and (ordered) those waiting for earlier ones.
  readonly #outlet: Outlet<O>;
  readonly #pending = new Map<number, unknown>();
  #nextOut = 0;

  constructor(
    input: Input<I>,
    task: Task<I, O> | TaskFn<I, O>,
    options: MapOptions<I>,
    streaming: boolean,
    run: Run | undefined,
  ) {
    const executor = options.executor ?? getDefaultExecutor();
    const wrapped = toTask(task);
    const parent = parentScope(options, run);
    super(
      executor,
      options.keyScope ?? parent.child(options.name ?? `map:${wrapped.name}`),
      options,
      run,
    );
    this.#task = wrapped;
    this.#collectErrors = options.onError === 'collect';
    this.#ordered = options.ordered ?? true;
    this.#streaming = streaming;
    this.#outlet = new Outlet<O>(
      () => this.#pump(),
      () => this.stop(new DOMException('The map consumer stopped reading.', 'AbortError')),
    );
    this.#itemKey = options.itemKey;
    this.#display = options.display;
    this.#label = options.name ?? wrapped.name;
    this.#total = sizeOf(input);
    try {
      checkFanOutOptions('map', options);
      executor.check(wrapped as Task);
      if (
        input != null &&
        typeof (input as AsyncIterable<I>)[Symbol.asyncIterator] === 'function'
      ) {
        this.#async = (input as AsyncIterable<I>)[Symbol.asyncIterator]();
      } else if (input != null && typeof (input as Iterable<I>)[Symbol.iterator] === 'function') {
        this.#sync = (input as Iterable<I>)[Symbol.iterator]();
      } else {
        throw new ValidationError(
          `map: input must be an iterable or async iterable, got ${typeof input}.`,
        );
      }
    } catch (error) {
      this.#setupError = error;
    }
  }

  keyOf(item: number | string): string {
    return this.scope.key(item);
  }

  /** Starts item `index`; with an `itemKey` option its key is computed here, where a throw can stop the map. */
  #launchItem(input: I): void {
    const index = this.#nextIndex++;
    if (!this.#itemKey) {
      this.launch(this.#task as Task, input, index);
      return;
    }
    let key: string;
    try {
      key = this.scope.key(this.#itemKey(unwrapTransfer(input) as I, index));
      // Two items with one key would share a record: a resume would give both one output.
      this.#keys ??= new Set();
      if (this.#keys.has(key)) {
        throw new ValidationError(
          `two items have the key '${key}' (item ${index} and an earlier one). itemKey must give every item its own key.`,
        );
      }
      this.#keys.add(key);
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      this.stop(new ValidationError(`map: itemKey for item ${index}: ${reason}`, { cause: error }));
      return;
    }
    this.launch(this.#task as Task, input, index, key);
  }

  collect(resolve: (value: O[]) => void, reject: (reason: unknown) => void): void {
    this.#resolve = resolve;
    this.#reject = reject;
    // Sized once when the input tells its size: an array grown by appends is copied into
    // ever larger stores, and for tiny tasks writing the outputs costs more than running them.
    if (this.#total !== undefined && this.#total <= presizedOutputsLimit) {
      this.#results = new Array(this.#total);
    }
    this.#begin();
  }

  iterator(): AsyncIterator<O> {
    this.#begin();
    return this.#outlet.iterator();
  }

  #begin(): void {
    if (this.#setupError !== undefined) {
      this.#finish(this.#setupError);
      return;
    }
    this.emitStart('map:start', this.#task.name, this.#label, this.#total, this.#display);
    if (this.stopIfCallerAborted() || this.signal.aborted) return;
    this.#pump();
  }

  /** The input ended: a map that could not tell its size up front reports it now. */
  #inputEnded(): void {
    this.#inputDone = true;
    const given = this.#display === false ? undefined : this.#display?.total;
    if (this.#total !== undefined || given !== undefined || !this.bus.active) return;
    this.bus.emit({
      type: 'map:total',
      time: Date.now(),
      scope: this.scope.path,
      total: this.#nextIndex,
    });
  }

  #hasRoom(): boolean {
    let room = this.capacity - this.running;
    // Streaming: outputs not yet read also hold memory, so they count against the bound.
    if (this.#streaming)
      room = Math.min(room, this.capacity + this.limit - this.running - this.#buffered());
    if (room <= 0) {
      this.#waitFor = this.refill;
      return false;
    }
    if (room < this.#waitFor) return false;
    this.#waitFor = 1;
    return true;
  }

  #buffered(): number {
    return this.#outlet.size + this.#pending.size;
  }

  #pump(): void {
    if (this.#pumping || this.stopped || this.#finished) return;
    this.#pumping = true;
    this.beginBurst();
    try {
      let burst = 0;
      while (!this.#inputDone && !this.stopped && this.#hasRoom()) {
        if (this.#sync) {
          let next: IteratorResult<I>;
          try {
            next = this.#sync.next();
          } catch (error) {
            this.stop(error);
            return;
          }
          if (next.done) {
            this.#inputEnded();
            break;
          }
          this.#launchItem(next.value);
          if (++burst >= burstLimit) {
            this.#yieldToEventLoop();
            break;
          }
        } else {
          this.#pull();
          break;
        }
      }
    } finally {
      this.#pumping = false;
      this.endBurst();
    }
    this.#maybeFinish();
  }

  #yieldToEventLoop(): void {
    if (this.#yieldScheduled) return;
    this.#yieldScheduled = true;
    setImmediate(() => {
      this.#yieldScheduled = false;
      this.#pump();
    });
  }

  #pull(): void {
    if (this.#pulling) return;
    this.#pulling = true;
    this.#async!.next().then(
      (next) => {
        this.#pulling = false;
        if (this.stopped) return;
        if (next.done) this.#inputEnded();
        else this.#launchItem(next.value);
        this.#pump();
      },
      (error) => {
        this.#pulling = false;
        this.stop(error);
      },
    );
  }

  protected succeeded(invocation: Invocation, value: unknown): void {
    this.#deliver(invocation.item as number, value);
    this.#pump();
  }

  protected failedFinally(invocation: Invocation, error: unknown): void {
    if (this.#collectErrors) {
      this.#deliver(
        invocation.item as number,
        error instanceof Error ? error : new Error(String(error)),
      );
      this.#pump();
      return;
    }
    this.stop(new TaskFailedError(invocation.task.name, invocation.key, invocation.attempt, error));
  }

  protected onStop(reason: unknown): void {
    this.#closeInput();
    this.#finish(reason);
  }

  #deliver(index: number, value: unknown): void {
    if (!this.#streaming) {
      // Appending keeps an array grown from empty packed; most outputs arrive in order.
      if (index === this.#results.length) this.#results.push(value);
      else this.#results[index] = value;
      return;
    }
    if (this.#ordered) {
      if (index !== this.#nextOut) {
        this.#pending.set(index, value);
        return;
      }
      this.#outlet.push(value as O);
      this.#nextOut++;
      while (this.#pending.has(this.#nextOut)) {
        this.#outlet.push(this.#pending.get(this.#nextOut) as O);
        this.#pending.delete(this.#nextOut++);
      }
    } else {
      this.#outlet.push(value as O);
    }
  }

  #maybeFinish(): void {
    if (this.#inputDone && this.running === 0 && !this.#finished && !this.stopped)
      this.#finish(undefined);
  }

  #finish(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.detach();
    this.emitFanOut('map:end', error);
    if (this.#streaming) {
      this.#outlet.close(error);
    } else {
      if (error !== undefined) this.#reject?.(error);
      else {
        // An input array that shrank while it was read gave fewer items than its size said.
        if (this.#results.length > this.#nextIndex) this.#results.length = this.#nextIndex;
        this.#resolve?.(this.#results as O[]);
      }
      this.#results = [];
    }
  }

  #closeInput(): void {
    try {
      const closing = this.#sync?.return?.() ?? this.#async?.return?.();
      if (closing && 'then' in closing) closing.then(undefined, () => {});
    } catch {
      // The input's own cleanup failed; the fan-out is stopping anyway.
    }
  }
}

/** How many items an input holds, when it says so without being read. */
function sizeOf(input: unknown): number | undefined {
  if (Array.isArray(input)) return input.length;
  if (input instanceof Set || input instanceof Map) return input.size;
  if (ArrayBuffer.isView(input) && !(input instanceof DataView)) {
    return (input as unknown as ArrayLike<unknown>).length;
  }
  return undefined;
}
