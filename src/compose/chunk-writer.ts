/**
 * Writes an operator's per-example outputs into one buffer per leaf, the examples on its
 * first axis, as JAX's vmap stacks them. The first example's output sets the structure,
 * shapes and dtypes that every other example's output must have; where the operator's
 * condition is false its output is its input, which must match them too (as datarax's
 * `lax.cond` requires), so that the result never depends on how examples are chunked.
 */
import { ValidationError } from '../core/errors.ts';
import type { WireTree } from './chunk-transport.ts';
import type { OutputSink } from './output-sink.ts';
import { type DType, sameShape, type Tensor, type TypedArray, typedArray } from './tensor.ts';
import { leavesOf, mapLeaves, type Tree } from './tree.ts';

/** How an example's output is named in errors. */
export interface OutputOrigin {
  readonly example: number;
  /** True when the operator did not run there (its condition was false): the output is its input. */
  readonly identity: boolean;
}

export class ChunkWriter {
  readonly #template: Tree;
  readonly #origin: OutputOrigin;
  readonly #paths: string[];
  readonly #shapes: (readonly number[])[];
  readonly #dtypes: DType[];
  readonly #strides: number[];
  readonly #outputs: TypedArray[];
  readonly #count: number;
  /** The sink written into, when the outputs are shaped as it is. */
  readonly writtenInto: string | undefined;

  /**
   * A writer for `count` examples, shaped after `first`, the output of the chunk's first
   * example: into `place`'s sink from row `start` when it fits, else into new buffers.
   */
  constructor(
    first: Tree,
    origin: OutputOrigin,
    count: number,
    place?: { readonly sink: OutputSink; readonly start: number },
  ) {
    const leaves = leavesOf(first);
    this.#template = first;
    this.#origin = origin;
    this.#count = count;
    this.#paths = leaves.map(({ path }) => path);
    this.#shapes = leaves.map(({ leaf }) => leaf.shape);
    this.#dtypes = leaves.map(({ leaf }) => leaf.dtype);
    this.#strides = leaves.map(({ leaf }) => leaf.size);
    const rows = place?.sink.rows(first, place.start, count);
    this.writtenInto = rows === undefined ? undefined : place!.sink.id;
    this.#outputs = rows ?? leaves.map(({ leaf }) => typedArray(leaf.dtype, leaf.size * count));
  }

  /**
   * Writes the output of the chunk's example `at`.
   * @throws ValidationError naming both examples and the shapes or dtypes when it differs
   * from the first
   */
  write(output: Tree, at: number, origin: OutputOrigin): void {
    const leaves = leavesOf(output);
    if (leaves.length !== this.#paths.length) this.#differs(origin, output);
    for (let j = 0; j < leaves.length; j++) {
      const { path, leaf } = leaves[j]!;
      if (path !== this.#paths[j] || !sameShape(leaf.shape, this.#shapes[j]!)) {
        this.#differs(origin, output);
      }
      if (leaf.dtype !== this.#dtypes[j]) {
        throw dtypeMismatch(path, origin, leaf.dtype, this.#origin, this.#dtypes[j]!);
      }
      (this.#outputs[j] as Float64Array).set(
        leaf.data as ArrayLike<number>,
        at * this.#strides[j]!,
      );
    }
  }

  /** The buffers written, unless shared: they move back to the calling thread rather than being copied. */
  get buffers(): ArrayBuffer[] {
    if (this.writtenInto !== undefined) return [];
    return this.#outputs.map((output) => output.buffer as ArrayBuffer);
  }

  /** The outputs, each leaf `[count, ...exampleShape]`, as they travel. */
  wire(): WireTree {
    let j = 0;
    return mapLeaves(this.#template, (leaf: Tensor) => {
      const data = this.#outputs[j++]!;
      return { shape: [this.#count, ...leaf.shape], dtype: leaf.dtype, data } as unknown as Tree;
    }) as unknown as WireTree;
  }

  #differs(origin: OutputOrigin, output: Tree): never {
    const found = describeLeaves(shapesOf(output));
    const expected = describeLeaves(shapesOf(this.#template));
    throw new ValidationError(
      `its output for example ${origin.example}${whose(origin)} is ${found}, but for example ` +
        `${this.#origin.example}${whose(this.#origin)} it is ${expected}. Every example's output ` +
        'must have the same structure and shapes' +
        (origin.identity || this.#origin.identity ? identityHint : '.'),
    );
  }
}

/**
 * The error for an output whose leaf at `path` has dtype `found` at `origin` but `expected`
 * at `first`: where one of them is the operator's input, the fix is returning its dtype.
 */
export function dtypeMismatch(
  path: string,
  origin: OutputOrigin,
  found: DType,
  first: OutputOrigin,
  expected: DType,
): ValidationError {
  const at = path === '' ? '' : ` at ${path}`;
  return new ValidationError(
    `its output${at} for example ${origin.example}${whose(origin)} is ${found}, but for example ` +
      `${first.example}${whose(first)} it is ${expected}. Every example's output must have the ` +
      'same dtype' +
      (origin.identity || first.identity
        ? "; where an operator's condition is false its output is its input, so under a " +
          "ConditionalParallelStrategy an operator must return its input's dtype: " +
          'make its output in that dtype (`x.map(fn, x.dtype)`, `out.copy(x.dtype)`).'
        : ': make it in one dtype (`x.map(fn, dtype)`, `out.copy(dtype)`).'),
  );
}

/** Ends a message about an output that is an operator's input, where its condition is false. */
export const identityHint =
  "; where an operator's condition is false its output is its input, so under a " +
  "ConditionalParallelStrategy an operator must keep its input's structure and shapes.";

function whose(origin: OutputOrigin): string {
  return origin.identity ? ' (its input: the condition is false there)' : '';
}

/** `a tensor of shape [2, 3]` or `{ .image: [2, 3], .label: [] }`, for messages. */
export function describeLeaves(
  leaves: readonly { path: string; shape: readonly number[] }[],
): string {
  if (leaves.length === 1 && leaves[0]!.path === '') {
    return `a tensor of shape [${leaves[0]!.shape.join(', ')}]`;
  }
  if (leaves.length === 0) return 'a tree without tensors';
  const shown = leaves.slice(0, 8).map(({ path, shape }) => `${path}: [${shape.join(', ')}]`);
  return `{ ${shown.join(', ')}${leaves.length > 8 ? `, … ${leaves.length - 8} more` : ''} }`;
}

function shapesOf(tree: Tree): { path: string; shape: readonly number[] }[] {
  return leavesOf(tree).map(({ path, leaf }) => ({ path, shape: leaf.shape }));
}
