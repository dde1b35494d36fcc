/**
 * {@link RunQueries} of both SQL stores: the statements of run-queries.ts, and their rows
 * made answers (numbers PostgreSQL reads as text made numbers, names put in the order of
 * JavaScript strings whatever the collation, a page's next position, a histogram's
 * buckets). A store says how it runs a statement and how it counts ranges of keys.
 */
import type { WeftEvent } from '../../core/events.ts';
import type {
  ListRunsOptions,
  RunQueries,
  RunRecord,
  TaskCounts,
  TaskNameSummary,
  TaskPage,
  TaskPageOptions,
} from '../../core/store.ts';
import {
  checkEventsAfter,
  checkHistogram,
  checkPrefixes,
  checkRunFilter,
  checkRunIds,
  checkTaskPage,
  isStorableText,
  type RunListing,
} from '../query-options.ts';
import { checkRunId } from '../validate.ts';
import type { Codec, RunRow, TaskRow } from './codec.ts';
import type { Dialect } from './dialect.ts';
import { isDigest, keyFromStored, type StoredKeyRange, storedPrefixRanges } from './key-codec.ts';
import {
  countTasksSql,
  eventsAfterSql,
  failedKeysSql,
  histogramSql,
  runsSql,
  type Sql,
  summarizeTasksSql,
  taskPageSql,
} from './run-queries.ts';

/**
 * The most failed tasks a count by prefix reads the keys of, to count them under every
 * prefix at once; a run with more has its failed tasks counted by a range of keys each.
 */
export const maxFailedKeys = 5000;

/** {@link RunQueries} over a SQL database; a store gives the driver's part. */
export abstract class SqlQueries implements RunQueries {
  readonly #dialect: Dialect;
  readonly #codec: Codec;
  readonly #version: number;
  readonly #idsPerStatement: number;

  /**
   * @param version the schema version of the database (older when opened for reading)
   * @param idsPerStatement run ids counted by one countTasks statement
   */
  protected constructor(dialect: Dialect, codec: Codec, version: number, idsPerStatement: number) {
    this.#dialect = dialect;
    this.#codec = codec;
    this.#version = version;
    this.#idsPerStatement = idsPerStatement;
  }

  /** The rows of a statement, driver errors made weft's (`doing` says what for). */
  protected abstract rows<R>(doing: string, sql: Sql): Promise<R[]>;

  /**
   * The tasks (or only the failed ones) under each prefix, in the order asked, by the
   * ranges of stored keys of `storedPrefixRanges`.
   */
  protected abstract countRanges(
    doing: string,
    runId: string,
    prefixes: readonly string[],
    failed: boolean,
  ): Promise<number[]>;

  /**
   * Whether a page under `keyPrefix` in the order recorded reads the rows under it by their
   * key ranges first, rather than walking the run in order (see `taskPageSql`'s `byKeys`).
   */
  protected abstract pageByKeys(doing: string, runId: string, keyPrefix: string): Promise<boolean>;

  /** The runs a listing keeps, newest first: what the store's `listRuns` answers. */
  async listRuns(listing: RunListing): Promise<RunRecord[]> {
    const sql = runsSql(this.#dialect, this.#version, listing, listing);
    const rows = await this.rows<RunRow>('listing runs', sql);
    return rows.map((row) => this.#codec.run(row));
  }

  async countTasks(runIds: readonly string[]): Promise<Map<string, TaskCounts>> {
    checkRunIds(runIds);
    const counts = new Map<string, TaskCounts>();
    for (let start = 0; start < runIds.length; start += this.#idsPerStatement) {
      const chunk = runIds.slice(start, start + this.#idsPerStatement);
      const rows = await this.rows<{
        run_id: string;
        total: number | string;
        failed: number | string;
      }>(`counting the tasks of ${chunk.length} runs`, {
        text: countTasksSql(this.#dialect),
        values: [this.#dialect.bindList(chunk)],
      });
      for (const row of rows) {
        const total = Number(row.total);
        const failed = Number(row.failed);
        if (total > 0) counts.set(row.run_id, { completed: total - failed, failed });
      }
    }
    return counts;
  }

  async countRuns(options?: ListRunsOptions): Promise<number> {
    const filter = checkRunFilter(options);
    const sql = runsSql(this.#dialect, this.#version, filter);
    const [row] = await this.rows<{ n: number | string }>('counting runs', sql);
    return Number(row?.n ?? 0);
  }

  async summarizeTasks(runId: string): Promise<TaskNameSummary[]> {
    checkRunId(runId);
    const rows = await this.rows<SummaryRow>(`summing up the tasks of run '${runId}'`, {
      text: summarizeTasksSql(this.#dialect),
      values: [runId],
    });
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
   * Every prefix's tasks by its key ranges; the failed ones among them from the keys of the
   * run's failed tasks when they are few, else by the key ranges too.
   */
  async countTasksByPrefix(runId: string, prefixes: readonly string[]): Promise<TaskCounts[]> {
    checkPrefixes(runId, prefixes);
    const doing = `counting tasks by key prefix in run '${runId}'`;
    const failedKeys = await this.rows<{ key: string }>(doing, {
      text: failedKeysSql(this.#dialect),
      values: [runId, maxFailedKeys + 1],
    });
    const fromKeys =
      failedKeys.length <= maxFailedKeys ? failedByPrefix(prefixes, failedKeys) : undefined;
    const totals = await this.countRanges(doing, runId, prefixes, false);
    const failed = fromKeys ?? (await this.countRanges(doing, runId, prefixes, true));
    return totals.map((total, i) => ({ completed: total - failed[i]!, failed: failed[i]! }));
  }

  async taskPage(runId: string, options?: TaskPageOptions): Promise<TaskPage> {
    const query = checkTaskPage(runId, options);
    // A name the database cannot hold (a NUL, half a character) is no task's name here.
    if (query.task !== undefined && !isStorableText(query.task)) return { tasks: [] };
    const doing = `reading a page of the tasks of run '${runId}'`;
    const { keyPrefix, limit, order } = query;
    const ranges: StoredKeyRange[] | undefined =
      keyPrefix === undefined ? undefined : storedPrefixRanges(keyPrefix);
    const byKeys =
      keyPrefix !== undefined &&
      order === 'recorded' &&
      (await this.pageByKeys(doing, runId, keyPrefix));
    const rows = await this.rows<TaskRow & { seq: number | string }>(
      doing,
      taskPageSql(this.#dialect, this.#version, runId, query, ranges, byKeys),
    );
    // In the order recorded the statement asks one row more: it says another page follows.
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const tasks = page.map((row) => this.#codec.task(row, false));
    const more = order === 'recorded' && rows.length > limit && last !== undefined;
    return more ? { tasks, next: Number(last.seq) } : { tasks };
  }

  async taskEndHistogram(
    runId: string,
    from: number,
    to: number,
    buckets: number,
  ): Promise<number[]> {
    checkHistogram(runId, from, to, buckets);
    const rows = await this.rows<{ bucket: number | string; n: number | string }>(
      `counting the task ends of run '${runId}'`,
      { text: histogramSql(this.#dialect), values: [from, to, buckets, runId] },
    );
    const counts = new Array<number>(buckets).fill(0);
    // Rounding may put an end at `to` past the last bucket: it belongs there.
    for (const row of rows) counts[Math.min(buckets - 1, Number(row.bucket))]! += Number(row.n);
    return counts;
  }

  async eventsAfter(
    runId: string,
    after: number,
    limit?: number,
  ): Promise<{ position: number; event: WeftEvent }[]> {
    const most = checkEventsAfter(runId, after, limit);
    const rows = await this.rows<{ seq: number | string; data: string }>(
      `reading events of run '${runId}'`,
      { text: eventsAfterSql(this.#dialect), values: [runId, after, most] },
    );
    return rows.map((row) => ({ position: Number(row.seq), event: this.#codec.event(row.data) }));
  }
}

/** A row of `summarizeTasksSql`; PostgreSQL reads its counts as text. */
type SummaryRow = {
  readonly task: string;
  readonly completed: number | string;
  readonly failed: number | string;
  readonly total_ms: number;
  readonly max_ms: number;
  readonly first_started_at: number;
  readonly last_ended_at: number;
};

/**
 * How many of the failed tasks, by their stored keys, are under each prefix, by the rule
 * the ranges of `storedPrefixRanges` follow: a digest is under the empty prefix only.
 */
function failedByPrefix(prefixes: readonly string[], rows: readonly { readonly key: string }[]) {
  const keys = rows.map((row) => (isDigest(row.key) ? undefined : keyFromStored(row.key)));
  return prefixes.map((prefix) => {
    if (prefix === '') return keys.length;
    let count = 0;
    for (const key of keys) if (key?.startsWith(prefix)) count++;
    return count;
  });
}
