/**
 * A synchronous operator on worker threads stops between examples once its apply is
 * cancelled, another operator fails, or its attempt times out: a worker busy in a
 * synchronous loop never reads the pool's abort message, so its chunk reads a stop flag
 * in shared memory. Each example counts itself in shared memory; once the apply rejected,
 * two operators that must meet on the two workers prove both workers are free, and the
 * count shows how far the stopped chunks went.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isWeftError, threads } from 'weftjs';
import { CompositeOperator, type Tensor, tensor, zeros } from 'weftjs/compose';
import { blocks, blocksTimed, meet, meetToo } from './support/operators.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

const examples = 20;

/** Atomics.waitAsync (Node 16+), which the compiler's ES2023 library does not declare. */
const { waitAsync } = Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { value: unknown };
};

/** Resolves once `counter[0]` reaches `n`, woken by each Atomics.notify. */
async function reached(counter: Int32Array, n: number): Promise<void> {
  for (let seen = Atomics.load(counter, 0); seen < n; seen = Atomics.load(counter, 0)) {
    await waitAsync(counter, 0, seen).value;
  }
}

/** Resolves once both workers are free at the same time: two operators meet there. */
async function bothWorkersFree(): Promise<void> {
  const started = new Int32Array(new SharedArrayBuffer(8));
  const meeting = new CompositeOperator({ operators: [meet, meetToo], executor });
  await meeting.apply(tensor([[1]]), { extraParams: { started, waitMs: 20_000 } });
}

describe('a synchronous operator on threads', () => {
  it('stops between examples when the apply is cancelled', async () => {
    const count = new Int32Array(new SharedArrayBuffer(4));
    // Two chunks of ten examples, 50 ms each: one per worker.
    const composite = new CompositeOperator({
      operators: [blocks],
      examplesPerTask: examples / 2,
      executor,
    });
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    const applying = composite.apply(zeros([examples, 1]), {
      extraParams: { count, ms: 50 },
      signal: controller.signal,
    });
    await reached(count, 2);
    controller.abort(reason);
    // The stop flag is set within abort(): what was counted then, the stop is measured from.
    const atStop = Atomics.load(count, 0);
    await assert.rejects(applying, (error) => error === reason);
    await bothWorkersFree();
    // Each worker finishes at most the example it was in.
    const finished = Atomics.load(count, 0);
    assert.ok(
      finished <= atStop + 2,
      `${finished} of ${examples} examples finished, ${atStop} at the stop`,
    );
  });

  it('stops between examples when another operator fails', async () => {
    const count = new Int32Array(new SharedArrayBuffer(4));
    const composite = new CompositeOperator({
      name: 'failing',
      operators: [
        blocks,
        async function failsLater() {
          await reached(count, 2);
          throw new Error('failed while the other ran');
        },
      ],
      examplesPerTask: examples,
      executor,
    });
    let atFailure = Number.NaN;
    await assert.rejects(
      composite.apply(zeros([examples, 1]), { extraParams: { count, ms: 50 } }),
      (error) => {
        // The chunk was stopped before the failure got here: at most this many had counted.
        atFailure = Atomics.load(count, 0);
        assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'));
        assert.match(error.message, /operator_1 \('failsLater'\) failed on example 0/);
        return true;
      },
    );
    await bothWorkersFree();
    // The one worker finishes at most the example it was in.
    const finished = Atomics.load(count, 0);
    assert.ok(
      finished <= atFailure + 1,
      `${finished} of ${examples} examples finished, ${atFailure} at the failure`,
    );
  });

  it('stops an attempt that timed out, and its retry runs to the end', async () => {
    const count = new Int32Array(new SharedArrayBuffer(4));
    const composite = new CompositeOperator({
      operators: [blocksTimed],
      examplesPerTask: examples,
      executor,
    });
    // The first attempt's first example waits until its retry enters an example on the
    // other worker, so it times out (after 120 ms) there, whatever the machine's pace.
    // Going on, that attempt would count all twenty; its retry, which must not stop with
    // it, counts them too.
    const entered = new Int32Array(new SharedArrayBuffer(4));
    const out = (await composite.apply(zeros([examples, 1]), {
      extraParams: { count, entered },
    })) as Tensor;
    assert.deepEqual(out.shape, [examples, 1]);
    await bothWorkersFree();
    // The retry counted every example; the first attempt stopped after the one it was in.
    const finished = Atomics.load(count, 0);
    assert.equal(finished, examples + 1, `${finished} examples finished over both attempts`);
  });
});
