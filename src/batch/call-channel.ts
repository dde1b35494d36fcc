/**
 * Handing a parallel call's batch to worker threads once per worker, not once per item.
 * Its state already sits in shared memory, but each SharedArrayBuffer an item carries is
 * cloned with every message: a batch holding 256 shared images costs each of the call's
 * items (one message each when items are long) some 0.2 ms and the call 25 ms before its
 * first item starts. So the items of a call on weft's own thread pools carry only the
 * call's id; a worker that has not seen the call asks for it once on a broadcast channel
 * of this process, and the thread that started the call answers while it runs.
 *
 * Answers go to the asking worker alone, on a channel of its own: a broadcast would copy
 * the batch's shared list to every worker for every ask. When the call ends, the workers
 * that asked for it, or hold it from items that carried it, are told, and drop their copy
 * of its batch; a worker asking after that is told the call ended.
 */
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { WeftError } from '../core/errors.ts';
import type { PackedState } from './batch-transport.ts';

/** Where workers ask; a worker hears the answers on `<channelName>/<its own id>`. */
const channelName = 'weft:batch/calls';

/** A worker's message: it needs the call's batch, or holds it already; `reply` names its channel. */
type Request =
  | { readonly need: string; readonly reply: string }
  | { readonly hold: string; readonly reply: string };

/** What a worker hears: the batch it asked for, or that the call ended. */
type Reply = { readonly id: string; readonly packed: PackedState } | { readonly done: string };

// The caller's side.

/**
 * This copy of weft's calls: ids are `<prefix><n>`. Another copy of weft in the same
 * thread has its own prefix, and each answers only for its own calls.
 */
const callPrefix = `${randomUUID()}:`;
let callCount = 0;

/** A call id unique in this process, which this copy of weft answers for. */
export function newCallId(): string {
  return `${callPrefix}${++callCount}`;
}

interface Offer {
  readonly packed: PackedState;
  /** The channels of the workers that asked for the call or hold it. */
  readonly holders: Set<string>;
}

const offers = new Map<string, Offer>();
let offering: BroadcastChannel | undefined;

/**
 * Offers the call `id`'s batch to the workers that ask for it, until `withdraw` is
 * called; `withdraw` tells the workers that asked for it or hold it that it ended.
 */
export function offerCall(id: string, packed: PackedState): { withdraw(): void } {
  if (!offering) {
    offering = new BroadcastChannel(channelName);
    // An open channel must not keep a process alive whose calls are over.
    offering.unref();
    offering.onmessage = (event) => {
      const { data } = event as { data: unknown };
      if (typeof data === 'object' && data !== null) answer(data as Request);
    };
  }
  const offer: Offer = { packed, holders: new Set() };
  offers.set(id, offer);
  return {
    withdraw: () => {
      offers.delete(id);
      for (const holder of offer.holders) send(holder, { done: id });
    },
  };
}

function answer(request: Request): void {
  const id = 'need' in request ? request.need : request.hold;
  if (typeof id !== 'string' || !id.startsWith(callPrefix)) return;
  const offer = offers.get(id);
  if (!offer) {
    // One of ours that ended: a worker that waited for it would wait for ever.
    send(request.reply, { done: id });
    return;
  }
  offer.holders.add(request.reply);
  if ('need' in request) send(request.reply, { id, packed: offer.packed });
}

/** Posts `reply` to the one worker listening on `to`. */
function send(to: string, reply: Reply): void {
  const channel = new BroadcastChannel(`${channelName}/${to}`);
  channel.postMessage(reply);
  channel.close();
}

// A worker's side.

/** The channel this copy of weft in this thread hears its answers on. */
const ownId = randomUUID();
let listening: BroadcastChannel | undefined;

interface Ask {
  readonly promise: Promise<PackedState>;
  resolve(packed: PackedState): void;
  reject(error: Error): void;
}

const asks = new Map<string, Ask>();
/** What to do when a call this worker follows ends, by id. */
const endings = new Map<string, () => void>();

/**
 * The batch of call `id`, asked of the thread that started it. `onEnd` runs when that
 * thread says the call ended (unless {@link forgetCall} is called first).
 * @throws WeftError `WEFT_BATCH_CALL_ENDED` when the call ended before it was answered
 */
export function askForCall(id: string, onEnd: () => void): Promise<PackedState> {
  endings.set(id, onEnd);
  let ask = asks.get(id);
  if (!ask) {
    let resolve!: (packed: PackedState) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<PackedState>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    ask = { promise, resolve, reject };
    asks.set(id, ask);
    // Held open while an answer is awaited; an idle worker's channel lets it exit.
    listen().ref();
    request({ need: id, reply: ownId });
  }
  return ask.promise;
}

/**
 * Tells the thread that started call `id` that this worker holds its batch (its items
 * carried it): `onEnd` runs when that thread says the call ended.
 */
export function holdCall(id: string, onEnd: () => void): void {
  endings.set(id, onEnd);
  listen();
  request({ hold: id, reply: ownId });
}

/** Stops following call `id`: its end no longer matters here. */
export function forgetCall(id: string): void {
  endings.delete(id);
}

function listen(): BroadcastChannel {
  if (!listening) {
    listening = new BroadcastChannel(`${channelName}/${ownId}`);
    listening.unref();
    listening.onmessage = (event) => {
      const { data } = event as { data: unknown };
      if (typeof data === 'object' && data !== null) hear(data as Reply);
    };
  }
  return listening;
}

function hear(reply: Reply): void {
  const id = 'done' in reply ? reply.done : reply.id;
  const ask = asks.get(id);
  if (ask) {
    asks.delete(id);
    if ('packed' in reply) ask.resolve(reply.packed);
    else ask.reject(callEnded(id));
    if (asks.size === 0) listening!.unref();
  }
  if ('done' in reply) {
    const onEnd = endings.get(id);
    endings.delete(id);
    onEnd?.();
  }
}

function request(message: Request): void {
  const channel = new BroadcastChannel(channelName);
  channel.postMessage(message);
  channel.close();
}

function callEnded(id: string): WeftError {
  return new WeftError(
    'WEFT_BATCH_CALL_ENDED',
    `The parallel call ${id} ended (it was aborted or stopped) before this worker got its batch: ` +
      'the item does not run.',
  );
}
