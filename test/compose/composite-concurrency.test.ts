/**
 * The operators of a composite run at once (datarax runs them one after another): each
 * waits for a barrier that opens only when every operator has started, so run one after
 * another they would wait for ever, and the test's timeout fails them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompositeOperator, type OperatorContext, type Tensor, tensor } from 'weftjs/compose';

/** A barrier for `parties`: each arrival waits until all have arrived. */
function barrier(parties: number): { arrive(): Promise<void>; readonly arrived: number } {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    arrive() {
      arrived++;
      if (arrived === parties) open();
      return opened;
    },
    get arrived() {
      return arrived;
    },
  };
}

describe('operators of a composite run concurrently', () => {
  it('two async operators in this thread are both started before either ends', {
    timeout: 5000,
  }, async () => {
    const gate = barrier(2);
    const op = (k: number) => async (x: Tensor) => {
      await gate.arrive();
      return x.map((v) => v * k);
    };
    const composite = new CompositeOperator({ operators: [op(2), op(3)] });
    const out = (await composite.apply(tensor([[1]]))) as Tensor;
    assert.deepEqual(out.toArray(), [[2, 3]]);
    assert.equal(gate.arrived, 2);
  });

  it('the chunks of one operator run concurrently too', { timeout: 5000 }, async () => {
    const gate = barrier(4);
    const composite = new CompositeOperator({
      operators: [
        async (x: Tensor, ctx: OperatorContext) => {
          await gate.arrive();
          return x.map((v) => v + ctx.index);
        },
      ],
      examplesPerTask: 1,
    });
    const out = (await composite.apply(tensor([[0], [0], [0], [0]]))) as Tensor;
    assert.deepEqual(out.toArray(), [[0], [1], [2], [3]]);
  });
});
