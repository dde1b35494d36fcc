/** An application's state after one of its steps, from the store's checkpoints. */
import { isDeepStrictEqual } from 'node:util';
import type { Checkpoint, RunRecord, Store } from '../core/store.ts';
import { ApiError, clip } from './api-error.ts';
import type { StateAtStep } from './api-types.ts';
import { isRunsCheckpoint } from './apps.ts';
import { jsonValue } from './json-value.ts';
import { RunEvents } from './run-events.ts';
import { statusOf } from './run-status.ts';

/**
 * The state application `appId` saved after step `sequenceId` of `run`, and what changed
 * since the step before.
 * @throws ApiError (404) when the store holds no state of that step saved by this run
 */
export async function stateAtStep(
  store: Store,
  run: RunRecord,
  appId: string,
  partitionKey: string,
  sequenceId: number,
): Promise<StateAtStep> {
  // Checkpoints are kept by application, not by run: the application must be this run's.
  const events = RunEvents.of(await store.listEvents(run.id));
  if (!events.apps.has(appId)) {
    throw ApiError.notFound(`No application '${clip(appId)}' in run '${clip(run.id)}'.`);
  }
  const going = statusOf(run) === 'running';
  const load = async (at: number): Promise<Checkpoint | undefined> => {
    const found = await store.loadCheckpoint(appId, partitionKey, at);
    return found && found.sequenceId === at && isRunsCheckpoint(found, run, going)
      ? found
      : undefined;
  };
  const [checkpoint, before] = await Promise.all([
    load(sequenceId),
    sequenceId > 0 ? load(sequenceId - 1) : undefined,
  ]);
  if (!checkpoint) {
    throw ApiError.notFound(
      `No state of application '${clip(appId)}'${partitionKey === '' ? '' : ` (partition '${clip(partitionKey)}')`} ` +
        `at step ${sequenceId} in run '${clip(run.id)}': the application saves its state only with a ` +
        'persister, and a later run of the same application id saves over it.',
    );
  }
  const state = checkpoint.state;
  const previous = before?.state;
  const changed = Object.keys(state).filter(
    (key) =>
      previous === undefined ||
      !Object.hasOwn(previous, key) ||
      !isDeepStrictEqual(state[key], previous[key]),
  );
  const removed =
    previous === undefined ? [] : Object.keys(previous).filter((key) => !Object.hasOwn(state, key));
  return {
    appId,
    partitionKey,
    sequenceId,
    position: checkpoint.position,
    state: jsonValue(state) as Record<string, unknown>,
    changed,
    removed,
  };
}
