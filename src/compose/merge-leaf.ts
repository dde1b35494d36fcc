/**
 * The merge of batched trees leaf by leaf, as a plan says: each leaf's outputs checked
 * (a batch axis of one size, shapes that fit the strategy, an axis in range) and handed
 * to the kernels. Errors name the merge, the path, the outputs and their shapes.
 */
import { ValidationError } from '../core/errors.ts';
import { interleaved, reduced } from './merge-kernels.ts';
import { exampleShapeText, type MergeStrategy, type Plan } from './merge-plan.ts';
import type { Tensor } from './tensor.ts';
import { isFloat, promoteDtypes } from './tensor-dtypes.ts';
import { sameShape } from './tensor-shapes.ts';
import { setOwn, type Tree, zipLeaves } from './tree.ts';

/** Outputs with the examples on the first axis of their leaves, merged as `plan` says. */
export function mergeTrees(trees: readonly Tree[], plan: Plan): Tree {
  return zipLeaves(
    trees,
    (leaves, path) => mergeLeaf(leaves, path, plan),
    (i) => plan.names[i]!,
  );
}

function mergeLeaf(leaves: readonly Tensor[], path: string, plan: Plan): Tree {
  const at = path === '' ? '' : ` at ${path}`;
  checkBatch(leaves, at, plan);
  if (plan.weights !== undefined) return reduceLeaf(leaves, plan, 'weighted sum', at);
  switch (plan.strategy) {
    case 'concat':
      return concatLeaf(leaves, plan, at);
    case 'stack':
      return stackLeaf(leaves, plan, at);
    case 'dict': {
      const out: Record<string, Tensor> = {};
      for (const [i, leaf] of leaves.entries()) setOwn(out, `operator_${i}`, leaf.copy());
      return out;
    }
    default:
      return reduceLeaf(leaves, plan, plan.strategy, at);
  }
}

/** Every leaf has a first axis, of the same length in every output and in the mask. */
function checkBatch(leaves: readonly Tensor[], at: string, plan: Plan): void {
  const size = leaves[0]!.shape[0];
  const how = plan.weights === undefined ? plan.strategy : 'weighted sum';
  leaves.forEach((leaf, i) => {
    if (leaf.shape.length === 0) {
      throw new ValidationError(
        `${how}${at}: ${plan.names[i]} is a single number (shape []); a batched output has the examples on its first axis.`,
      );
    }
    if (leaf.shape[0] !== size) {
      throw new ValidationError(
        `${how}${at}: ${plan.names[0]} holds ${size} examples but ${plan.names[i]} holds ${leaf.shape[0]}; every output has the batch's examples on its first axis.`,
      );
    }
  });
  const masked = plan.mask?.[0]?.length;
  if (masked !== undefined && masked !== size) {
    throw new ValidationError(
      `${how}${at}: the mask covers ${masked} examples but the outputs hold ${size}; give one mask entry per example.`,
    );
  }
}

function concatLeaf(leaves: readonly Tensor[], plan: Plan, at: string): Tensor {
  const rank = leaves[0]!.ndim - 1;
  const where = `concat along axis ${plan.axis}${at}`;
  if (rank === 0) {
    throw new ValidationError(
      `${where}: ${plan.names[0]} has ${exampleShapeText([], plan)}, a single number with no axis to concatenate along; use stack to put numbers side by side.`,
    );
  }
  const axis = exampleAxis(plan.axis, rank, where, leaves[0]!, plan) + 1;
  checkShapes(leaves, plan, where, axis, `all axes but ${plan.axis} must agree`);
  const shape = [...leaves[0]!.shape];
  shape[axis] = leaves.reduce((total, leaf) => total + leaf.shape[axis]!, 0);
  return interleaved(leaves, shape, axis, where);
}

function stackLeaf(leaves: readonly Tensor[], plan: Plan, at: string): Tensor {
  const where = `stack along axis ${plan.axis}${at}`;
  checkShapes(leaves, plan, where, -1, 'stack needs equal shapes');
  const first = leaves[0]!.shape;
  // A new axis: an example of rank r has r + 1 places for it.
  const axis = exampleAxis(plan.axis, first.length, where, leaves[0]!, plan) + 1;
  const shape = [...first.slice(0, axis), leaves.length, ...first.slice(axis)];
  return interleaved(leaves, shape, axis, where);
}

function reduceLeaf(
  leaves: readonly Tensor[],
  plan: Plan,
  how: Exclude<MergeStrategy, 'concat' | 'stack' | 'dict'> | 'weighted sum',
  at: string,
): Tensor {
  const why = `${how === 'mean' ? 'mean averages' : 'sum adds'} element by element and needs equal shapes (no broadcasting)`;
  checkShapes(leaves, plan, `${how}${at}`, -1, why);
  const promoted = promoteDtypes(leaves.map((leaf) => leaf.dtype));
  const dtype = how === 'sum' || isFloat(promoted) ? promoted : 'float32';
  return reduced(
    leaves,
    { dtype, mean: how === 'mean', weights: plan.weights, active: plan.active },
    `${how}${at}`,
  );
}

/** The batch axis of example axis `axis` (negative from the end) among `places` places, checked. */
function exampleAxis(
  axis: number,
  places: number,
  where: string,
  leaf: Tensor,
  plan: Plan,
): number {
  if (axis < -places || axis >= places) {
    throw new ValidationError(
      `${where}: ${plan.names[0]} has ${exampleShapeText(leaf.shape.slice(1), plan)}, where the axis goes from ${-places} to ${places - 1}; give a mergeAxis in that range.`,
    );
  }
  return axis < 0 ? axis + places : axis;
}

/** Every leaf has the first's shape, but on batch axis `except` (-1: on every axis). */
function checkShapes(
  leaves: readonly Tensor[],
  plan: Plan,
  where: string,
  except: number,
  why: string,
): void {
  const first = leaves[0]!.shape;
  leaves.forEach((leaf, i) => {
    if (!sameShape(leaf.shape, first, except)) {
      throw new ValidationError(
        `${where}: ${plan.names[0]} has ${exampleShapeText(first.slice(1), plan)} but ${plan.names[i]} has [${leaf.shape.slice(1).join(', ')}]; ${why}.`,
      );
    }
  });
}
