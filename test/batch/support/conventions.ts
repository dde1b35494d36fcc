/**
 * Helpers of the parallel-method tests: `calls`, the public `parallel` (a batch typed for
 * calling its parallel methods with the call's own arguments), and gates that hold items
 * until the test releases them.
 */
import { type Deferred, deferred } from '../../fixtures/map-dag-tasks.ts';

/** `batch`, typed for calling its parallel methods: `parallel` of 'weftjs/batch'. */
export { parallel as calls } from 'weftjs/batch';

/** One turn of the event loop: every callback already due has run. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Items that enter, are counted while inside, and leave when the test releases them:
 * `peak` is the most that were ever inside at once.
 */
export class Gates {
  active = 0;
  peak = 0;
  /** Items in the order they entered. */
  readonly started: number[] = [];
  /** Items in the order they left. */
  readonly ended: number[] = [];
  readonly #gates = new Map<number, Deferred>();
  readonly #waiters: { count: number; done: Deferred }[] = [];

  /** Called by item `item`: waits inside until released, then returns `value`. */
  async enter<T>(item: number, value: T): Promise<T> {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    this.started.push(item);
    for (const waiter of this.#waiters) {
      if (this.started.length >= waiter.count) waiter.done.resolve();
    }
    await this.#gate(item).promise;
    this.active--;
    this.ended.push(item);
    return value;
  }

  /** Resolves once `count` items have entered. */
  whenStarted(count: number): Promise<void> {
    const done = deferred();
    if (this.started.length >= count) done.resolve();
    else this.#waiters.push({ count, done });
    return done.promise;
  }

  release(item: number): void {
    this.#gate(item).resolve();
  }

  /**
   * Lets `total` items through a call capped at `cap`: waits for the cap to fill, then
   * releases the oldest item inside, one at a time, until every item has entered.
   */
  async drain(total: number, cap: number): Promise<void> {
    for (let k = 0; k < total; k++) {
      await this.whenStarted(Math.min(k + cap, total));
      this.release(this.started[k]!);
    }
  }

  #gate(item: number): Deferred {
    let gate = this.#gates.get(item);
    if (!gate) {
      gate = deferred();
      this.#gates.set(item, gate);
    }
    return gate;
  }
}
