/**
 * datarax's merges and strategies, by their own examples: operators applied in parallel
 * to one batch and their outputs merged per example (the merge axis is the example's,
 * as under JAX's vmap), the merges themselves over small outputs, a weighted and a
 * conditional composite, and a composite's description. Prints:
 *   concat, axis -1: [4, 3] → [4, 15]
 *   first example: [6,6,6,6,6,6,6,6,6,6,-6,-6,-6,-6,-6]
 *   concat: [1,2,3,4]
 *   stack: [[1,2],[3,4]]
 *   sum: [4,6]
 *   mean: [2,3]
 *   dict: {"operator_0":[1,2],"operator_1":[3,4]}
 *   dict of trees: {"a":{"operator_0":[1],"operator_1":[2]},"b":{"operator_0":[10],"operator_1":[20]}}
 *   mergeFn: [12]
 *   weighted 0.7/0.3 of x*2, x*3 at 10: [23]
 *   conditional x*2, x*100 (false), x*4: [[2,1,4]]
 *   describe: {"composite":"features","strategy":{"strategy":"ParallelStrategy",…},…}
 *
 *   weft run examples/compose-merges.ts
 */
import {
  CompositeOperator,
  ConditionalParallelStrategy,
  mergeOutputs,
  ParallelStrategy,
  type Tensor,
  type Tree,
  tensor,
  WeightedParallelStrategy,
} from 'weftjs/compose';

/** A tree as compact JSON, numbers to four decimals (float32 values print long). */
function show(tree: Tree): string {
  return JSON.stringify(tree, (_, value) =>
    typeof value === 'number' ? Number(value.toFixed(4)) : value,
  );
}

function sum(x: Tensor): number {
  let total = 0;
  for (const value of x.data) total += value;
  return total;
}

/** Ten features of an example (its sum, ten times): an operator may return a typed array. */
const tenFeatures = (x: Tensor) => new Float32Array(10).fill(sum(x));
/** Five features of an example (minus its sum). */
const fiveFeatures = (x: Tensor) => new Float32Array(5).fill(-sum(x));

export default async function main(): Promise<void> {
  // ParallelStrategy(merge_strategy='concat', merge_axis=-1): op1 gives each example 10
  // features, op2 gives it 5; concatenated along the example's last axis: (B, 15).
  const features = new CompositeOperator({
    name: 'features',
    operators: [tenFeatures, fiveFeatures],
    strategy: new ParallelStrategy({ mergeStrategy: 'concat', mergeAxis: -1 }),
  });
  const batch = tensor([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
    [10, 11, 12],
  ]);
  const merged = (await features.apply(batch)) as Tensor;
  console.log(`concat, axis -1: [${batch.shape.join(', ')}] → [${merged.shape.join(', ')}]`);
  console.log(`first example: ${show(merged.at(0))}`);

  // The merges themselves, on the outputs [1, 2] and [3, 4].
  const outputs = [tensor([1, 2]), tensor([3, 4])];
  for (const mergeStrategy of ['concat', 'stack', 'sum', 'mean', 'dict'] as const) {
    console.log(`${mergeStrategy}: ${show(mergeOutputs(outputs, { mergeStrategy }))}`);
  }
  // Leaf by leaf over trees: dict keeps every operator's output under each leaf.
  const trees = [
    { a: tensor([1]), b: tensor([10]) },
    { a: tensor([2]), b: tensor([20]) },
  ];
  console.log(`dict of trees: ${show(mergeOutputs(trees, { mergeStrategy: 'dict' }))}`);
  // A custom mergeFn receives every output: here outputs[0] * 10 + outputs[1].
  const custom = mergeOutputs([tensor([1]), tensor([2])], {
    mergeFn: ([first, second]) =>
      (first as Tensor).map((x, i) => x * 10 + (second as Tensor).data[i]!),
  });
  console.log(`mergeFn: ${show(custom)}`);

  // Weighted: 0.7 × (x * 2) + 0.3 × (x * 3) at x = 10 is 23; weights come with the call.
  const weighted = new CompositeOperator({
    operators: [(x: Tensor) => x.map((v) => v * 2), (x: Tensor) => x.map((v) => v * 3)],
    strategy: new WeightedParallelStrategy(),
  });
  const at10 = await weighted.apply(tensor([10]), { extraParams: { weights: [0.7, 0.3] } });
  console.log(`weighted 0.7/0.3 of x*2, x*3 at 10: ${show(at10)}`);

  // Conditional: the second operator's condition is false, so it passes its input (1)
  // through to the concat: [2, 1, 4] per example.
  const conditional = new CompositeOperator({
    operators: [
      (x: Tensor) => x.map((v) => v * 2),
      (x: Tensor) => x.map((v) => v * 100),
      (x: Tensor) => x.map((v) => v * 4),
    ],
    strategy: new ConditionalParallelStrategy({
      conditions: [() => true, () => false, () => true],
      mergeStrategy: 'concat',
    }),
  });
  console.log(
    `conditional x*2, x*100 (false), x*4: ${show(await conditional.apply(tensor([[1]])))}`,
  );

  // A serializable description of the composite and its strategy.
  console.log(`describe: ${JSON.stringify(features.describe())}`);
}
