/**
 * Shared memory kept between applies on threads. Memory a process touches for the first
 * time costs a page fault per page, which for the operators' outputs (tens of megabytes
 * an apply) weighs as much as the work itself; buffers given back after an apply that
 * succeeded serve the next one instead. Only output sinks are pooled, memory operator
 * code never sees (it may keep views of what it sees, such as the batch's shared copy,
 * in its states), and only when nothing can still read or write them: every chunk of
 * their apply has ended, and the merged output holds none of them. Idle buffers are
 * bounded; more are let go.
 */

/** Idle buffers kept at most, in bytes. */
const idleLimit = 256 * 1024 * 1024;

const idle = new Map<number, SharedArrayBuffer[]>();
let idleBytes = 0;

/** A shared buffer of `bytes` bytes: an idle one, or a new one. Its contents are not cleared. */
export function takeShared(bytes: number): SharedArrayBuffer {
  const kept = idle.get(bytes)?.pop();
  if (kept === undefined) return new SharedArrayBuffer(bytes);
  idleBytes -= bytes;
  return kept;
}

/** Gives `buffers` back for later applies, as far as the bound allows. */
export function giveShared(buffers: Iterable<SharedArrayBuffer>): void {
  for (const buffer of buffers) {
    const bytes = buffer.byteLength;
    if (bytes === 0 || idleBytes + bytes > idleLimit) continue;
    let list = idle.get(bytes);
    if (list === undefined) {
      list = [];
      idle.set(bytes, list);
    }
    if (list.includes(buffer)) continue;
    list.push(buffer);
    idleBytes += bytes;
  }
}
