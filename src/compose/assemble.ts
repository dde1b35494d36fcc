/**
 * One operator's chunks joined into its batched output: each leaf `[B, ...exampleShape]`,
 * with the per-example states and metadata. Chunks ran apart (perhaps in different
 * workers, or in an earlier attempt of the run), so their structures, shapes and dtypes
 * are checked against each other here.
 */
import { ValidationError } from '../core/errors.ts';
import type { ChunkOutput } from './chunk-transport.ts';
import { describeLeaves, dtypeMismatch, identityHint } from './chunk-writer.ts';
import { OperatorFailedError } from './errors.ts';
import type { OutputSink } from './output-sink.ts';
import { unpackTensors } from './packed-tensors.ts';
import { sameShape, Tensor, typedArray } from './tensor.ts';
import { leavesOf, mapLeaves, type Tree, toTree } from './tree.ts';

/** One operator's outputs over the whole batch. */
export interface OperatorOutcome {
  readonly data: Tree;
  /** Per example (for a nested composite: its own per-operator states). */
  readonly states: readonly unknown[];
  readonly metadata: readonly unknown[];
  /**
   * Shared memory its chunks wrote into that may serve later applies once nothing reads
   * it (no timed-out attempt can still be writing it).
   */
  readonly recyclable?: readonly SharedArrayBuffer[];
}

/** Who the chunks belong to, for errors; and what each example was given. */
export interface JoinContext {
  readonly composite: string;
  readonly operator: number;
  readonly operatorName: string;
  /** Each chunk's examples, `[start, end)`, in order. */
  readonly ranges: readonly (readonly [number, number])[];
  /** Each example's number in errors (the outer batch's, in a nested composite); undefined: its own. */
  readonly examples: readonly number[] | undefined;
  readonly state: unknown;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  /** Where the chunks wrote their outputs, when they did. */
  readonly sink: OutputSink | undefined;
}

/**
 * Joins `chunks` (in example order) into one output.
 * @throws OperatorFailedError when two chunks' outputs differ in structure, shape or dtype
 */
export function joinChunks(chunks: readonly ChunkOutput[], context: JoinContext): OperatorOutcome {
  const states: unknown[] = [];
  const metadata: unknown[] = [];
  chunks.forEach((chunk, i) => {
    const [start, end] = context.ranges[i]!;
    // Tensors came back (or were recorded) as their fields: tensors again, where they were.
    const reported = unpackTensors(
      { states: chunk.states, metadata: chunk.metadata },
      chunk.tensors,
    );
    for (let k = 0; k < end - start; k++) {
      states.push(reported.states === null ? context.state : reported.states[k]);
      metadata.push(reported.metadata === null ? context.metadata : reported.metadata[k]);
    }
  });
  const numbered = (row: number) => context.examples?.[row] ?? row;
  const trees = chunks.map((chunk) => toTree(chunk.data, 'a chunk output'));
  if (trees.length === 1) return { data: trees[0]!, states, metadata };
  const joined = context.sink?.join(
    trees,
    context.ranges,
    chunks.map((chunk) => chunk.writtenInto),
  );
  if (joined !== undefined) return { data: joined, states, metadata };
  // A chunk whose conditions were all false gave its input: where the operator ran, its
  // output sets the structure the others are compared with.
  const lead = Math.max(
    0,
    chunks.findIndex((chunk) => chunk.computed),
  );
  const leaves = trees.map((tree) => leavesOf(tree));
  const base = leaves[lead]!;
  leaves.forEach((list, i) => {
    const same =
      list.length === base.length &&
      list.every(
        ({ path, leaf }, j) =>
          path === base[j]!.path && sameShape(leaf.shape, base[j]!.leaf.shape, 0),
      );
    if (same) return;
    const example = (at: number) => numbered(context.ranges[at]![0]);
    // A chunk where the operator never ran gave its input: say so, it is the likely culprit.
    const whose = (at: number) =>
      chunks[at]!.computed ? '' : ' (its input: the condition is false there)';
    const identity = !chunks[i]!.computed || !chunks[lead]!.computed;
    throw new OperatorFailedError(
      {
        composite: context.composite,
        operator: context.operator,
        operatorName: context.operatorName,
        example: example(i),
      },
      new ValidationError(
        `its output for example ${example(i)}${whose(i)} is ${describeExamples(list)}, but for ` +
          `example ${example(lead)}${whose(lead)} it is ${describeExamples(base)}. Every example's ` +
          'output must have the same structure and shapes' +
          (identity ? identityHint : '.'),
      ),
    );
  });
  // Every chunk's examples share one dtype per leaf (its writer checked them): the chunks
  // must too, or the result would depend on how the examples were chunked.
  base.forEach(({ path, leaf: expected }, j) => {
    leaves.forEach((list, i) => {
      const found = list[j]!.leaf.dtype;
      if (found === expected.dtype) return;
      const origin = (at: number) => ({
        example: numbered(context.ranges[at]![0]),
        identity: !chunks[at]!.computed,
      });
      throw new OperatorFailedError(
        {
          composite: context.composite,
          operator: context.operator,
          operatorName: context.operatorName,
          example: numbered(context.ranges[i]![0]),
        },
        dtypeMismatch(path, origin(i), found, origin(lead), expected.dtype),
      );
    });
  });
  let j = 0;
  const data = mapLeaves(trees[lead]!, (model) => {
    const parts = leaves.map((list) => list[j]!.leaf);
    j++;
    return joinLeaf(parts, model);
  });
  return { data, states, metadata };
}

/** The parts (all of `model`'s dtype) one after another along the first axis. */
function joinLeaf(parts: readonly Tensor[], model: Tensor): Tensor {
  let size = 0;
  let examples = 0;
  for (const part of parts) {
    size += part.size;
    examples += part.shape[0]!;
  }
  const data = typedArray(model.dtype, size);
  let offset = 0;
  for (const part of parts) {
    (data as Float64Array).set(part.data as ArrayLike<number>, offset);
    offset += part.size;
  }
  return new Tensor(data, [examples, ...model.shape.slice(1)], model.dtype);
}

/** Batched leaves described by their example shapes. */
function describeExamples(leaves: readonly { path: string; leaf: Tensor }[]): string {
  return describeLeaves(leaves.map(({ path, leaf }) => ({ path, shape: leaf.shape.slice(1) })));
}
