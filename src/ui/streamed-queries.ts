/**
 * The answers of {@link RunQueries} for a store that has none of its own: computed from
 * what every store can do (`streamTasks`, `listEvents`, `listRuns`). Correct, and read in
 * bounded memory except for a run's events, but each answer reads all of a run's tasks:
 * a store with fast queries answers the same questions without.
 */
import type { WeftEvent } from '../core/events.ts';
import type {
  ListRunsOptions,
  RunQueries,
  RunRecord,
  Store,
  TaskCounts,
  TaskNameSummary,
  TaskPage,
  TaskPageOptions,
  TaskRecord,
} from '../core/store.ts';
import {
  checkEventsAfter,
  checkRunFilter,
  checkTaskPage,
  runMatches as filterMatches,
  type RunFilter,
} from '../stores/query-options.ts';
import {
  endHistogram,
  PrefixCounts,
  RecordedPage,
  TaskSums,
  taskMatches,
} from '../stores/task-scans.ts';
import { Heap } from './heap.ts';

/** {@link RunQueries} over any store, by reading all of a run's tasks for each answer. */
export class StreamedQueries implements RunQueries {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  #tasks(runId: string): AsyncIterable<TaskRecord> {
    return this.#store.streamTasks(runId, { outputs: false });
  }

  async countTasks(runIds: readonly string[]): Promise<Map<string, TaskCounts>> {
    const counts = new Map<string, TaskCounts>();
    for (const runId of new Set(runIds)) {
      const count = { completed: 0, failed: 0 };
      for await (const task of this.#tasks(runId)) count[task.status]++;
      if (count.completed + count.failed > 0) counts.set(runId, count);
    }
    return counts;
  }

  async countRuns(options?: ListRunsOptions): Promise<number> {
    const filter = checkRunFilter(options);
    const runs = await this.#store.listRuns({ limit: Number.MAX_SAFE_INTEGER });
    return runs.filter((run) => passes(filter, run)).length;
  }

  async summarizeTasks(runId: string): Promise<TaskNameSummary[]> {
    const sums = new TaskSums();
    for await (const task of this.#tasks(runId)) sums.add(task);
    return sums.summaries;
  }

  async countTasksByPrefix(runId: string, prefixes: readonly string[]): Promise<TaskCounts[]> {
    const counts = new PrefixCounts(prefixes);
    for await (const task of this.#tasks(runId)) counts.add(task);
    return counts.counts;
  }

  async taskPage(runId: string, options: TaskPageOptions = {}): Promise<TaskPage> {
    // The stores' own rules: the same limits, and the same refusals.
    const query = checkTaskPage(runId, options);
    if (query.order === 'slowest') {
      const slowest = new Slowest(query.limit);
      for await (const task of this.#tasks(runId)) if (taskMatches(query, task)) slowest.add(task);
      return { tasks: slowest.tasks };
    }
    const page = new RecordedPage<TaskRecord>(query);
    for await (const task of this.#tasks(runId)) if (!page.add(task)) break;
    return page.page((task) => task);
  }

  async taskEndHistogram(
    runId: string,
    from: number,
    to: number,
    buckets: number,
  ): Promise<number[]> {
    const histogram = endHistogram(runId, from, to, buckets);
    for await (const task of this.#tasks(runId)) histogram.add(task);
    return histogram.counts;
  }

  async eventsAfter(
    runId: string,
    after: number,
    limit?: number,
  ): Promise<{ position: number; event: WeftEvent }[]> {
    const most = checkEventsAfter(runId, after, limit);
    // Positions are places in the list of the run's events, from 1.
    const events = await this.#store.listEvents(runId);
    return events
      .slice(after, after + most)
      .map((event, i) => ({ position: after + i + 1, event }));
  }
}

/**
 * Whether a run passes the filters of `options` (its status and search text), by the rule
 * the stores filter with: the search in the id, or in the meta as JSON text. The options
 * are checked once, not per run.
 */
export function runMatcher(options: ListRunsOptions): (run: RunRecord) => boolean {
  const filter = checkRunFilter(options);
  return (run) => passes(filter, run);
}

function passes(filter: RunFilter, run: RunRecord): boolean {
  return filterMatches(filter, run.status, run.id, JSON.stringify(run.meta) ?? '');
}

/**
 * The slowest of the tasks added, kept in a heap whose top is the least slow kept (of
 * equal ones, the last added), so that keeping the slowest thousands of a run of millions
 * costs a logarithm per task.
 */
export class Slowest {
  readonly #size: number;
  readonly #heap = new Heap<{ readonly task: TaskRecord; readonly order: number }>(
    (a, b) =>
      a.task.durationMs < b.task.durationMs ||
      (a.task.durationMs === b.task.durationMs && a.order > b.order),
  );
  #added = 0;

  constructor(size: number) {
    this.#size = size;
  }

  add(task: TaskRecord): void {
    const heap = this.#heap;
    if (heap.size < this.#size) heap.push({ task, order: this.#added++ });
    else if (this.#size > 0 && task.durationMs > heap.peek()!.task.durationMs) {
      heap.pop();
      heap.push({ task, order: this.#added++ });
    } else this.#added++;
  }

  /** Slowest first; of equal ones, the first added. */
  get tasks(): TaskRecord[] {
    return this.#heap
      .toArray()
      .sort((a, b) => b.task.durationMs - a.task.durationMs || a.order - b.order)
      .map((entry) => entry.task);
  }
}
