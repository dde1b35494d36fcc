/**
 * A batch class whose module, when a worker thread imports it, waits at its top level
 * until the test opens a gate: a worker running the class's first item there is held
 * inside the item before it has asked for the batch. The gate is a broadcast channel:
 * the worker says it waits, and the keeper answers once the gate is open (also to a
 * worker that comes later). In the main thread the module waits for nothing.
 */
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { Batch, inbatchParallel } from 'weftjs/batch';

const gateName = 'test:batch/gate';

if (!isMainThread) await gateOpened();

function gateOpened(): Promise<void> {
  const channel = new BroadcastChannel(gateName);
  return new Promise((resolve) => {
    channel.onmessage = (event) => {
      if ((event as { data: unknown }).data !== 'open') return;
      channel.close();
      resolve();
    };
    channel.postMessage({ waiting: threadId });
  });
}

function keep(results: unknown[]): unknown[] {
  return results;
}

export class Gated extends Batch<number[]> {
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  value(i: number) {
    return this.data[i];
  }
}

/** The main thread's side of the gate: tells when a worker waits at it, and opens it. */
export class GateKeeper {
  /** Resolves with the id of the first worker thread that waits at the gate. */
  readonly waiting: Promise<number>;
  readonly #channel = new BroadcastChannel(gateName);
  #open = false;

  constructor() {
    let waits: (threadId: number) => void;
    this.waiting = new Promise((resolve) => {
      waits = resolve;
    });
    this.#channel.onmessage = (event) => {
      waits((event as { data: { waiting: number } }).data.waiting);
      if (this.#open) this.#channel.postMessage('open');
    };
  }

  open(): void {
    this.#open = true;
    this.#channel.postMessage('open');
  }

  /** Stops answering: a worker that comes to the gate later waits for ever. */
  close(): void {
    this.#channel.close();
  }
}
