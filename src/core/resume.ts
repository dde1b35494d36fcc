/**
 * Resume in bounded memory: which keys earlier attempts of a run completed is asked of
 * the store as fan-outs reach them, many keys at a time, and each stored output is held
 * only until its fan-out takes it. Nothing is read up front but the count of completed
 * tasks, so a run with none pays for no lookup at all.
 */
import type { Store } from './store.ts';

/** What an earlier attempt left for one key. */
export interface Completed {
  /** True when the key completed in an earlier attempt. */
  readonly found: boolean;
  /** Its stored output, when found. */
  readonly value: unknown;
}

/** Most keys asked of the store in one lookup. */
export const lookupBatch = 256;

/**
 * How many items a resuming fan-out may hold beyond its concurrency while their keys are
 * looked up: two batches, so that one is read while the next fills.
 */
export const lookahead = 2 * lookupBatch;

const notFound: Completed = { found: false, value: undefined };

interface Asker {
  resolve(completed: Completed): void;
  reject(reason: unknown): void;
}

/**
 * Looks keys up among a run's completed tasks. Keys asked in the same turn of the event
 * loop (up to {@link lookupBatch}) go to the store in one `findCompleted`.
 */
export class CompletedLookup {
  /** How many tasks earlier attempts completed, when the run was opened. */
  readonly count: number;
  readonly #store: Store;
  readonly #runId: string;
  /** Keys asked and not yet sent, with who asked (a key may be asked twice). */
  #batch = new Map<string, Asker[]>();
  #scheduled = false;

  constructor(store: Store, runId: string, count: number) {
    this.#store = store;
    this.#runId = runId;
    this.count = count;
  }

  /** Whether `key` completed in an earlier attempt, and its output if so. */
  find(key: string): Promise<Completed> {
    if (this.count === 0) return Promise.resolve(notFound);
    return new Promise<Completed>((resolve, reject) => {
      const askers = this.#batch.get(key);
      if (askers) askers.push({ resolve, reject });
      else this.#batch.set(key, [{ resolve, reject }]);
      if (this.#batch.size >= lookupBatch) this.#send();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        // After the current turn, so that keys asked one promise apart (a streamed input)
        // share a lookup.
        setImmediate(() => {
          this.#scheduled = false;
          this.#send();
        });
      }
    });
  }

  #send(): void {
    const batch = this.#batch;
    if (batch.size === 0) return;
    this.#batch = new Map();
    let asking: Promise<Map<string, unknown>>;
    try {
      asking = this.#store.findCompleted(this.#runId, [...batch.keys()]);
    } catch (error) {
      asking = Promise.reject(error);
    }
    asking.then(
      (found) => {
        for (const [key, askers] of batch) {
          const completed = found.has(key) ? { found: true, value: found.get(key) } : notFound;
          for (const asker of askers) asker.resolve(completed);
        }
      },
      (error: unknown) => {
        for (const askers of batch.values()) for (const asker of askers) asker.reject(error);
      },
    );
  }
}
