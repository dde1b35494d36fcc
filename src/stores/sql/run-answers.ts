/**
 * Between the rows of the viewer's statements (run-queries.ts) and the answers of
 * `RunQueries`, the same for both SQL stores: numbers PostgreSQL reads as text (counts,
 * sequence numbers) made numbers, names put in the order of JavaScript strings whatever
 * the collation, a page's next position, and a histogram's buckets.
 */
import type { TaskNameSummary, TaskPage } from '../../core/store.ts';
import { isDigest, keyFromStored } from './key-codec.ts';

/** A row of `summarizeTasksSql`; PostgreSQL reads its counts as text. */
export type SummaryRow = {
  readonly task: string;
  readonly completed: number | string;
  readonly failed: number | string;
  readonly total_ms: number;
  readonly max_ms: number;
  readonly first_started_at: number;
  readonly last_ended_at: number;
};

/** Summaries from their rows, in order of name by UTF-16 code unit (whatever the collation). */
export function summaries(rows: readonly SummaryRow[]): TaskNameSummary[] {
  return rows
    .map((row) => ({
      task: row.task,
      completed: Number(row.completed),
      failed: Number(row.failed),
      totalMs: Number(row.total_ms),
      maxMs: Number(row.max_ms),
      firstStartedAt: Number(row.first_started_at),
      lastEndedAt: Number(row.last_ended_at),
    }))
    .sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
}

/**
 * A page from the rows of `taskPageSql`, which asks one row more than `limit` in the
 * order recorded: that row says another page follows, from the last row's `seq`.
 */
export function taskPageOf<R extends { readonly seq: number | string }>(
  rows: readonly R[],
  limit: number,
  recorded: boolean,
  toTask: (row: R) => TaskPage['tasks'][number],
): TaskPage {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const more = recorded && rows.length > limit && last !== undefined;
  return { tasks: page.map(toTask), ...(more ? { next: Number(last.seq) } : {}) };
}

/** Counts per bucket from the rows of `histogramSql`, rounding's overflow in the last. */
export function histogramOf(
  rows: readonly { readonly bucket: number | string; readonly n: number | string }[],
  buckets: number,
): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (const row of rows) {
    counts[Math.min(buckets - 1, Number(row.bucket))]! += Number(row.n);
  }
  return counts;
}

/**
 * The most failed tasks a count by prefix reads the keys of, to count them under every
 * prefix at once; a run with more has its failed tasks counted by a range of keys each.
 */
export const maxFailedKeys = 5000;

/**
 * How many of the failed tasks, by their stored keys, are under each prefix, by the rule
 * the ranges of `storedPrefixRanges` follow: a digest is under the empty prefix only.
 */
export function failedByPrefix(
  prefixes: readonly string[],
  rows: readonly { readonly key: string }[],
): number[] {
  const keys = rows.map((row) => (isDigest(row.key) ? undefined : keyFromStored(row.key)));
  return prefixes.map((prefix) => {
    if (prefix === '') return keys.length;
    let count = 0;
    for (const key of keys) if (key?.startsWith(prefix)) count++;
    return count;
  });
}
