/**
 * What the operators mean: Python truthiness, member and index access, arithmetic (with
 * Python's `//` and `%`), chained comparisons, `is`, `in` and structural equality.
 */
import type { ValidationError } from '../../core/errors.ts';
import { isPlainObject, repr, typeName } from './values.ts';

/** Builds the error to throw; callers `throw` it so control flow stays visible. */
export type Raise = (message: string) => ValidationError;

export type ArithOp = '+' | '-' | '*' | '/' | '//' | '%' | '**';
export type OrderOp = '<' | '<=' | '>' | '>=';
export type CompareOp = OrderOp | '==' | '!=' | '===' | '!==' | 'in' | 'not in' | 'is' | 'is not';

/**
 * Python truthiness: false, 0, -0, NaN, 0n, '', null, undefined, an empty array, an empty
 * Map or Set, and a plain object with no own keys are falsy; everything else is truthy.
 * Class instances are always truthy, as in Python.
 */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** `target.name`: `length` of a string or list, `size` of a Map or Set, an own key of a plain object. */
export function member(target: unknown, name: string, raise: Raise): unknown {
  if (target === null || target === undefined) {
    throw raise(`cannot read '${name}' of ${typeName(target)}`);
  }
  if (typeof target === 'string' || Array.isArray(target)) {
    if (name === 'length') return target.length;
  } else if (target instanceof Map || target instanceof Set) {
    if (name === 'size') return target.size;
  } else if (isPlainObject(target)) {
    if (Object.hasOwn(target, name)) return target[name];
    throw raise(`the object has no key '${name}'`);
  }
  throw raise(`${typeName(target)} has no member '${name}'`);
}

/** `target[key]`: Python-style (negative) indexes into strings and lists, Map keys, own object keys. */
export function item(target: unknown, key: unknown, raise: Raise): unknown {
  if (typeof target === 'string' || Array.isArray(target)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) {
      throw raise(`the index of ${typeName(target)} must be an integer, got ${repr(key, true)}`);
    }
    const at = key < 0 ? target.length + key : key;
    if (at < 0 || at >= target.length) {
      throw raise(
        `index ${key} is out of range for ${typeName(target)} of length ${target.length}`,
      );
    }
    return target[at];
  }
  if (target instanceof Map) {
    if (target.has(key)) return target.get(key);
    throw raise(`the map has no key ${repr(key, true)}`);
  }
  if (isPlainObject(target)) {
    if (
      (typeof key === 'string' || typeof key === 'number') &&
      Object.hasOwn(target, String(key))
    ) {
      return target[String(key)];
    }
    throw raise(`the object has no key ${repr(key, true)}`);
  }
  throw raise(`cannot index ${typeName(target)}`);
}

/** Unary `-` and `+` on a number or bigint. */
export function negate(op: '-' | '+', value: unknown, raise: Raise): unknown {
  if (typeof value === 'number') return op === '-' ? -value : value;
  if (typeof value === 'bigint') return op === '-' ? -value : value;
  throw raise(`cannot apply unary '${op}' to ${typeName(value)}`);
}

/** A binary arithmetic operator with Python semantics. */
export function arithmetic(op: ArithOp, a: unknown, b: unknown, raise: Raise): unknown {
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a === 'number' && typeof b === 'number') return numberArithmetic(op, a, b, raise);
  if (typeof a === 'bigint' && typeof b === 'bigint') return bigintArithmetic(op, a, b, raise);
  throw raise(`cannot use '${op}' on ${typeName(a)} and ${typeName(b)}`);
}

function numberArithmetic(op: ArithOp, a: number, b: number, raise: Raise): number {
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  if (op === '**') {
    if (a === 0 && b < 0) throw raise('division by zero: 0 raised to a negative power');
    return a ** b;
  }
  if (b === 0) throw raise(`division by zero in '${op}'`);
  if (op === '/') return a / b;
  const [floor, mod] = floorDivMod(a, b);
  return op === '//' ? floor : mod;
}

/**
 * CPython's float divmod: `%` takes the divisor's sign (JS's takes the dividend's), and `//`
 * agrees with it, so `1 // 0.1` is 9 as in Python, not `Math.floor(1 / 0.1)`, which is 10.
 */
function floorDivMod(a: number, b: number): [floor: number, mod: number] {
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod === 0) {
    mod = b < 0 ? -0 : 0;
  } else if (mod < 0 !== b < 0) {
    mod += b;
    div -= 1;
  }
  if (div === 0) return [a / b < 0 || Object.is(a / b, -0) ? -0 : 0, mod];
  const floor = Math.floor(div);
  return [div - floor > 0.5 ? floor + 1 : floor, mod];
}

function bigintArithmetic(op: ArithOp, a: bigint, b: bigint, raise: Raise): bigint | number {
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  if (op === '**') {
    if (b < 0n) throw raise('a bigint cannot be raised to a negative power');
    return a ** b;
  }
  if (b === 0n) throw raise(`division by zero in '${op}'`);
  if (op === '/') return Number(a) / Number(b);
  const r = a % b;
  const adjust = r !== 0n && r < 0n !== b < 0n;
  if (op === '%') return adjust ? r + b : r;
  // BigInt division truncates toward zero; Python's `//` floors.
  return adjust ? a / b - 1n : a / b;
}

/** One link of a comparison chain. */
export function compare(op: CompareOp, a: unknown, b: unknown, raise: Raise): boolean {
  switch (op) {
    case '==':
    case '===':
      return equal(a, b, []);
    case '!=':
    case '!==':
      return !equal(a, b, []);
    case 'is':
      return same(a, b);
    case 'is not':
      return !same(a, b);
    case 'in':
      return contains(b, a, raise);
    case 'not in':
      return !contains(b, a, raise);
    default:
      return order(op, a, b, raise);
  }
}

/** `<`, `<=`, `>`, `>=` between two numbers, two strings or two bigints. */
export function order(op: OrderOp, a: unknown, b: unknown, raise: Raise): boolean {
  const kind = typeof a;
  if (kind !== typeof b || (kind !== 'number' && kind !== 'string' && kind !== 'bigint')) {
    throw raise(`cannot compare ${typeName(a)} with ${typeName(b)} using '${op}'`);
  }
  // Both are numbers, both strings or both bigints: JS orders them as Python does.
  const x = a as number;
  const y = b as number;
  if (op === '<') return x < y;
  if (op === '<=') return x <= y;
  if (op === '>') return x > y;
  return x >= y;
}

/** `is`: identity, where null and undefined are both Python's None. */
function same(a: unknown, b: unknown): boolean {
  return a === b || ((a === null || a === undefined) && (b === null || b === undefined));
}

/** Structural equality for arrays, plain objects, Maps and Sets; `seen` stops cycles. */
function equal(a: unknown, b: unknown, seen: [object, object][]): boolean {
  if (same(a, b)) return true;
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && a === BigInt(b);
  if (typeof a === 'number' && typeof b === 'bigint') return equal(b, a, seen);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (seen.some(([x, y]) => x === a && y === b)) return true;
  seen.push([a, b]);
  try {
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every((value, i) => equal(value, b[i], seen));
    }
    if (isPlainObject(a) && isPlainObject(b)) {
      const keys = Object.keys(a);
      return (
        keys.length === Object.keys(b).length &&
        keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key], seen))
      );
    }
    if (a instanceof Map && b instanceof Map) {
      return a.size === b.size && [...a].every(([k, v]) => b.has(k) && equal(v, b.get(k), seen));
    }
    if (a instanceof Set && b instanceof Set) {
      return a.size === b.size && [...a].every((value) => b.has(value));
    }
    return false;
  } finally {
    seen.pop();
  }
}

function contains(container: unknown, value: unknown, raise: Raise): boolean {
  if (Array.isArray(container)) return container.some((entry) => equal(entry, value, []));
  if (typeof container === 'string') {
    if (typeof value !== 'string') {
      throw raise(`'in' a string needs a string on the left, got ${typeName(value)}`);
    }
    return container.includes(value);
  }
  if (container instanceof Map || container instanceof Set) return container.has(value);
  if (isPlainObject(container)) return typeof value === 'string' && Object.hasOwn(container, value);
  throw raise(`cannot use 'in' on ${typeName(container)}`);
}
