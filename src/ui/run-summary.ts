/** Runs as the runs list shows them: name, kind, status, times, task counts, sparkline. */
import { basename } from 'node:path';
import type { RunQueries, RunRecord } from '../core/store.ts';
import type { RunSummary, TaskCounts } from './api-types.ts';
import { RunEvents } from './run-events.ts';
import { statusOf } from './run-status.ts';

/** Buckets of a run's sparkline. */
const sparklineBuckets = 20;
/** Events read to tell a run's kind: the first of a run say what it runs. */
const kindEvents = 20;

/**
 * The summaries of `runs`, in the same order. Counts come in one query for all; each run's
 * kind and sparkline from its first events and its tasks' end times.
 */
export async function summarizeRuns(
  queries: RunQueries,
  runs: readonly RunRecord[],
  now = Date.now(),
): Promise<RunSummary[]> {
  if (runs.length === 0) return [];
  const counts = await queries.countTasks(runs.map((run) => run.id));
  return Promise.all(
    runs.map(async (run) => {
      const events = await queries.eventsAfter(run.id, 0, kindEvents);
      const kind = RunEvents.of(events.map(({ event }) => event)).kind;
      return summarizeRun(queries, run, kind, counts.get(run.id), now);
    }),
  );
}

/** One run's summary, its kind known. */
export async function summarizeRun(
  queries: RunQueries,
  run: RunRecord,
  kind: RunSummary['kind'],
  counted: TaskCounts | undefined,
  now = Date.now(),
): Promise<RunSummary> {
  const status = statusOf(run, now);
  const end = status === 'running' ? Math.max(now, run.updatedAt) : run.updatedAt;
  const tasks = { completed: counted?.completed ?? 0, failed: counted?.failed ?? 0 };
  const sparkline =
    tasks.completed + tasks.failed === 0
      ? []
      : await queries.taskEndHistogram(run.id, run.createdAt, end, sparklineBuckets);
  return {
    id: run.id,
    name: nameOf(run),
    kind,
    status,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    durationMs: Math.max(0, end - run.createdAt),
    attempts: run.attempts,
    tasks,
    sparkline,
  };
}

/** The job's file name (`weft run`), the name the run was given, or its id. */
function nameOf(run: RunRecord): string {
  const { name, file, flow } = run.meta as { name?: unknown; file?: unknown; flow?: unknown };
  if (typeof name === 'string' && name !== '') return name;
  if (typeof file === 'string' && file !== '') return basename(file);
  if (typeof flow === 'string' && flow !== '') return flow;
  return run.id;
}
