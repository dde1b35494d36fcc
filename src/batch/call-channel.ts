/**
 * Handing a parallel call's batch to worker threads once per worker, not once per item.
 * Its state already sits in shared memory, but each SharedArrayBuffer an item carries is
 * cloned with every message: a batch holding 256 shared images costs each of the call's
 * items (one message each when items are long) some 0.2 ms and the call 25 ms before its
 * first item starts. So the items of a call on weft's own thread pools carry only the
 * call's id; a worker that has not seen the call asks for it once on a broadcast channel
 * of this process, and the thread that started the call answers while it runs.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { PackedState } from './batch-transport.ts';

const channelName = 'weft:batch/calls';

/** A worker's request, and the caller's answer. */
type CallMessage =
  | { readonly need: string }
  | { readonly id: string; readonly packed: PackedState };

// The caller's side.

const offers = new Map<string, PackedState>();
let offering: BroadcastChannel | undefined;

/**
 * Offers the call `id`'s batch to the workers that ask for it, until `withdraw` is
 * called. Several copies of weft in one thread each answer only for their own calls.
 */
export function offerCall(id: string, packed: PackedState): { withdraw(): void } {
  if (!offering) {
    offering = new BroadcastChannel(channelName);
    // An open channel must not keep a process alive whose calls are over.
    offering.unref();
    offering.onmessage = (event) => {
      const { data } = event as { data: CallMessage };
      if (!('need' in data)) return;
      const found = offers.get(data.need);
      if (found) offering!.postMessage({ id: data.need, packed: found } satisfies CallMessage);
    };
  }
  offers.set(id, packed);
  return { withdraw: () => offers.delete(id) };
}

// A worker's side.

const waiting = new Map<string, (packed: PackedState) => void>();
let asking: BroadcastChannel | undefined;

/** The batch of call `id`, asked of the thread that started it. */
export function askForCall(id: string): Promise<PackedState> {
  if (!asking) {
    asking = new BroadcastChannel(channelName);
    asking.onmessage = (event) => {
      const { data } = event as { data: CallMessage };
      if (!('packed' in data)) return;
      const answer = waiting.get(data.id);
      if (answer) {
        waiting.delete(data.id);
        answer(data.packed);
      }
      if (waiting.size === 0) asking!.unref();
    };
  }
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    // Held open while an answer is awaited; an idle worker's channel lets it exit.
    asking!.ref();
    asking!.postMessage({ need: id } satisfies CallMessage);
  });
}
