/**
 * Errors as stored values, kept whole: name, message, stack and every other own field,
 * enumerable or not (`cause`, an AggregateError's `errors`, a ZodError's `issues`), each
 * stored as any value is, so that what cannot be stored is refused naming it. An error
 * reachable from its own fields is refused: devalue would revive the inner reference as
 * a second error, not as the error itself.
 */
import { errorFieldNames, isPlainRecord } from '../core/cloneable.ts';
import { fromWire, toWire, type WireError } from '../core/errors.ts';
import { unfaithful } from './serializer-refusals.ts';

const maxCauses = 64;

/** The value being encoded, and the errors found in cycles in it (made when first asked). */
let current: { readonly root: unknown; cyclic?: Set<object> } | undefined;

/** Runs `encode` with `root` as the value being encoded (for {@link reduceError}). */
export function encoding<T>(root: unknown, encode: () => T): T {
  const outer = current;
  current = { root };
  try {
    return encode();
  } finally {
    current = outer;
  }
}

/**
 * An error as stored: its name, message, stack and string `code` as {@link WireError}
 * holds them, and every other own field, enumerable or not (`cause`, an AggregateError's
 * `errors`, a ZodError's `issues`), stored as any value is: kept, or refused naming it.
 * (Text written before held a WireError alone, primitive fields in `props`: still read.)
 */
interface StoredError extends WireError {
  readonly fields?: Record<string, unknown>;
  /** Which of `fields` were not enumerable. */
  readonly hidden?: readonly string[];
}

export function reduceError(value: unknown): StoredError | undefined {
  if (!isError(value)) return undefined;
  refuseInCycle(value, 'an error reachable from its own fields');
  const { name, message, stack, code } = toWire(value, Number.POSITIVE_INFINITY);
  const fields: Record<string, unknown> = {};
  const hidden: string[] = [];
  for (const key of errorFieldNames(value)) {
    if (key === 'code' && code !== undefined) continue;
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    // A getter is read: its value is what the field holds now.
    fields[key] = 'value' in descriptor ? descriptor.value : (value as never)[key];
    if (!descriptor.enumerable) hidden.push(key);
  }
  return {
    name,
    message,
    ...(stack === undefined ? {} : { stack }),
    ...(code === undefined ? {} : { code }),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
    ...(hidden.length > 0 ? { hidden } : {}),
  };
}

// Revived with their own class, as structured clone does: every realm has them.
const standardErrors: Readonly<Record<string, { readonly prototype: Error }>> = {
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
  AggregateError,
};

export function reviveError(stored: unknown): Error {
  if (!isWire(stored)) throw new Error('Invalid stored error');
  const { fields, hidden, ...wire } = stored as StoredError;
  const error = fromWire(wire);
  if (fields !== undefined) {
    if (typeof fields !== 'object' || fields === null) throw new Error('Invalid stored error');
    const hiddenKeys = new Set(Array.isArray(hidden) ? hidden : []);
    // Own data properties only, whatever the key (decoding refuses a `__proto__` key).
    for (const [key, value] of Object.entries(fields)) {
      if (key === 'name' || key === 'message' || key === 'stack') continue;
      Object.defineProperty(error, key, {
        value,
        enumerable: !hiddenKeys.has(key),
        writable: true,
        configurable: true,
      });
    }
  }
  let link: unknown = error;
  // Bounded: a cause chain read from hostile text is no reason to loop long.
  for (let depth = 0; depth < maxCauses && link instanceof Error; depth++, link = link.cause) {
    const standard = Object.hasOwn(standardErrors, link.name)
      ? standardErrors[link.name]
      : undefined;
    if (standard) Object.setPrototypeOf(link, standard.prototype);
  }
  return error;
}

function isError(value: unknown): value is Error {
  if (typeof value !== 'object' || value === null) return false;
  // The tag also recognises errors made in another realm (vm contexts), where instanceof fails.
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

function isWire(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const { name, message, cause } = value as Record<string, unknown>;
  return (
    typeof name === 'string' &&
    typeof message === 'string' &&
    (cause === undefined || isWire(cause))
  );
}

/**
 * Refuses `value`, stored in a form of weft's own, when it lies on a cycle of the value
 * being encoded: devalue revives a reference back to such a form, met while reviving it,
 * as a second copy, not as the value itself.
 */
export function refuseInCycle(value: object, type: string): void {
  if (current === undefined) return;
  current.cyclic ??= reducedInCycles(current.root);
  if (current.cyclic.has(value)) {
    unfaithful(
      value,
      type,
      'It would come back as a copy of itself: break the cycle before returning it.',
    );
  }
}

/** Whether `value` is an object with an own `__proto__` key (stored in a form of its own). */
export function hasProtoKey(value: object): boolean {
  return Object.hasOwn(value, '__proto__');
}

/**
 * The errors and objects with a `__proto__` key inside `root` that lie on a cycle (Tarjan's strongly connected components,
 * iteratively, so that deep values do not overflow the stack), walking what the
 * serializer stores: array elements, Map keys and values, Set values, the values of plain
 * objects and the fields of errors.
 */
function reducedInCycles(root: unknown): Set<object> {
  const found = new Set<object>();
  if (!isObject(root)) return found;
  const order = new Map<object, number>();
  const low = new Map<object, number>();
  const stack: object[] = [];
  const onStack = new Set<object>();
  const selfLooped = new Set<object>();
  const frames: Array<{ readonly node: object; readonly children: Iterator<unknown> }> = [];
  const visit = (node: object): void => {
    order.set(node, order.size);
    low.set(node, order.size - 1);
    stack.push(node);
    onStack.add(node);
    frames.push({ node, children: childrenOf(node) });
  };
  visit(root);
  while (frames.length > 0) {
    const { node, children } = frames[frames.length - 1]!;
    const next = children.next();
    if (!next.done) {
      const child = next.value;
      if (!isObject(child)) continue;
      if (child === node) selfLooped.add(node);
      if (!order.has(child)) visit(child);
      else if (onStack.has(child)) low.set(node, Math.min(low.get(node)!, order.get(child)!));
      continue;
    }
    frames.pop();
    const parent = frames[frames.length - 1]?.node;
    if (parent !== undefined) low.set(parent, Math.min(low.get(parent)!, low.get(node)!));
    if (low.get(node) !== order.get(node)) continue;
    const members: object[] = [];
    let member: object;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== node);
    if (members.length === 1 && !selfLooped.has(node)) continue;
    for (const item of members) if (isError(item) || hasProtoKey(item)) found.add(item);
  }
  return found;
}

function* childrenOf(node: object): Iterator<unknown> {
  try {
    if (Array.isArray(node)) yield* node;
    else if (node instanceof Map) for (const entry of node) yield* entry;
    else if (node instanceof Set) yield* node;
    else if (isError(node)) {
      for (const key of errorFieldNames(node))
        yield (node as unknown as Record<string, unknown>)[key];
    } else if (isPlainRecord(node)) yield* Object.values(node);
  } catch {
    // A getter threw: devalue meets it too, and its refusal says so.
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
