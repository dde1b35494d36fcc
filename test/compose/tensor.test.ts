/**
 * Tensors: made from nested arrays, typed arrays (wrapped, not copied) and tensors; their
 * dtypes and conversions; views (`at`, `reshape`) that share data; `get`, `map`, `copy`,
 * `toArray`, `toJSON`; what a structured clone leaves of one; and the typed errors for
 * input that is no tensor or a shape too large to allocate or to nest.
 */
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ValidationError } from 'weftjs';
import { dtypes, isTensor, Tensor, tensor, tensorFrom, zeros } from 'weftjs/compose';

/** Asserts that `fn` throws a ValidationError whose message matches every pattern. */
function refused(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `a ValidationError, got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

describe('tensor(): construction', () => {
  it('makes a float32 tensor of the nesting of number arrays', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, 'float32');
    assert.ok(t.data instanceof Float32Array);
    assert.deepEqual([...t.data], [1, 2, 3, 4, 5, 6]);
    assert.equal(t.size, 6);
    assert.equal(t.ndim, 2);
  });

  it('makes a tensor of shape [] from a number, and [0] from an empty array', () => {
    const scalar = tensor(7);
    assert.deepEqual(scalar.shape, []);
    assert.equal(scalar.toArray(), 7);
    assert.deepEqual(tensor([]).shape, [0]);
    assert.deepEqual(tensor([[], []]).toArray(), [[], []]);
  });

  it('wraps a typed array without copying, taking its dtype', () => {
    const data = new Float64Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(data, { shape: [2, 3] });
    assert.equal(t.data, data);
    assert.equal(t.dtype, 'float64');
    data[0] = 9;
    assert.equal(t.get(0, 0), 9);
    assert.equal(tensor(new Int16Array(3)).dtype, 'int16');
    assert.equal(tensor(new Uint8ClampedArray(3)).dtype, 'uint8clamped');
  });

  it('keeps a SharedArrayBuffer shared, also across a structured clone', () => {
    const data = new Float32Array(new SharedArrayBuffer(4 * 4));
    const t = tensor(data, { shape: [2, 2] });
    assert.ok(t.data.buffer instanceof SharedArrayBuffer);
    assert.equal(t.data.buffer, data.buffer);
    const arrived = tensorFrom(structuredClone(t));
    arrived.data[3] = 42;
    assert.equal(t.get(1, 1), 42, 'the clone shares the memory');
  });

  it('takes a tensor as it is, or converted to another dtype', () => {
    const t = tensor([1.5, -2.5]);
    assert.equal(tensor(t).data, t.data);
    const ints = tensor(t, { dtype: 'int32' });
    assert.ok(ints.data instanceof Int32Array);
    assert.deepEqual(ints.toArray(), [1, -2]);
    assert.deepEqual(t.toArray(), [1.5, -2.5], 'the source is untouched');
  });

  it('converts on the way in as a typed array does: truncating, wrapping, clamping', () => {
    assert.deepEqual(tensor([1.7, -1.7], { dtype: 'int32' }).toArray(), [1, -1]);
    assert.deepEqual(tensor([300, -1], { dtype: 'uint8' }).toArray(), [44, 255]);
    assert.deepEqual(tensor([300, -1], { dtype: 'uint8clamped' }).toArray(), [255, 0]);
    assert.deepEqual(tensor([0.1], { dtype: 'float64' }).toArray(), [0.1]);
    assert.deepEqual(tensor([0.1]).toArray(), [Math.fround(0.1)]);
  });

  it('makes every dtype, each on its own typed array', () => {
    for (const dtype of dtypes) {
      const t = tensor([[1, 2]], { dtype });
      assert.equal(t.dtype, dtype);
      assert.equal(t.data.constructor, zeros([1], dtype).data.constructor);
      assert.deepEqual(t.toArray(), [[1, 2]]);
    }
  });

  it('gives the values another shape, inferring one -1', () => {
    assert.deepEqual(tensor([1, 2, 3, 4, 5, 6], { shape: [3, -1] }).toArray(), [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    assert.deepEqual(tensor([5], { shape: [] }).toArray(), 5);
  });

  it('makes zeros of a shape and dtype', () => {
    const z = zeros([2, 2], 'int8');
    assert.deepEqual(z.toArray(), [
      [0, 0],
      [0, 0],
    ]);
    assert.equal(z.dtype, 'int8');
  });
});

describe('Tensor: views and element access', () => {
  const t = tensor([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);

  it('at(i) is the i-th slice along the first axis, sharing data', () => {
    const row = t.at(1);
    assert.deepEqual(row.toArray(), [3, 4]);
    assert.equal(row.data.buffer, t.data.buffer);
    assert.equal(row.data.byteOffset, 2 * 4);
    assert.equal(tensor([7, 8]).at(1).toArray(), 8);
  });

  it('reshape() shares data and infers -1', () => {
    const flat = t.reshape([-1]);
    assert.deepEqual(flat.shape, [6]);
    assert.equal(flat.data, t.data);
    assert.deepEqual(t.reshape([2, 3, 1]).shape, [2, 3, 1]);
  });

  it('get() reads one element by its indices', () => {
    assert.equal(t.get(2, 1), 6);
    assert.equal(tensor(3).get(), 3);
  });

  it('map() makes a new tensor, of another dtype if asked, with the index at hand', () => {
    const doubled = t.map((x) => x * 2);
    assert.deepEqual(doubled.toArray(), [
      [2, 4],
      [6, 8],
      [10, 12],
    ]);
    assert.notEqual(doubled.data, t.data);
    assert.deepEqual(t.map((_, i) => i, 'int32').toArray(), [
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    assert.equal(t.map((x) => x / 2, 'float64').dtype, 'float64');
    assert.deepEqual((t.toArray() as number[][])[0], [1, 2], 'the source is untouched');
  });

  it('copy() owns its data, in its dtype or another', () => {
    const copy = t.copy();
    assert.notEqual(copy.data.buffer, t.data.buffer);
    assert.deepEqual(copy.toArray(), t.toArray());
    assert.ok(t.copy('float64').data instanceof Float64Array);
  });

  it('toArray() and toJSON() give nested numbers', () => {
    assert.equal(JSON.stringify({ t }), '{"t":[[1,2],[3,4],[5,6]]}');
    assert.deepEqual(zeros([2, 0, 3]).toArray(), [[], []]);
  });

  it('isTensor() knows tensors, not their fields; tensorFrom() rebuilds a clone', () => {
    assert.equal(isTensor(t), true);
    assert.equal(isTensor(t.at(0)), true);
    const clone = structuredClone(t);
    assert.equal(isTensor(clone), false);
    assert.equal(isTensor({ shape: [1], dtype: 'float32', data: new Float32Array(1) }), false);
    assert.equal(isTensor(null), false);
    assert.equal(isTensor([1, 2]), false);
    const back = tensorFrom(clone);
    assert.equal(isTensor(back), true);
    assert.deepEqual(back.shape, [3, 2]);
    assert.equal(back.data, clone.data, 'the clone is wrapped, not copied');
    assert.deepEqual(back.toArray(), t.toArray());
    assert.equal(tensorFrom(t), t);
  });
});

describe('tensor(): what is refused', () => {
  it('refuses ragged arrays, naming where', () => {
    refused(() => tensor([[1, 2], [3]]), /values\[1\] has length 1/, /rectangular/);
    refused(() => tensor([[1, 2], 3]), /values\[1\] is the number 3 where length 2 was expected/);
    refused(() => tensor([1, [2]]), /values\[1\] is an array of 1, not a number/);
  });

  it('refuses what is not a number, naming it', () => {
    refused(() => tensor([1, 'a'] as never), /values\[1\] is the string "a"/);
    refused(() => tensor([1, null] as never), /values\[1\] is null/);
    refused(() => tensor([[1, undefined]] as never), /values\[0\]\[1\] is undefined/);
    refused(() => tensor('text' as never), /the value is the string "text"/);
    refused(() => tensor([1n] as never), /bigint/);
    refused(() => tensor(new BigInt64Array(2) as never), /BigInt64Array cannot be a tensor/);
  });

  it('refuses a dtype it does not know, also one named like a prototype member', () => {
    for (const dtype of ['float16', 'toString', '__proto__', 'constructor']) {
      refused(() => tensor([1], { dtype: dtype as never }), new RegExp(`unknown dtype '${dtype}'`));
    }
    refused(() => zeros([1], 'hasOwnProperty' as never), /zeros\(\): unknown dtype/);
    refused(() => tensor([1]).copy('int64' as never), /Tensor.copy\(\): unknown dtype/);
    refused(() => tensor([1]).map((x) => x, 'x' as never), /Tensor.map\(\): unknown dtype/);
  });

  it('refuses shapes that do not hold the values', () => {
    refused(() => tensor([1, 2, 3], { shape: [2, 2] }), /\[2, 2\] does not hold 3 elements/);
    refused(() => tensor([1, 2, 3, 4], { shape: [-1, -1] }), /more than one -1/);
    refused(() => tensor([1, 2], { shape: [0, -1] }), /\[0, -1\] does not hold 2/);
    refused(() => tensor([1, 2], { shape: [-2, -1] }), /length -2/);
    refused(() => tensor([1, 2, 3], { shape: [2, -1] }), /\[2, -1\]/);
    refused(() => tensor([1, 2], { shape: [1.5, 2] as never }), /length 1.5/);
    refused(() => tensor([1, 2], { shape: 'ab' as never }), /must be an array/);
    refused(() => zeros([2, -3]), /length -3/);
    refused(() => zeros([Number.NaN]), /length NaN/);
  });

  it('refuses more than 32 axes, nested or in a shape', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    refused(() => tensor(deep as never), /deeper than 32/);
    refused(() => zeros(new Array(33).fill(1)), /33 axes; a tensor has at most 32/);
  });

  it('new Tensor() refuses data that is no typed array, of another dtype or size', () => {
    refused(
      () => new Tensor([1, 2] as never, [2]),
      /the data is an array of 2; give a typed array/,
    );
    refused(() => new Tensor(undefined as never, [2]), /the data is undefined/);
    refused(() => new Tensor(new Float64Array(2) as never, [2], 'float32'), /needs a Float32Array/);
    refused(() => new Tensor(new Float32Array(2), [3]), /holds 3 elements but the data has 2/);
    refused(
      () => new Tensor(new Float32Array(2) as never, [2], 'half' as never),
      /unknown dtype 'half'/,
    );
  });

  it('at() and get() refuse indices outside the tensor', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    refused(() => t.at(2), /from 0 to 1/);
    refused(() => t.at(-1), /from 0 to 1/);
    refused(() => t.at(0.5), /from 0 to 1/);
    refused(() => tensor(1).at(0), /shape \[\] has no first axis/);
    refused(() => zeros([0, 2]).at(0), /first axis is empty/);
    refused(() => t.get(0), /give 2 indices, not 1/);
    refused(() => t.get(0, 2), /index 2 is outside axis 1 of length 2/);
    refused(() => t.reshape([3, -1]), /does not hold 4 elements/);
  });
});

describe('tensor(): huge shapes', () => {
  it('refuses more elements than a typed array holds, naming the shape', () => {
    // The runtime's limit (2^32 on Node 20): one more is refused before anything is allocated.
    const past = constants.MAX_LENGTH + 1;
    refused(() => zeros([past], 'uint8'), new RegExp(`^zeros\\(\\): shape \\[${past}\\]`));
    refused(() => zeros([past], 'uint8'), /more than a typed array of uint8 can hold/);
  });

  it('refuses a shape whose product is past Number.MAX_SAFE_INTEGER', () => {
    const empty = new Float32Array(0);
    refused(
      () => tensor(empty, { shape: [2 ** 40, 2 ** 40] }),
      /shape \[1099511627776, 1099511627776\] holds more elements than can be counted exactly/,
    );
    refused(() => zeros([2, 2 ** 31, 2 ** 31]), /zeros\(\): shape \[2, 2147483648, 2147483648\]/);
    refused(() => tensor([1]).reshape([2 ** 40, 2 ** 40]), /^Tensor\.reshape\(\).*counted exactly/);
    // A shape with an empty axis holds nothing, whatever its other lengths.
    assert.equal(tensor(empty, { shape: [2 ** 40, 2 ** 40, 0] }).size, 0);
  });

  it('checks the size of nested arrays before reading them, when rows repeat', () => {
    // 2^54 elements in 10 MB of arrays: the row refuses to be read past its first element.
    const row = new Proxy(new Array<number>(2 ** 20).fill(0), {
      get(target, key, receiver) {
        if (key !== '0' && typeof key === 'string' && /^\d+$/.test(key)) {
          throw new Error(`element ${key} read`);
        }
        return Reflect.get(target, key, receiver);
      },
    });
    const plane = new Array<number[]>(2 ** 17).fill(row);
    refused(
      () => tensor(new Array<number[][]>(2 ** 17).fill(plane)),
      /^tensor\(\): shape \[131072, 131072, 1048576\] holds more elements than can be counted/,
    );
  });

  it('toArray() refuses a shape that would build more than 2^24 arrays', () => {
    for (const shape of [
      [2 ** 24, 0],
      [2 ** 40, 0],
      [2, 2 ** 23, 0],
    ]) {
      const t = tensor(new Float32Array(0), { shape });
      refused(
        () => t.toArray(),
        new RegExp(
          `^Tensor\\.toArray\\(\\): shape \\[${shape.join(', ')}\\] would be \\d+ nested arrays`,
        ),
        /at\(i\)/,
      );
      refused(() => JSON.stringify(t), /nested arrays/);
    }
    assert.deepEqual(
      tensor(new Float32Array(0), { shape: [2 ** 12, 0] }).toArray(),
      new Array(2 ** 12).fill([]),
    );
  });
});

describe('Tensor: printed', () => {
  it('shows its dtype, shape and values; a large one only its first values, briefly', () => {
    assert.equal(inspect(tensor([1, 2], { dtype: 'int32' })), 'Tensor<int32>[2] [ 1, 2 ]');
    const large = zeros([10, 10]).map((_, i) => i / 3);
    assert.equal(inspect(large), 'Tensor<float32>[10, 10] [0, 0.3333, 0.6667, 1, … 96 more]');
    assert.equal(inspect({ x: large }, { depth: -1 }), '[Object]');
  });
});
