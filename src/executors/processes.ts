/**
 * The `processes` executor: tasks run in a pool of child processes (tinypool's
 * child_process runtime), isolated from this process's memory and crashes. Values are
 * copied with Node's advanced serialization (structured clone).
 */
import type { Tinypool, TinypoolChannel } from 'tinypool';
import type { Executor } from '../core/executor.ts';
import { workerBootUrl, workerLaunch } from './pool-entry.ts';
import { RemotePoolExecutor, type RemotePoolOptions } from './remote-pool.ts';
import { type BatchRequest, type ControlMessage, isControlMessage } from './wire.ts';

/** Options of {@link processes}. */
export interface ProcessesOptions extends RemotePoolOptions {}

type Sender = (message: unknown) => void;

/** Runs tasks in a pool of child processes. */
export class ProcessesExecutor extends RemotePoolExecutor {
  readonly name = 'processes';
  #pool: Promise<Tinypool> | undefined;
  /** One sender per live child: the IPC channel of the batch it was last given. */
  readonly #senders = new Set<Sender>();

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
    return this.#getPool().then((pool) =>
      pool.run(request, { channel, signal: terminate ?? null }),
    );
  }

  protected sendControl(message: ControlMessage): void {
    // Aborts go to every child; only the one running the invocation acts on it.
    for (const send of this.#senders) send(message);
  }

  protected crashReason(error: unknown): string {
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
      const pool = new Tinypool({
        filename: workerBootUrl.href,
        runtime: 'child_process',
        minThreads: this.workers,
        maxThreads: this.workers,
        concurrentTasksPerWorker: 1,
        // Carries the whole environment: without it children would start with an empty one.
        ...workerLaunch(),
        serialization: 'advanced',
      });
      pool.on('error', () => {});
      return pool;
    });
    return this.#pool;
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
