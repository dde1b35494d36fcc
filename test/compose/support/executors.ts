/**
 * An executor for the compose tests that runs "remote" tasks in this thread, keeping
 * each raw output as the task returned it (before a pool would unwrap a transfer). The
 * one that records invocations is shared with the batch tests.
 */
import { type Executor, isTransfer, type Settled, type TaskInvocation } from 'weftjs';

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
