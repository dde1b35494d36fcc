/**
 * Helpers shared by the flow tests: unique flow names, ranges, ForEach over one layer's
 * attributes, deferreds, error predicates, and a store that counts artifact reads.
 */
import assert from 'node:assert/strict';
import { MemoryStore, ValidationError } from 'weftjs';
import { AccessorIndexError, ForEach, type Layer, Parameter } from 'weftjs/flow';

let flowCount = 0;
/** Flows register by name: every flow of the flow tests gets its own. */
export function flowName(label: string): string {
  flowCount++;
  return `FlowTest-${label}-${flowCount}`;
}

export function range(length: number, from = 0): number[] {
  return Array.from({ length }, (_, i) => from + i);
}

export function foreachOver(layer: Layer, ...attributes: string[]): ForEach {
  return new ForEach({
    parameters: attributes.map((attribute) => new Parameter({ layer, attribute })),
  });
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A predicate for assert.rejects/throws: a ValidationError whose message matches. */
export function validation(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${error}`);
    assert.equal(error.code, 'WEFT_VALIDATION');
    assert.match(error.message, pattern);
    return true;
  };
}

/** A predicate: an AccessorIndexError naming the attribute. */
export function indexError(label: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof AccessorIndexError, `expected an AccessorIndexError, got ${error}`);
    assert.equal(error.code, 'WEFT_INDEX');
    assert.equal(error.name, 'AccessorIndexError');
    assert.ok(error.message.includes(label), `'${error.message}' names ${label}`);
    return true;
  };
}

/** A MemoryStore that records the key of every artifact read. */
export class CountingStore extends MemoryStore {
  /** Keys read, one by one or in batches. */
  readonly reads: string[] = [];
  override async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
    this.reads.push(key);
    return super.getArtifact(runId, key);
  }
  override async getArtifacts(
    runId: string,
    keys: readonly string[],
  ): Promise<(Uint8Array | undefined)[]> {
    this.reads.push(...keys);
    return super.getArtifacts(runId, keys);
  }
}
