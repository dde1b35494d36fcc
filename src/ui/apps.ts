/**
 * A run's applications and their steps, each step saying whether the store holds the
 * state after it. Checkpoints are kept by application id, not by run: one is this run's
 * only when it was saved while the run went, since a later run of the same application id
 * saves over it.
 */
import type { Checkpoint, RunRecord, Store } from '../core/store.ts';
import type { AppView } from './api-types.ts';
import type { AppFacts, RunEvents } from './run-events.ts';

/** Most applications a run's detail lists: the outermost ones first. */
export const maxApps = 1_000;
/** Checkpoints read at once. */
const concurrentReads = 8;
/** How far a checkpoint's time may be outside the run's and still be the run's (clocks differ). */
const clockSlackMs = 5_000;

/** The applications of the run (outermost first, at most {@link maxApps}), with their steps. */
export async function appViews(
  store: Store,
  run: RunRecord,
  events: RunEvents,
  going: boolean,
): Promise<AppView[]> {
  const all = [...events.apps.values()];
  const outermost = (app: AppFacts) =>
    app.parentAppId === undefined || !events.apps.has(app.parentAppId);
  const apps = [...all.filter(outermost), ...all.filter((app) => !outermost(app))].slice(
    0,
    maxApps,
  );
  const saved = await inGroups(apps, (app) => lastSavedStep(store, run, app, going));
  return apps.map((app, i) => ({
    appId: app.appId,
    partitionKey: app.partitionKey,
    ...(app.parentAppId === undefined ? {} : { parentAppId: app.parentAppId }),
    ...(app.parentSequenceId === undefined ? {} : { parentSequenceId: app.parentSequenceId }),
    status: app.status === 'running' && !going ? 'failed' : app.status,
    steps: app.steps.map((step) => ({
      sequenceId: step.sequenceId,
      action: step.action,
      time: step.time,
      durationMs: step.durationMs,
      ...(step.error === undefined ? {} : { error: step.error }),
      hasState: step.sequenceId <= saved[i]!,
    })),
  }));
}

/**
 * The highest sequence id up to which the store holds this run's states of `app`, or -1:
 * its latest checkpoint when saved during the run, else that of its last step.
 */
async function lastSavedStep(
  store: Store,
  run: RunRecord,
  app: AppFacts,
  going: boolean,
): Promise<number> {
  const latest = await store.loadCheckpoint(app.appId, app.partitionKey);
  if (!latest) return -1;
  if (isRunsCheckpoint(latest, run, going)) return latest.sequenceId;
  const last = app.steps.at(-1);
  if (!last) return -1;
  const at = await store.loadCheckpoint(app.appId, app.partitionKey, last.sequenceId);
  return at && isRunsCheckpoint(at, run, going) ? at.sequenceId : -1;
}

/** Whether `checkpoint` was saved while `run` went (give or take the clocks' difference). */
export function isRunsCheckpoint(checkpoint: Checkpoint, run: RunRecord, going: boolean): boolean {
  if (checkpoint.createdAt < run.createdAt - clockSlackMs) return false;
  return going || checkpoint.createdAt <= run.updatedAt + clockSlackMs;
}

/** `read` of every item, a few at a time, in the order of `items`. */
async function inGroups<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += concurrentReads) {
    results.push(...(await Promise.all(items.slice(i, i + concurrentReads).map(read))));
  }
  return results;
}
