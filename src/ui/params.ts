/**
 * The query parameters of `weft ui`'s API, read strictly: a value a route does not take is
 * a 400 naming the parameter and what it accepts, never a guess.
 */
import type { RunCursor } from '../core/store.ts';
import { ApiError } from './api-error.ts';

/** The query of a request: its parameters by name (the first of repeated ones). */
export type Query = Readonly<Record<string, string | undefined>>;

/** A whole number from `min` to `max`, `fallback` when absent. */
export function intParam(
  query: Query,
  name: string,
  { min, max, fallback }: { min: number; max: number; fallback?: number },
): number | undefined {
  const given = query[name];
  if (given === undefined || given === '') return fallback;
  const value = /^\d{1,16}$/.test(given) ? Number(given) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw ApiError.badParameter(name, `a whole number from ${min} to ${max}`, given);
}

/** One of `choices`, or undefined when absent. */
export function choiceParam<T extends string>(
  query: Query,
  name: string,
  choices: readonly T[],
): T | undefined {
  const given = query[name];
  if (given === undefined || given === '') return undefined;
  if ((choices as readonly string[]).includes(given)) return given as T;
  throw ApiError.badParameter(name, `one of ${choices.join(', ')}`, given);
}

/** Text of at most `max` characters, or undefined when absent. */
export function textParam(query: Query, name: string, max = 1_000): string | undefined {
  const given = query[name];
  if (given === undefined || given === '') return undefined;
  if (given.length <= max && !given.includes('\0')) return given;
  throw ApiError.badParameter(name, `text of at most ${max} characters, without NUL`, given);
}

/** The cursor of a runs page: the creation time and id of the last run shown. */
export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

/** A `cursor` given back from a runs page; undefined when absent. */
export function runCursorParam(query: Query): RunCursor | undefined {
  const given = query.cursor;
  if (given === undefined || given === '') return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(given, 'base64url').toString()) as unknown[];
    if (Number.isFinite(createdAt) && typeof id === 'string') {
      return { createdAt: createdAt as number, id };
    }
  } catch {
    // Said below.
  }
  throw ApiError.badParameter('cursor', 'the `next` of the page before', given);
}

/** A `cursor` given back from a tasks page (a position); undefined when absent. */
export function positionCursorParam(query: Query): number | undefined {
  const given = query.cursor;
  if (given === undefined || given === '') return undefined;
  const value = /^\d{1,16}$/.test(given) ? Number(given) : Number.NaN;
  if (Number.isSafeInteger(value)) return value;
  throw ApiError.badParameter('cursor', 'the `next` of the page before', given);
}

/** The cursor of an artifacts page: the last key shown. */
export function encodeArtifactCursor(key: string): string {
  return Buffer.from(key).toString('base64url');
}

/** A `cursor` given back from an artifacts page (the key to read after); undefined when absent. */
export function artifactCursorParam(query: Query): string | undefined {
  const given = textParam(query, 'cursor', 20_000);
  if (given === undefined) return undefined;
  const key = Buffer.from(given, 'base64url').toString();
  if (encodeArtifactCursor(key) === given) return key;
  throw ApiError.badParameter('cursor', 'the `next` of the page before', given);
}

/**
 * Whether `id` may name a run of a store: stores refuse ids holding a NUL or a lone
 * surrogate, or over 1,024 bytes of UTF-8, so such an id is an unknown run, not a
 * store's error.
 */
export function mayBeRunId(id: string): boolean {
  return (
    id.length > 0 && Buffer.byteLength(id) <= 1024 && !id.includes('\0') && !/\p{Cs}/u.test(id)
  );
}
