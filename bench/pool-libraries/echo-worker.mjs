// Bare worker_threads reference: echo every message back as value + 1.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (n) => {
  parentPort.postMessage(n + 1);
});
