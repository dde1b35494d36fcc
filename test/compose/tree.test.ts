/**
 * Trees: what `toTree` makes tensors of and what it refuses (naming the path), hostile
 * keys kept as own keys with no prototype touched, `zipLeaves`' structure errors, and
 * the batch helpers `batchSizeOf` and `exampleOf`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import {
  batchSizeOf,
  exampleOf,
  isTensor,
  leavesOf,
  mapLeaves,
  mergeOutputs,
  type Tensor,
  type Tree,
  tensor,
  toTree,
  zipLeaves,
} from 'weftjs/compose';

function refused(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `a ValidationError, got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

/** The tree with every leaf as nested numbers, for deepEqual. */
function plain(tree: Tree): unknown {
  return JSON.parse(JSON.stringify(tree));
}

describe('toTree(): conversions', () => {
  it('makes numbers, nested number arrays and typed arrays one tensor each', () => {
    const number = toTree(3, 'out') as Tensor;
    assert.ok(isTensor(number));
    assert.deepEqual(number.shape, []);
    const nested = toTree([[1, 2]], 'out') as Tensor;
    assert.deepEqual(nested.shape, [1, 2]);
    const data = new Int32Array([4, 5]);
    const typed = toTree(data, 'out') as Tensor;
    assert.equal(typed.data, data, 'a typed array is wrapped, not copied');
    assert.equal(typed.dtype, 'int32');
    const t = tensor([1]);
    assert.equal(toTree(t, 'out'), t, 'a tensor is kept as it is');
  });

  it('makes lists of tensors and objects branches, converting their leaves', () => {
    const tree = toTree(
      { image: [tensor([1, 2]), tensor([3])], label: 7, extra: { mask: new Uint8Array(2) } },
      'out',
    ) as Record<string, Tree>;
    assert.ok(Array.isArray(tree.image));
    assert.equal((tree.image as Tree[]).length, 2);
    assert.deepEqual(plain(tree), { image: [[1, 2], [3]], label: 7, extra: { mask: [0, 0] } });
    assert.deepEqual(
      leavesOf(tree).map(({ path }) => path),
      ['.image[0]', '.image[1]', '.label', '.extra.mask'],
    );
  });

  it('takes objects with a null prototype and tensors that crossed a structured clone', () => {
    const bare = Object.assign(Object.create(null) as object, { a: [1] });
    assert.deepEqual(plain(toTree(bare, 'out')), { a: [1] });
    const cloned = structuredClone({ x: tensor([[1, 2]]) });
    const tree = toTree(cloned, 'out') as Record<string, Tensor>;
    assert.ok(isTensor(tree.x));
    assert.deepEqual(tree.x!.shape, [1, 2]);
  });

  it('refuses strings, Maps, class instances, null and functions, naming the path', () => {
    class Box {
      value = 1;
    }
    const cases: [unknown, RegExp][] = [
      [{ a: { b: 'text' } }, /out at \.a\.b is the string "text"/],
      [{ a: new Map() }, /out at \.a is a Map/],
      [[tensor([1]), new Box()], /out at \[1\] is a Box/],
      [{ 'odd key': null }, /out at \["odd key"\] is null/],
      [{ f: () => 1 }, /out at \.f is a function/],
      [{ d: new Date(0) }, /out at \.d is a Date/],
      [undefined, /^out is undefined/],
    ];
    for (const [value, pattern] of cases) refused(() => toTree(value, 'out'), pattern, /leaves/);
  });

  it('refuses leaves that are no rectangular numbers, naming the path', () => {
    refused(() => toTree({ x: [[1, 2], [3]] }, 'out'), /^out at \.x: values\[1\] has length 1/);
    refused(() => toTree({ x: [1, 'a'] }, 'out'), /^out at \.x: values\[1\] is the string "a"/);
    refused(() => toTree({ x: new BigInt64Array(1) }, 'out'), /^out at \.x: a BigInt64Array/);
  });

  it('refuses holes in arrays rather than keeping them', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case under test.
    refused(() => toTree([tensor([1]), , tensor([2])], 'out'), /out at \[1\] is undefined/);
  });

  it('refuses nesting deeper than 64 levels, and cycles', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 80; i++) deep = { deep };
    refused(() => toTree(deep, 'out'), /deeper than 64 levels/);
    const cyclic: Record<string, unknown> = { x: [1] };
    cyclic.self = cyclic;
    refused(() => toTree(cyclic, 'out'), /\.self\.self/, /cyclic/);
  });
});

describe('toTree(): hostile keys', () => {
  const json = '{"__proto__": [1, 2], "\\u0000": [3], "\\ud800": {"constructor": [4]}}';

  it('keeps __proto__, NUL and lone surrogates as own keys and touches no prototype', () => {
    const tree = toTree(JSON.parse(json), 'out') as Record<string, Tree>;
    assert.equal(Object.getPrototypeOf(tree), Object.prototype);
    assert.deepEqual(Object.keys(tree), ['__proto__', '\0', '\ud800']);
    assert.ok(Object.hasOwn(tree, '__proto__'));
    assert.deepEqual(plain(Object.getOwnPropertyDescriptor(tree, '__proto__')!.value), [1, 2]);
    assert.deepEqual(plain(tree['\0']!), [3]);
    const inner = tree['\ud800'] as Record<string, Tree>;
    assert.ok(Object.hasOwn(inner, 'constructor'));
    assert.equal(Object.getPrototypeOf(inner), Object.prototype);
    assert.equal(({} as Record<string, unknown>)[0], undefined);
    assert.equal(Object.keys(Object.prototype).length, 0, 'Object.prototype is untouched');
    assert.deepEqual(
      leavesOf(tree).map(({ path }) => path),
      ['.__proto__', '["\\u0000"]', '["\\ud800"].constructor'],
    );
  });

  it('merges trees with hostile keys into own keys', () => {
    const a = JSON.parse(json);
    const b = JSON.parse(json);
    const summed = mergeOutputs([a, b], { mergeStrategy: 'sum' }) as Record<string, Tree>;
    assert.equal(Object.getPrototypeOf(summed), Object.prototype);
    assert.deepEqual(plain(Object.getOwnPropertyDescriptor(summed, '__proto__')!.value), [2, 4]);
    const dict = mergeOutputs([a, b], { mergeStrategy: 'dict' }) as Record<string, Tree>;
    assert.deepEqual(Object.keys(dict), ['__proto__', '\0', '\ud800']);
    assert.equal(Object.keys(Object.prototype).length, 0);
  });
});

describe('zipLeaves(): structure', () => {
  const nameOf = (i: number) => `operator_${i}`;
  const zip = (trees: Tree[]) => zipLeaves(trees, (leaves) => leaves[0]!, nameOf);

  it('matches objects by key whatever their order, keeping the first order', () => {
    const out = zipLeaves(
      [
        { a: tensor([1]), b: tensor([2]) },
        { b: tensor([20]), a: tensor([10]) },
      ],
      (leaves, path) => tensor([leaves[0]!.get(0) + leaves[1]!.get(0), path.length]),
      nameOf,
    );
    assert.deepEqual(plain(out as Tree), { a: [11, 2], b: [22, 2] });
  });

  it('names the path and both outputs where the structures differ', () => {
    refused(
      () => zip([{ a: tensor([1]) }, { a: [tensor([1])] }]),
      /at \.a: operator_0 has a tensor there but operator_1 has an array of 1/,
    );
    refused(
      () => zip([{ a: [tensor([1]), tensor([2])] }, { a: [tensor([1])] }]),
      /at \.a: operator_0 has an array of 2 but operator_1 has an array of 1/,
    );
    refused(
      () => zip([{ a: tensor([1]) }, { a: tensor([1]) }, { b: tensor([1]) }]),
      /at the top: operator_0 has an object with keys "a" but operator_2 has an object with keys "b"/,
    );
    refused(
      () => zip([{ a: { x: tensor([1]) } }, { a: tensor([1]) }]),
      /at \.a: operator_0 has an object with keys "x" but operator_1 has a tensor of shape \[1\]/,
    );
    refused(() => zipLeaves([], (leaves) => leaves[0]!, nameOf), /no trees/);
  });

  it('mapLeaves() keeps the structure', () => {
    const out = mapLeaves({ a: [tensor([1, 2])], b: tensor(3) }, (leaf) => leaf.map((x) => -x));
    assert.deepEqual(plain(out), { a: [[-1, -2]], b: -3 });
  });
});

describe('batchSizeOf() and exampleOf()', () => {
  const batch = toTree(
    {
      image: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      label: [7, 8, 9],
    },
    'batch',
  );

  it('reads the batch size from the first axis of the leaves', () => {
    assert.equal(batchSizeOf(batch), 3);
  });

  it('refuses leaves of different first axes, single numbers and empty trees', () => {
    refused(
      () => batchSizeOf(toTree({ a: [1, 2], b: [1, 2, 3] }, 'x')),
      /\.b holds 3 examples but \.a holds 2/,
    );
    refused(() => batchSizeOf(toTree({ a: 1 }, 'x')), /the batch at \.a is a single number/);
    refused(() => batchSizeOf({}), /has no tensors/);
  });

  it('slices one example, sharing data', () => {
    const example = exampleOf(batch, 1) as Record<string, Tensor>;
    assert.deepEqual(plain(example), { image: [3, 4], label: 8 });
    assert.equal(example.image!.data.buffer, (batch as Record<string, Tensor>).image!.data.buffer);
  });
});
