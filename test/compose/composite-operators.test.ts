/**
 * Operators: operator() defines a task found by name in workers (its module the one that
 * called operator()), withState() reports state and metadata, and a task made by task()
 * is an operator too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, task } from 'weftjs';
import {
  CompositeOperator,
  type OperatorContext,
  operator,
  type Tensor,
  tensor,
  withState,
} from 'weftjs/compose';

const scaled = operator('compose-operators/scaled', (x: Tensor, ctx: OperatorContext) =>
  x.map((v) => v * (ctx.extraParams.k as number)),
);
const viaTask = task('compose-operators/viaTask', (x: Tensor) => x.map((v) => -v));

describe('operator()', () => {
  it('defines a task whose module is the one that called operator()', () => {
    assert.equal(scaled.name, 'compose-operators/scaled');
    assert.ok(scaled.module?.endsWith('/test/compose/composite-operators.test.ts'), scaled.module);
    assert.deepEqual(scaled.ref, {
      kind: 'task',
      name: 'compose-operators/scaled',
      module: './test/compose/composite-operators.test.ts',
    });
    assert.equal(scaled.local, false);
  });

  it('refuses a missing name or function, and a name given twice', () => {
    assert.throws(
      () => operator('', (x: Tensor) => x),
      /operator\(\) needs a non-empty string name/,
    );
    assert.throws(
      () => operator('compose-operators/none', 5 as never),
      /needs a function \(element, ctx\) => output as its second argument, got a number/,
    );
    assert.throws(
      () => operator('compose-operators/scaled', (x: Tensor) => x),
      (error) => {
        assert.ok(isWeftError(error, 'WEFT_DUPLICATE_TASK'));
        // Both places are the user's own, not inside operator().
        assert.match(
          error.message,
          /Two tasks are named 'compose-operators\/scaled': one defined at \S*composite-operators\.test\.ts:\d+:\d+, another at \S*composite-operators\.test\.ts:\d+:\d+\./,
        );
        return true;
      },
    );
    assert.throws(
      () => operator('compose-operators/viaTask', (x: Tensor) => x),
      /Two tasks are named/,
    );
  });

  it('operators made by operator() and task() run in a composite', async () => {
    const composite = new CompositeOperator({ operators: [scaled, viaTask] });
    const out = (await composite.apply(tensor([[1], [2]]), { extraParams: { k: 10 } })) as Tensor;
    assert.deepEqual(out.toArray(), [
      [10, -1],
      [20, -2],
    ]);
  });
});

describe('withState()', () => {
  it('carries data, state and metadata; a tree with such keys stays a tree', async () => {
    const result = withState([1], { state: 0, metadata: { a: 1 } });
    assert.deepEqual({ ...result }, { data: [1], state: 0, metadata: { a: 1 } });
    const composite = new CompositeOperator({
      operators: [() => ({ data: [1], state: [2], metadata: [3] })],
    });
    const run = await composite.run(tensor([[0]]));
    assert.deepEqual(Object.keys(run.data), ['data', 'state', 'metadata']);
    assert.deepEqual(run.states, [[undefined]]);
  });

  it('refuses extras that are not an object, and metadata that is not a plain object', () => {
    assert.throws(() => withState([1], null as never), /extra must be \{ state\?, metadata\? \}/);
    assert.throws(
      () => withState([1], { metadata: new Map() as never }),
      /metadata must be a plain object of values, got a Map/,
    );
  });
});

describe('operator(): where it was defined', () => {
  it("names the user's module and line, not operator()'s", () => {
    assert.match(scaled.definedAt ?? '', /composite-operators\.test\.ts:\d+:\d+$/);
    assert.match(scaled.module ?? '', /composite-operators\.test\.ts$/);
  });
});
