/** The event streams a server has open, so that closing it ends them and waits for them. */

/**
 * Counts the streams open and tells when none are: a server aborts them on close and waits
 * until they ended, and a test waits for a stream whose client went away to end.
 */
export class LiveStreams {
  #open = 0;
  #waiting: (() => void)[] = [];

  /** How many streams are open. */
  get size(): number {
    return this.#open;
  }

  /** A stream began; call the function returned when it ends. */
  opened(): () => void {
    this.#open++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#open--;
      if (this.#open > 0) return;
      const waiting = this.#waiting;
      this.#waiting = [];
      for (const wake of waiting) wake();
    };
  }

  /** Resolves once no stream is open. */
  idle(): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}
