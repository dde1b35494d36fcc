/**
 * What a viewer's queries compute from a run's task records read one at a time, in the
 * order first recorded: for the memory store, and for a viewer of a store without fast
 * queries (src/ui/streamed-queries.ts); the SQL stores compute the same in SQL. Each
 * takes records as they come (read sync or async) and holds only what its answer needs.
 */
import type { TaskCounts, TaskNameSummary, TaskPage, TaskRecord } from '../core/store.ts';
import { checkHistogram, type TaskPageQuery } from './query-options.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Whether a task record passes the filters of a page (its status, name and key prefix). */
export function taskMatches(
  query: Pick<TaskPageQuery, 'status' | 'task' | 'keyPrefix'>,
  record: Pick<TaskRecord, 'status' | 'task' | 'key'>,
): boolean {
  return (
    (query.status === undefined || record.status === query.status) &&
    (query.task === undefined || record.task === query.task) &&
    (query.keyPrefix === undefined || record.key.startsWith(query.keyPrefix))
  );
}

/** Sums of a run's tasks per name. */
export class TaskSums {
  readonly #byName = new Map<string, Mutable<TaskNameSummary>>();

  add(task: Pick<TaskRecord, 'task' | 'status' | 'startedAt' | 'durationMs'>): void {
    const end = task.startedAt + task.durationMs;
    const sum = this.#byName.get(task.task);
    if (sum === undefined) {
      this.#byName.set(task.task, {
        task: task.task,
        completed: task.status === 'completed' ? 1 : 0,
        failed: task.status === 'failed' ? 1 : 0,
        totalMs: task.durationMs,
        maxMs: task.durationMs,
        firstStartedAt: task.startedAt,
        lastEndedAt: end,
      });
      return;
    }
    sum[task.status]++;
    sum.totalMs += task.durationMs;
    sum.maxMs = Math.max(sum.maxMs, task.durationMs);
    sum.firstStartedAt = Math.min(sum.firstStartedAt, task.startedAt);
    sum.lastEndedAt = Math.max(sum.lastEndedAt, end);
  }

  /** The sums, in order of name (UTF-16 code units, as the SQL stores sort). */
  get summaries(): TaskNameSummary[] {
    return [...this.#byName.values()].sort((a, b) =>
      a.task < b.task ? -1 : a.task > b.task ? 1 : 0,
    );
  }
}

/**
 * Completed and failed tasks under each of `prefixes`. A prefix ending in '/' (a fan-out's
 * scope) is found by walking each key's own prefixes that end so, whatever the number of
 * such prefixes asked; any other is compared with every key.
 */
export class PrefixCounts {
  readonly #prefixes: readonly string[];
  readonly #counts: Mutable<TaskCounts>[];
  readonly #atSlash = new Map<string, number[]>();
  readonly #others: number[] = [];

  constructor(prefixes: readonly string[]) {
    this.#prefixes = prefixes;
    this.#counts = prefixes.map(() => ({ completed: 0, failed: 0 }));
    prefixes.forEach((prefix, i) => {
      if (prefix.endsWith('/'))
        this.#atSlash.set(prefix, [...(this.#atSlash.get(prefix) ?? []), i]);
      else this.#others.push(i);
    });
  }

  add({ key, status }: Pick<TaskRecord, 'key' | 'status'>): void {
    const counts = this.#counts;
    for (let at = key.indexOf('/'); at !== -1; at = key.indexOf('/', at + 1)) {
      for (const i of this.#atSlash.get(key.slice(0, at + 1)) ?? []) counts[i]![status]++;
    }
    for (const i of this.#others) if (key.startsWith(this.#prefixes[i]!)) counts[i]![status]++;
  }

  /** The counts, in the order of the prefixes. */
  get counts(): TaskCounts[] {
    return this.#counts;
  }
}

/**
 * A page in the order first recorded, from a run's records given in that order: a
 * record's position is its place in that order, from 1, as {@link TaskPage.next} gives it.
 */
export class RecordedPage<T extends Pick<TaskRecord, 'status' | 'task' | 'key'>> {
  readonly #query: TaskPageQuery;
  readonly #kept: T[] = [];
  #position = 0;
  #lastKept = 0;
  #more = false;

  constructor(query: TaskPageQuery) {
    this.#query = query;
  }

  /** Takes the next record; false once the page is full and another follows: read no more. */
  add(record: T): boolean {
    const position = ++this.#position;
    if (position <= this.#query.after || !taskMatches(this.#query, record)) return true;
    if (this.#kept.length === this.#query.limit) {
      this.#more = true;
      return false;
    }
    this.#kept.push(record);
    this.#lastKept = position;
    return true;
  }

  /** The page, each record made a task by `toTask`. */
  page(toTask: (record: T) => TaskRecord): TaskPage {
    const tasks = this.#kept.map(toTask);
    return this.#more && tasks.length > 0 ? { tasks, next: this.#lastKept } : { tasks };
  }
}

/**
 * The bucket of a task that ended at `end`: the SQL stores compute it with the same
 * operations in the same order, in doubles, so that all agree on an end on an edge.
 */
function bucketOf(end: number, from: number, to: number, buckets: number): number {
  if (end < from) return 0;
  if (end >= to) return buckets - 1;
  return Math.min(buckets - 1, Math.floor(((end - from) * buckets) / (to - from)));
}

/** A histogram of task ends: the arguments checked at once, then each task `add`ed. */
export function endHistogram(
  runId: string,
  from: number,
  to: number,
  buckets: number,
): { add(task: Pick<TaskRecord, 'startedAt' | 'durationMs'>): void; readonly counts: number[] } {
  checkHistogram(runId, from, to, buckets);
  const counts = new Array<number>(buckets).fill(0);
  return {
    add: (task) => {
      counts[bucketOf(task.startedAt + task.durationMs, from, to, buckets)]!++;
    },
    counts,
  };
}
