/**
 * The SQLite store's answers to a viewer of runs ({@link RunQueries}): the statements of
 * sql/run-queries.ts, run on the store's own connection (the one its other reads use; in
 * WAL mode they never wait for the writer thread's writes). A statement is prepared once,
 * the first time its shape is asked.
 */
import type Database from 'better-sqlite3';
import type { WeftEvent } from '../core/events.ts';
import type {
  ListRunsOptions,
  RunQueries,
  RunRecord,
  TaskCounts,
  TaskNameSummary,
  TaskPage,
  TaskPageOptions,
} from '../core/store.ts';
import {
  checkEventsAfter,
  checkHistogram,
  checkPrefixes,
  checkRunFilter,
  checkRunIds,
  checkTaskPage,
  isStorableText,
  type RunListing,
} from './query-options.ts';
import type { Codec, RunRow, TaskRow } from './sql/codec.ts';
import { sqliteDialect } from './sql/dialect.ts';
import { storedPrefixRanges } from './sql/key-codec.ts';
import { latestVersion } from './sql/migrations.ts';
import {
  failedByPrefix,
  histogramOf,
  maxFailedKeys,
  type SummaryRow,
  summaries,
  taskPageOf,
} from './sql/run-answers.ts';
import {
  countTasksSql,
  eventsAfterSql,
  failedKeysSql,
  histogramSql,
  prefixCountSql,
  runsSql,
  type Sql,
  summarizeTasksSql,
  taskPageSql,
} from './sql/run-queries.ts';
import { checkRunId } from './validate.ts';

/** Runs a read on the store's open connection, turning driver errors into weft's. */
export type SqliteRead = <T>(doing: string, read: (db: Database.Database) => T) => T;

/** Run ids per countTasks statement. */
const idsPerStatement = 500;
/**
 * The most records under a key prefix that a page reads by the prefix's key ranges; over
 * it, by walking the run in order (see `SqliteQueries.taskPage`).
 */
export const fewUnderPrefix = 20_000;

/** {@link RunQueries} of a SQLite store. */
export class SqliteQueries implements RunQueries {
  readonly #read: SqliteRead;
  readonly #codec: Codec;
  readonly #prepared = new Map<string, Database.Statement<unknown[], unknown>>();

  /** @param read runs a read on the store's connection (its `#use`) */
  constructor(read: SqliteRead, codec: Codec) {
    this.#read = read;
    this.#codec = codec;
  }

  /** The runs a listing keeps, newest first: what `SqliteStore.listRuns` answers. */
  listRuns(listing: RunListing): RunRecord[] {
    const rows = this.#all<RunRow>(
      'listing runs',
      runsSql(sqliteDialect, latestVersion, listing, listing),
    );
    return rows.map((row) => this.#codec.run(row));
  }

  async countTasks(runIds: readonly string[]): Promise<Map<string, TaskCounts>> {
    checkRunIds(runIds);
    const counts = new Map<string, TaskCounts>();
    for (let start = 0; start < runIds.length; start += idsPerStatement) {
      const chunk = runIds.slice(start, start + idsPerStatement);
      const rows = this.#all<{ run_id: string; total: number; failed: number }>(
        `counting the tasks of ${chunk.length} runs`,
        { text: countTasksSql(sqliteDialect), values: [sqliteDialect.bindList(chunk)] },
      );
      for (const { run_id, total, failed } of rows) {
        if (total > 0) counts.set(run_id, { completed: total - failed, failed });
      }
    }
    return counts;
  }

  async countRuns(options?: ListRunsOptions): Promise<number> {
    const filter = checkRunFilter(options);
    const [row] = this.#all<{ n: number }>(
      'counting runs',
      runsSql(sqliteDialect, latestVersion, filter),
    );
    return row?.n ?? 0;
  }

  async summarizeTasks(runId: string): Promise<TaskNameSummary[]> {
    checkRunId(runId);
    const rows = this.#all<SummaryRow>(`summing up the tasks of run '${runId}'`, {
      text: summarizeTasksSql(sqliteDialect),
      values: [runId],
    });
    return summaries(rows);
  }

  /**
   * Every prefix's tasks by a range of the primary key each; the failed ones among them
   * from the keys of the run's failed tasks when they are few, else by a range each too.
   */
  async countTasksByPrefix(runId: string, prefixes: readonly string[]): Promise<TaskCounts[]> {
    checkPrefixes(runId, prefixes);
    const doing = `counting tasks by key prefix in run '${runId}'`;
    const failedKeys = this.#all<{ key: string }>(doing, {
      text: failedKeysSql(sqliteDialect),
      values: [runId, maxFailedKeys + 1],
    });
    const fromKeys =
      failedKeys.length <= maxFailedKeys ? failedByPrefix(prefixes, failedKeys) : undefined;
    const count = (text: string, values: unknown[]) =>
      this.#all<{ n: number }>(doing, { text, values })[0]?.n ?? 0;
    return prefixes.map((prefix, i) => {
      let total = 0;
      let failed = fromKeys?.[i] ?? 0;
      for (const [from, to] of storedPrefixRanges(prefix)) {
        const range = to === undefined ? [runId, from] : [runId, from, to];
        total += count(prefixCountSql(sqliteDialect, to !== undefined), range);
        if (!fromKeys)
          failed += count(prefixCountSql(sqliteDialect, to !== undefined, true), range);
      }
      return { completed: total - failed, failed };
    });
  }

  /**
   * A page of records. Under a key prefix in the order recorded, the rows under it are
   * counted first (by the primary key, which holds all a count reads): when they are few,
   * they are read by the key's ranges and sorted, else the run is walked in order until
   * the page is full, which finds a large fan-out's first records at once.
   */
  async taskPage(runId: string, options?: TaskPageOptions): Promise<TaskPage> {
    const query = checkTaskPage(runId, options);
    // A name the database cannot hold exactly is no task's name here.
    if (query.task !== undefined && !isStorableText(query.task)) return { tasks: [] };
    const doing = `reading a page of the tasks of run '${runId}'`;
    const ranges = query.keyPrefix === undefined ? undefined : storedPrefixRanges(query.keyPrefix);
    let byKeys = false;
    if (ranges && query.order === 'recorded') {
      let under = 0;
      for (const [from, to] of ranges) {
        const [row] = this.#all<{ n: number }>(doing, {
          text: prefixCountSql(sqliteDialect, to !== undefined),
          values: to === undefined ? [runId, from] : [runId, from, to],
        });
        under += row?.n ?? 0;
      }
      byKeys = under <= fewUnderPrefix;
    }
    const rows = this.#all<TaskRow & { seq: number }>(
      doing,
      taskPageSql(sqliteDialect, latestVersion, runId, query, ranges, byKeys),
    );
    return taskPageOf(rows, query.limit, query.order === 'recorded', (row) =>
      this.#codec.task(row, false),
    );
  }

  async taskEndHistogram(
    runId: string,
    from: number,
    to: number,
    buckets: number,
  ): Promise<number[]> {
    checkHistogram(runId, from, to, buckets);
    const rows = this.#all<{ bucket: number; n: number }>(
      `counting the task ends of run '${runId}'`,
      { text: histogramSql(sqliteDialect), values: [from, to, buckets, runId] },
    );
    return histogramOf(rows, buckets);
  }

  async eventsAfter(
    runId: string,
    after: number,
    limit?: number,
  ): Promise<{ position: number; event: WeftEvent }[]> {
    const most = checkEventsAfter(runId, after, limit);
    const rows = this.#all<{ seq: number; data: string }>(`reading events of run '${runId}'`, {
      text: eventsAfterSql(sqliteDialect),
      values: [runId, after, most],
    });
    return rows.map((row) => ({ position: row.seq, event: this.#codec.event(row.data) }));
  }

  #all<R>(doing: string, { text, values }: Sql): R[] {
    return this.#read(doing, (db) => {
      let statement = this.#prepared.get(text);
      if (!statement) {
        statement = db.prepare(text);
        this.#prepared.set(text, statement);
      }
      return statement.all(...values) as R[];
    });
  }
}
