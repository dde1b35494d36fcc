/**
 * A first-in, first-out queue whose dequeue costs O(1): `Array.prototype.shift` copies
 * the rest of the array each time, so a scheduler draining a queue of n items that way
 * spends O(n²).
 */

/** Below this many taken items the storage is not compacted: small queues never copy. */
const compactAfter = 1024;

/**
 * A FIFO queue with a head index. Taken slots are cleared at once (nothing taken is kept
 * alive), and the storage is compacted once the head passes half of it, so that it never
 * holds more than about twice the items queued; each item is copied at most once per
 * compaction, so every operation costs O(1) amortized.
 *
 * @example
 * const ready = new Fifo<string>();
 * ready.push('a');
 * ready.push('b');
 * ready.shift(); // 'a'
 * ready.length; // 1
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many items are queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds `item` at the back. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Takes the item at the front, or returns undefined when the queue is empty. */
  shift(): T | undefined {
    const items = this.#items;
    const head = this.#head;
    if (head >= items.length) return undefined;
    const item = items[head] as T;
    if (head + 1 === items.length) {
      // Emptied: start over, with nothing to copy.
      items.length = 0;
      this.#head = 0;
    } else if (head >= compactAfter && head * 2 >= items.length) {
      this.#items = items.slice(head + 1);
      this.#head = 0;
    } else {
      items[head] = undefined;
      this.#head = head + 1;
    }
    return item;
  }

  /** Removes every item. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
