/**
 * Merges against a reference written on nested arrays: seeded random shapes, axes, dtypes
 * and values (NaN, ±Infinity and -0 among them), through concat, stack, sum and mean,
 * unbatched and batched, with random masks and weights. The reference adds left to right
 * in doubles and rounds once into the result's dtype, which is the merges' contract.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DType,
  dtypes,
  mergeBatched,
  mergeOutputs,
  type NestedNumbers,
  type Tensor,
  type Tree,
  tensor,
} from 'weftjs/compose';

/** mulberry32: a small seeded generator, so that a failure replays. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), state | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

const random = seeded(0x5eed15);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0];

function randomShape(ndim: number): number[] {
  return Array.from({ length: ndim }, () => (random() < 0.1 ? 0 : 1 + int(4)));
}

/** A tensor of `shape` and `dtype`; floats get fractions and now and then NaN, ±Infinity, -0. */
function randomTensor(shape: readonly number[], dtype: DType): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Float64Array.from({ length: size }, () => {
    if (dtype.startsWith('float')) return random() < 0.05 ? pick(specials) : (random() - 0.5) * 200;
    // Large values too: uint32 beyond int32's range wraps when promoted with a signed type.
    return random() < 0.1 ? Math.floor(random() * 2 ** 32) : int(400) - 200;
  });
  return tensor(values, { dtype, shape });
}

type Nested = NestedNumbers;
const at = (value: Nested, i: number) => (value as readonly Nested[])[i]!;

function concatRef(values: Nested[], axis: number): Nested {
  if (axis === 0) return values.flatMap((value) => value as Nested[]);
  return (values[0] as Nested[]).map((_, i) =>
    concatRef(
      values.map((value) => at(value, i)),
      axis - 1,
    ),
  );
}

function stackRef(values: Nested[], axis: number): Nested {
  if (axis === 0) return values;
  return (values[0] as Nested[]).map((_, i) =>
    stackRef(
      values.map((value) => at(value, i)),
      axis - 1,
    ),
  );
}

function zipRef(values: Nested[], fn: (numbers: number[]) => number): Nested {
  if (typeof values[0] === 'number') return fn(values as number[]);
  return (values[0] as Nested[]).map((_, i) =>
    zipRef(
      values.map((value) => at(value, i)),
      fn,
    ),
  );
}

/** Left to right in doubles: (w0·x0 + w1·x1 + …) / divisor. */
function total(numbers: readonly number[], weights?: readonly number[]): number {
  let sum = weights ? weights[0]! * numbers[0]! : numbers[0]!;
  for (let k = 1; k < numbers.length; k++) sum += weights ? weights[k]! * numbers[k]! : numbers[k]!;
  return sum;
}

/** `merged` holds `expected` rounded into its dtype, and the dtype is the promoted one. */
function same(merged: Tree, expected: Nested, dtype: DType, label: string): void {
  const leaf = merged as Tensor;
  assert.equal(leaf.dtype, dtype, `${label}: dtype`);
  assert.deepEqual(leaf.toArray(), tensor(expected, { dtype }).toArray(), label);
}

/** `merged` has `shape` and holds `ref` of the outputs' values along `axis`, promoted. */
function sameAsRef(
  merged: Tensor,
  shape: readonly number[],
  ref: (values: Nested[], axis: number) => Nested,
  outputs: readonly Tensor[],
  axis: number,
  label: string,
): void {
  assert.deepEqual(merged.shape, shape, label);
  const expected = ref(
    outputs.map((o) => o.toArray()),
    axis,
  );
  same(merged, expected, promoted(outputs.map((o) => o.dtype)), label);
}

/** The dtype mixed inputs merge into: JAX's rules, written out from their table. */
function promoted(types: readonly DType[], float = false): DType {
  const set = new Set(
    types.map((type) =>
      type === 'uint8clamped' && types.some((t) => t !== type) ? 'uint8' : type,
    ),
  );
  if (set.size === 1 && !float) return [...set][0]!;
  if (set.has('float64')) return 'float64';
  if (set.has('float32') || float) return 'float32';
  if (set.size === 1) return [...set][0]!;
  const signed = ['int8', 'int16', 'int32'].filter((type) => set.has(type as DType));
  const unsigned = ['uint8', 'uint16', 'uint32'].filter((type) => set.has(type as DType));
  const widest = (list: string[], order: string[]) => order.findLast((type) => list.includes(type));
  const s = widest(signed, ['int8', 'int16', 'int32']);
  const u = widest(unsigned, ['uint8', 'uint16', 'uint32']);
  if (s === undefined) return u as DType;
  if (u === undefined) return s as DType;
  const bits = (type: string) => Number(type.replace(/\D/g, ''));
  const needed = Math.max(bits(s), bits(u) * 2);
  return needed <= 32 ? (`int${needed}` as DType) : 'int32';
}

const fuzzDtypes = dtypes;
const cases = 250;

describe('merges against a nested-array reference (seeded)', () => {
  it('concat along any axis, mixed dtypes', () => {
    for (let c = 0; c < cases; c++) {
      const ndim = 1 + int(4);
      const axis = int(ndim);
      const base = randomShape(ndim);
      const types = Array.from({ length: 1 + int(4) }, () => pick(fuzzDtypes));
      const outputs = types.map((dtype) => {
        const shape = [...base];
        shape[axis] = int(4);
        return randomTensor(shape, dtype);
      });
      const mergeAxis = random() < 0.5 ? axis : axis - ndim;
      const merged = mergeOutputs(outputs, { mergeAxis }) as Tensor;
      const label = `case ${c}: concat axis ${mergeAxis} of ${outputs.map((o) => `${o.dtype}[${o.shape}]`).join(', ')}`;
      const shape = [...base];
      shape[axis] = outputs.reduce((n, o) => n + o.shape[axis]!, 0);
      sameAsRef(merged, shape, concatRef, outputs, axis, label);
    }
  });

  it('stack at any place, mixed dtypes, single numbers too', () => {
    for (let c = 0; c < cases; c++) {
      const ndim = int(4);
      const axis = int(ndim + 1);
      const shape = randomShape(ndim);
      const types = Array.from({ length: 1 + int(4) }, () => pick(fuzzDtypes));
      const outputs = types.map((dtype) => randomTensor(shape, dtype));
      const mergeAxis = random() < 0.5 ? axis : axis - ndim - 1;
      const merged = mergeOutputs(outputs, { mergeStrategy: 'stack', mergeAxis }) as Tensor;
      const label = `case ${c}: stack axis ${mergeAxis} of [${shape}] × ${types}`;
      const stacked = [...shape.slice(0, axis), types.length, ...shape.slice(axis)];
      sameAsRef(merged, stacked, stackRef, outputs, axis, label);
    }
  });

  it('sum and mean of 1 to 6 outputs, with NaN and infinities flowing as IEEE says', () => {
    for (let c = 0; c < cases; c++) {
      const shape = randomShape(int(4));
      const types = Array.from({ length: 1 + int(6) }, () => pick(fuzzDtypes));
      const outputs = types.map((dtype) => randomTensor(shape, dtype));
      const values = outputs.map((o) => o.toArray());
      const label = `case ${c}: [${shape}] × ${types}`;
      same(
        mergeOutputs(outputs, { mergeStrategy: 'sum' }),
        zipRef(values, (n) => total(n)),
        promoted(types),
        `sum ${label}`,
      );
      same(
        mergeOutputs(outputs, { mergeStrategy: 'mean' }),
        zipRef(values, (n) => total(n) / n.length),
        promoted(types, true),
        `mean ${label}`,
      );
    }
  });

  it('IEEE specials: NaN wins, opposite infinities give NaN, -0 stays -0', () => {
    const merge = (a: number[], b: number[], mergeStrategy: 'sum' | 'mean') =>
      (mergeOutputs([tensor(a), tensor(b)], { mergeStrategy }) as Tensor).toArray();
    const inf = Number.POSITIVE_INFINITY;
    assert.deepEqual(merge([Number.NaN, inf, inf, -0, 1], [1, -inf, inf, -0, -1], 'sum'), [
      Number.NaN,
      Number.NaN,
      inf,
      -0,
      0,
    ]);
    assert.deepEqual(merge([Number.NaN, inf, -inf, -0], [1, 1, 1, -0], 'mean'), [
      Number.NaN,
      inf,
      -inf,
      -0,
    ]);
    assert.deepEqual(merge([3.4e38], [3.4e38], 'sum'), [inf], 'float32 overflows to Infinity');
  });

  it('batched: per-example axes, random masks and weights', () => {
    for (let c = 0; c < cases; c++) {
      const examples = int(4);
      const example = randomShape(1 + int(3));
      const count = 1 + int(5);
      const types = Array.from({ length: count }, () =>
        pick(['float32', 'float64', 'int32'] as const),
      );
      const outputs = types.map((dtype) => randomTensor([examples, ...example], dtype));
      const values = outputs.map((o) => o.toArray() as Nested[]);
      const names = types.map((_, i) => `op${i}`);
      const label = `case ${c}: ${examples} × [${example}] × ${types}`;

      const axis = int(example.length);
      same(
        mergeBatched(outputs, { names, mergeAxis: axis }),
        concatRef(values, axis + 1),
        promoted(types),
        `concat ${label}`,
      );
      const place = int(example.length + 1);
      same(
        mergeBatched(outputs, {
          names,
          mergeStrategy: 'stack',
          mergeAxis: place - example.length - 1,
        }),
        stackRef(values, place + 1),
        promoted(types),
        `stack ${label}`,
      );

      const mask = types.map(() =>
        Uint8Array.from({ length: examples }, () => (random() < 0.5 ? 1 : 0)),
      );
      const perExample = (fn: (numbers: number[], active: number[]) => number) =>
        Array.from({ length: examples }, (_, b) => {
          const active = types.flatMap((_, i) => (mask[i]![b] ? [i] : []));
          return zipRef(
            values.map((value) => value[b]!),
            (numbers) => (active.length === 0 ? 0 : fn(numbers, active)),
          );
        });
      const pickActive = (numbers: number[], active: number[]) => active.map((i) => numbers[i]!);
      same(
        mergeBatched(outputs, { names, mask, mergeStrategy: 'sum' }),
        perExample((n, active) => total(pickActive(n, active))),
        promoted(types),
        `masked sum ${label}`,
      );
      same(
        mergeBatched(outputs, { names, mask, mergeStrategy: 'mean' }),
        perExample((n, active) => total(pickActive(n, active)) / active.length),
        promoted(types, true),
        `masked mean ${label}`,
      );
      const weights = types.map(() => random() * 2 - 0.5);
      same(
        mergeBatched(outputs, { names, weights }),
        zipRef(values, (n) => total(n, weights)),
        promoted(types, true),
        `weighted ${label}`,
      );
    }
  });
});
