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
 * batch. Everything else a batch holds is its own enumerable properties: they travel to
 * worker threads with it.
 *
 * Component names must be non-empty strings, each once, and no member of the batch
 * (`data`, `index`, `indices`, `length`, `get`, `position`, `component`, `components`,
 * `constructor`, nor a method of the class).
 *
 * In TypeScript, type components and a narrower `data` with `declare`, never as class
 * fields: `declare images: Float32Array[]`, `declare data: number[]`. A field
 * (`images!: Float32Array[]`, `override data!: number[]`) is defined again once the
 * constructor has run and fails with "TypeError: Cannot redefine property: images".
 *
 * Item ids are not positions: a dataset's batches carry the dataset's ids. Turn an id
 * into a position with `this.position(id)` (init `'indices'` hands each item its id).
 *
 * @example
 * class Squares extends Batch {
 *   @action
 *   @inbatchParallel({ init: 'indices', post: 'store' })
 *   square(id: number) { return this.data[this.position(id)] ** 2; }
 *   store(results: number[]) { this.data = Float64Array.from(results); return this; }
 * }
 * await new Squares([1, 2, 3]).square();  // data [1, 4, 9]
 * @example
 * class Labelled extends Batch {
 *   static override components = ['images', 'labels'];
 *   declare images: Float32Array[];
 *   declare labels: string[];
 * }
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

  /**
   * @throws ValidationError when the class's component names are wrong, the index
   *   repeats an id or has not one id per item, or the components are not an object of them
   */
  constructor(data?: D | Record<string, unknown>, options: BatchOptions = {}) {
    const components = componentsOf(this);
    const index = options.index === undefined ? undefined : Object.freeze([...options.index]);
    // Checks the ids are distinct, and keeps their positions for `position`.
    if (index !== undefined) positionsOf(index, classOf(this).name);
    Object.defineProperty(this, 'index', { value: index, enumerable: true, writable: false });
    if (components.length === 0) {
      Object.defineProperty(this, 'data', { value: data, enumerable: true, writable: true });
    } else {
      defineComponentData(this, components);
      if (data !== undefined && (typeof data !== 'object' || data === null)) {
        throw new ValidationError(
          `${classOf(this).name} has components (${components.join(', ')}): build it with an object of them, e.g. new ${classOf(this).name}({ ${components[0]}: … }).`,
        );
      }
      const given = (data ?? {}) as Record<string, unknown>;
      for (const name of Object.keys(given)) {
        if (!components.includes(name)) {
          throw new ValidationError(
            `${classOf(this).name} has no component '${name}': its components are ${components.join(', ')}.`,
          );
        }
      }
      // Through the data setter, which defines each component from `given`'s own values.
      (this as { data: unknown }).data = given;
    }
    const length = this.index === undefined ? undefined : dataLength(this);
    if (this.index !== undefined && length !== undefined) {
      if (length !== this.index.length) {
        throw new ValidationError(
          `${classOf(this).name}: the index has ${this.index.length} ids but the data has ${length} items; give one id per item.`,
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

  /**
   * The position of the item with id `id` (in constant time: a map of the index is made
   * once per batch).
   * @throws ValidationError when there is none
   */
  position(id: ItemId): number {
    if (this.index === undefined) {
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < this.length) return id;
    } else {
      const position = positionsOf(this.index, classOf(this).name).get(id);
      if (position !== undefined) return position;
    }
    throw new ValidationError(
      `${classOf(this).name} has no item with id ${JSON.stringify(id)} (it has ${this.length}).`,
    );
  }

  /**
   * The item with id `id`: its element of the data, or, with components, an object of its
   * element of each component (only `component` when given).
   */
  get(id: ItemId, component?: string): unknown {
    return itemAt(this, this.position(id), component);
  }

  /** The component named `name`. @throws ValidationError when the class has no such component */
  component(name: string): unknown {
    if (!componentsOf(this).includes(name)) {
      throw new ValidationError(
        `${classOf(this).name} has no component '${name}'` +
          (componentsOf(this).length === 0
            ? ': declare static components = [...] on the class.'
            : `: its components are ${componentsOf(this).join(', ')}.`),
      );
    }
    return Object.getOwnPropertyDescriptor(this, name)?.value;
  }
}

/**
 * The item at `position` of `batch` (not its id): its element of the data, or of
 * `component` when given, or an object of its element of each component.
 */
export function itemAt(batch: Batch, position: number, component?: string): unknown {
  if (component !== undefined) return elementAt(batch.component(component), position);
  const names = componentsOf(batch);
  if (names.length === 0) return elementAt(batch.data as unknown, position);
  // Object.fromEntries defines its keys (never assigns them): '__proto__' is an own key.
  return Object.fromEntries(
    names.map((name) => [name, elementAt(batch.component(name), position)]),
  );
}

/** A batch with components reads and writes them all as `data`. */
function defineComponentData(batch: Batch, components: readonly string[]): void {
  Object.defineProperty(batch, 'data', {
    // Defined keys, not assigned ones, on both sides: a component may be named '__proto__'.
    get: () =>
      Object.fromEntries(
        components.map((name) => [name, Object.getOwnPropertyDescriptor(batch, name)?.value]),
      ),
    set: (value: Record<string, unknown>) => {
      if (typeof value !== 'object' || value === null) {
        throw new ValidationError(
          `${classOf(batch).name}.data must be set to an object of its components (${components.join(', ')}), got ${describe(value)}.`,
        );
      }
      for (const name of components) {
        // Own values only: a component named '__proto__' or 'toString' missing from
        // `value` must not pick up Object.prototype's.
        Object.defineProperty(batch, name, {
          value: Object.hasOwn(value, name) ? value[name] : undefined,
          enumerable: true,
          writable: true,
        });
      }
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
    const index = name === 'index' && Array.isArray(value);
    Object.defineProperty(batch, name, {
      // Frozen as the constructor's: the positions kept for it must stay right.
      value: index ? Object.freeze(value) : value,
      enumerable: true,
      writable: name !== 'index',
      configurable: true,
    });
  }
  const components = componentNames(Class);
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
  return componentNames(classOf(batch));
}

/** The component lists already checked, by class (a list replaced later is checked again). */
const checkedComponents = new WeakMap<object, readonly string[]>();

/**
 * The component names `Class` declares (none when it declares none), checked.
 * @throws ValidationError naming the class, the name and the fix when a name is not a
 *   non-empty string, repeats, or is a member of the batch
 */
export function componentNames(Class: BatchClass): readonly string[] {
  const components: unknown = Class.components;
  if (components === undefined || components === null) return [];
  if (checkedComponents.get(Class) === components) return components as readonly string[];
  const where = `${Class.name}.components`;
  if (!Array.isArray(components)) {
    throw new ValidationError(
      `${where} must be an array of names, e.g. static components = ['images', 'labels']; got ${describe(components)}.`,
    );
  }
  const seen = new Set<string>();
  for (const name of components) {
    if (typeof name !== 'string' || name === '') {
      throw new ValidationError(
        `${where}: a component name must be a non-empty string, got ${describe(name)}; name each component, e.g. 'images'.`,
      );
    }
    if (seen.has(name)) {
      throw new ValidationError(
        `${where} names ${JSON.stringify(name)} twice; list each component once.`,
      );
    }
    seen.add(name);
    if (isMember(Class, name)) {
      throw new ValidationError(
        `${where}: ${JSON.stringify(name)} is a member of ${Class.name} (a component would hide it); rename the component, e.g. '${name}Data'.`,
      );
    }
  }
  checkedComponents.set(Class, components);
  return components as readonly string[];
}

/**
 * Whether `name` is `data`, `index`, or a member of `Class`'s prototypes, Object's
 * included (a component `toString` would hide it from every message), except `__proto__`:
 * components are defined as own keys, so that one hides nothing.
 */
function isMember(Class: BatchClass, name: string): boolean {
  if (name === 'data' || name === 'index') return true;
  if (name === '__proto__') return false;
  for (
    let proto: object | null = Class.prototype;
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (Object.hasOwn(proto, name)) return true;
  }
  return false;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : (value.constructor?.name ?? 'an object');
}

/** The position of each id of an index, by index (kept beside it: batches have no private fields). */
const positionsByIndex = new WeakMap<readonly ItemId[], ReadonlyMap<ItemId, number>>();

/**
 * The positions of the ids of `index`, made at the first call for an index.
 * @throws ValidationError naming the id when an id repeats
 */
function positionsOf(index: readonly ItemId[], className: string): ReadonlyMap<ItemId, number> {
  let positions = positionsByIndex.get(index);
  if (positions === undefined) {
    const made = new Map<ItemId, number>();
    for (let position = 0; position < index.length; position++) {
      const id = index[position]!;
      if (made.has(id)) {
        throw new ValidationError(
          `${className}: the index holds id ${JSON.stringify(id)} twice (at ${made.get(id)} and ${position}); give each item its own id.`,
        );
      }
      made.set(id, position);
    }
    positions = made;
    positionsByIndex.set(index, positions);
  }
  return positions;
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

/**
 * The class of `batch`, read from its prototype: an own field named `constructor` (a
 * batch may hold any field) does not hide it.
 */
export function classOf(batch: Batch): BatchClass {
  return (Object.getPrototypeOf(batch) as { constructor: BatchClass }).constructor;
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
