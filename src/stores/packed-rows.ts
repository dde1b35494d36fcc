/**
 * Rows of plain values (strings, numbers, nulls) packed for another thread: every string
 * in one string, every number in one Float64Array, a type tag per value. Posting rows as
 * arrays of arrays costs the structured clone a few hundred nanoseconds a row (an object
 * header per array and per string); packed, a group of rows is three objects whatever its
 * size, which is what keeps recording cheap on the thread that runs the tasks.
 */

/** A value's type in {@link PackedRows.tags} (0 is null). */
const numberTag = 1;
const stringTag = 2;

/** Rows of one width, packed by {@link packRows}. */
export interface PackedRows {
  readonly packed: true;
  readonly rows: number;
  readonly width: number;
  readonly tags: Uint8Array;
  readonly numbers: Float64Array;
  /** Every string value, one after another. */
  readonly text: string;
  /** The length of each string value in `text`, in order. */
  readonly lengths: Uint32Array;
}

/**
 * Packs rows whose values are all strings, numbers or nulls, all of one width; returns
 * undefined for anything else (the caller posts those as they are).
 */
export function packRows(rows: readonly unknown[]): PackedRows | undefined {
  const first = rows[0];
  if (!Array.isArray(first)) return undefined;
  const width = first.length;
  const count = rows.length * width;
  const tags = new Uint8Array(count);
  const numbers = new Float64Array(count);
  const lengths: number[] = [];
  let text = '';
  let at = 0;
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== width) return undefined;
    for (let i = 0; i < width; i++, at++) {
      const value: unknown = row[i];
      if (value === null) continue;
      if (typeof value === 'number') {
        tags[at] = numberTag;
        numbers[at] = value;
      } else if (typeof value === 'string') {
        tags[at] = stringTag;
        text += value;
        lengths.push(value.length);
      } else {
        return undefined;
      }
    }
  }
  return {
    packed: true,
    rows: rows.length,
    width,
    tags,
    numbers,
    text,
    lengths: Uint32Array.from(lengths),
  };
}

/** True when `value` is rows {@link packRows} packed (and were posted). */
export function isPackedRows(value: unknown): value is PackedRows {
  return (
    typeof value === 'object' && value !== null && (value as { packed?: unknown }).packed === true
  );
}

/** The rows {@link packRows} packed. */
export function unpackRows(packed: PackedRows): unknown[][] {
  const { rows, width, tags, numbers, text, lengths } = packed;
  const out: unknown[][] = new Array(rows);
  let at = 0;
  let offset = 0;
  let string = 0;
  for (let r = 0; r < rows; r++) {
    const row: unknown[] = new Array(width);
    for (let i = 0; i < width; i++, at++) {
      const tag = tags[at];
      if (tag === numberTag) row[i] = numbers[at];
      else if (tag === stringTag) {
        const length = lengths[string++]!;
        row[i] = text.slice(offset, offset + length);
        offset += length;
      } else row[i] = null;
    }
    out[r] = row;
  }
  return out;
}
