/**
 * Where the chunks of one operator write their outputs: one buffer per leaf holding the
 * whole batch's rows, so that joining the chunks copies nothing. In this thread the
 * first chunk to write makes it, shaped after its output. For worker threads it is made
 * beforehand in shared memory, shaped like the batch (most operators keep their input's
 * shapes: flips, noise, brightness); a chunk whose output is shaped otherwise writes
 * buffers of its own, as do chunks in processes, which cannot share memory.
 */
import { randomUUID } from 'node:crypto';
import type { WireTree } from './chunk-transport.ts';
import { takeShared } from './shared-pool.ts';
import { type DType, Tensor, type TypedArray, typedArray } from './tensor.ts';
import { leavesOf, mapLeaves, type Tree, toTree } from './tree.ts';

/** One leaf of a sink: its place in the tree, one example's shape, and every row. */
interface SinkLeaf {
  readonly path: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: TypedArray;
}

/** A sink as it travels to worker threads: its id, and its buffers (shared, not copied). */
export interface WireSink {
  readonly id: string;
  readonly tree: WireTree;
}

export class OutputSink {
  /**
   * Names this sink in the outputs of the chunks written into it: a chunk recorded by an
   * earlier attempt of a run names another, and is copied in.
   */
  readonly id: string;
  readonly #size: number;
  #leaves: SinkLeaf[] | undefined;
  /** The tree of the first output, for the sink's structure when it was made from one. */
  #template: Tree | undefined;

  private constructor(id: string, size: number, leaves: SinkLeaf[] | undefined, template?: Tree) {
    this.id = id;
    this.#size = size;
    this.#leaves = leaves;
    this.#template = template;
  }

  /** A sink for `size` examples, made by the first chunk that writes to it. */
  static lazy(size: number): OutputSink {
    return new OutputSink(randomUUID(), size, undefined);
  }

  /** A sink in shared memory shaped like `batch`, for worker threads to write into. */
  static sharedLike(batch: Tree, size: number): OutputSink {
    const leaves = leavesOf(batch).map(({ path, leaf }) => ({
      path,
      shape: leaf.shape.slice(1),
      dtype: leaf.dtype,
      data: typedArray(leaf.dtype, leaf.size, takeShared(leaf.data.byteLength)),
    }));
    return new OutputSink(randomUUID(), size, leaves, batch);
  }

  /** The sink a worker was sent (see {@link OutputSink.wire}). */
  static fromWire(wire: WireSink): OutputSink {
    const found = leavesOf(toTree(wire.tree, 'the output sink'));
    const size = found[0]?.leaf.shape[0] ?? 0;
    const leaves = found.map(({ path, leaf }) => ({
      path,
      shape: leaf.shape.slice(1),
      dtype: leaf.dtype,
      data: leaf.data,
    }));
    return new OutputSink(wire.id, size, leaves);
  }

  /** Its shared buffers, to give back to the pool once nothing can use them. */
  sharedBuffers(): SharedArrayBuffer[] {
    return (this.#leaves ?? [])
      .map(({ data }) => data.buffer)
      .filter((buffer): buffer is SharedArrayBuffer => buffer instanceof SharedArrayBuffer);
  }

  /** The sink as it travels to worker threads. */
  wire(): WireSink {
    let j = 0;
    const tree = mapLeaves(this.#template!, () => {
      const { shape, dtype, data } = this.#leaves![j++]!;
      return { shape: [this.#size, ...shape], dtype, data } as unknown as Tree;
    }) as unknown as WireTree;
    return { id: this.id, tree };
  }

  /**
   * For a chunk whose first output is `first`: each leaf's rows `[start, start + count)`
   * in the sink, or undefined when the output is not shaped as the sink is.
   */
  rows(first: Tree, start: number, count: number): TypedArray[] | undefined {
    const leaves = leavesOf(first);
    if (this.#leaves === undefined) {
      this.#template = first;
      this.#leaves = leaves.map(({ path, leaf }) => ({
        path,
        shape: leaf.shape,
        dtype: leaf.dtype,
        data: typedArray(leaf.dtype, leaf.size * this.#size),
      }));
    }
    if (!this.#fits(leaves.map(({ path, leaf }) => ({ path, leaf, tail: leaf.shape })))) {
      return undefined;
    }
    return this.#leaves.map(({ data }, j) => {
      const stride = leaves[j]!.leaf.size;
      return data.subarray(start * stride, (start + count) * stride) as TypedArray;
    });
  }

  /**
   * The operator's batched outputs from its chunks (`trees[i]` holds examples
   * `ranges[i]`; `written[i]` names the sink it was written into, if any), copied into the
   * sink where they are not there already; undefined when they are not shaped as it is.
   */
  join(
    trees: readonly Tree[],
    ranges: readonly (readonly [number, number])[],
    written: readonly (string | undefined)[],
  ): Tree | undefined {
    const sink = this.#leaves;
    if (sink === undefined || this.#template === undefined) return undefined;
    const chunks = trees.map((tree) =>
      leavesOf(tree).map(({ path, leaf }) => ({ path, leaf, tail: leaf.shape.slice(1) })),
    );
    if (!chunks.every((leaves) => this.#fits(leaves))) return undefined;
    chunks.forEach((leaves, i) => {
      // Written in place by its chunk (the usual case): nothing to copy.
      if (written[i] === this.id) return;
      const [start] = ranges[i]!;
      leaves.forEach(({ leaf }, j) => {
        const stride = leaf.size / leaf.shape[0]!;
        (sink[j]!.data as Float64Array).set(leaf.data as ArrayLike<number>, start * stride);
      });
    });
    let j = 0;
    return mapLeaves(this.#template, () => {
      const { shape, dtype, data } = sink[j++]!;
      return new Tensor(data, [this.#size, ...shape], dtype);
    });
  }

  #fits(
    leaves: readonly { path: string; leaf: { dtype: DType }; tail: readonly number[] }[],
  ): boolean {
    const sink = this.#leaves!;
    return (
      leaves.length === sink.length &&
      leaves.every(
        ({ path, leaf, tail }, j) =>
          path === sink[j]!.path &&
          leaf.dtype === sink[j]!.dtype &&
          tail.length === sink[j]!.shape.length &&
          tail.every((length, axis) => length === sink[j]!.shape[axis]),
      )
    );
  }
}
