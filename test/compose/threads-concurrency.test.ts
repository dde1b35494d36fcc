/**
 * Task operators of one composite run at once on worker threads: each marks its start in
 * shared memory and waits (Atomics.wait, bounded) until the other has started. Run one
 * after another, the first would give up waiting and fail.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { threads } from 'weftjs';
import { CompositeOperator, type Tensor, tensor } from 'weftjs/compose';
import { meet, meetToo } from './support/operators.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

describe('task operators on threads', () => {
  it('two operators are running at the same time on two workers', { timeout: 30_000 }, async () => {
    const started = new Int32Array(new SharedArrayBuffer(8));
    // One chunk per operator: two tasks for two workers.
    const composite = new CompositeOperator({
      operators: [meet, meetToo],
      executor,
      examplesPerTask: 2,
    });
    const out = (await composite.apply(tensor([[1], [2]]), {
      extraParams: { started, waitMs: 20_000 },
    })) as Tensor;
    assert.deepEqual(out.toArray(), [
      [1, 1],
      [2, 2],
    ]);
    assert.ok(started[0]! >= 1 && started[1]! >= 1);
  });
});
