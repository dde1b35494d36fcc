/**
 * Deterministic keys. Every task instance gets a key derived from the scope it runs in
 * and its position, e.g. `nightly/map:square/4` or `nightly/dag:build/compile`. The same
 * program run twice produces the same keys, which is what lets a run store recognise
 * work that already finished.
 */

import type { Run } from './run.ts';

/** A node in the key tree. Fan-outs started in a scope get child scopes named after them. */
export class KeyScope {
  /** The path of this scope; task keys start with it. Empty for the root. */
  readonly path: string;
  /**
   * The run this scope belongs to, if any: fan-outs given this scope record to it, so
   * passing `ctx.scope` on is all a nested fan-out needs to join the run.
   */
  readonly run: Run | undefined;
  readonly #childCounts = new Map<string, number>();

  constructor(path = '', run?: Run) {
    this.path = path;
    this.run = run;
  }

  /**
   * A new child scope. Several children with the same name get `~2`, `~3`… suffixes in
   * creation order, so repeated fan-outs stay distinct and deterministic.
   */
  child(name: string): KeyScope {
    const seen = (this.#childCounts.get(name) ?? 0) + 1;
    this.#childCounts.set(name, seen);
    const escaped = escapeSegment(name);
    const segment = seen === 1 ? escaped : `${escaped}~${seen}`;
    return new KeyScope(this.path === '' ? segment : `${this.path}/${segment}`, this.run);
  }

  /** The key of one item in this scope. */
  key(segment: string | number): string {
    const part = typeof segment === 'number' ? String(segment) : escapeSegment(segment);
    return this.path === '' ? part : `${this.path}/${part}`;
  }
}

/** The scope of fan-outs that are given none. */
export const rootScope = new KeyScope();

/**
 * A name or item key as one key segment: '/' would look like nesting and '~' like the
 * counter of a repeated name, so both are escaped (as is '%', the escape itself). Other
 * characters are kept, so keys stay readable.
 */
function escapeSegment(segment: string): string {
  return /[%/~]/.test(segment)
    ? segment.replaceAll('%', '%25').replaceAll('/', '%2F').replaceAll('~', '%7E')
    : segment;
}
