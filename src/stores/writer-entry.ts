/**
 * The writer thread of a store (see writer-thread.ts): opens its own connection to the
 * database the main thread's store uses, and runs each write it is sent with the store's
 * own write code, answering with nothing or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RunBusyError, toWire } from '../core/errors.ts';
import type { RecordWrite, ThreadWrites, WriterSpec } from './writer-thread.ts';

const spec = (workerData as { spec: WriterSpec }).spec;
const recordHere: ThreadWrites =
  spec.kind === 'sqlite'
    ? (await import('./sqlite.ts')).SqliteStore.openWriter(spec.options)
    : (await import('./postgres.ts')).PostgresStore.openWriter(spec.options);

// Writes run one after another, in the order sent.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', ({ id, write }: { id: number; write: RecordWrite }) => {
  queue = queue.then(async () => {
    try {
      await recordHere(write);
      parentPort!.postMessage({ id });
    } catch (error) {
      const busy =
        error instanceof RunBusyError
          ? { runId: error.runId, owner: error.owner, leaseExpiresAt: error.leaseExpiresAt }
          : undefined;
      parentPort!.postMessage({ id, error: toWire(error), ...(busy ? { busy } : {}) });
    }
  });
});
