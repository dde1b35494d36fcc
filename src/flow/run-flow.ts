/**
 * Running a flow: in the run it is called in (inside `weft run` or `withRun`), else in a
 * run of its own store, with its layers as a dag: each layer starts once its upstream
 * layers are done, independent layers at the same time. Layers and their tasks
 * orchestrate in this thread, where the store and artifacts are; the layers' functions
 * go where the executor runs tasks.
 */
import { randomUUID } from 'node:crypto';
import { dag } from '../core/dag.ts';
import { refuseTopLevelWork } from '../core/definitions.ts';
import { isWeftError, TaskFailedError, ValidationError } from '../core/errors.ts';
import type { RunGraphEvent } from '../core/events.ts';
import { getDefaultExecutor } from '../core/executor.ts';
import { currentRun, type Run, withRun } from '../core/run.ts';
import { splitExecutor } from '../core/split.ts';
import type { TaskContext } from '../core/task.ts';
import { openStore } from '../stores/open.ts';
import { FlowArtifacts, type LayerInfo } from './artifacts.ts';
import type { Flow, FlowRunOptions } from './flow.ts';
import { FlowResult } from './flow-result.ts';
import { type FlowRunContext, layerMapName, recordOrThrow, runLayer } from './run-layer.ts';

/** Runs `flow` (see {@link Flow.run}). */
export async function runFlow(flow: Flow, options: FlowRunOptions): Promise<FlowResult> {
  if (flow.layers.length === 0) {
    throw new ValidationError(`Flow ${flow.name} has no layers: add some with flow.layer(...).`);
  }
  const current = currentRun();
  // Inside a run, a flow given only a run id keeps to that run's store.
  const storeOption = options.store ?? flow.options.store ?? current?.store;
  refuseTopLevelWork(`flow.run() of ${flow.name}`);
  if (
    current &&
    options.runId === undefined &&
    (storeOption === current.store || storeOption === undefined)
  ) {
    const { infos, artifacts } = await runLayers(flow, current, options);
    return new FlowResult(flow.name, current.store, current.id, infos, false, artifacts);
  }
  const store =
    storeOption === undefined || typeof storeOption === 'string'
      ? await openStore(storeOption)
      : storeOption;
  const opened = store !== storeOption;
  const runId = options.runId ?? `${flow.name}-${randomUUID().slice(0, 8)}`;
  try {
    const { infos, artifacts } = await withRun({ store, runId, meta: { flow: flow.name } }, (run) =>
      runLayers(flow, run, options),
    );
    return new FlowResult(flow.name, store, runId, infos, opened, artifacts);
  } catch (error) {
    if (opened) await store.close();
    throw error;
  }
}

/** Runs the layers of `flow` in `run`, as a dag, and hands back what each wrote. */
async function runLayers(
  flow: Flow,
  run: Run,
  options: FlowRunOptions,
): Promise<{ infos: Map<string, LayerInfo>; artifacts: FlowArtifacts }> {
  // A task whose artifact reads as damaged is marked through the run's recorder, which
  // keeps its records in order, during the run and after it.
  const artifacts = new FlowArtifacts(run.store, run.id, flow.name, (record) =>
    recordOrThrow(run, record),
  );
  const executor = options.executor ?? flow.options.executor ?? getDefaultExecutor();
  // Layers get loops of their own: on an in-process executor they would otherwise hold
  // the slots their own tasks wait for.
  const layerLoops = splitExecutor(executor, { nested: true });
  // A layer's tasks (views, artifacts) stay here when the executor runs tasks elsewhere;
  // the layer's function goes there.
  const taskSplit = splitExecutor(executor);
  const context: FlowRunContext = {
    run,
    artifacts,
    loops: taskSplit.loops,
    leaves: taskSplit.leaves,
    concurrency: options.concurrency ?? flow.options.concurrency ?? executor.concurrency,
    changed: new Set(),
  };
  const layers = flow.layers;
  try {
    const infos = (await dag(
      layers.map((layer) => ({
        id: layer.name,
        dependencies: layer.upstream.map((up) => up.name),
        input: (done: ReadonlyMap<string, unknown>) => done,
        task: (done: ReadonlyMap<string, unknown>, ctx: TaskContext) =>
          runLayer(layer, done as ReadonlyMap<string, LayerInfo>, context, ctx),
      })),
      {
        name: `flow:${flow.name}`,
        display: { label: flow.name },
        graph: (event) => flowGraph(flow, event),
        scope: run.scope,
        signal: options.signal,
        executor: layerLoops.loops,
        // Every layer whose upstream layers are done starts at once.
        concurrency: layers.length,
        // A layer is done when its tasks are: each layer goes over its tasks' records
        // (and lists their artifacts) again, where a record of the whole layer would
        // skip it with its artifacts unchecked.
        record: false,
      },
    )) as Map<string, LayerInfo>;
    return { infos, artifacts };
  } catch (error) {
    // The layer's own error (a LayerFailedError, a store's error) says what failed; the
    // dag's wrapper adds nothing.
    if (error instanceof TaskFailedError && isWeftError(error.cause)) throw error.cause;
    throw error;
  } finally {
    await Promise.all([layerLoops.close(), taskSplit.close()]);
  }
}

/**
 * The `run:graph` event of a flow, from that of the dag running its layers: the same
 * nodes and edges (a layer's id is its name, a key segment as it stands), each layer with
 * the scope of the map that runs its tasks (see runLayer), so that a viewer joins it to
 * that map's progress.
 */
function flowGraph(flow: Flow, event: RunGraphEvent): RunGraphEvent {
  return {
    ...event,
    kind: 'flow',
    id: flow.name,
    label: flow.name,
    nodes: event.nodes.map((node) => ({
      ...node,
      scope: `${event.scope}/${node.id}/${layerMapName}`,
    })),
  };
}
