/**
 * Helpers shared by the map and dag test files of this folder: the executors every basic
 * behaviour is checked on, and nodes the tests control.
 */
import { asyncPool, type DagNode, type DagOutcome, dag, type Executor, inline } from 'weftjs';
import { deferred } from '../fixtures/map-dag-tasks.ts';

/** Executors every basic behaviour is checked on; `undefined` means the default executor. */
export const executors: readonly (readonly [string, () => Executor | undefined])[] = [
  ['asyncPool', () => asyncPool()],
  ['inline', () => inline()],
  ['the default executor', () => undefined],
];

/** Reads every outcome of an iterated dag. */
export async function outcomes(
  nodes: Parameters<typeof dag>[0],
  options: Parameters<typeof dag>[1],
) {
  const seen: DagOutcome[] = [];
  for await (const outcome of dag(nodes, options)) seen.push(outcome);
  return seen;
}

/**
 * A node task controlled from the test: it reports its start, waits for its gate, and
 * returns `value`. `log` records `start:<id>` and `end:<id>` in the order they happen.
 */
export function gatedNode(id: string, log: string[], dependencies: string[] = []) {
  const started = deferred();
  const gate = deferred();
  const node: DagNode = {
    id,
    dependencies,
    task: async () => {
      log.push(`start:${id}`);
      started.resolve();
      await gate.promise;
      log.push(`end:${id}`);
      return id.toUpperCase();
    },
  };
  return { node, started, gate };
}
