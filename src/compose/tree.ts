/**
 * Trees ("PyTrees"): plain objects and arrays whose leaves are tensors. Operators return
 * trees, merges walk several trees leaf by leaf, and a batch is a tree whose leaves share
 * their first axis. Keys are users' own (any string, `__proto__` included): trees are
 * built with own properties only, never by assignment, so no key reaches a prototype.
 */
import { describeValue, isPlainObject } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import {
  isTensor,
  isTensorLike,
  type Tensor,
  type TensorValues,
  tensorFrom,
  tensorOf,
} from './tensor.ts';

/** Core's plain-object test (`{}` or a null prototype), for the modules that read trees. */
export { isPlainObject };

/** A tensor, or arrays and plain objects of trees. */
export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree };

/**
 * What an operator may return: a tree whose leaves may also be typed arrays, nested
 * number arrays or numbers; {@link toTree} makes them tensors.
 */
export type TreeInput = TensorValues | readonly TreeInput[] | { readonly [key: string]: TreeInput };

/** Trees nest at most this deep: deeper is a cycle or hostile input. */
const maxDepth = 64;

/**
 * `value` as a tree of tensors. An array whose first element (looking through nested
 * arrays) is a number, or an empty array, is one leaf; other arrays and plain objects are
 * branches.
 * @param what names the value in errors, e.g. `operator 'flip' output`
 * @throws ValidationError naming the path of a value that is neither
 */
export function toTree(value: unknown, what: string): Tree {
  return convert(value, what, '', 0);
}

function convert(value: unknown, what: string, path: string, depth: number): Tree {
  if (isTensor(value)) return value;
  if (typeof value === 'number' || isNumericArray(value) || ArrayBuffer.isView(value)) {
    return tensorOf(value as TensorValues, {}, at(what, path));
  }
  if (depth >= maxDepth) {
    throw new ValidationError(
      `${at(what, path)}: the tree nests deeper than ${maxDepth} levels; is it cyclic?`,
    );
  }
  if (Array.isArray(value)) {
    // An indexed loop, not map(): map() skips holes, which would leave holes in the tree.
    const out: Tree[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      out[i] = convert(value[i], what, pathOf(path, i), depth + 1);
    }
    return out;
  }
  if (isTensorLike(value)) return tensorFrom(value);
  if (isPlainObject(value)) {
    const out: Record<string, Tree> = {};
    for (const key of Object.keys(value)) {
      setOwn(out, key, convert(value[key], what, pathOf(path, key), depth + 1));
    }
    return out;
  }
  throw new ValidationError(
    `${at(what, path)} is ${describeValue(value)}; a tree's leaves are tensors, typed arrays, numbers or nested number arrays, and its branches arrays or plain objects.`,
  );
}

/** True for an array that is one tensor's values rather than a list of trees. */
function isNumericArray(value: unknown): boolean {
  let level = value;
  while (Array.isArray(level)) {
    if (level.length === 0) return true;
    level = level[0];
  }
  return level !== value && typeof level === 'number';
}

/** Sets `key` as an own, enumerable property: `__proto__` too, with no prototype change. */
export function setOwn<T>(
  target: Record<string | number, T>,
  key: string | number,
  value: T,
): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** `what` at `path`: `operator_0 ('flip') at .image`, or `what` alone at the top. */
function at(what: string, path: string): string {
  return path === '' ? what : `${what} at ${path}`;
}

/** The path of `key` under `path`, as it would be written in JavaScript. */
export function pathOf(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Every leaf of `tree` with its path, in order (object keys in their own order). */
export function leavesOf(tree: Tree): { readonly path: string; readonly leaf: Tensor }[] {
  const out: { path: string; leaf: Tensor }[] = [];
  const walk = (node: Tree, path: string): void => {
    if (isTensor(node)) out.push({ path, leaf: node });
    else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) walk(node[i]!, pathOf(path, i));
    } else
      for (const key of Object.keys(node))
        walk((node as Record<string, Tree>)[key]!, pathOf(path, key));
  };
  walk(tree, '');
  return out;
}

/** `tree` with each leaf replaced by `fn(leaf, path)`. */
export function mapLeaves(tree: Tree, fn: (leaf: Tensor, path: string) => Tree): Tree {
  return zipLeaves(
    [tree],
    (leaves, path) => fn(leaves[0]!, path),
    () => 'the tree',
  );
}

/**
 * One tree from several of the same structure: each leaf is `fn` of the trees' leaves at
 * that place. Objects match by their keys, whatever their order (the first tree's order
 * is kept); arrays by their length.
 * @param nameOf names tree `i` in errors, e.g. `operator_1 ('flip')`
 * @throws ValidationError naming the path and the trees whose structures differ
 */
export function zipLeaves<R = Tree>(
  trees: readonly Tree[],
  fn: (leaves: Tensor[], path: string) => R,
  nameOf: (index: number) => string,
): R | Tree {
  const walk = (nodes: readonly Tree[], path: string): R | Tree => {
    const first = nodes[0]!;
    const where = path === '' ? 'at the top' : `at ${path}`;
    if (isTensor(first)) {
      nodes.forEach((node, i) => {
        if (!isTensor(node)) {
          throw new ValidationError(
            `The outputs differ in structure ${where}: ${nameOf(0)} has a tensor there but ${nameOf(i)} has ${kindOf(node)}. Every output must have the same structure to merge.`,
          );
        }
      });
      return fn(nodes as Tensor[], path);
    }
    if (Array.isArray(first)) {
      nodes.forEach((node, i) => {
        if (!Array.isArray(node) || node.length !== first.length) {
          throw new ValidationError(
            `The outputs differ in structure ${where}: ${nameOf(0)} has an array of ${first.length} but ${nameOf(i)} has ${kindOf(node)}. Every output must have the same structure to merge.`,
          );
        }
      });
      return first.map((_, index) =>
        walk(
          nodes.map((node) => (node as readonly Tree[])[index]!),
          pathOf(path, index),
        ),
      ) as Tree;
    }
    const keys = Object.keys(first);
    const out: Record<string, R | Tree> = {};
    nodes.forEach((node, i) => {
      const same =
        isPlainObject(node) &&
        Object.keys(node).length === keys.length &&
        keys.every((key) => Object.hasOwn(node, key));
      if (!same) {
        throw new ValidationError(
          `The outputs differ in structure ${where}: ${nameOf(0)} has ${kindOf(first)} but ${nameOf(i)} has ${kindOf(node)}. Every output must have the same structure to merge.`,
        );
      }
    });
    for (const key of keys) {
      setOwn(
        out,
        key,
        walk(
          nodes.map((node) => (node as Record<string, Tree>)[key]!),
          pathOf(path, key),
        ),
      );
    }
    return out as Tree;
  };
  if (trees.length === 0) throw new ValidationError('zipLeaves(): no trees to walk.');
  return walk(trees, '');
}

/**
 * The batch size of `batch`: the first axis of its leaves, which must all agree.
 * @throws ValidationError naming the leaf without a first axis or of another size
 */
export function batchSizeOf(batch: Tree, what = 'the batch'): number {
  let size: number | undefined;
  let firstPath = '';
  for (const { path, leaf } of leavesOf(batch)) {
    const length = leaf.shape[0];
    if (length === undefined) {
      throw new ValidationError(
        `${at(what, path)} is a single number (shape []); a batch's leaves have the examples on their first axis.`,
      );
    }
    if (size === undefined) {
      size = length;
      firstPath = path;
    } else if (length !== size) {
      throw new ValidationError(
        `${what}: ${path || 'a leaf'} holds ${length} examples but ${firstPath || 'the first leaf'} holds ${size}; every leaf of a batch has the batch size as its first axis.`,
      );
    }
  }
  if (size === undefined) throw new ValidationError(`${what} has no tensors in it.`);
  return size;
}

/** Example `index` of `batch`: every leaf's slice along the first axis, sharing data. */
export function exampleOf(batch: Tree, index: number): Tree {
  return mapLeaves(batch, (leaf) => leaf.at(index));
}

function kindOf(node: unknown): string {
  if (isTensor(node)) return `a tensor of shape [${node.shape.join(', ')}]`;
  if (Array.isArray(node)) return `an array of ${node.length}`;
  if (isPlainObject(node)) {
    const keys = Object.keys(node);
    return `an object with keys ${keys.length === 0 ? '(none)' : keys.map((key) => JSON.stringify(key)).join(', ')}`;
  }
  return describeValue(node);
}
