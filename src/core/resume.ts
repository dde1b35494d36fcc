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

/**
 * Most full batches a lookup sends in one turn of the event loop: some 8,000 tasks, about
 * 10 ms of resuming between two chances for timers to run (fewer cost time: 8 cost 10 %).
 */
export const batchesPerTurn = 32;

const notFound: Completed = { found: false, value: undefined };

/**
 * Looks keys up among a run's completed tasks. Keys asked in the same turn of the event
 * loop (up to {@link lookupBatch}) go to the store in one `findCompleted`, and the event
 * loop turns at least every {@link batchesPerTurn} lookups.
 */
export class CompletedLookup {
  /** How many tasks earlier attempts completed, when the run was opened. */
  readonly count: number;
  readonly #store: Store;
  readonly #runId: string;
  /**
   * Keys asked and not yet sent, in the order asked (a key asked twice is there twice),
   * and how to answer each, at the same place: arrays rather than a map of askers, as a
   * resume of a million tasks asks a million times.
   */
  #keys: string[] = [];
  #resolves: ((completed: Completed) => void)[] = [];
  #rejects: ((reason: unknown) => void)[] = [];
  #scheduled = false;
  /** Full batches sent since the event loop last turned. */
  #sentThisTurn = 0;
  readonly #newTurn = () => {
    this.#sentThisTurn = 0;
  };
  /** Sends what was asked in the turn that scheduled it. */
  readonly #sendScheduled = () => {
    this.#scheduled = false;
    this.#send();
  };

  constructor(store: Store, runId: string, count: number) {
    this.#store = store;
    this.#runId = runId;
    this.count = count;
  }

  /** Whether `key` completed in an earlier attempt, and its output if so. */
  find(key: string): Promise<Completed> {
    if (this.count === 0) return Promise.resolve(notFound);
    return new Promise<Completed>((resolve, reject) => {
      this.#keys.push(key);
      this.#resolves.push(resolve);
      this.#rejects.push(reject);
      if (this.#keys.length >= lookupBatch) this.#sendFull();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        // After the current turn, so that keys asked one promise apart (a streamed input)
        // share a lookup.
        setImmediate(this.#sendScheduled);
      }
    });
  }

  /**
   * Sends a full batch: at once, but for the {@link batchesPerTurn}th in a turn of the
   * event loop, which waits for the next turn. With a store that answers at once (SQLite)
   * a resume would otherwise run whole in one turn, timers (the lease's renewals) waiting
   * for it.
   */
  #sendFull(): void {
    if (this.#sentThisTurn === 0) setImmediate(this.#newTurn);
    if (++this.#sentThisTurn < batchesPerTurn) {
      this.#send();
      return;
    }
    const batch = this.#take();
    setImmediate(() => this.#ask(batch));
  }

  #send(): void {
    if (this.#keys.length > 0) this.#ask(this.#take());
  }

  /** The keys asked and not yet sent, and who asked; none from now on. */
  #take(): Batch {
    const batch = { keys: this.#keys, resolves: this.#resolves, rejects: this.#rejects };
    this.#keys = [];
    this.#resolves = [];
    this.#rejects = [];
    return batch;
  }

  #ask({ keys, resolves, rejects }: Batch): void {
    let asking: Promise<Map<string, unknown>>;
    try {
      asking = this.#store.findCompleted(this.#runId, keys);
    } catch (error) {
      asking = Promise.reject(error);
    }
    asking.then(
      (found) => {
        for (let i = 0; i < keys.length; i++) {
          const value = found.get(keys[i]!);
          // One map read for most keys: `has` only tells an undefined output from no output.
          const completed =
            value !== undefined || found.has(keys[i]!) ? { found: true, value } : notFound;
          resolves[i]!(completed);
        }
      },
      (error: unknown) => {
        for (const reject of rejects) reject(error);
      },
    );
  }
}

/** Keys asked together, and how to answer each, at the same place. */
interface Batch {
  readonly keys: string[];
  readonly resolves: ((completed: Completed) => void)[];
  readonly rejects: ((reason: unknown) => void)[];
}
