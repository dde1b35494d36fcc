/**
 * A store's writer on its own thread, so that a run's task records are encoded on the
 * main thread (cheaply: a few hundred nanoseconds a record) and written, with SQLite's
 * B-tree work or PostgreSQL's protocol, beside it. The thread opens its own connection
 * to the same database and runs the store's own write code; the main thread only posts
 * encoded rows and waits for the answer. The thread runs the writes one after another, in
 * the order sent, so the records of a key keep their order even while several are on
 * their way. A writer thread that fails (its connection cannot be opened, or it dies)
 * fails every write under way and every later one with its error.
 *
 * The thread keeps the process alive only while a write is under way: a store the caller
 * forgot to close does not hang the process, and a write in flight is never dropped by
 * an exit that nothing else was waiting for.
 */
import { Worker } from 'node:worker_threads';
import {
  fromWire,
  RunBusyError,
  SerializationError,
  StoreError,
  type WireError,
} from '../core/errors.ts';
import type { ArtifactValues, TaskValues } from './sql/codec.ts';

/** What the writer thread opens: the store kind and its options, as plain data. */
export interface WriterSpec {
  readonly kind: 'sqlite' | 'postgres';
  readonly options: Readonly<Record<string, unknown>>;
}

/** A group of task records and their artifacts, encoded by the store on the main thread. */
export interface RecordWrite {
  readonly runId: string;
  readonly rows: readonly TaskValues[];
  readonly owner: string | undefined;
  readonly artifacts: readonly ArtifactValues[];
}

/** A store opened in the writer thread: writes a group as the store does on its own thread. */
export type ThreadWrites = (write: RecordWrite) => Promise<void> | void;

interface Reply {
  readonly id: number;
  readonly error?: WireError;
  /** The fields of a RunBusyError, rebuilt as one here. */
  readonly busy?: { runId: string; owner: string; leaseExpiresAt: number };
}

const fromSource = import.meta.url.endsWith('.ts');
const bootUrl = new URL('./writer-boot.js', import.meta.url);
const entryUrl = new URL(fromSource ? './writer-entry.ts' : './writer-entry.js', import.meta.url);

class WriterThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  /** Resolves close's wait once no write is unanswered. */
  #drained: (() => void) | undefined;
  #next = 0;
  #failure: unknown;
  #broken = false;
  #closing: Promise<void> | undefined;

  constructor(spec: WriterSpec) {
    this.#worker = new Worker(bootUrl, {
      workerData: { entry: entryUrl.href, typescript: fromSource, spec },
    });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => this.#answer(reply));
    this.#worker.on('error', (error) => {
      this.#broken = true;
      this.#fail(asStoreError(error));
    });
    this.#worker.on('exit', (code) => {
      if (this.#closing === undefined) this.#broken = true;
      this.#fail(
        new StoreError(`The store's writer thread exited (code ${code}) with writes unanswered.`),
      );
    });
  }

  /**
   * True once the thread failed (its connection could not be opened, or it died) rather
   * than being closed: the store then starts a new one for its next write, so that one
   * failure (a lock held too long, a lost connection) fails only the writes under way.
   */
  get broken(): boolean {
    return this.#broken;
  }

  /** Sends a write; settles when it is committed, or rejects with the store's error. */
  write(write: RecordWrite): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#next++;
    const done = new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
    });
    if (this.#waiting.size === 1) this.#worker.ref();
    this.#worker.postMessage({ id, write });
    return done;
  }

  /** Waits for the writes under way, then stops the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#failure ??= new StoreError('The store is closed.');
      if (this.#waiting.size > 0) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
        });
      }
      await this.#worker.terminate();
    })();
    return this.#closing;
  }

  #answer(reply: Reply): void {
    const waiter = this.#waiting.get(reply.id);
    if (!waiter) return;
    this.#waiting.delete(reply.id);
    if (reply.error === undefined) waiter.resolve();
    else waiter.reject(rebuild(reply));
    if (this.#waiting.size === 0) this.#idle();
  }

  /** No write is unanswered: the thread no longer keeps the process alive, and close may go on. */
  #idle(): void {
    this.#worker.unref();
    this.#drained?.();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
    this.#idle();
  }
}

/**
 * A store's writes on a writer thread: the thread is started at the first write, and again
 * at the write after one that failed, so that one failure (a lock held too long, a lost
 * connection) fails only the writes under way. Once closed, writes are refused.
 */
export class StoreWriter {
  readonly #spec: WriterSpec;
  #thread: WriterThread | undefined;
  #closed = false;

  constructor(spec: WriterSpec) {
    this.#spec = spec;
  }

  write(write: RecordWrite): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError('The store is closed.'));
    if (!this.#thread || this.#thread.broken) this.#thread = new WriterThread(this.#spec);
    return this.#thread.write(write);
  }

  /** Waits for the writes under way, then stops the thread. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#thread?.close();
  }
}

/** What the thread threw when it failed (a StoreError in the thread, a plain Error here). */
function asStoreError(error: Error): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  return new StoreError(error.message, {
    code: typeof code === 'string' && code.startsWith('WEFT_') ? code : 'WEFT_STORE',
    cause: error,
  });
}

/** The store's error as its own class, so that callers recognise it as from the main thread. */
function rebuild(reply: Reply): Error {
  const wire = reply.error!;
  const cause = wire.cause === undefined ? undefined : fromWire(wire.cause);
  if (reply.busy) {
    return new RunBusyError(
      reply.busy.runId,
      reply.busy.owner,
      reply.busy.leaseExpiresAt,
      wire.message,
    );
  }
  if (wire.code === 'WEFT_SERIALIZATION') {
    return new SerializationError(wire.message, cause === undefined ? undefined : { cause });
  }
  if (wire.code === 'WEFT_STORE' || wire.code?.startsWith('WEFT_') === true) {
    return new StoreError(wire.message, {
      code: wire.code,
      ...(cause === undefined ? {} : { cause }),
    });
  }
  return fromWire(wire);
}
