/**
 * Custom merges: a `mergeFn` called with the outputs, or, over a batch, once per example
 * as datarax's is under vmap, its results stacked into a batch. Either way the result
 * owns its memory: a leaf that shares an output's buffer is copied.
 */
import { ValidationError } from '../core/errors.ts';
import type { MergeFn } from './merge-plan.ts';
import { Tensor } from './tensor.ts';
import { arrayOfShape, promoteDtypes } from './tensor-dtypes.ts';
import { sameShape, shapeText } from './tensor-shapes.ts';
import {
  batchSizeOf,
  exampleOf,
  leavesOf,
  mapLeaves,
  type Tree,
  toTree,
  zipLeaves,
} from './tree.ts';

/**
 * A mergeFn over a batch is called this many times at most: once per example, each
 * result kept until they are stacked.
 */
export const maxMergeFnExamples = 2 ** 24;

/**
 * `mergeFn` of the outputs, with leaves that share memory with an output copied.
 * @throws ValidationError when it throws (its error the cause), returns a promise or no tree
 */
export function mergeWith(mergeFn: MergeFn, trees: readonly Tree[]): Tree {
  return ownLeaves(callMergeFn(mergeFn, [...trees]), trees);
}

/**
 * A merge function over a batch, as under vmap: called with each example's outputs, its
 * results stacked along a new first axis (copied, so none shares the outputs' memory).
 * With no examples it is called once with the (empty) batched outputs.
 * @throws ValidationError for outputs of different batch sizes, more than
 * {@link maxMergeFnExamples} examples, or results of different shapes
 */
export function mergeEachExample(
  mergeFn: MergeFn,
  trees: readonly Tree[],
  names: readonly string[],
): Tree {
  const size = batchSizeOf(trees[0]!, names[0]);
  trees.forEach((tree, i) => {
    const own = batchSizeOf(tree, names[i]);
    if (own !== size) {
      throw new ValidationError(
        `mergeBatched(): ${names[i]} holds ${own} examples but ${names[0]} holds ${size}; every output has the batch's examples on its first axis.`,
      );
    }
  });
  if (size === 0) return mergeWith(mergeFn, trees);
  if (size > maxMergeFnExamples) {
    throw new ValidationError(
      `mergeBatched(): the outputs hold ${size} examples and a mergeFn is called once per example, at most ${maxMergeFnExamples} times; merge with a mergeStrategy, or in smaller batches.`,
    );
  }
  const merged: Tree[] = [];
  for (let i = 0; i < size; i++) {
    merged.push(
      callMergeFn(
        mergeFn,
        trees.map((tree) => exampleOf(tree, i)),
      ),
    );
  }
  return zipLeaves(merged, stackExamples, (i) => `mergeFn's result for example ${i}`) as Tree;
}

/** One merge function result per example, as one tensor with the examples first. */
function stackExamples(leaves: Tensor[], path: string): Tensor {
  const at = path === '' ? '' : ` at ${path}`;
  const shape = leaves[0]!.shape;
  leaves.forEach((leaf, i) => {
    if (!sameShape(leaf.shape, shape)) {
      throw new ValidationError(
        `mergeFn returned ${shapeText(leaf.shape)} for example ${i}${at} but [${shape.join(', ')}] for example 0; it must return the same shapes for every example.`,
      );
    }
  });
  const dtype = promoteDtypes(leaves.map((leaf) => leaf.dtype));
  const batched = [leaves.length, ...shape];
  const data = arrayOfShape(dtype, batched, `stacking mergeFn's results${at}`);
  const rowSize = leaves[0]!.size;
  if (rowSize > 0) for (let i = 0; i < leaves.length; i++) data.set(leaves[i]!.data, i * rowSize);
  return new Tensor(data, batched, dtype);
}

function callMergeFn(mergeFn: MergeFn, trees: Tree[]): Tree {
  let result: unknown;
  try {
    result = mergeFn(trees);
  } catch (error) {
    throw new ValidationError(
      `mergeFn threw while merging ${trees.length} outputs: ${error instanceof Error ? error.message : String(error)}. Fix the merge function; its error is the cause.`,
      { cause: error },
    );
  }
  if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
    throw new ValidationError(
      'mergeFn returned a promise; a merge function returns its merged tree, synchronously.',
    );
  }
  return toTree(result, 'the result of mergeFn');
}

/** `result` with each leaf whose memory is one of the inputs' leaves' copied. */
function ownLeaves(result: Tree, inputs: readonly Tree[]): Tree {
  const buffers = new Set<ArrayBufferLike>();
  for (const tree of inputs) for (const { leaf } of leavesOf(tree)) buffers.add(leaf.data.buffer);
  return mapLeaves(result, (leaf) => (buffers.has(leaf.data.buffer) ? leaf.copy() : leaf));
}
