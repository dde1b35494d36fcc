// Entry of a store's writer thread. Plain JavaScript on purpose: when weft runs from its
// TypeScript sources, it installs the TypeScript loader before the writer code is
// imported (Node 20 does not carry `--import` loaders into worker threads).
import { workerData } from 'node:worker_threads';

if (workerData.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
