/**
 * Strategies check their options when made, and a composite checks its strategy against
 * its operators when it is built; describe() names the strategy and its options in a form
 * JSON keeps whole.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompositeOperator,
  ConditionalParallelStrategy,
  ParallelStrategy,
  type Tensor,
  tensor,
  WeightedParallelStrategy,
} from 'weftjs/compose';

const id = (x: Tensor) => x;
const validation = (pattern: RegExp) => (error: unknown) => {
  assert.equal((error as { code?: string }).code, 'WEFT_VALIDATION');
  assert.match((error as Error).message, pattern);
  return true;
};

describe('strategy options', () => {
  it('an unknown merge strategy is refused, naming it and the known ones', () => {
    assert.throws(
      () => new ParallelStrategy({ mergeStrategy: 'median' as never }),
      validation(
        /unknown mergeStrategy 'median'; use one of 'concat', 'stack', 'sum', 'mean', 'dict'/,
      ),
    );
    assert.throws(
      () =>
        new ConditionalParallelStrategy({
          conditions: [() => true],
          mergeStrategy: 'max' as never,
        }),
      validation(/ConditionalParallelStrategy: unknown mergeStrategy 'max'/),
    );
  });

  it('a merge axis must be a whole number, a mergeFn a function', () => {
    assert.throws(
      () => new ParallelStrategy({ mergeAxis: 0.5 }),
      validation(/mergeAxis must be a whole number/),
    );
    assert.throws(
      () => new ParallelStrategy({ mergeAxis: Number.NaN }),
      validation(/mergeAxis must be a whole number .*got NaN/),
    );
    assert.throws(
      () => new ParallelStrategy({ mergeFn: 'sum' as never }),
      validation(/mergeFn must be a function/),
    );
  });

  it('conditions must be a non-empty array of functions', () => {
    assert.throws(
      () => new ConditionalParallelStrategy({ conditions: [] }),
      validation(/conditions must be a non-empty array/),
    );
    assert.throws(
      () => new ConditionalParallelStrategy({ conditions: [() => true, true as never] }),
      validation(/conditions\[1\] is a boolean/),
    );
  });

  it('a condition count that differs from the operators is refused when the composite is built', () => {
    const strategy = new ConditionalParallelStrategy({ conditions: [() => true, () => false] });
    assert.throws(
      () => new CompositeOperator({ operators: [id, id, id], strategy }),
      validation(/2 conditions for 3 operators: give one condition per operator/),
    );
  });

  it('weights that are not finite numbers, or not one per operator, are refused', () => {
    assert.throws(
      () => new WeightedParallelStrategy({ weights: [0.5, Number.POSITIVE_INFINITY] }),
      validation(/weights \}\)\[1\] is Infinity; every weight must be a finite number/),
    );
    assert.throws(
      () =>
        new CompositeOperator({
          operators: [id, id],
          strategy: new WeightedParallelStrategy({ weights: [1, 2, 3] }),
        }),
      validation(/3 weights for 2 operators/),
    );
  });
});

describe('weights given with each apply', () => {
  const composite = new CompositeOperator({
    operators: [id, id],
    strategy: new WeightedParallelStrategy(),
  });
  const batch = tensor([[1]]);

  it('missing weights say where to give them, before any operator runs', async () => {
    let ran = false;
    const watched = new CompositeOperator({
      operators: [
        (x: Tensor) => {
          ran = true;
          return x;
        },
        id,
      ],
      strategy: new WeightedParallelStrategy(),
    });
    await assert.rejects(
      watched.apply(batch),
      validation(
        /give them to the strategy \(new WeightedParallelStrategy\(\{ weights: .*\}\)\) or to each apply \(composite.apply\(batch, \{ extraParams: \{ weights/,
      ),
    );
    assert.equal(ran, false);
  });

  it('miscounted or non-finite weights in extraParams are refused, naming extraParams.weights', async () => {
    await assert.rejects(
      composite.apply(batch, { extraParams: { weights: [1] } }),
      validation(/extraParams.weights has 1 weights for 2 operators/),
    );
    await assert.rejects(
      composite.apply(batch, { extraParams: { weights: [1, Number.NaN] } }),
      validation(/extraParams.weights\[1\] is NaN/),
    );
    await assert.rejects(
      composite.apply(batch, { extraParams: { weights: 'half' } }),
      validation(/extraParams.weights must be an array of numbers/),
    );
  });
});

describe('describe()', () => {
  it('names each strategy and its options, serializable', () => {
    const descriptions = [
      new ParallelStrategy({ mergeStrategy: 'concat', mergeAxis: -1 }).describe(),
      new ParallelStrategy({
        mergeFn: function pick(outputs) {
          return outputs[0]!;
        },
      }).describe(),
      new WeightedParallelStrategy({ weights: [0.7, 0.3] }).describe(),
      new WeightedParallelStrategy().describe(),
      new ConditionalParallelStrategy({
        conditions: [
          function isBig() {
            return true;
          },
          () => false,
        ],
        mergeStrategy: 'mean',
      }).describe(),
    ];
    assert.deepEqual(JSON.parse(JSON.stringify(descriptions)), [
      { strategy: 'ParallelStrategy', mergeStrategy: 'concat', mergeAxis: -1, mergeFn: null },
      { strategy: 'ParallelStrategy', mergeStrategy: null, mergeAxis: 0, mergeFn: 'pick' },
      { strategy: 'WeightedParallelStrategy', weights: [0.7, 0.3] },
      { strategy: 'WeightedParallelStrategy', weights: null },
      {
        strategy: 'ConditionalParallelStrategy',
        mergeStrategy: 'mean',
        mergeAxis: 0,
        mergeFn: null,
        conditions: { count: 2, names: ['isBig', 'anonymous'] },
      },
    ]);
  });

  it('a composite describes its strategy and operators, nested composites included', () => {
    const inner = new CompositeOperator({ name: 'inner', operators: [id] });
    const outer = new CompositeOperator({
      name: 'outer',
      operators: [
        function flip(x: Tensor) {
          return x;
        },
        inner,
      ],
      strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
    });
    assert.deepEqual(JSON.parse(JSON.stringify(outer.describe())), {
      composite: 'outer',
      strategy: {
        strategy: 'ParallelStrategy',
        mergeStrategy: 'stack',
        mergeAxis: 0,
        mergeFn: null,
      },
      operators: [
        { name: 'flip', kind: 'function' },
        {
          name: 'inner',
          kind: 'composite',
          description: {
            composite: 'inner',
            strategy: {
              strategy: 'ParallelStrategy',
              mergeStrategy: null,
              mergeAxis: 0,
              mergeFn: null,
            },
            operators: [{ name: 'id', kind: 'function' }],
          },
        },
      ],
    });
  });
});
