/**
 * Executors for the compose tests: one that records each invocation and the size of its
 * input before another runs it, and one that runs "remote" tasks in this thread, keeping
 * each raw output as the task returned it (before a pool would unwrap a transfer).
 */
import { Serializer } from 'node:v8';
import { type Executor, isTransfer, type Settled, type TaskInvocation } from 'weftjs';

/** Serializes SharedArrayBuffers by reference, as they travel to worker threads. */
class SizeSerializer extends Serializer {
  _getSharedArrayBufferId(): number {
    return 0;
  }
}

/** How many bytes `value` takes on the way to a worker thread (shared memory not copied). */
export function sizeOf(value: unknown): number {
  const serializer = new SizeSerializer();
  serializer.writeHeader();
  serializer.writeValue(value);
  return serializer.releaseBuffer().byteLength;
}

/** What a {@link Recording} executor saw of one invocation. */
export interface Seen {
  readonly task: string;
  readonly key: string;
  readonly input: unknown;
  readonly bytes: number;
}

/** Records each invocation, then lets `inner` run it. */
export class Recording implements Executor {
  readonly seen: Seen[] = [];
  readonly name: string;
  readonly remote: boolean;
  readonly concurrency: number;
  readonly maxConcurrency: number;
  readonly workers: number | undefined;
  readonly reportsStart: boolean | undefined;
  readonly sharesMemory: boolean | undefined;

  constructor(readonly inner: Executor) {
    this.name = inner.name;
    this.sharesMemory = inner.sharesMemory;
    this.remote = inner.remote;
    this.concurrency = inner.concurrency;
    this.maxConcurrency = inner.maxConcurrency;
    this.workers = inner.workers;
    this.reportsStart = inner.reportsStart;
  }

  check(task: TaskInvocation['task']): void {
    this.inner.check(task);
  }

  run(invocation: TaskInvocation): unknown {
    this.#record(invocation);
    return this.inner.run(invocation);
  }

  runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    for (const invocation of invocations) this.#record(invocation);
    return this.inner.runBatch(invocations);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #record(invocation: TaskInvocation): void {
    const { task, key, input } = invocation;
    this.seen.push({ task: task.name, key, input, bytes: sizeOf(input) });
  }
}

/**
 * Says it runs tasks elsewhere, so a composite sends its chunks as it would to workers,
 * but runs them here, keeping what each returned as it was.
 */
export class RawOutputs implements Executor {
  readonly name = 'raw-outputs';
  readonly remote = true;
  // Tasks run in this thread, so shared memory is shared indeed.
  readonly sharesMemory = true;
  readonly concurrency = 16;
  readonly maxConcurrency = Number.POSITIVE_INFINITY;
  readonly outputs: unknown[] = [];

  check(): void {}

  async run(invocation: TaskInvocation): Promise<unknown> {
    const output = await invocation.task.fn(invocation.input, invocation);
    this.outputs.push(output);
    return isTransfer(output) ? output.value : output;
  }

  async runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    return Promise.all(
      invocations.map((invocation) =>
        this.run(invocation).then(
          (value): Settled => ({ ok: true, value }),
          (error: unknown): Settled => ({ ok: false, error }),
        ),
      ),
    );
  }

  async close(): Promise<void> {}
}
