/**
 * A nested composite under a condition: it runs over the examples where its condition
 * holds, gathered into a batch of their own but numbered as the outer batch's (so its
 * `ctx.index` and random streams are those it would have over the whole batch), and its
 * outputs, states and metadata are put back in their places; elsewhere its output is its
 * input, and its operators' states and metadata are those they were given, as for any
 * operator whose condition is false.
 */
import { ValidationError } from '../core/errors.ts';
import { dtypeMismatch } from './chunk-writer.ts';
import type { ApplyOptions, CompositeResult } from './composite.ts';
import { isComposite } from './composite-checks.ts';
import type { ApplyPlan, NestedComposite } from './run-operators.ts';
import { sameShape, Tensor, typedArray } from './tensor.ts';
import { leavesOf, mapLeaves } from './tree.ts';

/** The rows where `mask` is 1. */
export function rowsWhere(mask: Uint8Array): number[] {
  const rows: number[] = [];
  mask.forEach((on, row) => {
    if (on !== 0) rows.push(row);
  });
  return rows;
}

/** Runs `nested` over the rows `rows` of the plan's batch; undefined when there are none. */
export async function runOnRows(
  nested: NestedComposite,
  plan: ApplyPlan,
  rows: readonly number[],
  options: ApplyOptions,
): Promise<CompositeResult | undefined> {
  if (rows.length === 0) return undefined;
  if (rows.length === plan.size) return plan.runNested(nested, plan.batch, options, plan.examples);
  const batch = mapLeaves(plan.batch, (leaf) => gather(leaf, rows));
  const examples = rows.map((row) => plan.examples?.[row] ?? row);
  return plan.runNested(nested, batch, options, examples);
}

/** What every operator of the nested composite was given, kept where it did not run. */
export interface Given {
  readonly state: unknown;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

/**
 * `result` (of the rows `rows`, or undefined when none ran) put back among the plan's
 * examples: one output row, state and metadata per example; elsewhere the input and what
 * was given.
 * @param fail throws for an output that cannot stand beside the input (another structure,
 * example shape or dtype), given the example to name
 */
export function putBack(
  nested: NestedComposite,
  plan: ApplyPlan,
  rows: readonly number[],
  result: CompositeResult | undefined,
  given: Given,
  fail: (example: number, reason: ValidationError) => never,
): CompositeResult {
  if (result !== undefined && rows.length === plan.size) return result;
  const states = spread(nested, result?.states, rows, plan.size, given.state);
  const metadata = spread(nested, result?.metadata, rows, plan.size, given.metadata);
  if (result === undefined) return { data: plan.batch, states, metadata };
  const numbered = (row: number) => plan.examples?.[row] ?? row;
  const inputs = leavesOf(plan.batch);
  const outputs = leavesOf(result.data);
  // The first example where its condition is false (its output is its input), and where it ran.
  let passed = 0;
  while (rows[passed] === passed) passed++;
  const same =
    inputs.length === outputs.length &&
    outputs.every(
      ({ path, leaf }, j) =>
        path === inputs[j]!.path && sameShape(leaf.shape, inputs[j]!.leaf.shape, 0),
    );
  if (!same) {
    fail(
      numbered(passed),
      new ValidationError(
        `its condition is false for some examples (example ${numbered(passed)}), where its output is its input, but its outputs (${shapes(outputs)}) ` +
          `differ from its input (${shapes(inputs)}): under a ConditionalParallelStrategy an operator must keep ` +
          "its input's structure and example shapes.",
      ),
    );
  }
  outputs.forEach(({ path, leaf }, j) => {
    const input = inputs[j]!.leaf;
    if (leaf.dtype === input.dtype) return;
    fail(
      numbered(passed),
      dtypeMismatch(
        path,
        { example: numbered(passed), identity: true },
        input.dtype,
        { example: numbered(rows[0]!), identity: false },
        leaf.dtype,
      ),
    );
  });
  let j = 0;
  const data = mapLeaves(result.data, (leaf) => scatter(inputs[j++]!.leaf, leaf, rows));
  return { data, states, metadata };
}

/**
 * Per operator of `composite`, one entry per example of the `size` examples: the entries
 * of `values` (its states or metadata over the rows `rows`) in their places, `given`
 * elsewhere. An operator that is a composite holds its own per-operator entries.
 */
function spread(
  composite: NestedComposite,
  values: readonly unknown[] | undefined,
  rows: readonly number[],
  size: number,
  given: unknown,
): unknown[] {
  return composite.operators.map((operator, i) => {
    const own = values?.[i] as readonly unknown[] | undefined;
    if (isComposite(operator)) return spread(operator, own, rows, size, given);
    const out = new Array<unknown>(size).fill(given);
    if (own !== undefined) {
      rows.forEach((row, k) => {
        out[row] = own[k];
      });
    }
    return out;
  });
}

/** The rows `rows` of `leaf`, copied into a tensor of their own. */
function gather(leaf: Tensor, rows: readonly number[]): Tensor {
  const stride = leaf.size / leaf.shape[0]!;
  const out = typedArray(leaf.dtype, rows.length * stride);
  rows.forEach((row, k) => {
    (out as Float64Array).set(
      leaf.data.subarray(row * stride, (row + 1) * stride) as ArrayLike<number>,
      k * stride,
    );
  });
  return new Tensor(out, [rows.length, ...leaf.shape.slice(1)], leaf.dtype);
}

/** `input` (of `part`'s dtype) with `part`'s rows put at `rows`. */
function scatter(input: Tensor, part: Tensor, rows: readonly number[]): Tensor {
  const out = input.copy();
  const stride = input.shape[0] === 0 ? 0 : input.size / input.shape[0]!;
  rows.forEach((row, k) => {
    (out.data as Float64Array).set(
      part.data.subarray(k * stride, (k + 1) * stride) as ArrayLike<number>,
      row * stride,
    );
  });
  return out;
}

function shapes(leaves: readonly { path: string; leaf: Tensor }[]): string {
  return leaves
    .map(({ path, leaf }) => `${path || 'the tensor'}: [${leaf.shape.join(', ')}]`)
    .join(', ');
}
