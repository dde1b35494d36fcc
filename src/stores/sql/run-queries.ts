/**
 * The statements that answer a viewer of runs (`RunQueries`, and listRuns' filters and
 * pages), written once for both SQL stores. A statement's text depends only on the shape
 * of the question (which filters are given), never on its values: every value a user
 * typed is a parameter. Texts are cached by shape and dialect.
 */
import type { RunCursor } from '../../core/store.ts';
import type { RunFilter, TaskPageQuery } from '../query-options.ts';
import type { Dialect } from './dialect.ts';
import type { StoredKeyRange } from './key-codec.ts';
import { readable, runRead } from './queries.ts';

/** A statement and the values of its parameters, in order. */
export interface Sql {
  readonly text: string;
  readonly values: unknown[];
}

const cache = new Map<string, string>();

/** The statement of `shape`, written by `write` once per dialect and schema version. */
function cached(dialect: Dialect, version: number, shape: string, write: () => string): string {
  const name = `${dialect.name}:${version}:${shape}`;
  let text = cache.get(name);
  if (text === undefined) {
    text = dialect.placeholders(write());
    cache.set(name, text);
  }
  return text;
}

/**
 * The runs a filter keeps, newest first (created_at, then seq, the order of creation),
 * `limit` of them after `before`; or, without `page`, how many there are (`n`).
 */
export function runsSql(
  dialect: Dialect,
  version: number,
  filter: RunFilter,
  page?: { readonly limit: number; readonly before: RunCursor | undefined },
): Sql {
  const { status, search } = filter;
  const before = page?.before;
  const shape = `runs:${page ? 'page' : 'count'}:${status ? 's' : ''}${search ? 'q' : ''}${before ? 'b' : ''}`;
  const text = cached(dialect, version, shape, () => {
    const where: string[] = [];
    if (status) where.push('status = ?');
    if (search) {
      const fold = dialect.lowerAscii;
      where.push(
        `(${dialect.contains(fold('id'), '?')} OR ${dialect.contains(fold('meta'), '?')} ` +
          `OR ${dialect.contains(fold('meta'), '?')})`,
      );
    }
    // A cursor naming no run reads on from the runs created before its time: seq is never 0.
    if (before) {
      where.push(
        '(created_at, seq) < (?, COALESCE((SELECT c.seq FROM runs AS c WHERE c.id = ?), 0))',
      );
    }
    const clause = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
    return page
      ? `SELECT ${readable(runRead, version)} FROM runs${clause} ` +
          'ORDER BY created_at DESC, seq DESC LIMIT ?'
      : `SELECT COUNT(*) AS n FROM runs${clause}`;
  });
  const values: unknown[] = [];
  if (status) values.push(status);
  if (search) values.push(search.id ?? null, ...search.meta);
  if (before) values.push(before.createdAt, before.id);
  if (page) values.push(page.limit);
  return { text, values };
}

/**
 * The condition of the index of failed tasks (schema version 7), written as it is there:
 * a database uses a partial index only for a statement whose condition implies the
 * index's, which a literal shows and a parameter may not.
 */
const failed = " AND status = 'failed'";

/**
 * All tasks and the failed ones (`total`, `failed`) of each run in a list bound as one
 * (`run_id`), one row per id: the first counted by the (run_id, seq) index, which holds all
 * a count reads, the second by the index of failed tasks.
 */
export function countTasksSql(dialect: Dialect): string {
  return cached(dialect, 0, 'countTasks', () => {
    const count = (where: string) => `(SELECT COUNT(*) FROM tasks WHERE run_id = r.value${where})`;
    return (
      `SELECT r.value AS run_id, ${count('')} AS total, ${count(failed)} AS failed ` +
      `FROM ${dialect.listRows('r')}`
    );
  });
}

/** Counts and times of a run's tasks per name: run id. */
export function summarizeTasksSql(dialect: Dialect): string {
  return cached(
    dialect,
    0,
    'summarize',
    () =>
      'SELECT task, ' +
      "COUNT(*) FILTER (WHERE status = 'completed') AS completed, " +
      "COUNT(*) FILTER (WHERE status = 'failed') AS failed, " +
      'SUM(duration_ms) AS total_ms, MAX(duration_ms) AS max_ms, ' +
      'MIN(started_at) AS first_started_at, MAX(started_at + duration_ms) AS last_ended_at ' +
      'FROM tasks WHERE run_id = ? GROUP BY task',
  );
}

/**
 * The tasks of a run in one range of stored keys (`n`), by the (run_id, key) primary key,
 * which holds all a count reads: run id, the range's start and, when `bounded`, its end.
 * With `onlyFailed`, only the failed ones.
 */
export function prefixCountSql(dialect: Dialect, bounded: boolean, onlyFailed = false): string {
  return cached(dialect, 0, `prefixCount:${bounded}:${onlyFailed}`, () => {
    const key = dialect.byteOrder('key');
    return (
      `SELECT COUNT(*) AS n FROM tasks WHERE run_id = ?${onlyFailed ? failed : ''} ` +
      `AND ${key} >= ?${bounded ? ` AND ${key} < ?` : ''}`
    );
  });
}

/**
 * PostgreSQL only: the tasks of the run $1, as {@link prefixCountSql} counts them, in each
 * of many bounded ranges of stored keys ($2 starts, $3 ends), each with its place in the
 * arrays from 0 (`at`). The LATERAL subquery runs once per range, a search of the index.
 */
export function prefixCountsArraySql(onlyFailed: boolean): string {
  return (
    'SELECT (r.at - 1)::int AS at, c.n FROM unnest($2::text[], $3::text[]) WITH ORDINALITY ' +
    'AS r(lo, hi, at) CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM tasks WHERE run_id = $1' +
    `${onlyFailed ? failed : ''} AND key COLLATE "C" >= r.lo AND key COLLATE "C" < r.hi) AS c`
  );
}

/**
 * The stored keys of a run's failed tasks (`key`), by the index of failed tasks, at
 * most a number of them: run id, limit. Failed tasks are usually few, and counting them
 * under many prefixes is cheaper from their keys than by a range of keys each.
 */
export function failedKeysSql(dialect: Dialect): string {
  return cached(
    dialect,
    0,
    'failedKeys',
    () => `SELECT key FROM tasks WHERE run_id = ?${failed} LIMIT ?`,
  );
}

/**
 * A page of a run's task records without their outputs (`output` is null), each with its
 * `seq`: in the order first recorded after a position, or the longest first. In the order
 * recorded it asks one more than the limit, so that a full page knows whether another
 * follows. On SQLite the longest are chosen by their sequence numbers first, which its
 * index of a run's tasks in order holds with their durations, and only those rows read.
 * @param byKeys SQLite only: find the rows under the prefix by the primary key's ranges
 *   first (then sort them), rather than walking the run in order until enough are found:
 *   the cheaper when the prefix holds few of the run's tasks
 */
export function taskPageSql(
  dialect: Dialect,
  version: number,
  runId: string,
  query: TaskPageQuery,
  ranges: readonly StoredKeyRange[] | undefined,
  byKeys = false,
): Sql {
  const { status, task, order } = query;
  const recorded = order === 'recorded';
  // Only SQLite's index of a run's tasks in order holds their durations.
  const bySeq = dialect.name === 'sqlite';
  // Conditions and their values, in the order of the text.
  const where: [condition: string, ...values: unknown[]][] = [['run_id = ?', runId]];
  // One of two fixed texts, never the value as given: a literal, so that the index of
  // failed tasks serves pages of them.
  if (status) where.push([status === 'failed' ? "status = 'failed'" : "status = 'completed'"]);
  if (task !== undefined) where.push(['task = ?', task]);
  if (ranges) {
    const key = dialect.byteOrder('key');
    const each = ranges.map(([, to]) =>
      to === undefined ? `${key} >= ?` : `(${key} >= ? AND ${key} < ?)`,
    );
    const bounds = ranges.flatMap(([from, to]) => (to === undefined ? [from] : [from, to]));
    where.push(
      byKeys
        ? [
            `rowid IN (SELECT rowid FROM tasks WHERE run_id = ? AND (${each.join(' OR ')}))`,
            runId,
            ...bounds,
          ]
        : [`(${each.join(' OR ')})`, ...bounds],
    );
  }
  const rangeShape = ranges?.map(([, to]) => (to === undefined ? 'o' : 'b')).join('') ?? '';
  const shape =
    `taskPage:${order}:${status ?? ''}:${task === undefined ? '' : 't'}:${rangeShape}:` +
    `${byKeys ? 'k' : ''}`;
  const text = cached(dialect, version, shape, () => {
    const conditions = where.map(([condition]) => condition);
    const columns = readable(
      'key, full_key, task, status, attempts, started_at, duration_ms, queued_ms',
      version,
    );
    const select = `SELECT ${columns}, NULL AS output, error, seq FROM tasks`;
    if (recorded) {
      return `${select} WHERE ${[...conditions, 'seq > ?'].join(' AND ')} ORDER BY seq LIMIT ?`;
    }
    const slowest = 'ORDER BY duration_ms DESC, seq';
    if (!bySeq) return `${select} WHERE ${conditions.join(' AND ')} ${slowest} LIMIT ?`;
    return (
      `${select} WHERE run_id = ? AND seq IN ` +
      `(SELECT seq FROM tasks WHERE ${conditions.join(' AND ')} ${slowest} LIMIT ?) ${slowest}`
    );
  });
  const values = where.flatMap(([, ...bound]) => bound);
  if (recorded) return { text, values: [...values, query.after, query.limit + 1] };
  return { text, values: [...(bySeq ? [runId] : []), ...values, query.limit] };
}

/**
 * The tasks of a run by the bucket of their end (`bucket`, `n`), computed as
 * `bucketOf` (task-scans.ts) does, in doubles, but for the clamp of rounding to the
 * last bucket, left to the caller: run id, from, to, buckets.
 */
export function histogramSql(dialect: Dialect): string {
  return cached(dialect, 0, 'histogram', () => {
    const number = `CAST(? AS ${dialect.double})`;
    const end = 'started_at + duration_ms';
    // Each parameter appears once, in the order the values are bound.
    return (
      `SELECT b.bucket, COUNT(*) AS n FROM (SELECT CASE WHEN ${end} < f.from_ms THEN 0 ` +
      `WHEN ${end} >= f.to_ms THEN f.buckets - 1 ` +
      `ELSE floor((${end} - f.from_ms) * f.buckets / (f.to_ms - f.from_ms)) END AS bucket ` +
      `FROM tasks, (SELECT ${number} AS from_ms, ${number} AS to_ms, ${number} AS buckets) AS f ` +
      'WHERE run_id = ?) AS b GROUP BY b.bucket'
    );
  });
}

/** A run's events after a position, with it (`seq`, `data`): run id, position, limit. */
export function eventsAfterSql(dialect: Dialect): string {
  return cached(
    dialect,
    0,
    'eventsAfter',
    () => 'SELECT seq, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
}
