/**
 * An executor for the tests of work sent off this thread (batch targets, compose
 * operators): it hands every invocation to another executor and keeps what it was given,
 * with the size of each input.
 */
import { Serializer } from 'node:v8';
import type { Executor, Settled, TaskInvocation } from 'weftjs';

/** What a {@link Recording} executor saw of one invocation. */
export interface Seen {
  readonly task: string;
  readonly key: string;
  readonly input: unknown;
  /** Bytes of the input as serialized, shared memory counted as a reference only. */
  readonly bytes: number;
}

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

/** An executor that records each invocation, then lets `inner` run it. */
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
    this.remote = inner.remote;
    this.concurrency = inner.concurrency;
    this.maxConcurrency = inner.maxConcurrency;
    this.workers = inner.workers;
    this.reportsStart = inner.reportsStart;
    this.sharesMemory = inner.sharesMemory;
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
    this.seen.push({
      task: invocation.task.name,
      key: invocation.key,
      input: invocation.input,
      bytes: sizeOf(invocation.input),
    });
  }
}
