/**
 * One run as its page shows it (`GET /api/runs/:id`): its summary, fan-outs with their
 * progress, graphs, applications and steps, sums per task name, its first failures and
 * its slowest tasks.
 */
import type { RunRecord, Store } from '../core/store.ts';
import type { RunDetail } from './api-types.ts';
import { appViews, maxApps } from './apps.ts';
import { fanOutViews } from './fan-outs.ts';
import { runGraphs } from './graphs.ts';
import { jsonValue } from './json-value.ts';
import { queriesOf } from './queries.ts';
import { resumeCommand } from './resume-command.ts';
import { RunEvents } from './run-events.ts';
import { summarizeRun } from './run-summary.ts';
import { taskView } from './task-view.ts';

/** Failed tasks a run's detail lists. */
const shownFailures = 50;
/** Slowest tasks a run's detail lists. */
const shownSlowest = 10;

/** Everything the page of `run` shows. */
export async function runDetail(store: Store, run: RunRecord): Promise<RunDetail> {
  const queries = queriesOf(store);
  const now = Date.now();
  const [stored, counts, byTask, failed, slowest] = await Promise.all([
    store.listEvents(run.id),
    queries.countTasks([run.id]),
    queries.summarizeTasks(run.id),
    queries.taskPage(run.id, { status: 'failed', limit: shownFailures }),
    queries.taskPage(run.id, { order: 'slowest', limit: shownSlowest }),
  ]);
  const events = RunEvents.of(stored);
  const summary = await summarizeRun(queries, run, events.kind, counts.get(run.id), now);
  const going = summary.status === 'running';
  const fanOuts = await fanOutViews(queries, run.id, events);
  const [graphs, apps] = await Promise.all([
    runGraphs({ queries, runId: run.id, events, fanOuts, going }),
    appViews(store, run, events, going),
  ]);
  const resumable =
    summary.status !== 'completed' &&
    !going &&
    store.kind !== 'memory' &&
    typeof run.meta.file === 'string';
  return {
    run: {
      ...summary,
      meta: jsonValue(run.meta) as Record<string, unknown>,
      ...(run.error === undefined ? {} : { error: run.error }),
      ...(resumable ? { resumeCommand: resumeCommand(run.id, store) } : {}),
    },
    fanOuts,
    graphs,
    apps,
    ...(events.apps.size > maxApps ? { appsTotal: events.apps.size } : {}),
    byTask: byTask.map(({ task, completed, failed, totalMs, maxMs }) => ({
      task,
      completed,
      failed,
      totalMs,
      maxMs,
    })),
    failedTasks: failed.tasks.map(taskView),
    slowestTasks: slowest.tasks.map(taskView),
  };
}
