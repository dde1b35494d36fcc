/**
 * Artifact I/O with a bounded number of operations in flight: enough to hide latency, far
 * below file-handle limits (a shard of 100,000 elements is 100,000 files).
 */

/** Operations in flight at once. */
export const ioInFlight = 64;

/** Calls `fn(0)` … `fn(count - 1)` with at most {@link ioInFlight} running at once. */
export async function inWindows(
  count: number,
  fn: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(ioInFlight, count) }, worker));
}

/** Runs functions with at most `limit` of them in flight, the others waiting in order. */
export class Limiter {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next in line.
      if (next) next();
      else this.#running--;
    }
  }
}
