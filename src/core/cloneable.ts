/**
 * Finding the value that cannot cross to a worker, so that the error names it. Values
 * cross threads and processes by structured clone, which rejects functions, symbols,
 * promises, weak collections and the like with an unhelpful message.
 */
import { describeType } from './describe.ts';

/** Where a value that cannot be cloned sits, and what it is. */
export interface Uncloneable {
  /** Path inside the inspected value, e.g. `input.options.onDone`. */
  readonly path: string;
  /** Its type, e.g. `a function`, `a Promise`. */
  readonly type: string;
}

const rejected = [Promise, WeakMap, WeakSet, WeakRef] as const;

/**
 * The first value inside `value` that structured clone would reject, or undefined.
 * Walks plain objects, arrays, Maps and Sets; stops at typed arrays and buffers, so it
 * costs little on large binary data.
 */
export function findUncloneable(
  value: unknown,
  path = 'value',
  seen = new Set<object>(),
): Uncloneable | undefined {
  switch (typeof value) {
    case 'function':
      return { path, type: describeType(value) };
    case 'symbol':
      return { path, type: 'a symbol' };
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  if (seen.has(value)) return undefined;
  seen.add(value);
  for (const kind of rejected)
    if (value instanceof kind) return { path, type: describeType(value) };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUncloneable(value[i], `${path}[${i}]`, seen);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Map) {
    for (const [key, entry] of value) {
      const found =
        findUncloneable(key, `${path}.keys()`, seen) ??
        findUncloneable(entry, `${path}.get(${String(key)})`, seen);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const entry of value) {
      const found = findUncloneable(entry, `${path}.values()`, seen);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = findUncloneable((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
    if (found) return found;
  }
  return undefined;
}
