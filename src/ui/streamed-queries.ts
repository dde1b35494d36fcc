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
  endHistogram,
  runMatches as storeFilterMatches,
  TaskSums,
  taskMatches,
} from '../stores/query-options.ts';
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

  async countTasks(runIds: readonly string[]): Promise<Map<string, TaskCountsMutable>> {
    const counts = new Map<string, TaskCountsMutable>();
    for (const runId of new Set(runIds)) {
      const count = { completed: 0, failed: 0 };
      for await (const task of this.#tasks(runId)) count[task.status]++;
      if (count.completed + count.failed > 0) counts.set(runId, count);
    }
    return counts;
  }

  async countRuns(options: ListRunsOptions = {}): Promise<number> {
    const runs = await this.#store.listRuns({ limit: Number.MAX_SAFE_INTEGER });
    return runs.filter((run) => runMatches(run, options)).length;
  }

  async summarizeTasks(runId: string): Promise<TaskNameSummary[]> {
    const sums = new TaskSums();
    for await (const task of this.#tasks(runId)) sums.add(task);
    return sums.summaries;
  }

  async countTasksByPrefix(runId: string, prefixes: readonly string[]): Promise<TaskCounts[]> {
    const counts = prefixes.map(() => ({ completed: 0, failed: 0 }));
    // Prefixes ending in '/' (fan-out scopes) are found by walking each key's own
    // prefixes, whatever their number; any other is compared with every key.
    const atSlash = new Map<string, number[]>();
    const others: number[] = [];
    prefixes.forEach((prefix, i) => {
      if (prefix.endsWith('/')) atSlash.set(prefix, [...(atSlash.get(prefix) ?? []), i]);
      else others.push(i);
    });
    for await (const task of this.#tasks(runId)) {
      const { key, status } = task;
      for (let at = key.indexOf('/'); at !== -1; at = key.indexOf('/', at + 1)) {
        for (const i of atSlash.get(key.slice(0, at + 1)) ?? []) counts[i]![status]++;
      }
      for (const i of others) if (key.startsWith(prefixes[i]!)) counts[i]![status]++;
    }
    return counts;
  }

  async taskPage(runId: string, options: TaskPageOptions = {}): Promise<TaskPage> {
    // The stores' own rules: the same limits, and the same refusals.
    const query = checkTaskPage(runId, options);
    const { limit, after } = query;
    const wanted = (task: TaskRecord) => taskMatches(query, task);
    if (query.order === 'slowest') {
      const slowest = new Slowest(limit);
      for await (const task of this.#tasks(runId)) if (wanted(task)) slowest.add(task);
      return { tasks: slowest.tasks };
    }
    // A task's position is its place in the order first recorded, from 1.
    const tasks: TaskRecord[] = [];
    let position = 0;
    for await (const task of this.#tasks(runId)) {
      position++;
      if (position <= after || !wanted(task)) continue;
      if (tasks.length === limit) return { tasks, next: position - 1 };
      tasks.push(task);
    }
    return { tasks };
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
    const from = Math.max(0, Math.floor(after));
    return events.slice(from, from + most).map((event, i) => ({ position: from + i + 1, event }));
  }
}

type TaskCountsMutable = { completed: number; failed: number };

/**
 * Whether `run` passes the filters of `options` (its status and search text), by the rule
 * the stores filter with: the search in the id, or in the meta as JSON text.
 */
export function runMatches(run: RunRecord, options: ListRunsOptions): boolean {
  return storeFilterMatches(
    checkRunFilter(options),
    run.status,
    run.id,
    JSON.stringify(run.meta) ?? '',
  );
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
