/**
 * BatchFlow's `Batch`: a slice of data (an array, a typed array, or named components)
 * with the ids of its items. Subclasses add actions, usually methods decorated with
 * `@inbatchParallel`, which run once per item.
 */
import { ValidationError } from '../core/errors.ts';
import type { KeyScope } from '../core/keys.ts';

/** What a batch holds: an array or a typed array of items. */
export type BatchData = ArrayLike<unknown>;

/** The id of an item: its position, unless the batch was given an index. */
export type ItemId = string | number;

/** Options of a {@link Batch}. */
export interface BatchOptions {
  /**
   * The ids of the batch's items, one per item, in order (a dataset's batches get the
   * dataset's ids).
   * @default the positions `0..length-1`
   */
  readonly index?: readonly ItemId[];
}

/** A class of batches, as datasets and workers construct them. */
export interface BatchClass<B extends Batch = Batch> {
  new (data?: unknown, options?: BatchOptions): B;
  readonly prototype: B;
  /** Names of the batch's data components, when it has any. */
  readonly components?: readonly string[];
}

/**
 * What a pipeline gives the batches it makes: the key scope their parallel calls are
 * recorded under (so that batches processed at once never share one) and the signal that
 * stops them.
 */
export interface BatchContext {
  readonly scope?: KeyScope;
  readonly signal?: AbortSignal;
}

const contexts = new WeakMap<Batch, BatchContext>();

/**
 * A batch of items. Give it an array or a typed array (`new MyBatch(data)`), or, when the
 * class declares `static components = ['images', 'labels']`, an object with one array per
 * component (`new MyBatch({ images, labels })`); each component is then a property of the
 * batch (declare it in TypeScript: `declare images: Float32Array[]`). Everything else a
 * batch holds is its own enumerable properties: they travel to worker threads with it.
 *
 * @example
 * class Squares extends Batch {
 *   @action
 *   @inbatchParallel({ init: 'indices', post: 'store' })
 *   square(i: number) { return this.data[i] ** 2; }
 *   store(results: number[]) { this.data = Float64Array.from(results); return this; }
 * }
 * await new Squares([1, 2, 3]).square();  // data [1, 4, 9]
 */
// biome-ignore lint/suspicious/noExplicitAny: a batch's data is whatever its subclass holds, indexed freely as in BatchFlow
export class Batch<D = any> {
  /** Names of this class's data components; none by default. */
  static components?: readonly string[];

  /**
   * The batch's data: what it was made with, or, for a batch with components, an object
   * of its components (setting it sets each component).
   */
  declare data: D;
  /** The ids of the items, or undefined when they are their positions. */
  declare readonly index: readonly ItemId[] | undefined;

  constructor(data?: D | Record<string, unknown>, options: BatchOptions = {}) {
    const components = componentsOf(this);
    Object.defineProperty(this, 'index', {
      value: options.index === undefined ? undefined : Object.freeze([...options.index]),
      enumerable: true,
      writable: false,
    });
    if (components.length === 0) {
      Object.defineProperty(this, 'data', { value: data, enumerable: true, writable: true });
    } else {
      defineComponentData(this, components);
      if (data !== undefined && (typeof data !== 'object' || data === null)) {
        throw new ValidationError(
          `${this.constructor.name} has components (${components.join(', ')}): build it with an object of them, e.g. new ${this.constructor.name}({ ${components[0]}: … }).`,
        );
      }
      const given = (data ?? {}) as Record<string, unknown>;
      for (const name of Object.keys(given)) {
        if (!components.includes(name)) {
          throw new ValidationError(
            `${this.constructor.name} has no component '${name}': its components are ${components.join(', ')}.`,
          );
        }
      }
      for (const name of components) {
        Object.defineProperty(this, name, { value: given[name], enumerable: true, writable: true });
      }
    }
    if (this.index !== undefined && dataLength(this) !== undefined) {
      const length = dataLength(this)!;
      if (length !== this.index.length) {
        throw new ValidationError(
          `${this.constructor.name}: the index has ${this.index.length} ids but the data has ${length} items; give one id per item.`,
        );
      }
    }
  }

  /** The ids of the items: the index given, else the positions `0..length-1`. */
  get indices(): readonly ItemId[] {
    if (this.index !== undefined) return this.index;
    return Array.from({ length: this.length }, (_, position) => position);
  }

  /** How many items the batch holds. */
  get length(): number {
    return this.index?.length ?? dataLength(this) ?? 0;
  }

  /** The names of this batch's components (none for a batch of plain data). */
  get components(): readonly string[] {
    return componentsOf(this);
  }

  /** The position of the item with id `id`. @throws ValidationError when there is none */
  position(id: ItemId): number {
    if (this.index === undefined) {
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < this.length) return id;
    } else {
      const position = this.index.indexOf(id);
      if (position >= 0) return position;
    }
    throw new ValidationError(
      `${this.constructor.name} has no item with id ${JSON.stringify(id)} (it has ${this.length}).`,
    );
  }

  /**
   * The item with id `id`: its element of the data, or, with components, an object of its
   * element of each component (only `component` when given).
   */
  get(id: ItemId, component?: string): unknown {
    const position = this.position(id);
    if (component !== undefined) return elementAt(this.component(component), position);
    const names = componentsOf(this);
    if (names.length === 0) return elementAt(this.data as unknown, position);
    return Object.fromEntries(
      names.map((name) => [name, elementAt(this.component(name), position)]),
    );
  }

  /** The component named `name`. @throws ValidationError when the class has no such component */
  component(name: string): unknown {
    if (!componentsOf(this).includes(name)) {
      throw new ValidationError(
        `${this.constructor.name} has no component '${name}'` +
          (componentsOf(this).length === 0
            ? ': declare static components = [...] on the class.'
            : `: its components are ${componentsOf(this).join(', ')}.`),
      );
    }
    return (this as unknown as Record<string, unknown>)[name];
  }
}

/** A batch with components reads and writes them all as `data`. */
function defineComponentData(batch: Batch, components: readonly string[]): void {
  const own = batch as unknown as Record<string, unknown>;
  Object.defineProperty(batch, 'data', {
    get: () => Object.fromEntries(components.map((name) => [name, own[name]])),
    set: (value: Record<string, unknown>) => {
      for (const name of components) own[name] = value[name];
    },
    enumerable: false,
    configurable: true,
  });
}

/**
 * What a batch holds, as plain data: its own enumerable properties (data or components,
 * index, and any other field). This is what travels to worker threads.
 */
export function batchState(batch: Batch): Record<string, unknown> {
  return { ...(batch as unknown as Record<string, unknown>) };
}

/**
 * A batch of class `Class` holding `state` (made by {@link batchState}), rebuilt without
 * calling its constructor, whose arguments a worker does not know.
 */
export function rebuildBatch<B extends Batch>(
  Class: BatchClass<B>,
  state: Record<string, unknown>,
): B {
  const batch = Object.create(Class.prototype) as B;
  for (const [name, value] of Object.entries(state)) {
    Object.defineProperty(batch, name, {
      value,
      enumerable: true,
      writable: name !== 'index',
      configurable: true,
    });
  }
  const components = Class.components ?? [];
  if (components.length > 0) defineComponentData(batch, components);
  return batch;
}

/** How many items the data (or the first component) holds; workers' rebuilt batches have no private fields, so this is not one. */
function dataLength(batch: Batch): number | undefined {
  const names = componentsOf(batch);
  const first = names.length === 0 ? (batch.data as unknown) : batch.component(names[0]!);
  const length = (first as { length?: unknown } | undefined | null)?.length;
  return typeof length === 'number' ? length : undefined;
}

function componentsOf(batch: Batch): readonly string[] {
  return (batch.constructor as BatchClass).components ?? [];
}

function elementAt(data: unknown, position: number): unknown {
  if (data === undefined || data === null) return undefined;
  return (data as ArrayLike<unknown>)[position];
}

/** The context a pipeline gave `batch` (empty for a batch made by hand). */
export function batchContext(batch: Batch): BatchContext {
  return contexts.get(batch) ?? {};
}

/** Gives `batch` the scope and signal of the pipeline step that processes it. */
export function setBatchContext(batch: Batch, context: BatchContext): void {
  contexts.set(batch, context);
}

/** True for batches of `weftjs/batch`, also those made by another copy of it. */
export function isBatch(value: unknown): value is Batch {
  return (
    value instanceof Batch ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Batch).position === 'function' &&
      typeof (value as Batch).component === 'function' &&
      'indices' in value)
  );
}
