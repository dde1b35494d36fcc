/**
 * Messages between an off-thread executor and its workers. Kept in one place so that
 * the two sides cannot drift apart.
 */
import {
  cloneRejects,
  foreignClass,
  isPlainRecord,
  pathTo,
  type Uncloneable,
} from '../core/cloneable.ts';
import { describeType } from '../core/describe.ts';
import { toWire, type WireError } from '../core/errors.ts';

/** One invocation as sent to a worker. */
export interface WireCall {
  /** Executor-wide id, used to route progress and aborts. */
  readonly id: number;
  readonly name: string;
  readonly module: string;
  readonly input: unknown;
  /** What structured clone changes in `input`, undone in the worker (see {@link packInput}). */
  readonly restore?: readonly Restore[];
  readonly attempt: number;
  readonly key: string;
  /** The task has a timeout: the worker reports its real start at once, which starts the clock. */
  readonly timed: boolean;
  /**
   * Set when the invocation is aborted while its batch still waits in the pool's queue:
   * the message is copied only when the pool posts it, so the worker then sees this and
   * skips the call (an abort sent on the control channel could arrive after the batch).
   */
  abortedWith?: WireError;
}

/** A batch of invocations: one pool task. */
export interface BatchRequest {
  readonly calls: readonly WireCall[];
  /** BroadcastChannel name for aborts and progress (threads), or undefined (processes use their IPC channel). */
  readonly link: string | undefined;
}

/**
 * `progress`: how many progress reports the task sent, so none is lost on the way.
 * `restore`: what structured clone changed in the value, to undo on arrival (see {@link packValue}).
 */
export type WireOutcome =
  | {
      readonly ok: true;
      readonly value: unknown;
      readonly restore?: readonly Restore[];
      readonly progress?: number;
    }
  | { readonly ok: false; readonly error: WireError; readonly progress?: number };

export interface BatchResponse {
  readonly outcomes: readonly WireOutcome[];
  /** Time the worker spent on the batch, for batch sizing. */
  readonly elapsedMs: number;
  /** When the worker started the batch, in milliseconds since the epoch. */
  readonly startedAt: number;
  /**
   * Two numbers per call, in call order: when it started, in milliseconds from
   * `startedAt`, and how long it ran; -1 for a call that never ran. One typed array
   * rather than two fields per outcome, so that timing every task costs one copy.
   */
  readonly timings: Float64Array;
}

/** Control messages, both ways. */
export type ControlMessage =
  | { readonly weft: 'abort'; readonly id: number; readonly reason: WireError }
  | { readonly weft: 'progress'; readonly id: number; readonly value: unknown }
  | { readonly weft: 'started'; readonly id: number };

export function isControlMessage(message: unknown): message is ControlMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    ['abort', 'progress', 'started'].includes((message as ControlMessage).weft)
  );
}

/**
 * An object that structured clone changes on the way, found by its place in the order
 * both sides walk the value (see {@link packValue}): a Buffer arrives as a Uint8Array, an
 * object without a prototype as a plain object, an Error without its name (unless
 * standard), `code` and other own fields.
 */
export type Restore =
  | { readonly at: number; readonly as: 'Buffer' | 'null-prototype' }
  | { readonly at: number; readonly as: 'Error'; readonly error: WireError };

/** A value ready to be posted, with what the other side must restore. */
export interface Packed {
  readonly value: unknown;
  readonly restore?: readonly Restore[];
}

/**
 * Checks a value about to be posted to another thread or process, so that it arrives as
 * the same value: what structured clone would change is listed for {@link unpackValue},
 * and what it would reject or turn into something else (a class instance would arrive
 * as a plain object, without its methods) is refused, naming where it sits.
 * @param path how the value is named in a refusal, e.g. `output`
 */
export function packValue(value: unknown, path: string): Packed | { refused: Uncloneable } {
  const restore: Restore[] = [];
  const seen = new Set<object>();
  let culprit: { item: unknown; type: string } | undefined;
  // True to stop: `culprit` is what cannot cross.
  const check = (item: unknown): boolean => {
    if (typeof item === 'function' || typeof item === 'symbol') {
      culprit = { item, type: typeof item === 'symbol' ? 'a symbol' : describeType(item) };
      return true;
    }
    if (typeof item !== 'object' || item === null || seen.has(item)) return false;
    const ordinal = seen.size;
    seen.add(item);
    // Plain objects and arrays, most of what crosses, are walked without further checks.
    const proto: unknown = Object.getPrototypeOf(item);
    if (proto === Object.prototype && !Array.isArray(item)) {
      for (const key of Object.keys(item))
        if (check((item as Record<string, unknown>)[key])) return true;
      return false;
    }
    if (proto === Array.prototype && Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) if (check(item[i])) return true;
      return false;
    }
    const rejected = cloneRejects(item);
    const foreign = rejected ? undefined : foreignClass(item);
    if (rejected || foreign !== undefined) {
      culprit = { item, type: rejected ? describeType(item) : `an instance of class ${foreign}` };
      return true;
    }
    if (Buffer.isBuffer(item)) restore.push({ at: ordinal, as: 'Buffer' });
    else if (item instanceof Error) restore.push({ at: ordinal, as: 'Error', error: toWire(item) });
    else if (proto === null) restore.push({ at: ordinal, as: 'null-prototype' });
    return someChild(item, check);
  };
  try {
    if (check(value)) {
      // Found: now say where, which costs a second walk only on this rare path.
      const { item, type } = culprit!;
      return { refused: { path: path + (pathTo(value, item) ?? ''), type } };
    }
  } catch (error) {
    // A getter threw, or a proxy refused to be read: structured clone would fail on it too.
    const reason = error instanceof Error ? error.message : String(error);
    return { refused: { path, type: `a value that cannot be read (${reason})` } };
  }
  return restore.length > 0 ? { value, restore } : { value };
}

/**
 * A task's input, with what the worker must restore in it (a Buffer, an object without a
 * prototype). What cannot be sent is left to structured clone, whose failure the pool
 * reports naming the invocation; a class instance still arrives as a plain object.
 */
export function packInput(input: unknown): Pick<WireCall, 'input' | 'restore'> {
  // Most inputs are a number or a string: nothing to walk.
  if (typeof input !== 'object' || input === null) return { input };
  const packed = packValue(input, 'input');
  if ('refused' in packed || packed.restore === undefined) return { input };
  return { input, restore: packed.restore };
}

/**
 * Undoes, on arrival, what structured clone changed in a value {@link packValue} checked.
 * The value is this side's own copy, so it is changed in place: nothing is copied, and a
 * Buffer stays a view on the bytes that arrived (or were transferred).
 */
export function unpackValue(value: unknown, restore: readonly Restore[] | undefined): unknown {
  if (restore === undefined || restore.length === 0) return value;
  const changes = new Map(restore.map((change) => [change.at, change]));
  const last = restore[restore.length - 1]!.at;
  const seen = new Set<object>();
  // Walks exactly as packValue did: structured clone keeps the order of keys and entries.
  const visit = (item: unknown): boolean => {
    if (typeof item !== 'object' || item === null || seen.has(item)) return false;
    const ordinal = seen.size;
    seen.add(item);
    const change = changes.get(ordinal);
    if (change) apply(item, change);
    return ordinal >= last || someChild(item, visit);
  };
  visit(value);
  return value;
}

function apply(item: object, change: Restore): void {
  switch (change.as) {
    case 'Buffer':
      // A Buffer is a Uint8Array with Buffer's prototype: this makes the view one, in place.
      if (item instanceof Uint8Array) Object.setPrototypeOf(item, Buffer.prototype);
      return;
    case 'null-prototype':
      Object.setPrototypeOf(item, null);
      return;
    case 'Error':
      if (item instanceof Error) restoreError(item, change.error);
      return;
  }
}

/** Gives a cloned Error back the name, code and own fields that cloning dropped. */
function restoreError(error: Error, wire: WireError): void {
  if (error.name !== wire.name) define(error, 'name', wire.name, false);
  if (wire.code !== undefined) define(error, 'code', wire.code, true);
  for (const [key, field] of Object.entries(wire.props ?? {})) define(error, key, field, true);
  if (wire.cause !== undefined && error.cause instanceof Error)
    restoreError(error.cause, wire.cause);
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  // Defined, not assigned: a field named `__proto__` stays a field.
  Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
}

/**
 * Calls `each` on what structured clone copies inside `object` (elements, entries, own
 * enumerable properties), in the order it copies them, until `each` returns true. Other
 * objects (typed arrays, Dates, Errors…) are leaves.
 */
function someChild(object: object, each: (child: unknown) => boolean): boolean {
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) if (each(object[i])) return true;
    return false;
  }
  if (object instanceof Map) {
    for (const [key, entry] of object) if (each(key) || each(entry)) return true;
    return false;
  }
  if (object instanceof Set) {
    for (const entry of object) if (each(entry)) return true;
    return false;
  }
  if (!isPlainRecord(object)) return false;
  for (const key of Object.keys(object)) {
    if (each((object as Record<string, unknown>)[key])) return true;
  }
  return false;
}
