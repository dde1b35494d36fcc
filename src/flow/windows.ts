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
