/**
 * What one task of a composite carries: one operator over one chunk of examples. Tensors
 * travel as their plain fields (`{ shape, dtype, data }`), which structured clone and the
 * run store both keep, and become tensors again on arrival, sharing their data. On
 * threads the batch is put in shared memory once, and every chunk of every operator reads
 * it there; elsewhere a chunk carries only its own examples.
 */
import type { DefinitionRef } from '../core/registry.ts';
import type { OutputSink, WireSink } from './output-sink.ts';
import type { ValuePath } from './packed-tensors.ts';
import { type DType, type Tensor, type TypedArray, typedArray } from './tensor.ts';
import { mapLeaves, type Tree } from './tree.ts';

/** A tensor as it crosses a thread, a process or the store: its fields, without its class. */
export interface WireTensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: TypedArray;
}

/** A tree whose leaves are {@link WireTensor}s. */
export type WireTree = WireTensor | readonly WireTree[] | { readonly [key: string]: WireTree };

/** One operator over examples `[start, end)`, as the chunk runner is given it. */
export interface ChunkJob<B = Tree, S = OutputSink> {
  /** The composite's name, for errors. */
  readonly composite: string;
  readonly operator: { readonly index: number; readonly name: string };
  /** The examples, from example `first` of the batch on (0 when it is the whole batch). */
  readonly batch: B;
  readonly first: number;
  readonly start: number;
  readonly end: number;
  /**
   * Each example's number as the operator sees it (`ctx.index`, its random stream, its
   * errors): for a composite nested under a condition, the outer batch's numbers of the
   * examples it was given; undefined: `start` to `end`.
   */
  readonly examples: readonly number[] | undefined;
  /** The operator's seed: the apply's, folded with the operator's index. */
  readonly seed: number;
  readonly state: unknown;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  readonly extraParams: Readonly<Record<string, unknown>>;
  /** Per example of the chunk: 0 where the operator's condition is false. */
  readonly mask: Uint8Array | undefined;
  /** Where to write the outputs when they are shaped as it is (else into buffers of its own). */
  readonly sink: S | undefined;
  /**
   * Set (in shared memory, one slot per attempt) when the chunk's attempt must stop: worker
   * threads busy in a synchronous operator read it between examples. Undefined elsewhere.
   */
  readonly stop: Int32Array | undefined;
  /**
   * True when a run records the outputs: states and metadata then come back without shared
   * memory (a store keeps plain buffers only), though the operator may view the batch's.
   */
  readonly recorded: boolean;
}

/**
 * A chunk sent to a worker: its job with the batch in wire form and the operator's task;
 * tensors in its `extraParams`, `state` and `metadata` travel as their fields.
 */
export interface ChunkRequest extends ChunkJob<WireTree, WireSink> {
  /** How the worker finds the operator's task. */
  readonly ref: DefinitionRef;
  /** Where those tensors were, from this request: `['extraParams', 'cfg', 'k']`. */
  readonly tensors: readonly ValuePath[];
}

/** What a chunk gives back, as plain data (also what a run records for it). */
export interface ChunkOutput {
  /** The operator's outputs, each leaf of shape `[end - start, ...exampleShape]`. */
  readonly data: WireTree;
  /** Per example, the state the operator reported (or was given); null when none reported. */
  readonly states: unknown[] | null;
  /** Per example, the metadata the operator reported (or was given); null when none reported. */
  readonly metadata: unknown[] | null;
  /** True when the operator ran on some example (false: every condition was false). */
  readonly computed: boolean;
  /** The id of the sink the outputs were written into, when they were. */
  readonly writtenInto: string | undefined;
  /**
   * Where tensors in `states` and `metadata` were, from this output (`['states', 2,
   * 'mean']`): they travel, and are recorded, as their fields. Absent: none.
   */
  readonly tensors?: readonly ValuePath[];
}

/** `tensor`'s fields, as they travel. */
export function wireTensor(tensor: Tensor, data: TypedArray = tensor.data): WireTensor {
  return { shape: [...tensor.shape], dtype: tensor.dtype, data };
}

/** `tree` with plain `{ shape, dtype, data }` leaves, sharing their data. */
export function wireOf(tree: Tree): WireTree {
  return mapLeaves(tree, (leaf) => wireTensor(leaf) as unknown as Tree) as unknown as WireTree;
}

/**
 * `batch` with every leaf's data in shared memory: copied once into a new
 * SharedArrayBuffer, or as it is when it is there already. Worker threads then read it
 * without a copy. Never taken from the shared pool nor given back to it: operators see
 * this memory and may keep views of it in their states and metadata.
 */
export function sharedBatch(batch: Tree): WireTree {
  return mapLeaves(batch, (leaf) => {
    if (leaf.data.buffer instanceof SharedArrayBuffer) return wireTensor(leaf) as unknown as Tree;
    const shared = typedArray(leaf.dtype, leaf.size, new SharedArrayBuffer(leaf.data.byteLength));
    shared.set(leaf.data as unknown as ArrayLike<number>);
    return wireTensor(leaf, shared) as unknown as Tree;
  }) as unknown as WireTree;
}

/**
 * Examples `[start, end)` of `batch`, copied: a view would carry its whole buffer with it
 * to a process, which copies everything it is sent.
 */
export function sliceBatch(batch: Tree, start: number, end: number): WireTree {
  return mapLeaves(batch, (leaf) => {
    const stride = leaf.shape[0] === 0 ? 0 : leaf.size / leaf.shape[0]!;
    const data = leaf.data.slice(start * stride, end * stride) as TypedArray;
    return {
      shape: [end - start, ...leaf.shape.slice(1)],
      dtype: leaf.dtype,
      data,
    } as unknown as Tree;
  }) as unknown as WireTree;
}
