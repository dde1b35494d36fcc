/**
 * The functions an expression may call. A Map, so names such as `constructor` or `toString`
 * are never found by accident.
 */
import { order, type Raise, truthy } from './semantics.ts';
import { isPlainObject, repr, typeName } from './values.ts';

/** A callable builtin: its arity and its implementation. */
export interface Builtin {
  readonly min: number;
  readonly max: number;
  readonly run: (args: readonly unknown[], raise: Raise) => unknown;
}

const one = (run: (value: unknown, raise: Raise) => unknown): Builtin => ({
  min: 1,
  max: 1,
  run: (args, raise) => run(args[0], raise),
});

const many = (run: Builtin['run']): Builtin => ({ min: 1, max: Number.POSITIVE_INFINITY, run });

/** The builtins, by name. */
export const BUILTINS = new Map<string, Builtin>([
  ['len', one(length)],
  ['abs', one(absolute)],
  ['min', many((args, raise) => extreme('min', args, raise))],
  ['max', many((args, raise) => extreme('max', args, raise))],
  ['str', one((value) => (typeof value === 'string' ? value : repr(value)))],
  ['int', one(toInt)],
  ['float', one(toFloat)],
  ['bool', one(truthy)],
]);
/** A hint naming the builtins, for errors about calls. */
export const CALLABLE = `only ${[...BUILTINS.keys()].join(', ')} can be called`;

function length(value: unknown, raise: Raise): number {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  if (isPlainObject(value)) return Object.keys(value).length;
  throw raise(`len() takes a list, string, map, set or object, got ${typeName(value)}`);
}

function absolute(value: unknown, raise: Raise): number | bigint {
  if (typeof value === 'number') return Math.abs(value);
  if (typeof value === 'bigint') return value < 0n ? -value : value;
  throw raise(`abs() takes a number, got ${typeName(value)}`);
}

function extreme(name: 'min' | 'max', args: readonly unknown[], raise: Raise): unknown {
  let items = args;
  if (args.length === 1) {
    const only = args[0];
    if (Array.isArray(only)) items = only;
    else if (only instanceof Set) items = [...only];
    else throw raise(`${name}() of one argument takes a list, got ${typeName(only)}`);
  }
  if (items.length === 0) throw raise(`${name}() of an empty list`);
  const better = name === 'min' ? '<' : '>';
  return items.reduce((best, value) => (order(better, value, best, raise) ? value : best));
}

function toInt(value: unknown, raise: Raise): number | bigint {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value) + 0; // no -0
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value) + 0;
  throw raise(`int() cannot convert ${repr(value, true)}`);
}

function toFloat(value: unknown, raise: Raise): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    const sign = text.startsWith('-') ? -1 : 1;
    const bare = text.replace(/^[+-]/, '');
    if (bare === 'inf' || bare === 'infinity') return sign * Number.POSITIVE_INFINITY;
    if (bare === 'nan') return Number.NaN;
    if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(text)) return Number(text);
  }
  throw raise(`float() cannot convert ${repr(value, true)}`);
}
