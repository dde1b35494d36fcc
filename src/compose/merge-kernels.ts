/**
 * The loops of the merges, over checked leaves: copies through `TypedArray.set` in
 * contiguous runs (concat and stack), and sums as one tight loop per output count,
 * accumulating in doubles and rounding once into the result. An empty result returns at
 * once: its leading axes may be huge (`[2 ** 40, 0]`) and walking them would take hours.
 */

import { Tensor } from './tensor.ts';
import { arrayOfShape, type DType, promoteDtypes, type TypedArray } from './tensor-dtypes.ts';
import { sizeOf } from './tensor-shapes.ts';

/**
 * The result of `shape`, whose axis `axis` holds the leaves one after the other: for each
 * index before that axis, each leaf's contiguous run is copied in turn.
 * @param where names the merge in errors, e.g. `concat along axis 1 at .image`
 */
export function interleaved(
  leaves: readonly Tensor[],
  shape: readonly number[],
  axis: number,
  where: string,
): Tensor {
  const dtype = promoteDtypes(leaves.map((leaf) => leaf.dtype));
  const out = arrayOfShape(dtype, shape, where);
  if (out.length === 0) return new Tensor(out, shape, dtype);
  // A non-empty result has no empty axis, so `outer` is at most its size.
  const outer = sizeOf(shape.slice(0, axis));
  const sources = leaves.map((leaf) => leaf.data);
  const runs = leaves.map((leaf) => leaf.size / outer);
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i]!;
      const run = runs[i]!;
      const from = o * run;
      // set() costs a view per call: short runs are cheaper copied by hand.
      if (run > 32) out.set(source.subarray(from, from + run), to);
      else for (let j = 0; j < run; j++) out[to + j] = source[from + j]!;
      to += run;
    }
  }
  return new Tensor(out, shape, dtype);
}

/** What {@link reduced} computes at each element. */
export interface Reduction {
  readonly dtype: DType;
  /** Divide by the number of outputs that count (at least 1): the mean. */
  readonly mean: boolean;
  /** Per output, its weight: Σ weights[i]·output[i]. */
  readonly weights: readonly number[] | undefined;
  /** Per example (the first axis), the outputs that count; undefined when all do. */
  readonly active: readonly (readonly number[])[] | undefined;
}

/** The element-wise sum, mean or weighted sum of leaves of one shape, as a new tensor. */
export function reduced(leaves: readonly Tensor[], how: Reduction, where: string): Tensor {
  const { shape } = leaves[0]!;
  const { dtype, mean, weights, active } = how;
  const out = arrayOfShape(dtype, shape, where);
  const size = out.length;
  if (size === 0) return new Tensor(out, shape, dtype);
  const sources = leaves.map((leaf) => leaf.data);
  if (active === undefined) {
    reduceInto(out, sources, weights, 0, size, mean ? sources.length : 1);
    return new Tensor(out, shape, dtype);
  }
  const run = size / shape[0]!;
  active.forEach((outputs, b) => {
    // No output counts here: the zeros the result was made with stay.
    if (outputs.length === 0) return;
    const here = outputs.map((i) => sources[i]!);
    const weighed = weights === undefined ? undefined : outputs.map((i) => weights[i]!);
    reduceInto(out, here, weighed, b * run, (b + 1) * run, mean ? outputs.length : 1);
  });
  return new Tensor(out, shape, dtype);
}

/**
 * out[j] = (Σ weights[k] · s[k][j]) / divisor for j in [from, to), left to right in
 * doubles and rounded once into `out`. One loop per output count keeps the common cases
 * as fast as a hand-written loop.
 */
function reduceInto(
  out: TypedArray,
  s: readonly TypedArray[],
  weights: readonly number[] | undefined,
  from: number,
  to: number,
  divisor: number,
): void {
  const n = s.length;
  if (weights !== undefined) {
    for (let j = from; j < to; j++) {
      let total = weights[0]! * s[0]![j]!;
      for (let k = 1; k < n; k++) total += weights[k]! * s[k]![j]!;
      out[j] = total;
    }
    return;
  }
  const a = s[0]!;
  if (n === 1) {
    if (divisor !== 1) for (let j = from; j < to; j++) out[j] = a[j]! / divisor;
    else if (out.constructor === a.constructor) out.set(a.subarray(from, to), from);
    else for (let j = from; j < to; j++) out[j] = a[j]!;
  } else if (n === 2) {
    const b = s[1]!;
    if (divisor !== 1) for (let j = from; j < to; j++) out[j] = (a[j]! + b[j]!) / divisor;
    else for (let j = from; j < to; j++) out[j] = a[j]! + b[j]!;
  } else if (n === 3) {
    const b = s[1]!;
    const c = s[2]!;
    if (divisor !== 1) for (let j = from; j < to; j++) out[j] = (a[j]! + b[j]! + c[j]!) / divisor;
    else for (let j = from; j < to; j++) out[j] = a[j]! + b[j]! + c[j]!;
  } else {
    for (let j = from; j < to; j++) {
      let total = a[j]!;
      for (let k = 1; k < n; k++) total += s[k]![j]!;
      out[j] = total / divisor;
    }
  }
}
