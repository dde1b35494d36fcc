/**
 * A batch class whose parallel method is decorated with a decorator made in another
 * module (remote-decorators.ts). Worker threads import this module to rebuild the batch.
 */
import { isMainThread } from 'node:worker_threads';
import { Batch } from 'weftjs/batch';
import { onThreads } from './remote-decorators.ts';

export class Decorated extends Batch<number[]> {
  @onThreads
  squared(i: number) {
    return [this.data[i]! ** 2, isMainThread];
  }
}
