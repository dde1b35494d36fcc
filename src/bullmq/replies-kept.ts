/**
 * Outcomes read from a run's reply stream that no invocation awaited: those of jobs that
 * finished while no orchestrator read the stream (the run was interrupted) are taken by
 * the resumed run when it adds the same attempts again, instead of running them twice.
 * Only successes are kept (a failure runs again), the oldest going first past a bound.
 */
import type { Reply } from './job-wire.ts';

/** A success read from a reply stream. */
export type OkOutcome = Extract<Reply, { type: 'outcome' }> & { readonly ok: true };

/** Outcomes kept at most, and characters of their values. */
const maxOutcomes = 100_000;
const maxChars = 64 * 1024 * 1024;

/** Successes nobody awaited, by job id, within a bound. */
export class KeptOutcomes {
  readonly #outcomes = new Map<string, OkOutcome>();
  #chars = 0;

  /** Keeps `outcome` for its job id (the newest one read wins). */
  keep(outcome: OkOutcome): void {
    this.take(outcome.job);
    this.#outcomes.set(outcome.job, outcome);
    this.#chars += charsOf(outcome);
    // The oldest go first: a resumed run adds its earliest attempts first.
    while (this.#outcomes.size > maxOutcomes || this.#chars > maxChars) {
      this.take(this.#outcomes.keys().next().value!);
    }
  }

  /** The outcome kept for `jobId`, no longer kept. */
  take(jobId: string): OkOutcome | undefined {
    const outcome = this.#outcomes.get(jobId);
    if (outcome === undefined) return undefined;
    this.#outcomes.delete(jobId);
    this.#chars -= charsOf(outcome);
    return outcome;
  }
}

/** Ids remembered at most by {@link SpentJobIds}. */
const maxSpent = 100_000;

/**
 * Run job ids whose job failed or was cancelled, as read on a run's stream. BullMQ may
 * still hold such a job as active for a moment (its outcome is written before the job
 * is moved to failed, and a cancelled one may take a while to stop): an add of the same
 * id would then be a no-op, and wait for an outcome that came already. A resumed run
 * adds those attempts under a fresh id instead. The oldest go first past a bound.
 */
export class SpentJobIds {
  readonly #ids = new Set<string>();

  add(jobId: string): void {
    this.#ids.delete(jobId);
    this.#ids.add(jobId);
    if (this.#ids.size > maxSpent) this.#ids.delete(this.#ids.values().next().value!);
  }

  has(jobId: string): boolean {
    return this.#ids.has(jobId);
  }
}

/** What an outcome costs, in characters: its value's text (an artifact's reference is small). */
function charsOf(outcome: OkOutcome): number {
  const value: unknown = outcome.value;
  return typeof value === 'object' &&
    value !== null &&
    typeof (value as { text?: unknown }).text === 'string'
    ? (value as { text: string }).text.length
    : 100;
}
