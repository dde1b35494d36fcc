/** Describing values in Python's words, for `str()` and for error messages. */

import { isPlainObject } from '../../core/describe.ts';

export { isPlainObject };

/** 'a list', 'an object', 'a Date'…: a value's kind, for messages. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Map) return 'a map';
  if (value instanceof Set) return 'a set';
  if (typeof value !== 'object') return `a ${typeof value}`;
  if (isPlainObject(value)) return 'an object';
  const name: unknown = value.constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
}

/** Python-style text of a value; `short` trims it for error messages. */
export function repr(value: unknown, short = false): string {
  const text = reprOf(value, new Set());
  return short && text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function reprOf(value: unknown, seen: Set<object>): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (typeof value === 'string') {
    return `'${value.replace(/[\\']/g, '\\$&').replace(/\n/g, '\\n')}'`;
  }
  if (typeof value === 'bigint' || typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return `<function ${value.name || 'anonymous'}>`;
  if (typeof value !== 'object') return String(value);
  if (seen.has(value)) return Array.isArray(value) ? '[...]' : '{...}';
  seen.add(value);
  try {
    const inner = (entry: unknown) => reprOf(entry, seen);
    if (Array.isArray(value)) return `[${value.map(inner).join(', ')}]`;
    if (value instanceof Map) {
      return `{${[...value].map(([k, v]) => `${inner(k)}: ${inner(v)}`).join(', ')}}`;
    }
    if (value instanceof Set) {
      return value.size === 0 ? 'set()' : `{${[...value].map(inner).join(', ')}}`;
    }
    if (isPlainObject(value)) {
      return `{${Object.entries(value)
        .map(([k, v]) => `${inner(k)}: ${inner(v)}`)
        .join(', ')}}`;
    }
    return `<${typeName(value).replace(/^an? /, '')}>`;
  } finally {
    seen.delete(value);
  }
}
