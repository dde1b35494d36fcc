/**
 * The streaming side of a fan-out: results queued as they are delivered and read with
 * `for await`. Shared by map and dag so both stream, end and fail the same way.
 */
export class Outlet<T> {
  #queue: T[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  #error: unknown;
  readonly #afterRead: () => void;
  readonly #onReturn: () => void;

  /**
   * @param afterRead called after each value is taken (a reader freed room: start more work)
   * @param onReturn called when the reader stops early (break out of the loop)
   */
  constructor(afterRead: () => void, onReturn: () => void) {
    this.#afterRead = afterRead;
    this.#onReturn = onReturn;
  }

  /** Values delivered and not read yet. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  push(value: T): void {
    this.#queue.push(value);
    this.#wake?.();
  }

  /** Ends the stream after the queued values; with an error, the reader gets it after them. */
  close(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#wake?.();
  }

  iterator(): AsyncIterator<T> {
    return {
      next: () => this.#next(),
      return: async () => {
        if (!this.#closed) this.#onReturn();
        return { done: true, value: undefined };
      },
    };
  }

  async #next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#head < this.#queue.length) {
        const value = this.#queue[this.#head++]!;
        // Drop what was read now and then, so a long stream does not hold it all.
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        this.#afterRead();
        return { done: false, value };
      }
      if (this.#closed) {
        if (this.#error !== undefined) {
          const error = this.#error;
          this.#error = undefined;
          throw error;
        }
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
