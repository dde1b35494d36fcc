/**
 * `$N` and `${N}` placeholders in task arguments, at any depth: a string that is exactly
 * one placeholder becomes task N's observation itself, with its type; placeholders inside
 * longer text are replaced by the observation's text. Digits are read greedily, so `$10`
 * is task 10, never task 1 followed by '0'.
 */
import { isPlainObject } from '../core/describe.ts';
import { PlanError } from './errors.ts';
import { defineKey } from './own-keys.ts';

/**
 * Deepest nesting of arrays and objects in a task's arguments. Deeper ones are refused
 * when the plan is checked, so no walk below ever overflows the stack.
 */
const maxDepth = 100;

/** `${N}` or `$N`; a `${` that is not `${digits}` is malformed. */
const placeholder = /\$\{(\d+)\}|\$(\d+)|\$\{[^}]*\}?/g;
const whole = /^(?:\$\{(\d+)\}|\$(\d+))$/;

/** Task numbers referred to anywhere in `value` (strings, arrays, plain objects). */
export function references(value: unknown, idx?: number): Set<number> {
  const found = new Set<number>();
  walk(value, idx, (text) => {
    for (const match of text.matchAll(placeholder)) found.add(numberOf(match, text, idx));
  });
  return found;
}

/**
 * The task numbers `value` refers to, ascending and without repeats: what scheduling adds
 * to a task's declared dependencies. Unlike {@link references} it never throws: a malformed
 * placeholder or a nesting too deep is left for scheduling to report with the task's number.
 */
export function referencedTasks(value: unknown): number[] {
  const found = new Set<number>();
  const visit = (item: unknown, depth: number): void => {
    if (typeof item === 'string') {
      for (const match of item.matchAll(placeholder)) {
        const digits = match[1] ?? match[2];
        if (digits !== undefined) found.add(Number(digits));
      }
      return;
    }
    // Scheduling refuses arguments nested this deep, so nothing below matters.
    if (depth >= maxDepth || (!Array.isArray(item) && !isPlainObject(item))) return;
    for (const child of Array.isArray(item) ? item : Object.values(item)) visit(child, depth + 1);
  };
  visit(value, 0);
  return [...found].sort((a, b) => a - b);
}

/** True when `text` holds a `${` that is not `${digits}`, which scheduling refuses. */
export function hasMalformedPlaceholder(text: string): boolean {
  for (const match of text.matchAll(placeholder)) {
    if (match[1] === undefined && match[2] === undefined) return true;
  }
  return false;
}

/** `value` with every placeholder resolved from `observations`. */
export function resolve(
  value: unknown,
  observations: ReadonlyMap<number, unknown>,
  idx?: number,
): unknown {
  return rebuild(value, idx, (text) => resolveText(text, observations, idx));
}

/** `value` with every reference N ≥ `from` shifted by `offset` (a replan numbered from 1 again). */
export function renumber(value: unknown, from: number, offset: number): unknown {
  return rebuild(value, undefined, (text) =>
    text.replace(placeholder, (match, braced?: string, bare?: string) => {
      const n = Number(braced ?? bare);
      if (braced === undefined && bare === undefined) return match;
      if (n < from) return match;
      return braced === undefined ? `$${n + offset}` : `\${${n + offset}}`;
    }),
  );
}

/**
 * A copy of `value` with each string mapped by `text`. Arrays and plain objects are
 * rebuilt with the same own keys (`__proto__` stays a key, never a prototype); anything
 * else is shared.
 */
function rebuild(
  value: unknown,
  idx: number | undefined,
  text: (text: string) => unknown,
  depth = 0,
): unknown {
  if (typeof value === 'string') return text(value);
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  if (depth >= maxDepth) throw tooDeep(idx);
  if (Array.isArray(value)) return value.map((item) => rebuild(item, idx, text, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    defineKey(out, key, rebuild(item, idx, text, depth + 1));
  }
  return out;
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

function walk(
  value: unknown,
  idx: number | undefined,
  visit: (text: string) => void,
  depth = 0,
): void {
  if (typeof value === 'string') {
    visit(value);
    return;
  }
  if (!Array.isArray(value) && !isPlainObject(value)) return;
  // Refused rather than skipped: a placeholder below would be missed as a dependency.
  if (depth >= maxDepth) throw tooDeep(idx);
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    walk(item, idx, visit, depth + 1);
  }
}

function tooDeep(idx: number | undefined): PlanError {
  return new PlanError(
    `${where(idx)}arguments nest more than ${maxDepth} lists or objects deep: flatten them.`,
    idx,
  );
}

function where(idx: number | undefined): string {
  return idx === undefined ? '' : `Task ${idx} `;
}
