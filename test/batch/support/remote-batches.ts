/**
 * Batch classes whose parallel methods run on worker threads (target `threads`). Worker
 * threads import this module to rebuild the batches: nothing here runs at its top level.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import { Batch, inbatchParallel } from 'weftjs/batch';

/** Where an item ran. */
export interface Place {
  readonly mainThread: boolean;
  readonly threadId: number;
}

/** An error of the tests' own, with a code, thrown by odd items. */
export class OddItemError extends Error {
  override readonly name = 'OddItemError';
  readonly code = 'E_ODD_ITEM';
}

/** Post of the tests: the results as they are. */
function keep(results: unknown[]): unknown[] {
  return results;
}

export class Probe extends Batch<number[]> {
  /** Each item's value times the call's factor, and where it ran. */
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  where(i: number, factor: number) {
    return { value: this.data[i]! * factor, mainThread: isMainThread, threadId } as const;
  }

  /** Odd items fail with their own error. */
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  failing(i: number) {
    if (i % 2 === 1) throw new OddItemError(`item ${i} is odd`);
    return this.data[i];
  }

  /**
   * Appends the item's id to `log` (items run in other threads: the file counts them),
   * and fails while a file `fail-<i>` is in `dir`.
   */
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  logged(i: number, dir: string) {
    appendFileSync(join(dir, 'log'), `${i}\n`);
    if (existsSync(join(dir, `fail-${i}`))) throw new Error(`item ${i} was told to fail`);
    return this.data[i]! * 10;
  }
}

/** Doubles its data in place: shared memory written on worker threads. */
export class Doubler extends Batch<Float64Array> {
  @inbatchParallel({ init: 'indices', target: 'threads' })
  double(i: number) {
    this.data[i]! *= 2;
  }
}

/**
 * Writes into shared memory held deep in its fields and components: `out.sums` (a
 * typed array on a SharedArrayBuffer inside a plain object and an array) and `counter`
 * (a bare SharedArrayBuffer counting the items).
 */
export class Nested extends Batch {
  static override components = ['images', 'labels'];
  declare images: Float32Array;
  declare labels: string[];
  out: { readonly sums: Float64Array[] } = { sums: [] };
  counter: SharedArrayBuffer | undefined;

  @inbatchParallel({ init: 'indices', target: 'threads' })
  fill(i: number) {
    this.out.sums[0]![i] = this.images[i]! + 1;
    this.images[i] = -this.images[i]!;
    Atomics.add(new Int32Array(this.counter!), 0, 1);
  }
}

/**
 * Holds a large array that is not shared (`payload`) and counts, in a field of its own,
 * how many items this copy of the batch has run.
 */
export class Heavy extends Batch<number[]> {
  payload: Float64Array = new Float64Array(0);
  visits = 0;

  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  visit(_i: number) {
    this.visits++;
    return { threadId, visits: this.visits, payload: this.payload.length };
  }
}

/**
 * Two items meet: each counts itself in on `data[0]` (shared) and waits, at most
 * `waitMs`, for the other. Both return only if both were inside the method at once.
 */
export class Rendezvous extends Batch<Int32Array> {
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  meet(item: number, waitMs: number) {
    meetOther(this.data, waitMs, `item ${item}`);
    return threadId;
  }
}

/**
 * Counts this item in on `arrived[0]` (shared memory) and waits, at most `waitMs`, until
 * a second item has too: returns only when two items were inside at once.
 * @throws Error naming `who` when the other never arrived in time
 */
export function meetOther(arrived: Int32Array, waitMs: number, who: string): void {
  Atomics.add(arrived, 0, 1);
  Atomics.notify(arrived, 0);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const seen = Atomics.load(arrived, 0);
    if (seen >= 2) return;
    const left = deadline - Date.now();
    if (left <= 0 || Atomics.wait(arrived, 0, seen, left) === 'timed-out') {
      throw new Error(`${who}: the other item never arrived within ${waitMs} ms`);
    }
  }
}

/** A batch class this module does not export. */
class Hidden extends Batch<number[]> {
  @inbatchParallel({ init: 'indices', target: 'threads' })
  touch(i: number) {
    return this.data[i];
  }
}

/** A batch of the class that is not exported. */
export function hiddenBatch(data: number[]): Batch {
  return new Hidden(data);
}

/** The function form on threads, exported: three times each item, and where it ran. */
export const tripled = inbatchParallel(
  { init: 'items', post: keep, target: 'threads' },
  function tripled(this: Batch, x: number) {
    return { value: 3 * x, mainThread: isMainThread, length: this.length };
  },
);

/** The function form, not exported. */
const unexported = inbatchParallel({ init: 'items', target: 'threads' }, (x: number) => x);

/** Calls the function form this module does not export on `batch`. */
export function callUnexported(batch: Batch, ...args: unknown[]): Promise<unknown> {
  return unexported.call(batch, ...args);
}
