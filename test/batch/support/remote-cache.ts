/**
 * A batch class whose items report which calls their worker keeps a batch of. Its two
 * items meet inside the method first, so that each of a two-worker pool runs one. Worker
 * threads import this module: nothing runs at its top level.
 */
import { threadId } from 'node:worker_threads';
import { Batch, inbatchParallel } from 'weftjs/batch';
import { cachedCalls } from '../../../src/batch/remote-targets.ts';
import { meetOther } from './remote-batches.ts';

function keep(results: unknown[]): unknown[] {
  return results;
}

/** What an item saw: its worker, and the calls that worker keeps. */
export interface Kept {
  readonly threadId: number;
  readonly calls: readonly string[];
}

/** Its data, two numbers in shared memory, makes two items; they meet on the first. */
export class CacheProbe extends Batch<Int32Array> {
  /** Meets the other item (waiting at most `waitMs`), then reports. */
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  kept(_i: number, waitMs: number): Kept {
    meetOther(this.data, waitMs, 'an item');
    return { threadId, calls: cachedCalls() };
  }
}

/** A batch whose items only say which worker ran them: for calls made many at once. */
export class Visits extends Batch<number[]> {
  @inbatchParallel({ init: 'indices', post: keep, target: 'threads' })
  visit(i: number): [number, number] {
    return [i, threadId];
  }
}
