/**
 * Moving large binary data to and from workers without copying it. Wrap a task's
 * input (or return the output wrapped) with {@link transfer}: its ArrayBuffers move to
 * the other thread, which is near-free whatever their size; the sender loses access to
 * them. Typed arrays backed by a SharedArrayBuffer need no wrapper: they are shared.
 */

import type { TransferListItem } from 'node:worker_threads';

const transferBrand = Symbol.for('weft.transfer');

/** A value marked for transfer, with the buffers that move. */
export interface Transfer<T = unknown> {
  readonly [transferBrand]: true;
  readonly value: T;
  readonly list: readonly TransferListItem[];
}

/**
 * Marks `value` to be moved, not copied, to a worker thread. Without `list`, every
 * ArrayBuffer found in `value` (itself, typed arrays, and those inside arrays and plain
 * objects, two levels deep) moves. In this thread the task receives `value` itself.
 *
 * @example
 * await map([transfer(bigFloat64Array)], sumTask, { executor: threads() });
 */
export function transfer<T>(value: T, list?: readonly TransferListItem[]): T {
  const marked: Transfer<T> = { [transferBrand]: true, value, list: list ?? findBuffers(value) };
  // Typed as T so that a wrapped input still type-checks as the task's input.
  return marked as unknown as T;
}

/** True when `value` was made by {@link transfer}. */
export function isTransfer(value: unknown): value is Transfer {
  return typeof value === 'object' && value !== null && (value as Transfer)[transferBrand] === true;
}

/** The value inside a transfer marker, or the value itself. */
export function unwrapTransfer(value: unknown): unknown {
  return isTransfer(value) ? value.value : value;
}

function findBuffers(value: unknown, depth = 0, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (value instanceof ArrayBuffer) found.add(value);
  else if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  } else if (depth < 2 && value !== null && typeof value === 'object') {
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) findBuffers(child, depth + 1, found);
  }
  return [...found];
}
