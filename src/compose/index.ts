/**
 * `weftjs/compose`: datarax's parallel composition on weft — tensors and trees, the
 * merges (`concat`, `stack`, `sum`, `mean`, `dict`, a custom `mergeFn`) and their masked
 * form, and composites whose operators run concurrently on an executor (threads share
 * the batch's buffers), with seeded random streams per operator, every operator's state
 * kept, and every application recorded so a resumed run skips finished ones.
 */
export { executorFromEnv } from '../executors/default.ts';
export {
  type ApplyOptions,
  type CompositeDescription,
  CompositeOperator,
  type CompositeOperatorOptions,
  type CompositeResult,
  type Operator,
} from './composite.ts';
export { OperatorFailedError, type OperatorFailure } from './errors.ts';
export {
  type BatchedMergeOptions,
  type ConditionValue,
  type MergeFn,
  type MergeOptions,
  type MergeStrategy,
  mergeBatched,
  mergeOutputs,
  mergeOutputsConditional,
  mergeStrategies,
} from './merge.ts';
export {
  type OperatorContext,
  type OperatorFn,
  type OperatorRandom,
  type OperatorResult,
  operator,
  withState,
} from './operator.ts';
export {
  type CompositionStrategy,
  ConditionalParallelStrategy,
  type ConditionalParallelStrategyOptions,
  ParallelStrategy,
  type ParallelStrategyOptions,
  type StrategyDescription,
  type StrategyMergeContext,
  WeightedParallelStrategy,
  type WeightedParallelStrategyOptions,
} from './strategies.ts';
export {
  type DType,
  dtypes,
  isTensor,
  type NestedNumbers,
  Tensor,
  type TensorLike,
  type TensorOptions,
  type TensorValues,
  type TypedArray,
  type TypedArrayOf,
  tensor,
  tensorFrom,
  zeros,
} from './tensor.ts';
export {
  batchSizeOf,
  exampleOf,
  leavesOf,
  mapLeaves,
  type Tree,
  type TreeInput,
  toTree,
  zipLeaves,
} from './tree.ts';
