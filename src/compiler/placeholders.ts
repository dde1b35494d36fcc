/**
 * `$N` and `${N}` placeholders in task arguments, at any depth: a string that is exactly
 * one placeholder becomes task N's observation itself, with its type; placeholders inside
 * longer text are replaced by the observation's text. Digits are read greedily, so `$10`
 * is task 10, never task 1 followed by '0'.
 */
import { isPlainObject } from '../core/describe.ts';
import { PlanError } from './errors.ts';

/** `${N}` or `$N`; a `${` that is not `${digits}` is malformed. */
const placeholder = /\$\{(\d+)\}|\$(\d+)|\$\{[^}]*\}?/g;
const whole = /^(?:\$\{(\d+)\}|\$(\d+))$/;

/** Task numbers referred to anywhere in `value` (strings, arrays, plain objects). */
export function references(value: unknown, idx?: number): Set<number> {
  const found = new Set<number>();
  walk(value, (text) => {
    for (const match of text.matchAll(placeholder)) found.add(numberOf(match, text, idx));
  });
  return found;
}

/** `value` with every placeholder resolved from `observations`. */
export function resolve(
  value: unknown,
  observations: ReadonlyMap<number, unknown>,
  idx?: number,
): unknown {
  if (typeof value === 'string') return resolveText(value, observations, idx);
  if (Array.isArray(value)) return value.map((item) => resolve(item, observations, idx));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      define(out, key, resolve(item, observations, idx));
    return out;
  }
  return value;
}

/** `value` with every reference N ≥ `from` shifted by `offset` (a replan numbered from 1 again). */
export function renumber(value: unknown, from: number, offset: number): unknown {
  if (typeof value === 'string') {
    return value.replace(placeholder, (text, braced?: string, bare?: string) => {
      const n = Number(braced ?? bare);
      if (braced === undefined && bare === undefined) return text;
      if (n < from) return text;
      return braced === undefined ? `$${n + offset}` : `\${${n + offset}}`;
    });
  }
  if (Array.isArray(value)) return value.map((item) => renumber(item, from, offset));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) define(out, key, renumber(item, from, offset));
    return out;
  }
  return value;
}

/** An own property, even for '__proto__', so that arguments never change a prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function resolveText(
  text: string,
  observations: ReadonlyMap<number, unknown>,
  idx: number | undefined,
): unknown {
  const alone = whole.exec(text);
  if (alone) return observation(Number(alone[1] ?? alone[2]), observations, idx);
  if (!text.includes('$')) return text;
  return text.replace(placeholder, (...match) => {
    const n = numberOf(match as unknown as RegExpMatchArray, text, idx);
    return asText(observation(n, observations, idx));
  });
}

function numberOf(match: RegExpMatchArray, text: string, idx: number | undefined): number {
  const digits = match[1] ?? match[2];
  if (digits === undefined) {
    throw new PlanError(
      `${where(idx)}malformed placeholder '${match[0]}' in '${text}': write $N or \${N} with N a task number.`,
      idx,
    );
  }
  return Number(digits);
}

function observation(
  n: number,
  observations: ReadonlyMap<number, unknown>,
  idx: number | undefined,
): unknown {
  if (!observations.has(n)) {
    throw new PlanError(`${where(idx)}refers to task ${n}, which has no observation.`, idx);
  }
  return observations.get(n);
}

/** How an observation reads inside text: strings as they are, others as JSON. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return value.toString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function walk(value: unknown, visit: (text: string) => void, depth = 0): void {
  if (depth > 100) return;
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const item of value) walk(item, visit, depth + 1);
  else if (isPlainObject(value))
    for (const item of Object.values(value)) walk(item, visit, depth + 1);
}

function where(idx: number | undefined): string {
  return idx === undefined ? '' : `Task ${idx} `;
}
