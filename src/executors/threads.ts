/**
 * The `threads` executor: tasks run on a pool of worker threads (tinypool), for real
 * parallelism on CPU-bound work. Inputs and outputs are copied by structured clone,
 * except buffers marked with `transfer()` (moved) and SharedArrayBuffers (shared).
 */
import { BroadcastChannel, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import type { Tinypool, TinypoolWorker } from 'tinypool';
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import { workerBootUrl, workerLaunch } from './pool-entry.ts';
import { RemotePoolExecutor, type RemotePoolOptions } from './remote-pool.ts';
import { type BatchRequest, type ControlMessage, isControlMessage } from './wire.ts';

/** Options of {@link threads}. */
export interface ThreadsOptions extends RemotePoolOptions {
  /**
   * Memory limits of each worker thread. A worker that exceeds them fails only the task
   * it was running, and is replaced. Its heap limit is `maxMemoryMb` (give it there or
   * here as `maxOldGenerationSizeMb`, not both).
   * @default Node's defaults, with `maxOldGenerationSizeMb` from `maxMemoryMb`
   * @example threads({ resourceLimits: { maxOldGenerationSizeMb: 512 } })
   */
  readonly resourceLimits?: ResourceLimits;
}

let nextPoolId = 1;

/** Runs tasks on a pool of worker threads. */
export class ThreadsExecutor extends RemotePoolExecutor {
  readonly name = 'threads';
  readonly sharesMemory = true;
  protected readonly placeNoun = 'threads';
  protected readonly workerNoun = 'worker thread';
  readonly #resourceLimits: ResourceLimits;
  /** The option that set the heap limit, as a crash names it. */
  readonly #memoryOption: string;
  readonly #linkName = `weft:${process.pid}:${nextPoolId++}:${Math.random().toString(36).slice(2)}`;
  #pool: Promise<Tinypool> | undefined;
  #channel: BroadcastChannel | undefined;
  #closing = false;
  readonly #watched = new WeakSet<TinypoolWorker>();

  constructor(options: ThreadsOptions = {}) {
    const fromLimits = options.resourceLimits?.maxOldGenerationSizeMb;
    if (fromLimits !== undefined && options.maxMemoryMb !== undefined) {
      throw new ValidationError(
        'threads: give the heap limit once, as maxMemoryMb or resourceLimits.maxOldGenerationSizeMb.',
      );
    }
    super('threads', fromLimits === undefined ? options : { ...options, maxMemoryMb: fromLimits });
    this.#resourceLimits = { ...options.resourceLimits, maxOldGenerationSizeMb: this.maxMemoryMb };
    this.#memoryOption =
      fromLimits === undefined ? 'maxMemoryMb' : 'resourceLimits.maxOldGenerationSizeMb';
  }

  protected get link(): string {
    return this.#linkName;
  }

  protected startBatch(
    request: BatchRequest,
    transferList: TransferListItem[],
    terminate: AbortSignal | undefined,
  ): Promise<unknown> {
    this.#openChannel();
    return this.#getPool().then((pool) => {
      const running = pool.run(request, { transferList, signal: terminate ?? null });
      this.#watchWorkers(pool);
      return running;
    });
  }

  protected sendControl(message: ControlMessage): void {
    if (this.#closing) return;
    this.#channel?.postMessage(message);
  }

  protected crashReason(error: unknown): string {
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return (
        `its worker thread ran out of memory (its heap is limited to ${this.maxMemoryMb} MB by ` +
        `the ${this.#memoryOption} option: raise it, or make the task hold less at once)`
      );
    }
    return `its worker thread died (${message ?? String(error)})`;
  }

  protected async destroy(): Promise<void> {
    this.#closing = true;
    this.#channel?.close();
    const pool = await this.#pool?.catch(() => undefined);
    await pool?.destroy();
  }

  #openChannel(): void {
    if (this.#channel) return;
    const channel = new BroadcastChannel(this.#linkName);
    channel.onmessage = (event) => {
      const data = (event as { data: unknown }).data;
      if (isControlMessage(data)) this.onControl(data);
    };
    channel.unref();
    this.#channel = channel;
  }

  #getPool(): Promise<Tinypool> {
    this.#pool ??= import('tinypool').then(({ Tinypool }) => {
      const pool = new Tinypool({
        filename: workerBootUrl.href,
        runtime: 'worker_threads',
        minThreads: this.workers,
        maxThreads: this.workers,
        concurrentTasksPerWorker: 1,
        // An idle worker blocked in Atomics.wait would not see aborts on the control
        // channel before the next batch arrives; batching already makes wake-ups rare.
        useAtomics: false,
        ...workerLaunch(),
        resourceLimits: this.#resourceLimits,
      });
      // A worker that dies while idle has no task to fail; the pool replaces it.
      pool.on('error', () => {});
      this.#watchWorkers(pool);
      return pool;
    });
    return this.#pool;
  }

  /**
   * tinypool notices a worker thread's errors but not a plain exit (a task calling
   * process.exit): its tasks would wait forever. Turn such an exit into an error the
   * pool acts on — it fails the worker's tasks and starts a replacement.
   */
  #watchWorkers(pool: Tinypool): void {
    for (const worker of pool.threads) {
      if (this.#watched.has(worker)) continue;
      this.#watched.add(worker);
      worker.on('exit', (code: number) => {
        if (this.#closing || !pool.threads.includes(worker)) return;
        worker.emit('error', new Error(`the worker thread exited with code ${code}`));
        this.#watchWorkers(pool);
      });
    }
  }
}

/**
 * Runs tasks on worker threads: real parallelism for CPU-bound work (BatchFlow's
 * `threads`). Tasks must be defined with `task()` at the top level of a module.
 * @example await map(images, resize, { executor: threads({ workers: 4 }) })
 */
export function threads(options: ThreadsOptions = {}): Executor {
  return new ThreadsExecutor(options);
}
