/**
 * The PostgreSQL store's answers to a viewer of runs ({@link RunQueries}): the statements
 * of sql/run-queries.ts, each one parameterised query through the store's pool. They are
 * left unnamed, so that PostgreSQL plans each with its values (a generic plan would not
 * know how much of a run a key range or a status holds).
 */
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
import { postgresDialect } from './sql/dialect.ts';
import { storedPrefixRanges } from './sql/key-codec.ts';
import type { PostgresPool } from './sql/postgres-pool.ts';
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
  prefixCountsArraySql,
  runsSql,
  type Sql,
  summarizeTasksSql,
  taskPageSql,
} from './sql/run-queries.ts';
import { checkRunId } from './validate.ts';

/** Run ids per countTasks statement. */
const idsPerStatement = 1000;

/** {@link RunQueries} of a PostgreSQL store. */
export class PostgresQueries implements RunQueries {
  readonly #pool: PostgresPool;
  readonly #codec: Codec;
  readonly #version: number;

  /** @param version the schema version of the database (older when opened for reading) */
  constructor(pool: PostgresPool, codec: Codec, version: number) {
    this.#pool = pool;
    this.#codec = codec;
    this.#version = version;
  }

  /** The runs a listing keeps, newest first: what `PostgresStore.listRuns` answers. */
  async listRuns(listing: RunListing): Promise<RunRecord[]> {
    const rows = await this.#rows<RunRow>(
      'listing runs',
      runsSql(postgresDialect, this.#version, listing, listing),
    );
    return rows.map((row) => this.#codec.run(row));
  }

  async countTasks(runIds: readonly string[]): Promise<Map<string, TaskCounts>> {
    checkRunIds(runIds);
    const counts = new Map<string, TaskCounts>();
    for (let start = 0; start < runIds.length; start += idsPerStatement) {
      const chunk = runIds.slice(start, start + idsPerStatement);
      const rows = await this.#rows<{ run_id: string; total: string; failed: string }>(
        `counting the tasks of ${chunk.length} runs`,
        { text: countTasksSql(postgresDialect), values: [postgresDialect.bindList(chunk)] },
      );
      for (const row of rows) {
        // COUNT is a bigint, which pg reads as a string.
        const total = Number(row.total);
        const failed = Number(row.failed);
        if (total > 0) counts.set(row.run_id, { completed: total - failed, failed });
      }
    }
    return counts;
  }

  async countRuns(options?: ListRunsOptions): Promise<number> {
    const filter = checkRunFilter(options);
    const [row] = await this.#rows<{ n: string }>(
      'counting runs',
      runsSql(postgresDialect, this.#version, filter),
    );
    return Number(row?.n ?? 0);
  }

  async summarizeTasks(runId: string): Promise<TaskNameSummary[]> {
    checkRunId(runId);
    const rows = await this.#rows<SummaryRow>(`summing up the tasks of run '${runId}'`, {
      text: summarizeTasksSql(postgresDialect),
      values: [runId],
    });
    return summaries(rows);
  }

  /**
   * Every prefix's tasks by a range of the primary key each, all bounded ranges in one
   * statement (a range without end, of a prefix of the highest characters only, in one of
   * its own); the failed ones among them from the keys of the run's failed tasks when they
   * are few, else by a range each too.
   */
  async countTasksByPrefix(runId: string, prefixes: readonly string[]): Promise<TaskCounts[]> {
    checkPrefixes(runId, prefixes);
    const doing = `counting tasks by key prefix in run '${runId}'`;
    const failedKeys = await this.#rows<{ key: string }>(doing, {
      text: failedKeysSql(postgresDialect),
      values: [runId, maxFailedKeys + 1],
    });
    const fromKeys =
      failedKeys.length <= maxFailedKeys ? failedByPrefix(prefixes, failedKeys) : undefined;
    const totals = await this.#countRanges(doing, runId, prefixes, false);
    const failed = fromKeys ?? (await this.#countRanges(doing, runId, prefixes, true));
    return totals.map((total, i) => ({ completed: total - failed[i]!, failed: failed[i]! }));
  }

  /** The tasks (or the failed ones) under each prefix, by a range of the primary key each. */
  async #countRanges(
    doing: string,
    runId: string,
    prefixes: readonly string[],
    failed: boolean,
  ): Promise<number[]> {
    const counts = prefixes.map(() => 0);
    const owners: number[] = [];
    const starts: string[] = [];
    const ends: string[] = [];
    const open: [at: number, from: string][] = [];
    prefixes.forEach((prefix, at) => {
      for (const [from, to] of storedPrefixRanges(prefix)) {
        if (to === undefined) {
          open.push([at, from]);
        } else {
          owners.push(at);
          starts.push(from);
          ends.push(to);
        }
      }
    });
    // COUNT is a bigint, which pg reads as a string.
    if (starts.length > 0) {
      const rows = await this.#rows<{ at: number; n: string }>(doing, {
        text: prefixCountsArraySql(failed),
        values: [runId, starts, ends],
      });
      for (const row of rows) counts[owners[row.at]!]! += Number(row.n);
    }
    for (const [at, from] of open) {
      const [row] = await this.#rows<{ n: string }>(doing, {
        text: prefixCountSql(postgresDialect, false, failed),
        values: [runId, from],
      });
      counts[at]! += Number(row?.n ?? 0);
    }
    return counts;
  }

  async taskPage(runId: string, options?: TaskPageOptions): Promise<TaskPage> {
    const query = checkTaskPage(runId, options);
    // A name the database cannot hold (a NUL, half a character) is no task's name here.
    if (query.task !== undefined && !isStorableText(query.task)) return { tasks: [] };
    const ranges = query.keyPrefix === undefined ? undefined : storedPrefixRanges(query.keyPrefix);
    const rows = await this.#rows<TaskRow & { seq: string }>(
      `reading a page of the tasks of run '${runId}'`,
      taskPageSql(postgresDialect, this.#version, runId, query, ranges),
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
    const rows = await this.#rows<{ bucket: number; n: string }>(
      `counting the task ends of run '${runId}'`,
      { text: histogramSql(postgresDialect), values: [from, to, buckets, runId] },
    );
    return histogramOf(rows, buckets);
  }

  async eventsAfter(
    runId: string,
    after: number,
    limit?: number,
  ): Promise<{ position: number; event: WeftEvent }[]> {
    const most = checkEventsAfter(runId, after, limit);
    const rows = await this.#rows<{ seq: string; data: string }>(
      `reading events of run '${runId}'`,
      { text: eventsAfterSql(postgresDialect), values: [runId, after, most] },
    );
    // seq is a bigint, which pg reads as a string.
    return rows.map((row) => ({ position: Number(row.seq), event: this.#codec.event(row.data) }));
  }

  async #rows<R>(doing: string, { text, values }: Sql): Promise<R[]> {
    return (await this.#pool.query(doing, text, values)).rows as R[];
  }
}
