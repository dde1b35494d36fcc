/**
 * Where a run's time went, task by task: each task on a lane, a slot of its executor.
 * Tasks are not recorded with the worker that ran them, so lanes are packed greedily:
 * in order of start, each task takes the lowest lane free by then.
 */
import type { RunQueries, RunRecord, Store, TaskRecord } from '../core/store.ts';
import type { Timeline, TimelineTask } from './api-types.ts';
import { Heap } from './heap.ts';
import { taskPages } from './queries.ts';
import { statusOf } from './run-status.ts';
import { Slowest } from './streamed-queries.ts';

/** Tasks shown when not told. */
export const defaultTimelineLimit = 2_000;
/** Most tasks a timeline shows. */
export const maxTimelineLimit = 10_000;

/**
 * The run's tasks on lanes: all of them when they are at most `limit`, else the `limit`
 * longest (`sampled`).
 */
export async function timelineOf(
  store: Store,
  queries: RunQueries,
  run: RunRecord,
  limit: number,
): Promise<Timeline> {
  const counted = (await queries.countTasks([run.id])).get(run.id);
  const total = (counted?.completed ?? 0) + (counted?.failed ?? 0);
  const sampled = total > limit;
  const tasks = sampled
    ? await longest(store, queries, run.id, limit)
    : await allTasks(queries, run.id);
  const { placed, lanes } = packLanes(tasks);
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const task of placed) {
    from = Math.min(from, task.startedAt);
    to = Math.max(to, task.startedAt + task.durationMs);
  }
  if (placed.length === 0) {
    from = run.createdAt;
    to = statusOf(run) === 'running' ? Date.now() : run.updatedAt;
  }
  return { tasks: placed, lanes, total, sampled, from, to };
}

async function allTasks(queries: RunQueries, runId: string): Promise<TaskRecord[]> {
  const all: TaskRecord[] = [];
  for await (const tasks of taskPages(queries, runId)) all.push(...tasks);
  return all;
}

/**
 * The `limit` longest tasks: the store's page of the slowest when it gives that many at
 * once, else read from all the run's records (a store's page holds at most 1,000).
 */
async function longest(
  store: Store,
  queries: RunQueries,
  runId: string,
  limit: number,
): Promise<TaskRecord[]> {
  const page = await queries.taskPage(runId, { order: 'slowest', limit });
  if (page.tasks.length >= limit) return page.tasks.slice(0, limit);
  const slowest = new Slowest(limit);
  for await (const task of store.streamTasks(runId, { outputs: false })) slowest.add(task);
  return slowest.tasks;
}

/**
 * Places tasks on lanes: in order of start, each takes the lowest-numbered lane whose
 * last task ended by its start, or a new lane.
 */
function packLanes(tasks: readonly TaskRecord[]): {
  placed: TimelineTask[];
  lanes: number;
} {
  const ordered = [...tasks].sort((a, b) => a.startedAt - b.startedAt);
  const free = new Heap<number>((a, b) => a < b);
  const busy = new Heap<{ lane: number; end: number }>((a, b) => a.end < b.end);
  let lanes = 0;
  const placed = ordered.map((task): TimelineTask => {
    while (busy.size > 0 && busy.peek()!.end <= task.startedAt) free.push(busy.pop()!.lane);
    const lane = free.size > 0 ? free.pop()! : lanes++;
    busy.push({ lane, end: task.startedAt + task.durationMs });
    return {
      key: task.key,
      task: task.task,
      status: task.status,
      startedAt: task.startedAt,
      durationMs: task.durationMs,
      lane,
    };
  });
  return { placed, lanes };
}
