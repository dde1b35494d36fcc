/**
 * BullMQ's Worker, told about jobs that stalled out. A job whose worker died is moved
 * back to wait by BullMQ's stalled check and runs again; one that stalled more than
 * `maxStalledCount` times is marked to fail, and the next worker to take it fails it
 * without calling the processor, so no outcome would ever reach its orchestrator. This
 * worker writes one (a WorkerCrashedError) before BullMQ records the failure.
 */
import { type Job, Worker } from 'bullmq';

/** Writes the outcome of a job that stalled out; must not throw. */
export type StalledOut = (job: Job) => Promise<void>;

/**
 * BullMQ's Worker with {@link StalledOut} called for jobs that stalled too often, and a
 * way to stop at once that leaves the jobs in flight to other workers.
 */
export class WeftBullWorker extends Worker {
  #stalledOut: StalledOut | undefined;
  #leaving = false;

  /**
   * From now on, jobs whose processor ends are left active instead of being marked
   * finished: their locks lapse, and BullMQ's stalled check gives them to another worker.
   */
  leaveJobs(): void {
    this.#leaving = true;
  }

  /**
   * BullMQ takes the next job when its blocking wait for one ends without looking again
   * whether the worker closes meanwhile: a job added while the worker drains would be
   * taken. A closing worker takes none (another worker's wait ends within its block
   * timeout and finds it).
   */
  protected override async moveToActive(
    ...args: Parameters<Worker['moveToActive']>
  ): ReturnType<Worker['moveToActive']> {
    if (this.closing) return noNextJob();
    return super.moveToActive(...args);
  }

  protected override async handleCompleted(
    ...args: Parameters<Worker['handleCompleted']>
  ): ReturnType<Worker['handleCompleted']> {
    if (this.#leaving) return noNextJob();
    return super.handleCompleted(...args);
  }

  /**
   * Stops BullMQ's timers of a worker whose close is given up on (Redis out of reach, its
   * connections dropped): lock renewal and the stalled check would otherwise go on, retrying
   * commands that can no longer succeed and keeping the process alive.
   */
  abandon(): void {
    void this.lockManager.close().catch(() => {});
    // Private in BullMQ's types; the same call its own close makes once jobs are done.
    (this as unknown as { stalledCheckStopper?: () => void }).stalledCheckStopper?.();
  }

  /** Sets what is done with a job that stalled out (before the worker takes jobs). */
  onStalledOut(stalledOut: StalledOut): void {
    this.#stalledOut = stalledOut;
  }

  protected override async handleFailed(
    ...args: Parameters<Worker['handleFailed']>
  ): ReturnType<Worker['handleFailed']> {
    if (this.#leaving) return noNextJob();
    const [error, job] = args;
    // BullMQ fails such a job with its deferred reason, as an UnrecoverableError.
    if (job.deferredFailure && error.name === 'UnrecoverableError' && this.#stalledOut) {
      await this.#stalledOut(job);
    }
    return super.handleFailed(...args);
  }
}

/**
 * What BullMQ's own handlers return when they do nothing (the worker is closing): no next
 * job. Its declared type says a job always comes back, which is not so.
 */
function noNextJob(): Job {
  return undefined as unknown as Job;
}
