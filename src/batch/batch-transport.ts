/**
 * How a batch travels to worker threads: its state is serialized once per parallel call,
 * into a SharedArrayBuffer that every item of the call carries without a copy; a worker
 * reads it once per call. Typed arrays on SharedArrayBuffers (and bare SharedArrayBuffers)
 * anywhere in the state are not copied but listed apart and shared, so that what a worker
 * writes into them is seen by the caller.
 *
 * Node's serializer copies every typed array's bytes, and its deserializer cannot take a
 * SharedArrayBuffer back, so shared memory is written here as host objects of our own: a
 * tag, the buffer's place in the shared list, and the view's type, offset and length.
 */
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';

/** A batch's state on the way: its bytes, and the shared memory they refer to. */
export interface PackedState {
  /** The serialized state, in shared memory so that items carry it without a copy. */
  readonly state: SharedArrayBuffer;
  /** The SharedArrayBuffers found in the state, by the ids the bytes refer to them by. */
  readonly shared: readonly SharedArrayBuffer[];
}

/** Host object tags: a view copied by Node's serializer, a shared view, a bare shared buffer. */
const copied = 0;
const sharedView = 1;
const sharedBuffer = 2;

/** Views that may sit on shared memory, by the index written for them (Buffer before Uint8Array). */
const viewTypes = [
  Buffer,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

type View = NodeJS.TypedArray | DataView;

/** Node's hooks for host objects, which its types leave out. */
interface SerializerHooks {
  _writeHostObject(this: DefaultSerializer, view: View): void;
}
interface DeserializerHooks {
  _readHostObject(this: DefaultDeserializer): unknown;
}

/** Stands in the state for a bare SharedArrayBuffer, which Node's deserializer cannot read. */
class SharedBufferMark extends Uint8Array {
  constructor(readonly target: SharedArrayBuffer) {
    super(0);
  }
}

class StateSerializer extends DefaultSerializer {
  readonly shared: SharedArrayBuffer[] = [];
  readonly #ids = new Map<SharedArrayBuffer, number>();

  idOf(buffer: SharedArrayBuffer): number {
    let id = this.#ids.get(buffer);
    if (id === undefined) {
      id = this.shared.length;
      this.shared.push(buffer);
      this.#ids.set(buffer, id);
    }
    return id;
  }

  _writeHostObject(view: View): void {
    if (view instanceof SharedBufferMark) {
      this.writeUint32(sharedBuffer);
      this.writeUint32(this.idOf(view.target));
      return;
    }
    if (view.buffer instanceof SharedArrayBuffer) {
      const type = viewTypes.findIndex((kind) => view instanceof kind);
      this.writeUint32(sharedView);
      this.writeUint32(type);
      this.writeUint32(this.idOf(view.buffer));
      this.writeDouble(view.byteOffset);
      this.writeDouble(view.byteLength);
      return;
    }
    this.writeUint32(copied);
    (DefaultSerializer.prototype as unknown as SerializerHooks)._writeHostObject.call(this, view);
  }

  /** Only reached by a bare SharedArrayBuffer the state's walk did not replace (inside a cycle). */
  _getSharedArrayBufferId(_buffer: SharedArrayBuffer): number {
    throw new TypeError(
      'a SharedArrayBuffer inside a circular structure cannot be shared: hold a typed array over it instead (new Uint8Array(buffer))',
    );
  }
}

class StateDeserializer extends DefaultDeserializer {
  readonly #shared: readonly SharedArrayBuffer[];

  constructor(bytes: Uint8Array, shared: readonly SharedArrayBuffer[]) {
    super(bytes);
    this.#shared = shared;
  }

  _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === copied) {
      return (DefaultDeserializer.prototype as unknown as DeserializerHooks)._readHostObject.call(
        this,
      );
    }
    if (tag === sharedBuffer) return this.#bufferOf(this.readUint32());
    const View = viewTypes[this.readUint32()]!;
    const buffer = this.#bufferOf(this.readUint32());
    const byteOffset = this.readDouble();
    const byteLength = this.readDouble();
    if (View === Buffer) return Buffer.from(buffer, byteOffset, byteLength);
    if (View === DataView) return new DataView(buffer, byteOffset, byteLength);
    const Typed = View as unknown as new (
      buffer: SharedArrayBuffer,
      byteOffset: number,
      length: number,
    ) => NodeJS.TypedArray;
    const perElement = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    return new Typed(buffer, byteOffset, byteLength / perElement);
  }

  #bufferOf(id: number): SharedArrayBuffer {
    const buffer = this.#shared[id];
    if (buffer === undefined) throw new RangeError(`no shared buffer ${id} came with the state`);
    return buffer;
  }
}

/**
 * Serializes `state` once, into shared memory. Throws the serializer's own error (a
 * DataCloneError) when the state holds what cannot be copied, such as a function.
 */
export function packState(state: unknown): PackedState {
  const serializer = new StateSerializer();
  serializer.writeHeader();
  serializer.writeValue(markSharedBuffers(state, new Map()));
  const bytes = serializer.releaseBuffer();
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return { state: buffer, shared: serializer.shared };
}

/**
 * Reads a state packed by {@link packState}. Its bytes are first copied out of shared
 * memory: the copies the state makes (views on those bytes) are then this reader's own,
 * not shared with other workers.
 */
export function unpackState(packed: PackedState): unknown {
  const bytes = new Uint8Array(packed.state.byteLength);
  bytes.set(new Uint8Array(packed.state));
  const deserializer = new StateDeserializer(bytes, packed.shared);
  deserializer.readHeader();
  return deserializer.readValue();
}

/**
 * `value` with each bare SharedArrayBuffer replaced by a mark, copying only the arrays,
 * objects, maps and sets on the way to one (most states have none: nothing is copied).
 * Objects of other classes are walked as the serializer writes them: as their own
 * enumerable properties. `seen` maps each object walked to what stands for it.
 */
function markSharedBuffers(value: unknown, seen: Map<object, unknown>): unknown {
  if (value instanceof SharedArrayBuffer) {
    let mark = seen.get(value);
    if (mark === undefined) {
      mark = new SharedBufferMark(value);
      seen.set(value, mark);
    }
    return mark;
  }
  if (typeof value !== 'object' || value === null || isLeaf(value)) return value;
  if (seen.has(value)) return seen.get(value);
  // A cycle back to this object keeps the original.
  seen.set(value, value);
  let result: unknown = value;
  if (Array.isArray(value)) {
    const items = value.map((item) => markSharedBuffers(item, seen));
    if (items.some((item, i) => item !== value[i])) result = items;
  } else if (value instanceof Map) {
    const entries = [...value].map(([key, item]): [unknown, unknown] => [
      markSharedBuffers(key, seen),
      markSharedBuffers(item, seen),
    ]);
    if (entries.some(([key, item]) => !value.has(key) || value.get(key) !== item)) {
      result = new Map(entries);
    }
  } else if (value instanceof Set) {
    const items = [...value].map((item) => markSharedBuffers(item, seen));
    if (items.some((item) => !value.has(item))) result = new Set(items);
  } else {
    const entries = Object.entries(value).map(([key, item]): [string, unknown] => [
      key,
      markSharedBuffers(item, seen),
    ]);
    if (entries.some(([key, item]) => (value as Record<string, unknown>)[key] !== item)) {
      result = Object.fromEntries(entries);
    }
  }
  seen.set(value, result);
  return result;
}

/** Objects the serializer writes whole, with nothing inside to walk. */
function isLeaf(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Error
  );
}
