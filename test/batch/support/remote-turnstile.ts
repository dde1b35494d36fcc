/**
 * Items that enter, are counted while inside, and leave when the test lets them, one at
 * a time in the order they entered, so the most ever inside at once is measured. On
 * threads the counts are in shared memory; child processes (target `mpc`) report on a
 * socket to the test. Workers and child processes import this module: nothing runs at
 * its top level.
 */
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Batch, inbatchParallel, shared } from 'weftjs/batch';

function keep(results: unknown[]): unknown[] {
  return results;
}

/** Places of the counts: inside now, most inside at once, entered, let out, places in line given. */
const inside = 0;
const peak = 1;
const entered = 2;
const released = 3;
const tickets = 4;

/** Atomics.waitAsync, which the project's library typings do not declare yet. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

/** The test's side of a turnstile. */
interface Gatekeeping {
  readonly peak: number;
  readonly entered: number;
  whenEntered(count: number): Promise<void>;
  release(): void;
}

/** Lets `total` items through a call capped at `cap`: each time the cap is filled, the oldest leaves. */
export async function drain(turnstile: Gatekeeping, total: number, cap: number): Promise<void> {
  for (let k = 0; k < total; k++) {
    await turnstile.whenEntered(Math.min(k + cap, total));
    turnstile.release();
  }
}

/** On threads: a batch of `items` items whose counts are in shared memory. */
export class Turnstile extends Batch<number[]> implements Gatekeeping {
  counts = shared(new Int32Array(5));

  static of(items: number): Turnstile {
    return new Turnstile(Array.from({ length: items }, (_, i) => i));
  }

  get peak(): number {
    return Atomics.load(this.counts, peak);
  }

  get entered(): number {
    return Atomics.load(this.counts, entered);
  }

  async whenEntered(count: number): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.counts, entered);
      if (seen >= count) return;
      const waiting = waitAsync(this.counts, entered, seen);
      if (waiting.async) await waiting.value;
    }
  }

  release(): void {
    Atomics.add(this.counts, released, 1);
    Atomics.notify(this.counts, released);
  }

  /** Enters, waits (at most `waitMs`) to be let out, and leaves: returns its place in line. */
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  pass(_i: number, waitMs: number) {
    const counts = this.counts;
    const order = Atomics.add(counts, tickets, 1);
    const now = Atomics.add(counts, inside, 1) + 1;
    for (let seen = Atomics.load(counts, peak); seen < now; seen = Atomics.load(counts, peak)) {
      if (Atomics.compareExchange(counts, peak, seen, now) === seen) break;
    }
    // Counted as entered only now, with the peak written.
    Atomics.add(counts, entered, 1);
    Atomics.notify(counts, entered);
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        const out = Atomics.load(counts, released);
        if (out > order) return order;
        const left = deadline - Date.now();
        if (left <= 0 || Atomics.wait(counts, released, out, left) === 'timed-out') {
          throw new Error(`item ${order} was not let out within ${waitMs} ms`);
        }
      }
    } finally {
      Atomics.sub(counts, inside, 1);
    }
  }
}

/**
 * In a child process: enters through the door at `port` (the test's socket), waits to be
 * let out, says it leaves and returns once the door has counted it out.
 */
export async function passDoor(item: number, port: number): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  const lines = createInterface({ input: socket });
  try {
    socket.write('enter\n');
    for await (const line of lines) {
      if (line === 'go') socket.write('leave\n');
      if (line === 'bye') return item;
    }
    throw new Error(`item ${item}: the door closed before letting it out`);
  } finally {
    socket.end();
  }
}

/** On child processes: a batch whose method returns {@link passDoor}. */
export class DoorJobs extends Batch<number[]> {
  static of(items: number): DoorJobs {
    return new DoorJobs(Array.from({ length: items }, (_, i) => i));
  }

  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  pass(_port: number) {
    return passDoor;
  }
}

/** The test's door for {@link passDoor}: a socket server on 127.0.0.1 that counts. */
export class Door implements Gatekeeping {
  peak = 0;
  entered = 0;
  #inside = 0;
  /** Items inside, oldest first, not yet let out. */
  readonly #line: Socket[] = [];
  readonly #waiters: { count: number; resolve(): void }[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #server: Server = createServer((socket) => this.#admit(socket));

  /** Starts listening; resolves with the port. */
  async open(): Promise<number> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return (this.#server.address() as AddressInfo).port;
  }

  whenEntered(count: number): Promise<void> {
    if (this.entered >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  release(): void {
    this.#line.shift()?.write('go\n');
  }

  /** Stops listening and closes every connection: items still inside fail. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    return closed;
  }

  #admit(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    createInterface({ input: socket }).on('line', (line) => {
      if (line === 'enter') {
        this.#inside++;
        this.peak = Math.max(this.peak, this.#inside);
        this.entered++;
        this.#line.push(socket);
        for (const waiter of this.#waiters) if (this.entered >= waiter.count) waiter.resolve();
      } else if (line === 'leave') {
        this.#inside--;
        socket.end('bye\n');
      }
    });
    socket.on('error', () => {});
  }
}
