/**
 * Layers: the steps of a flow. A layer's function gets `self` (to `set` plain attributes
 * and `shard` iterable ones, and, in a ForEach task, its `index` and `splits`) and one
 * view per upstream layer, whose properties are that layer's attributes.
 */
import { ValidationError } from '../core/errors.ts';
import type { ForEach } from './foreach.ts';

/** Retry of a layer's tasks (laminar's `Retry`): each ForEach task is retried on its own. */
export interface RetryOptions {
  /** Tries in all, the first included. @default 1 */
  readonly attempts?: number;
  /** Milliseconds before the first retry. @default 0 */
  readonly delay?: number;
  /** Each further retry waits this many times longer. @default 1 */
  readonly backoff?: number;
  /** Up to this many milliseconds added to each delay at random. @default 0 */
  readonly jitter?: number;
  /**
   * Names of the errors that are retried (`error.name`, e.g. `'TimeoutError'`); others
   * fail the task at once. @default every error
   */
  readonly errors?: readonly string[];
}

/** Options of a layer. */
export interface LayerOptions {
  /** Runs the layer once per element of its parameters' product. */
  readonly foreach?: ForEach;
  /** Retry of each task. @default one attempt */
  readonly retry?: RetryOptions;
  /** Most ForEach tasks in flight. @default the flow's */
  readonly concurrency?: number;
}

/** What a layer's function is told and writes through. */
export interface LayerSelf {
  /** The layer's name. */
  readonly name: string;
  /** The ForEach task's number (0 for a layer without ForEach). */
  readonly index: number;
  /** Number of ForEach tasks of the layer (1 without ForEach). */
  readonly splits: number;
  /** 1 on the first try. */
  readonly attempt: number;
  /** Aborted when the flow stops. */
  readonly signal: AbortSignal;
  /**
   * Sets plain attributes, read downstream as values. Any identifier names an attribute,
   * `constructor` and `__proto__` included; in an object literal write `['__proto__']: v`,
   * since `__proto__: v` sets the literal's prototype.
   */
  set(values: Readonly<Record<string, unknown>>): void;
  /** Sets sharded attributes: each element of each iterable is stored separately and read downstream through an Accessor. */
  shard(values: Readonly<Record<string, Iterable<unknown>>>): void;
}

/** The attributes of an upstream layer, as a layer's function sees them. */
// biome-ignore lint/suspicious/noExplicitAny: attributes are named by the user at run time.
export type LayerView = Readonly<Record<string, any>>;

/** A layer's function: `self`, then one view per upstream layer, in order. */
export type LayerFn = (self: LayerSelf, ...upstream: LayerView[]) => void | Promise<void>;

/** A layer of a flow, as returned by `flow.layer(...)`: pass it as an upstream or a Parameter's layer. */
export interface Layer {
  readonly name: string;
  /** The flow it belongs to. */
  readonly flowName: string;
  /** Its options: ForEach, retry, concurrency. */
  readonly options: LayerOptions;
  /** Its function. */
  readonly fn: LayerFn;
  /** Upstream layers, in the order their views are passed. */
  readonly upstream: readonly Layer[];
}

/**
 * What a layer's function wrote: plain values and shards, by attribute. Maps, so that any
 * name (`constructor`, `__proto__`) is a plain key.
 */
export interface LayerOutput {
  /** Attributes given to `set`. */
  readonly values: Map<string, unknown>;
  /** Attributes given to `shard`, as arrays of their elements. */
  readonly shards: Map<string, unknown[]>;
}

/** Attribute names: identifiers, so that `view.name` reads them. */
const attributeName = /^[A-Za-z_$][\w$]*$/;

/** True when `name` may name an attribute. */
export function isAttributeName(name: unknown): name is string {
  return typeof name === 'string' && attributeName.test(name);
}

/** The attributes handed to set() or shard(), refused unless they are a plain object. */
function entriesOf(layer: string, how: string, values: unknown): [string, unknown][] {
  if (values === undefined || values === null) return [];
  const prototype = typeof values === 'object' ? Object.getPrototypeOf(values) : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    throw new ValidationError(
      `Layer ${layer}: ${how}() takes a plain object of attributes, got ${describe(values)}. ` +
        "An object literal's __proto__: sets its prototype, not an attribute: write ['__proto__']: instead.",
    );
  }
  return Object.entries(values);
}

function describe(value: unknown): string {
  if (typeof value !== 'object') return typeof value;
  if (Array.isArray(value)) return 'an array';
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === 'string' && name !== 'Object' ? `a ${name}` : 'an object with a prototype';
}

/** Makes `self` for one task; `output` collects what the function sets. */
export function makeSelf(
  name: string,
  index: number,
  splits: number,
  attempt: number,
  signal: AbortSignal,
): { self: LayerSelf; output: LayerOutput } {
  const output: LayerOutput = { values: new Map(), shards: new Map() };
  const claim = (attribute: string, how: string) => {
    if (!isAttributeName(attribute)) {
      throw new ValidationError(
        `Layer ${name}: '${attribute}' is not a valid attribute name: use letters, digits and _.`,
      );
    }
    if (output.values.has(attribute) || output.shards.has(attribute)) {
      throw new ValidationError(
        `Layer ${name} sets '${attribute}' twice (${how}): each attribute is set once per task.`,
      );
    }
  };
  const self: LayerSelf = {
    name,
    index,
    splits,
    attempt,
    signal,
    set(values) {
      for (const [attribute, value] of entriesOf(name, 'set', values)) {
        claim(attribute, 'set');
        output.values.set(attribute, value);
      }
    },
    shard(values) {
      for (const [attribute, iterable] of entriesOf(name, 'shard', values)) {
        claim(attribute, 'shard');
        if (
          iterable === null ||
          typeof iterable !== 'object' ||
          typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== 'function'
        ) {
          throw new ValidationError(
            `Layer ${name}: shard({ ${attribute} }) needs an iterable (an array, a Set, a generator…); ` +
              `each element is stored separately. Use set() for a single value.`,
          );
        }
        output.shards.set(attribute, [...(iterable as Iterable<unknown>)]);
      }
    },
  };
  return { self, output };
}

/** Names read by the runtime and tools (awaiting, printing, serialising), never attributes. */
const notAttributes = new Set(['then', 'toJSON', 'constructor', 'inspect', 'asymmetricMatch']);

/**
 * A layer's view that refuses unknown attributes: `shard.fooo` is an error naming the
 * layer and what it has, rather than a silent undefined. Its attributes are own
 * properties of an object without a prototype, so that any name reads as itself:
 * `view.constructor` is the attribute `constructor` when the layer wrote one.
 */
export function strictView(
  layer: string,
  attributes: ReadonlyMap<string, unknown>,
  tasks?: number,
): LayerView {
  const values: Record<string, unknown> = Object.create(null);
  for (const [attribute, value] of attributes) {
    Object.defineProperty(values, attribute, { value, enumerable: true });
  }
  Object.freeze(values);
  return new Proxy(values, {
    get(target, property, receiver) {
      if (
        typeof property === 'string' &&
        !Object.hasOwn(target, property) &&
        !notAttributes.has(property)
      ) {
        throw new ValidationError(
          tasks === 0
            ? `Layer ${layer} ran no tasks (its ForEach grid is empty), so it has no attribute '${property}'.`
            : `Layer ${layer} has no attribute '${property}'; it has ${Object.keys(target).join(', ') || 'none'}.`,
        );
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
