/**
 * What goes wrong is told plainly: options refused when the composite is built or applied,
 * an operator's failure naming the composite, the operator and the example (its own error
 * as cause), outputs whose shapes differ, and cancellation rejecting with its reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, isWeftError } from 'weftjs';
import {
  CompositeOperator,
  ConditionalParallelStrategy,
  type OperatorContext,
  OperatorFailedError,
  operator,
  ParallelStrategy,
  type Tensor,
  tensor,
  zeros,
} from 'weftjs/compose';

const id = (x: Tensor) => x;
const validation = (pattern: RegExp) => (error: unknown) => {
  assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
  assert.match(error.message, pattern);
  return true;
};
const failed = (pattern: RegExp) => (error: unknown) => {
  assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'), String(error));
  assert.match(error.message, pattern);
  return true;
};

/** Waits until its signal aborts; with a timeout of 50 ms. */
const stalls = operator(
  'compose-errors/stalls',
  (_: Tensor, { signal }) =>
    new Promise<Tensor>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }),
  { timeoutMs: 50 },
);

describe('a composite refuses', () => {
  it('options it cannot use, naming the fix', () => {
    const make = (options: unknown) => () => new CompositeOperator(options as never);
    assert.throws(make(undefined), validation(/options must be \{ operators/));
    assert.throws(
      make({ operators: [] }),
      validation(/operators must be a non-empty array.*got an empty array/),
    );
    assert.throws(make({ operators: id }), validation(/operators must be a non-empty array/));
    assert.throws(
      make({ operators: [id, 'flip'] }),
      validation(
        /operators\[1\] is a string; an operator is a function \(element, ctx\) => output, a task/,
      ),
    );
    assert.throws(
      make({ operators: [id], strategy: {} }),
      validation(/strategy must be a composition strategy/),
    );
    assert.throws(
      make({ operators: [id], examplesPerTask: 0 }),
      validation(/examplesPerTask must be a whole number ≥ 1, got 0/),
    );
    assert.throws(make({ operators: [id], examplesPerTask: 1.5 }), validation(/got 1.5/));
    assert.throws(
      make({ operators: [id], executor: 'threads' }),
      validation(/executor must be an executor/),
    );
    assert.throws(
      make({ operators: [id], name: '' }),
      validation(/name must be a non-empty string/),
    );
  });

  it('apply options and batches it cannot use', async () => {
    const composite = new CompositeOperator({ name: 'c', operators: [id, id] });
    const batch = tensor([[1]]);
    await assert.rejects(
      composite.apply(batch, { seed: 1.5 }),
      validation(/seed must be a whole number, got 1.5/),
    );
    await assert.rejects(
      composite.apply(batch, { states: [1] }),
      validation(/one state per operator \(2\), got 1/),
    );
    await assert.rejects(
      composite.apply(batch, { extraParams: [] as never }),
      validation(/extraParams must be a plain object/),
    );
    await assert.rejects(
      composite.apply(batch, { signal: {} as never }),
      validation(/signal must be an AbortSignal/),
    );
    await assert.rejects(composite.apply(zeros([0, 2])), validation(/the batch has no examples/));
    await assert.rejects(
      composite.apply({ a: zeros([2, 1]), b: zeros([3, 1]) }),
      validation(/\.b holds 3 examples but \.a holds 2/),
    );
    await assert.rejects(
      composite.apply('images' as never),
      validation(/Composite 'c': the batch is the string "images"/),
    );
    await assert.rejects(
      composite.apply(tensor(5)),
      validation(/is a single number \(shape \[\]\)/),
    );
  });
});

describe('a failing operator', () => {
  it('is named with the composite, its index and the example, its error the cause', async () => {
    const boom = new TypeError('bad pixel');
    const composite = new CompositeOperator({
      name: 'augment',
      operators: [
        id,
        function brighten(x: Tensor, { index }: OperatorContext) {
          if (index === 2) throw boom;
          return x;
        },
      ],
      examplesPerTask: 2,
    });
    await assert.rejects(composite.apply(zeros([4, 1])), (error) => {
      assert.ok(error instanceof OperatorFailedError);
      assert.equal(
        error.message,
        "Composite 'augment': operator_1 ('brighten') failed on example 2: bad pixel",
      );
      assert.deepEqual(
        [error.composite, error.operator, error.operatorName, error.example],
        ['augment', 1, 'brighten', 2],
      );
      assert.equal(error.cause, boom);
      return true;
    });
  });

  it('stops the other operators: their signal aborts', async () => {
    let sawAbort = false;
    const composite = new CompositeOperator({
      operators: [
        (_: Tensor, { signal }: OperatorContext) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(signal.reason);
            });
          }),
        async () => {
          await Promise.resolve();
          throw new Error('second fails');
        },
      ],
    });
    await assert.rejects(
      composite.apply(zeros([1, 1])),
      failed(/operator_1 failed on example 0: second fails/),
    );
    assert.equal(sawAbort, true);
  });

  it('whose task times out is named with the chunk’s examples', async () => {
    const composite = new CompositeOperator({
      operators: [id, stalls],
      examplesPerTask: 3,
      executor: asyncPool(),
    });
    await assert.rejects(
      composite.apply(zeros([5, 1])),
      failed(/operator_1 \('compose-errors\/stalls'\) failed on examples 0 to 2: .*50/),
    );
  });

  it('whose one-example task times out is named with that example', async () => {
    const composite = new CompositeOperator({
      operators: [stalls],
      examplesPerTask: 1,
      executor: asyncPool(),
    });
    await assert.rejects(
      composite.apply(zeros([2, 1])),
      failed(/operator_0 \('compose-errors\/stalls'\) failed on example [01]: .*50/),
    );
  });

  it('whose outputs cannot merge, naming the composite and each operator once', async () => {
    const wide = (x: Tensor) => tensor([x.get(0), 0, 0]);
    const unnamed = new CompositeOperator({
      name: 'augment',
      operators: [(x: Tensor) => x, wide],
      strategy: new ParallelStrategy({ mergeStrategy: 'sum' }),
    });
    await assert.rejects(
      unnamed.apply(zeros([2, 1])),
      validation(
        /^Composite 'augment': sum: operator_0 has examples of shape \[1\] but operator_1 \('wide'\) has \[3\]/,
      ),
    );
    const outer = new CompositeOperator({ name: 'outer', operators: [unnamed, id] });
    await assert.rejects(
      outer.apply(zeros([2, 1])),
      failed(/^Composite 'outer': operator_0 \('augment'\) failed: Composite 'augment': sum: /),
    );
  });

  it('whose outputs differ in shape between examples, naming both and the shapes', async () => {
    const grows = (x: Tensor, { index }: OperatorContext) => zeros([index + 1]).map(() => x.get(0));
    const together = new CompositeOperator({ operators: [grows], examplesPerTask: 2 });
    await assert.rejects(
      together.apply(zeros([2, 1])),
      failed(
        /failed on example 1: its output for example 1 is a tensor of shape \[2\], but for example 0 it is a tensor of shape \[1\]/,
      ),
    );
    const apart = new CompositeOperator({ operators: [grows], examplesPerTask: 1 });
    await assert.rejects(
      apart.apply(zeros([2, 1])),
      failed(
        /its output for example 1 is a tensor of shape \[2\], but for example 0 it is a tensor of shape \[1\]/,
      ),
    );
  });

  it('whose output differs from its input where its condition is false', async () => {
    const composite = new CompositeOperator({
      operators: [id, (x: Tensor) => tensor([x.get(0), 0])],
      strategy: new ConditionalParallelStrategy({
        conditions: [() => true, (x) => (x as Tensor).get(0) > 0],
      }),
    });
    await assert.rejects(
      composite.apply(tensor([[1], [-1]])),
      failed(
        /example 1 \(its input: the condition is false there\) is a tensor of shape \[1\].*must keep its input's structure and shapes/,
      ),
    );
  });

  it('a condition that throws or answers something else is named with the example', async () => {
    const make = (condition: (x: unknown) => unknown) =>
      new CompositeOperator({
        name: 'cond',
        operators: [id],
        strategy: new ConditionalParallelStrategy({ conditions: [condition as never] }),
      });
    await assert.rejects(
      make((x) => (x as Tensor).get(5)).apply(tensor([[1]])),
      validation(/Composite 'cond': condition 0 for example 0 threw: Tensor.get\(\): index 5/),
    );
    await assert.rejects(
      make(() => 'yes').apply(tensor([[1]])),
      validation(/returned a string; a condition returns a boolean/),
    );
    await assert.rejects(
      make(async () => true).apply(tensor([[1]])),
      validation(/returned a promise/),
    );
    await assert.rejects(
      make(() => tensor([1, 1])).apply(tensor([[1]])),
      validation(/returned a tensor of shape \[2\]/),
    );
  });
});

describe('cancelling an apply', () => {
  it('rejects with the signal’s reason and aborts the running operators', async () => {
    const controller = new AbortController();
    const reason = new Error('user stopped');
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    let aborted = 0;
    const waits = (_: Tensor, { signal }: OperatorContext) =>
      new Promise((_resolve, reject) => {
        started();
        signal.addEventListener('abort', () => {
          aborted++;
          reject(signal.reason);
        });
      });
    const composite = new CompositeOperator({ operators: [waits, waits] });
    const applying = composite.apply(zeros([1, 1]), { signal: controller.signal });
    await running;
    controller.abort(reason);
    await assert.rejects(applying, (error) => error === reason);
    assert.equal(aborted, 2);
  });

  it('an apply whose signal was aborted already rejects with its reason', async () => {
    let ran = false;
    const composite = new CompositeOperator({
      operators: [
        (x: Tensor) => {
          ran = true;
          return x;
        },
      ],
    });
    const reason = new Error('never mind');
    await assert.rejects(
      composite.apply(zeros([1, 1]), { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    assert.equal(ran, false);
  });
});
