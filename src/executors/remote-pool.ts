/**
 * The main-thread half of the `threads` and `processes` executors, built on tinypool.
 * Small tasks are dispatched in batches (one pool message carries many invocations of
 * one task), sized from that task's measured duration so that tiny tasks share a
 * message while long ones go one per message and spread evenly over the workers. A
 * batch whose worker dies is split and its invocations run again one per message, so
 * that the crash fails only the task that caused it: delivery is at least once, and a
 * task of such a batch may run twice with the same attempt number.
 */
import { availableParallelism } from 'node:os';
import type { TransferListItem } from 'node:worker_threads';
import { findUncloneable } from '../core/cloneable.ts';
import { mayStartPools } from '../core/definitions.ts';
import {
  ExecutorClosedError,
  fromWire,
  NotCloneableError,
  TimeoutError,
  toWire,
  ValidationError,
  WorkerCrashedError,
} from '../core/errors.ts';
import { type Executor, runEach, type Settled, type TaskInvocation } from '../core/executor.ts';
import { BatchBuffer, checkRemoteTask } from '../core/remote-executor.ts';
import type { Task } from '../core/task.ts';
import { isTransfer } from '../core/transfer.ts';
import { checkMaxMemoryMb, checkWorkers, defaultMaxMemoryMb } from './pool-limits.ts';
import {
  type BatchRequest,
  type BatchResponse,
  type ControlMessage,
  packInput,
  unpackValue,
  type WireCall,
} from './wire.ts';

/** Options shared by the `threads` and `processes` executors. */
export interface RemotePoolOptions {
  /**
   * Number of workers: at most 16 per CPU core (or 64 on a machine with fewer than 4):
   * more only share the same cores and memory.
   * @default the number of CPU cores
   */
  readonly workers?: number;
  /**
   * Heap limit of each worker, in megabytes (V8's old generation, where a leak grows; the
   * young generation, a few megabytes, and buffers come on top). A task that leaks past it
   * fails within seconds with a `WorkerCrashedError` saying its worker ran out of memory,
   * and the worker is replaced; the other tasks go on.
   * @default half of the machine's memory shared among the workers, at least 256 MB each
   *   and at most Node's own limit
   * @example processes({ workers: 4, maxMemoryMb: 1024 })
   */
  readonly maxMemoryMb?: number;
  /**
   * Most invocations carried by one message to a worker.
   * @default 128
   */
  readonly maxBatch?: number;
  /**
   * After a task times out, how long its worker may go on running it (the task ignores
   * its signal) before the worker is stopped and replaced.
   * @default 1000
   */
  readonly terminateAfterMs?: number;
  /**
   * Tasks a fan-out keeps in flight on this executor when it sets no concurrency.
   * @default workers × 256 (enough to keep every worker busy with batches of tiny tasks)
   */
  readonly concurrency?: number;
}

/** Work a batch aims to hold, in milliseconds of task time. */
const targetBatchMs = 2;

/**
 * Batches per worker for a task whose duration is not known yet: small enough that a
 * short fan-out of long tasks is spread evenly (a worker ends at most one batch after
 * the others), few enough that the first batches of tiny tasks stay cheap.
 */
const unknownBatchesPerWorker = 16;

/** What this executor knows of one task (a name in a module). */
interface TaskStats {
  /** Moving average of its duration per invocation, in ms; undefined until a batch answers. */
  avgMs: number | undefined;
  /** Its invocations sent to workers whose batch has not answered yet. */
  running: number;
}

interface Pending {
  readonly invocation: TaskInvocation;
  readonly id: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The caller has its answer (the outcome, or an abort that stopped the wait). */
  settled: boolean;
  /** Progress reports received from the worker. */
  received: number;
  /** The worker's outcome, held until every progress report it announced has arrived. */
  outcome?: { readonly expected: number; readonly value: unknown; readonly error: unknown };
  /** What is sent to the worker for it (marked when aborted before the pool posts it). */
  call?: WireCall;
}

let nextCallId = 1;

/** Inputs marked with transfer() that were sent once: their buffers are gone from here. */
const sentTransfers = new WeakSet<object>();

function movedInputError(invocation: TaskInvocation): NotCloneableError {
  return new NotCloneableError(
    `Task '${invocation.task.name}' (${invocation.key}) cannot be sent again: its input was moved ` +
      'to a worker with transfer() on an earlier attempt and is no longer here. For tasks that ' +
      'retry, share the data through a SharedArrayBuffer or send a copy instead of transferring it.',
  );
}

/**
 * What the `threads` and `processes` executors share. Each supplies, through the abstract
 * members, how to start tinypool tasks, send control messages and explain a crash, and
 * the words its messages use for where tasks run.
 */
export abstract class RemotePoolExecutor implements Executor {
  abstract readonly name: string;
  readonly remote = true;
  readonly concurrency: number;
  readonly maxConcurrency = Number.POSITIVE_INFINITY;
  readonly reportsStart = true;
  readonly workers: number;
  /** The heap limit of each worker, in megabytes (see {@link RemotePoolOptions.maxMemoryMb}). */
  readonly maxMemoryMb: number;
  readonly #maxBatch: number;
  readonly #terminateAfterMs: number;
  /** Invocations launched in the same tick share batches. */
  readonly #buffer = new BatchBuffer<Pending>(queueMicrotask, (batch) => this.#flush(batch));
  /**
   * Durations measured apart for each task: one average over all of them would size the
   * batches of long tasks from the tiny ones that ran before, and send them to one worker.
   */
  readonly #stats = new Map<string, TaskStats>();
  #closed = false;
  /**
   * Invocations sent to workers, by id, until their batch answered and all their
   * progress reports arrived (progress travels apart from results, and may lag them).
   */
  protected readonly inFlight = new Map<number, Pending>();

  constructor(kind: string, options: RemotePoolOptions) {
    const { workers = availableParallelism(), maxBatch = 128, maxMemoryMb } = options;
    checkWorkers(kind, workers);
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) {
      throw new ValidationError(`${kind}: maxBatch must be a whole number ≥ 1, got ${maxBatch}.`);
    }
    this.workers = workers;
    this.maxMemoryMb =
      maxMemoryMb === undefined
        ? defaultMaxMemoryMb(workers)
        : checkMaxMemoryMb(`${kind}({ maxMemoryMb })`, maxMemoryMb);
    this.#maxBatch = maxBatch;
    this.#terminateAfterMs = options.terminateAfterMs ?? 1000;
    this.concurrency = options.concurrency ?? workers * 256;
  }

  /** Where its tasks run, in the plural, as messages say it: `threads`, `processes`. */
  protected abstract readonly placeNoun: string;
  /** One of its workers, as messages name it: `worker thread`, `child process`. */
  protected abstract readonly workerNoun: string;

  /** Starts one pool task carrying `request`. */
  protected abstract startBatch(
    request: BatchRequest,
    transferList: TransferListItem[],
    terminate: AbortSignal | undefined,
  ): Promise<unknown>;
  /** Sends an abort to whichever worker runs invocation `id`. */
  protected abstract sendControl(message: ControlMessage): void;
  /** Name of the broadcast link for this executor's workers, if it uses one. */
  protected abstract get link(): string | undefined;
  /** Stops the pool. */
  protected abstract destroy(): Promise<void>;
  /** Turns a pool failure into the error users see, or undefined if it is not a crash. */
  protected abstract crashReason(error: unknown): string | undefined;

  check(task: Task): void {
    if (!mayStartPools()) {
      // A pool per worker would multiply workers, and a task module run again by its
      // workers would start pools without end.
      throw new ValidationError(
        `The ${this.name} executor cannot start workers inside a worker (task '${task.name}'): a task ` +
          'running on threads or processes fans out in its own worker, on asyncPool or inline ' +
          '(the default executor there).',
        { code: 'WEFT_NESTED_POOL' },
      );
    }
    checkRemoteTask(task, {
      executor: this.name,
      where: `in other ${this.placeNoun}`,
      module: 'a module',
      workers: `${this.name} workers`,
    });
  }

  run(invocation: TaskInvocation): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ExecutorClosedError(this.name));
    if (invocation.signal.aborted) return Promise.reject(invocation.signal.reason);
    return new Promise((resolve, reject) => {
      this.#buffer.push({
        invocation,
        id: nextCallId++,
        resolve,
        reject,
        settled: false,
        received: 0,
      });
    });
  }

  async runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    return runEach(this, invocations);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Answer the callers first: stopping the workers fails their batches with the pool's own error.
    const error = new WorkerCrashedError(
      `The ${this.name} executor was closed while tasks were running.`,
    );
    for (const pending of this.inFlight.values()) this.#settle(pending, undefined, error);
    this.inFlight.clear();
    await this.destroy();
  }

  /** Routes a worker's report (a timed task's start, progress) to its invocation. */
  protected onControl(message: ControlMessage): void {
    const pending = this.inFlight.get(message.id);
    if (!pending) return;
    if (message.weft === 'started') {
      pending.invocation.started();
    } else if (message.weft === 'progress') {
      pending.received++;
      // Also after the caller stopped waiting: a task reporting how it wound down.
      pending.invocation.progress(message.value as never);
      const { outcome } = pending;
      if (outcome && pending.received >= outcome.expected)
        this.#finish(pending, outcome.value, outcome.error);
    }
  }

  #flush(buffered: readonly Pending[]): void {
    if (this.#closed) {
      for (const pending of buffered)
        this.#settle(pending, undefined, new ExecutorClosedError(this.name));
      return;
    }
    // A batch holds one task, sized from that task's durations. A timed task travels
    // alone: a batch answers when all its tasks are done, and a task that hangs past its
    // timeout must not hold back others.
    const byTask = new Map<Task, Pending[]>();
    for (const pending of buffered) {
      const { task } = pending.invocation;
      if (task.options.timeoutMs !== undefined) {
        this.#dispatch([pending], this.#statsOf(task));
        continue;
      }
      const group = byTask.get(task);
      if (group) group.push(pending);
      else byTask.set(task, [pending]);
    }
    for (const [task, group] of byTask) {
      const stats = this.#statsOf(task);
      const size = this.#batchSize(stats, group.length);
      for (let i = 0; i < group.length; i += size)
        this.#dispatch(i === 0 && size >= group.length ? group : group.slice(i, i + size), stats);
    }
  }

  /** Two modules may define tasks of the same name: a task is its name in its module. */
  #statsOf(task: Task): TaskStats {
    const key = `${task.module}\n${task.name}`;
    let stats = this.#stats.get(key);
    if (!stats) {
      stats = { avgMs: undefined, running: 0 };
      this.#stats.set(key, stats);
    }
    return stats;
  }

  /** Invocations per batch for `count` invocations of one task submitted in this turn. */
  #batchSize(stats: TaskStats, count: number): number {
    // What the task has left, as far as this executor knows: what was just submitted and
    // what is still running. No batch takes more than a worker's fair share of it, so
    // every worker gets work even when durations were misjudged (a task whose inputs got
    // slower). In flight counts too: otherwise each refill, a fraction of the last batch,
    // would be cut smaller than that batch, and batches would shrink without end.
    const fairShare = Math.ceil((count + stats.running) / this.workers);
    const bySpeed =
      stats.avgMs === undefined
        ? // Duration unknown yet: spread the first work over every worker, many batches each.
          Math.ceil(count / (this.workers * unknownBatchesPerWorker))
        : Math.floor(targetBatchMs / Math.max(stats.avgMs, 1e-6));
    return Math.max(1, Math.min(this.#maxBatch, fairShare, bySpeed));
  }

  #dispatch(batch: Pending[], stats: TaskStats): void {
    const live: Pending[] = [];
    const calls: WireCall[] = [];
    const transferList: TransferListItem[] = [];
    for (const pending of batch) {
      if (pending.settled) continue;
      const { invocation } = pending;
      if (invocation.signal.aborted) {
        this.#settle(pending, undefined, invocation.signal.reason);
        continue;
      }
      let input = invocation.input;
      if (isTransfer(input)) {
        // Its buffers left this thread with the first send: a retry or a re-send cannot follow.
        if (sentTransfers.has(input)) {
          this.#settle(pending, undefined, movedInputError(invocation));
          continue;
        }
        sentTransfers.add(input);
        transferList.push(...input.list);
        input = input.value;
      }
      this.inFlight.set(pending.id, pending);
      live.push(pending);
      const call: WireCall = {
        id: pending.id,
        name: invocation.task.name,
        module: invocation.task.module!,
        ...packInput(input),
        attempt: invocation.attempt,
        key: invocation.key,
        timed: invocation.task.options.timeoutMs !== undefined,
      };
      pending.call = call;
      calls.push(call);
    }
    if (live.length === 0) return;
    stats.running += live.length;
    const unlisten = this.#listenForAborts(live);
    const terminator =
      live.length === 1 && calls[0]!.timed ? this.#terminator(live[0]!) : undefined;
    let started: Promise<unknown>;
    try {
      started = this.startBatch({ calls, link: this.link }, transferList, terminator?.signal);
    } catch (error) {
      started = Promise.reject(error);
    }
    started.then(
      (response) => {
        unlisten();
        terminator?.dispose();
        const { outcomes, elapsedMs, startedAt, timings } = response as BatchResponse;
        stats.running -= live.length;
        const sample = elapsedMs / live.length;
        stats.avgMs = stats.avgMs === undefined ? sample : stats.avgMs * 0.7 + sample * 0.3;
        live.forEach((pending, i) => {
          const outcome = outcomes[i]!;
          // Measured in the worker: the task's own time, not its wait in the queue or batch.
          const ranFor = timings[2 * i + 1]!;
          if (ranFor >= 0) pending.invocation.ran?.(startedAt + timings[2 * i]!, ranFor);
          const value = outcome.ok ? unpackValue(outcome.value, outcome.restore) : undefined;
          const error = outcome.ok ? undefined : fromWire(outcome.error);
          const expected = outcome.progress ?? 0;
          if (pending.received >= expected) this.#finish(pending, value, error);
          else pending.outcome = { expected, value, error };
        });
      },
      (error: unknown) => {
        unlisten();
        terminator?.dispose();
        stats.running -= live.length;
        for (const pending of live) this.inFlight.delete(pending.id);
        this.#batchFailed(live, calls, error, stats);
      },
    );
  }

  /**
   * For a timed task sent alone: a signal that stops its worker when the task timed out
   * and still runs `terminateAfterMs` later (it ignores its signal). The pool then
   * replaces the worker, so a hung task cannot hold one for good.
   */
  #terminator(pending: Pending): { signal: AbortSignal; dispose(): void } {
    const kill = new AbortController();
    const { signal } = pending.invocation;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      if (!(signal.reason instanceof TimeoutError)) return;
      timer = setTimeout(() => kill.abort(signal.reason), this.#terminateAfterMs);
      timer.unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return {
      signal: kill.signal,
      dispose: () => {
        signal.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
      },
    };
  }

  #batchFailed(live: Pending[], calls: WireCall[], error: unknown, stats: TaskStats): void {
    const unsettled = live.filter((p) => !p.settled);
    if (unsettled.length === 0) return;
    if (isCloneError(error)) {
      live.forEach((pending, i) => {
        if (pending.settled) return;
        const bad = findUncloneable(calls[i]!.input, 'input');
        if (!bad && live.length > 1) {
          // Not this one: send it again on its own, away from the value that failed.
          this.#dispatch([pending], stats);
          return;
        }
        const what = bad ? `${bad.type} at ${bad.path}` : 'a value that cannot be copied';
        this.#settle(
          pending,
          undefined,
          new NotCloneableError(
            `Task '${pending.invocation.task.name}' (${pending.invocation.key}) was given ${what}, which cannot be ` +
              `sent to a ${this.workerNoun}. Pass plain data ` +
              '(objects, arrays, numbers, strings, typed arrays, Map, Set, Date), or use the asyncPool executor.',
            { cause: error },
          ),
        );
      });
      return;
    }
    const crash = this.#closed ? undefined : this.crashReason(error);
    if (crash !== undefined && unsettled.length > 1) {
      // Isolate the culprit: rerun each invocation of the batch in a message of its own.
      for (const pending of unsettled) this.#dispatch([pending], stats);
      return;
    }
    for (const pending of unsettled) {
      const { task, key } = pending.invocation;
      this.#settle(
        pending,
        undefined,
        crash === undefined
          ? error
          : new WorkerCrashedError(
              `Task '${task.name}' (${key}) failed: ${crash}. The pool replaced the worker.`,
              {
                cause: error,
              },
            ),
      );
    }
  }

  /** Stops waiting for invocations whose signal aborts, and tells their worker. */
  #listenForAborts(batch: Pending[]): () => void {
    const bySignal = new Map<AbortSignal, Pending[]>();
    for (const pending of batch) {
      const signal = pending.invocation.signal;
      const list = bySignal.get(signal);
      if (list) list.push(pending);
      else bySignal.set(signal, [pending]);
    }
    const listeners: [AbortSignal, () => void][] = [];
    for (const [signal, list] of bySignal) {
      const onAbort = () => {
        const reason = toWire(signal.reason);
        for (const pending of list) {
          if (pending.settled) continue;
          if (pending.call) pending.call.abortedWith = reason;
          this.sendControl({ weft: 'abort', id: pending.id, reason });
          this.#settle(pending, undefined, signal.reason);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      listeners.push([signal, onAbort]);
    }
    return () => {
      for (const [signal, onAbort] of listeners) signal.removeEventListener('abort', onAbort);
    };
  }

  /** Answers the caller, once. The invocation stays routable until {@link #finish}. */
  #settle(pending: Pending, value: unknown, error: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    if (error === undefined) pending.resolve(value);
    else pending.reject(error);
  }

  /** The worker is done with the invocation and every report of it has arrived. */
  #finish(pending: Pending, value: unknown, error: unknown): void {
    this.inFlight.delete(pending.id);
    this.#settle(pending, value, error);
  }
}

function isCloneError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'DataCloneError' || /could not be cloned/.test(error.message))
  );
}
