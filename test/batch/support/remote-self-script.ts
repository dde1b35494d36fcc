/**
 * A script, run by the exit tests in a process of its own: it defines and exports its
 * batch classes and calls them at its top level, guarded by `isWorker()` (workers import
 * this module to find the classes). This thread cannot read the exports of a module
 * still being evaluated, so the names are taken from the class and the function, and
 * the workers check them.
 */
import { isMainThread } from 'node:worker_threads';
import { isWorker } from 'weftjs';
import { Batch, inbatchParallel } from 'weftjs/batch';
import { calls } from './conventions.ts';

function keep(results: unknown[]): unknown[] {
  return results;
}

export class OwnThreads extends Batch<number[]> {
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  where(i: number) {
    return [this.data[i], isMainThread];
  }
}

export function plusOne(x: number) {
  return [x + 1, process.pid];
}

export class OwnProcesses extends Batch<number[]> {
  @inbatchParallel({ init: 'items', post: keep, target: 'mpc' })
  plus() {
    return plusOne;
  }
}

if (!isWorker()) {
  const onThreads = await calls(new OwnThreads([1, 2])).where();
  const onProcesses = await calls(new OwnProcesses([1, 2])).plus();
  console.log(
    JSON.stringify({
      threads: onThreads,
      processes: onProcesses.map(([value, pid]: [number, number]) => [value, pid !== process.pid]),
    }),
  );
}
