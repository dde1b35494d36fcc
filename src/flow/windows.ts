/**
 * Artifact I/O with a bounded number of operations in flight: enough to hide latency, far
 * below file-handle limits (a store may keep each artifact in a file of its own).
 */

/** Operations in flight at once. */
export const ioInFlight = 64;

/**
 * Elements per batched read (`Store.getArtifacts`): a few statements' worth, so that one
 * call costs far more than its promise, yet the first elements of a `for await` come soon.
 */
export const readChunk = 512;

/**
 * Batched reads in flight at once: one decoded while the store reads the next. Stores
 * without batched reads read each chunk's elements {@link ioInFlight} / this at a time, so
 * that no more than {@link ioInFlight} single reads are ever in flight.
 */
export const chunksInFlight = 2;

/** Calls `fn(0)` … `fn(count - 1)` with at most `limit` running at once. */
export async function inWindows(
  count: number,
  fn: (index: number) => Promise<void>,
  limit = ioInFlight,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
