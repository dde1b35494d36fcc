/**
 * The `processes` executor: tasks run in a pool of child processes (tinypool's
 * child_process runtime), isolated from this process's memory and crashes. Values are
 * copied with Node's advanced serialization (structured clone).
 */
import { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import type { Tinypool, TinypoolChannel, TinypoolWorker } from 'tinypool';
import type { Executor } from '../core/executor.ts';
import { workerBootUrl, workerLaunch } from './pool-entry.ts';
import { RemotePoolExecutor, type RemotePoolOptions } from './remote-pool.ts';
import { type BatchRequest, type ControlMessage, isControlMessage } from './wire.ts';

/** Options of {@link processes}. */
export interface ProcessesOptions extends RemotePoolOptions {}

type Sender = (message: unknown) => void;

/** How a child process that failed its batch ended. */
interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** V8 said on the child's stderr that the heap was full. */
  readonly outOfMemory: () => boolean;
  /** Settles once the child's stderr is read to its end. */
  readonly drained: Promise<unknown>;
}

/** What V8 prints when a heap is full, before it aborts the process. */
const outOfMemoryText = 'JavaScript heap out of memory';
/** How long a failed batch waits for the rest of its child's stderr. */
const stderrDrainMs = 1000;

/** Runs tasks in a pool of child processes. */
export class ProcessesExecutor extends RemotePoolExecutor {
  readonly name = 'processes';
  protected readonly placeNoun = 'processes';
  protected readonly workerNoun = 'child process';
  #pool: Promise<Tinypool> | undefined;
  /** One sender per live child: the IPC channel of the batch it was last given. */
  readonly #senders = new Set<Sender>();
  readonly #watched = new WeakSet<TinypoolWorker>();
  /** How the child ended, for each error tinypool failed a batch with when it died. */
  readonly #exits = new WeakMap<object, Exit>();

  constructor(options: ProcessesOptions = {}) {
    super('processes', options);
  }

  protected get link(): undefined {
    return undefined;
  }

  protected startBatch(
    request: BatchRequest,
    _transferList: unknown,
    terminate: AbortSignal | undefined,
  ): Promise<unknown> {
    let sender: Sender | undefined;
    const channel: TinypoolChannel = {
      onMessage: (send) => {
        sender = send;
        this.#senders.add(send);
      },
      postMessage: (message) => {
        if (isControlMessage(message)) this.onControl(message);
      },
      onClose: () => {
        if (sender) this.#senders.delete(sender);
      },
    };
    return this.#getPool().then((pool) => {
      const running = pool.run(request, { channel, signal: terminate ?? null });
      this.#watchChildren(pool);
      // The crash is explained from the child's last words: wait until they are read.
      return running.catch(async (error: unknown) => {
        const exit = typeof error === 'object' && error !== null && this.#exits.get(error);
        if (exit)
          await Promise.race([exit.drained, delay(stderrDrainMs, undefined, { ref: false })]);
        throw error;
      });
    });
  }

  protected sendControl(message: ControlMessage): void {
    // Aborts go to every child; only the one running the invocation acts on it.
    for (const send of this.#senders) send(message);
  }

  protected crashReason(error: unknown): string {
    const exit = typeof error === 'object' && error !== null ? this.#exits.get(error) : undefined;
    if (exit?.outOfMemory()) {
      return (
        `its child process ran out of memory (its heap is limited to ${this.maxMemoryMb} MB by ` +
        'the maxMemoryMb option: raise it, or make the task hold less at once)'
      );
    }
    if (exit?.signal) {
      const why =
        exit.signal === 'SIGKILL'
          ? ' (by another process, or by the system when memory ran out)'
          : exit.signal === 'SIGABRT'
            ? ' (a fatal error in Node: its message is above)'
            : '';
      return `its child process was stopped by ${exit.signal}${why}`;
    }
    if (exit) return `its child process exited with code ${exit.code}`;
    const message = (error as { message?: string }).message ?? String(error);
    return /exited unexpectedly/.test(message)
      ? 'its child process exited unexpectedly (process.exit, a fatal error, or out of memory)'
      : `its child process failed (${message})`;
  }

  protected async destroy(): Promise<void> {
    const pool = await this.#pool?.catch(() => undefined);
    await pool?.destroy();
    this.#senders.clear();
  }

  #getPool(): Promise<Tinypool> {
    this.#pool ??= import('tinypool').then(({ Tinypool }) => {
      const launch = workerLaunch();
      const pool = new Tinypool({
        filename: workerBootUrl.href,
        runtime: 'child_process',
        minThreads: this.workers,
        maxThreads: this.workers,
        concurrentTasksPerWorker: 1,
        // Carries the whole environment: without it children would start with an empty one.
        ...launch,
        // After the inherited flags, so that it wins over a limit given to this process.
        execArgv: [...launch.execArgv, `--max-old-space-size=${this.maxMemoryMb}`],
        serialization: 'advanced',
      });
      pool.on('error', () => {});
      this.#watchChildren(pool);
      return pool;
    });
    return this.#pool;
  }

  /**
   * tinypool fails a dead child's batch with a bare "Worker exited unexpectedly". Keep,
   * for that error, how the child ended and whether V8 said its heap was full, so that
   * {@link crashReason} can tell a leak from a `process.exit`. The child itself is not in
   * tinypool's types: it is the worker's `process`.
   */
  #watchChildren(pool: Tinypool): void {
    for (const worker of pool.threads) {
      if (this.#watched.has(worker)) continue;
      this.#watched.add(worker);
      const child = (worker as { process?: unknown }).process;
      if (!(child instanceof ChildProcess)) continue;
      let tail = '';
      let outOfMemory = false;
      child.stderr?.on('data', (chunk: Buffer) => {
        // The last few characters too, in case the text is split between chunks.
        tail = (tail + chunk.toString('latin1')).slice(-(outOfMemoryText.length + 4096));
        if (tail.includes(outOfMemoryText)) outOfMemory = true;
      });
      const drained = child.stderr
        ? new Promise((resolve) => child.stderr?.once('close', resolve))
        : Promise.resolve();
      // Emitted by tinypool when the child exits, with the error it fails the batch with;
      // by then the pool has started a replacement, to be watched too.
      child.on('error', (error: unknown) => {
        if (typeof error === 'object' && error !== null) {
          this.#exits.set(error, {
            code: child.exitCode,
            signal: child.signalCode,
            outOfMemory: () => outOfMemory,
            drained,
          });
        }
        this.#watchChildren(pool);
      });
    }
  }
}

/**
 * Runs tasks in child processes (BatchFlow's `mpc`): isolation from this process's
 * memory and crashes, at the cost of copying every input and output.
 * @example await map(files, parse, { executor: processes({ workers: 2 }) })
 */
export function processes(options: ProcessesOptions = {}): Executor {
  return new ProcessesExecutor(options);
}
