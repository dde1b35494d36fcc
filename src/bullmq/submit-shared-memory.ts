/**
 * Shared memory in a task's input, copied for the trip through Redis. A front end may
 * hand an executor a SharedArrayBuffer (or typed arrays over one) so that threads of this
 * process share it; workers on other machines cannot, and the stores' serializer refuses
 * it. As with transfer(), the bullmq executor then sends a copy: the same bytes in plain
 * ArrayBuffers (each view with its own, as the stores' serializer keeps typed arrays).
 */

/**
 * `value` with every SharedArrayBuffer replaced by a copy on an ArrayBuffer, copying only
 * the arrays, plain objects, Maps and Sets on the way to one; `value` itself when it
 * holds none.
 */
export function copySharedMemory(value: unknown): unknown {
  return copy(value, new Map());
}

/** The views whose buffer may be shared, and how to make one of each over a copy. */
type View = NodeJS.TypedArray | DataView;

function copy(value: unknown, seen: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (value instanceof SharedArrayBuffer) {
    const copied = new ArrayBuffer(value.byteLength);
    new Uint8Array(copied).set(new Uint8Array(value));
    seen.set(value, copied);
    return copied;
  }
  if (ArrayBuffer.isView(value)) {
    const view = value as View;
    if (!(view.buffer instanceof SharedArrayBuffer)) return value;
    const buffer = copy(view.buffer, seen) as ArrayBuffer;
    const Kind = view.constructor as new (
      buffer: ArrayBuffer,
      byteOffset: number,
      length: number,
    ) => View;
    const perElement = (view as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    const copied = new Kind(buffer, view.byteOffset, view.byteLength / perElement);
    seen.set(value, copied);
    return copied;
  }
  // Containers are copied only when something inside them was: most inputs hold no
  // shared memory, and come back as they were.
  seen.set(value, value);
  if (Array.isArray(value)) {
    const items = value.map((item) => copy(item, seen));
    return replaced(
      value,
      seen,
      () => items,
      items.some((item, i) => item !== value[i]),
    );
  }
  if (value instanceof Map) {
    const before = [...value];
    const entries = before.map(([k, v]) => [copy(k, seen), copy(v, seen)] as const);
    const changed = entries.some(([k, v], i) => k !== before[i]![0] || v !== before[i]![1]);
    return replaced(value, seen, () => new Map(entries), changed);
  }
  if (value instanceof Set) {
    const before = [...value];
    const items = before.map((item) => copy(item, seen));
    const changed = items.some((item, i) => item !== before[i]);
    return replaced(value, seen, () => new Set(items), changed);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const entries = Object.entries(value).map(([k, v]) => [k, copy(v, seen)] as const);
  const record = value as Record<string, unknown>;
  const changed = entries.some(([k, v]) => v !== record[k]);
  return replaced(
    value,
    seen,
    () => {
      const object: Record<string, unknown> = proto === null ? Object.create(null) : {};
      // defineProperty: a `__proto__` key stays an own key.
      for (const [k, v] of entries) {
        Object.defineProperty(object, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    },
    changed,
  );
}

function replaced(
  value: object,
  seen: Map<object, unknown>,
  make: () => unknown,
  changed: boolean,
): unknown {
  if (!changed) return value;
  const made = make();
  seen.set(value, made);
  return made;
}
