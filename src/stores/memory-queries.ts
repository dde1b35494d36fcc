/**
 * The memory store's answers to a viewer of runs ({@link RunQueries}), and its filtered,
 * paged listing of runs: computed over the Maps the store keeps, by the same rules as the
 * SQL stores (query-options.ts), so that the three answer alike.
 */
import type { WeftEvent } from '../core/events.ts';
import type {
  ListRunsOptions,
  RunQueries,
  RunStatus,
  TaskCounts,
  TaskNameSummary,
  TaskPage,
  TaskPageOptions,
  TaskRecord,
} from '../core/store.ts';
import {
  checkEventsAfter,
  checkPrefixes,
  checkRunFilter,
  checkRunIds,
  checkTaskPage,
  type RunListing,
  runMatches,
} from './query-options.ts';
import { endHistogram, PrefixCounts, RecordedPage, TaskSums, taskMatches } from './task-scans.ts';
import { checkRunId } from './validate.ts';

/** A run as the memory store keeps it: what listing and filtering read. */
export interface MemoryRun {
  readonly id: string;
  readonly status: RunStatus;
  readonly createdAt: number;
  /** Order of creation, from 0. */
  readonly seq: number;
  /** The meta as the serializer wrote it. */
  readonly meta: string;
}

/** A task record as the memory store keeps it: what counting and paging read. */
export interface MemoryTask {
  readonly key: string;
  readonly task: string;
  readonly status: TaskRecord['status'];
  readonly startedAt: number;
  readonly durationMs: number;
}

/** What {@link MemoryQueries} reads of the store. */
export interface MemoryRecords<R extends MemoryRun, T extends MemoryTask> {
  readonly runs: ReadonlyMap<string, R>;
  /**
   * Task records by run id, then key, in the order first recorded (a Map keeps a key's
   * place when its record is replaced).
   */
  readonly tasks: ReadonlyMap<string, ReadonlyMap<string, T>>;
  /** Events as stored, by run id, in the order appended. */
  readonly events: ReadonlyMap<string, readonly string[]>;
  /** A task record as read back, without its output. */
  readonly toTask: (task: T) => TaskRecord;
  readonly toEvent: (text: string) => WeftEvent;
  /** Throws when the store is closed. */
  readonly assertOpen: () => void;
}

/** The runs a listing keeps, newest first (by creation time, then order of creation). */
export function listMemoryRuns<R extends MemoryRun>(
  runs: ReadonlyMap<string, R>,
  listing: RunListing,
): R[] {
  const { before } = listing;
  // A cursor naming no run reads on from the runs created before its time.
  const beforeSeq = before === undefined ? 0 : (runs.get(before.id)?.seq ?? -1);
  return [...runs.values()]
    .filter(
      (run) =>
        (before === undefined ||
          run.createdAt < before.createdAt ||
          (run.createdAt === before.createdAt && run.seq < beforeSeq)) &&
        runMatches(listing, run.status, run.id, run.meta),
    )
    .sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq)
    .slice(0, listing.limit);
}

/** {@link RunQueries} over a memory store's Maps. */
export class MemoryQueries<R extends MemoryRun, T extends MemoryTask> implements RunQueries {
  readonly #records: MemoryRecords<R, T>;

  constructor(records: MemoryRecords<R, T>) {
    this.#records = records;
  }

  async countTasks(runIds: readonly string[]): Promise<Map<string, TaskCounts>> {
    this.#records.assertOpen();
    checkRunIds(runIds);
    const counts = new Map<string, TaskCounts>();
    for (const id of runIds) {
      const tasks = this.#records.tasks.get(id);
      if (tasks === undefined || tasks.size === 0) continue;
      let failed = 0;
      for (const task of tasks.values()) if (task.status === 'failed') failed++;
      counts.set(id, { completed: tasks.size - failed, failed });
    }
    return counts;
  }

  async countRuns(options?: ListRunsOptions): Promise<number> {
    this.#records.assertOpen();
    const filter = checkRunFilter(options);
    let count = 0;
    for (const run of this.#records.runs.values()) {
      if (runMatches(filter, run.status, run.id, run.meta)) count++;
    }
    return count;
  }

  async summarizeTasks(runId: string): Promise<TaskNameSummary[]> {
    this.#records.assertOpen();
    checkRunId(runId);
    const sums = new TaskSums();
    for (const task of this.#tasks(runId)) sums.add(task);
    return sums.summaries;
  }

  async countTasksByPrefix(runId: string, prefixes: readonly string[]): Promise<TaskCounts[]> {
    this.#records.assertOpen();
    checkPrefixes(runId, prefixes);
    const counts = new PrefixCounts(prefixes);
    for (const task of this.#tasks(runId)) counts.add(task);
    return counts.counts;
  }

  async taskPage(runId: string, options?: TaskPageOptions): Promise<TaskPage> {
    this.#records.assertOpen();
    const query = checkTaskPage(runId, options);
    if (query.order === 'slowest') {
      // A stable sort: of equal durations, the first recorded first.
      const slowest = [...this.#tasks(runId)]
        .filter((record) => taskMatches(query, record))
        .sort((a, b) => b.durationMs - a.durationMs)
        .slice(0, query.limit);
      return { tasks: slowest.map(this.#records.toTask) };
    }
    const page = new RecordedPage<T>(query);
    for (const record of this.#tasks(runId)) if (!page.add(record)) break;
    return page.page(this.#records.toTask);
  }

  async taskEndHistogram(
    runId: string,
    from: number,
    to: number,
    buckets: number,
  ): Promise<number[]> {
    this.#records.assertOpen();
    const histogram = endHistogram(runId, from, to, buckets);
    for (const task of this.#tasks(runId)) histogram.add(task);
    return histogram.counts;
  }

  async eventsAfter(
    runId: string,
    after: number,
    limit?: number,
  ): Promise<{ position: number; event: WeftEvent }[]> {
    this.#records.assertOpen();
    const most = checkEventsAfter(runId, after, limit);
    const events = this.#records.events.get(runId) ?? [];
    // A position is the event's index + 1: events are never removed, so it only grows.
    return events
      .slice(after, after + most)
      .map((text, i) => ({ position: after + i + 1, event: this.#records.toEvent(text) }));
  }

  #tasks(runId: string): Iterable<T> {
    return this.#records.tasks.get(runId)?.values() ?? [];
  }
}
