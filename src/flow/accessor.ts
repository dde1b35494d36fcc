/**
 * Accessors: what a sharded attribute, or an attribute of a ForEach layer, is downstream.
 * The length is known up front; values are read only when asked for: `at(i)` reads
 * element i alone, and slices and iteration read runs of elements in batches where the
 * accessor was given a way to (a store's batched read), else one element at a time.
 */
import { WeftError } from '../core/errors.ts';
import { chunksInFlight, inWindows, readChunk } from './windows.ts';

/** Reads elements `from` up to, not including, `to` (0 ≤ from < to ≤ length), in order. */
export type ReadRange<T> = (from: number, to: number) => Promise<T[]>;

/** Elements a `for await` reads first: few, so that one that stops early reads little. */
const firstIteratedChunk = 32;

/** An index that is not an integer, or out of range. */
export class AccessorIndexError extends WeftError {
  override name = 'AccessorIndexError';
  constructor(message: string) {
    super('WEFT_INDEX', message);
  }
}

/**
 * A lazy, read-only sequence.
 * @example
 * process.foo.length;            // 2, without reading values
 * await process.foo.at(-1);      // the last element only
 * await process.foo.slice(1);    // elements 1…
 * for await (const value of process.foo) { … }
 */
export class Accessor<T = unknown> implements AsyncIterable<T> {
  /** Number of elements. */
  readonly length: number;
  /** What it is, for messages: `Shard.foo`. */
  readonly label: string;
  readonly #read: (index: number) => Promise<T>;
  readonly #readRange: ReadRange<T> | undefined;

  /**
   * @param read reads element `index` (0 ≤ index < length): what `at` calls
   * @param readRange reads a run of elements in one batch: what slices and iteration call,
   *   a chunk at a time; without it they call `read` for each element
   */
  constructor(
    length: number,
    read: (index: number) => Promise<T>,
    label = 'accessor',
    readRange?: ReadRange<T>,
  ) {
    this.length = length;
    this.#read = read;
    this.label = label;
    this.#readRange = readRange;
  }

  /** An accessor over values already in memory. */
  static of<T>(values: readonly T[], label = 'accessor'): Accessor<T> {
    return new Accessor(
      values.length,
      async (index) => values[index] as T,
      label,
      async (from, to) => values.slice(from, to),
    );
  }

  /** Element `index`; negative counts from the end (-1 is the last). */
  at(index: number): Promise<T> {
    if (!Number.isInteger(index)) {
      return Promise.reject(
        new AccessorIndexError(
          `${this.label} indices must be integers, not ${typeof index === 'number' ? index : typeof index}.`,
        ),
      );
    }
    const position = index < 0 ? this.length + index : index;
    if (position < 0 || position >= this.length) {
      return Promise.reject(
        new AccessorIndexError(
          `${this.label} index ${index} is out of range: it has ${this.length} ${this.length === 1 ? 'element' : 'elements'}.`,
        ),
      );
    }
    return this.#read(position);
  }

  /**
   * Elements from `start` up to, not including, `end`, as slicing does in Python and
   * JavaScript: negative values count from the end and out-of-range bounds are clamped.
   */
  async slice(start = 0, end = this.length): Promise<T[]> {
    for (const [name, value] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (!Number.isInteger(value)) {
        throw new AccessorIndexError(
          `${this.label} slice ${name} must be an integer, not ${value}.`,
        );
      }
    }
    const from = clamp(start < 0 ? this.length + start : start, this.length);
    const to = clamp(end < 0 ? this.length + end : end, this.length);
    const out = new Array<T>(Math.max(0, to - from));
    const readRange = this.#readRange;
    if (readRange === undefined) {
      // A bounded number of reads at once: a slice of 100,000 files must not open them all.
      await inWindows(out.length, async (i) => {
        out[i] = await this.#read(from + i);
      });
      return out;
    }
    await inWindows(
      Math.ceil(out.length / readChunk),
      async (chunk) => {
        const first = from + chunk * readChunk;
        const values = await readRange(first, Math.min(to, first + readChunk));
        for (let i = 0; i < values.length; i++) out[first - from + i] = values[i]!;
      },
      chunksInFlight,
    );
    return out;
  }

  /** Every element, in order. */
  toArray(): Promise<T[]> {
    return this.slice(0, this.length);
  }

  /**
   * The elements in order: read in chunks, growing from a few elements, the next chunk
   * read while this one is handed out (one at a time without batched reads).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const readRange = this.#readRange;
    if (readRange === undefined) {
      for (let index = 0; index < this.length; index++) yield await this.#read(index);
      return;
    }
    let from = 0;
    let size = firstIteratedChunk;
    const next = (): Promise<T[]> => {
      const to = Math.min(this.length, from + size);
      const reading = readRange(from, to);
      // Read ahead: a loop that stops early leaves it unawaited, failed or not.
      reading.catch(() => {});
      from = to;
      size = Math.min(readChunk, size * 2);
      return reading;
    };
    let pending = this.length > 0 ? next() : undefined;
    while (pending !== undefined) {
      const current = pending;
      pending = from < this.length ? next() : undefined;
      for (const value of await current) yield value;
    }
  }

  /** Shows the length, not the values (which are not read). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Accessor(${this.label}, length ${this.length})`;
  }
}

function clamp(value: number, length: number): number {
  return Math.max(0, Math.min(length, value));
}
