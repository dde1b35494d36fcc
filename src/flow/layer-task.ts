/**
 * One task of a layer: its upstream views (this task's parameter values, the rest as the
 * layer's attributes), its function run here or on a worker, and what it wrote handed back
 * as artifacts to store with the task's record. The task's manifest is its output.
 */
import type { Executor } from '../core/executor.ts';
import type { DefinitionRef } from '../core/registry.ts';
import { callRemote } from '../core/remote-call.ts';
import { type WithArtifacts, withArtifacts } from '../core/staged.ts';
import type { TaskContext } from '../core/task.ts';
import { Accessor } from './accessor.ts';
import type { FlowArtifacts, LayerInfo, TaskManifest } from './artifacts.ts';
import { Grid } from './foreach.ts';
import { type Layer, type LayerOutput, type LayerView, makeSelf, strictView } from './layer.ts';
import { flowRef, remoteLayerTask, type WireItem, type WireView } from './remote.ts';

/**
 * Runs task `index` of a layer: returns its manifest with the artifacts it wrote, which
 * its fan-out stores with its record (in one transaction) before handing the manifest on.
 */
export type LayerTaskFn = (index: number, ctx: TaskContext) => Promise<WithArtifacts<TaskManifest>>;

/** A layer's tasks, ready to run: the grid over its parameters, and the function of one task. */
export interface LayerTasks {
  /** Number of tasks: the grid's size with ForEach, else 1. */
  readonly count: number;
  readonly run: LayerTaskFn;
}

/**
 * Prepares a layer's tasks: reads where each ForEach parameter's elements come from and
 * sizes the grid (reading no element).
 * @param leaves where the layer's function runs, from the executor's split; undefined
 *   runs it here, in its task
 */
export async function layerTasks(
  layer: Layer,
  done: ReadonlyMap<string, LayerInfo>,
  artifacts: FlowArtifacts,
  leaves: Executor | undefined,
): Promise<LayerTasks> {
  const foreach = layer.options.foreach;
  const parameters = foreach?.parameters ?? [];
  // Where each parameter's elements come from: a value for every task, or an Accessor.
  const sources = await Promise.all(
    parameters.map(async (parameter) => {
      const info = done.get(parameter.layer.name)!;
      const source = artifacts.attribute(parameter.layer.name, info, parameter.attribute);
      return source instanceof Accessor ? source : { value: await source };
    }),
  );
  const grid = new Grid(
    layer.name,
    parameters,
    sources.map((source) => (source instanceof Accessor ? source.length : undefined)),
  );
  const count = foreach ? grid.size : 1;
  // Remote tasks get upstream accessors as copies, made once per accessor.
  const copies = new WeakMap<Accessor, Promise<WireItem[]>>();
  // How workers find the flow: looked up once for the layer's tasks, not once per task
  // (each task still fails alike when the flow's module is not known).
  let ref: DefinitionRef | undefined;
  const flowOfLayer = () => {
    ref ??= flowRef(layer.flowName);
    return ref;
  };

  const run = async (index: number, ctx: TaskContext): Promise<WithArtifacts<TaskManifest>> => {
    const positions = grid.positions(index);
    const overrides = new Map<string, Map<string, unknown>>();
    await Promise.all(
      parameters.map(async (parameter, k) => {
        const source = sources[k]!;
        const value = source instanceof Accessor ? await source.at(positions[k]!) : source.value;
        let forLayer = overrides.get(parameter.layer.name);
        if (!forLayer) {
          forLayer = new Map();
          overrides.set(parameter.layer.name, forLayer);
        }
        forLayer.set(parameter.attribute, value);
      }),
    );
    const views = await Promise.all(
      layer.upstream.map((up) =>
        buildView(up.name, done.get(up.name)!, artifacts, overrides.get(up.name)),
      ),
    );
    const output = leaves
      ? await runRemote(layer, flowOfLayer(), index, count, ctx, views, copies, leaves)
      : await runHere(layer, index, count, ctx, views);
    const { manifest, writes } = artifacts.stage(layer.name, index, output);
    return withArtifacts(manifest, writes);
  };
  return { count, run };
}

/** One upstream layer as a layer's function sees it; `overrides` are this task's parameter values. */
export async function buildView(
  layer: string,
  info: LayerInfo,
  artifacts: FlowArtifacts,
  overrides: ReadonlyMap<string, unknown> | undefined,
): Promise<LayerView> {
  const names = [...info.kinds.keys()];
  const values = await Promise.all(
    names.map(async (attribute) =>
      overrides?.has(attribute) === true
        ? overrides.get(attribute)
        : await artifacts.attribute(layer, info, attribute),
    ),
  );
  return strictView(layer, new Map(names.map((name, i) => [name, values[i]])), info.tasks);
}

async function runHere(
  layer: Layer,
  index: number,
  splits: number,
  ctx: TaskContext,
  views: readonly LayerView[],
): Promise<LayerOutput> {
  const { self, output } = makeSelf(layer.name, index, splits, ctx.attempt, ctx.signal);
  await layer.fn(self, ...views);
  return output;
}

/** Runs the layer's function on `leaves`, with the views as a worker receives them. */
async function runRemote(
  layer: Layer,
  flow: DefinitionRef,
  index: number,
  splits: number,
  ctx: TaskContext,
  views: readonly LayerView[],
  copies: WeakMap<Accessor, Promise<WireItem[]>>,
  leaves: Executor,
): Promise<LayerOutput> {
  const wire: WireView[] = await Promise.all(
    views.map(async (view) => {
      const values = new Map<string, unknown>();
      const accessors = new Map<string, WireItem[]>();
      for (const [attribute, value] of Object.entries(view)) {
        if (value instanceof Accessor) accessors.set(attribute, await copyOf(value, copies));
        else values.set(attribute, value);
      }
      return { values, accessors };
    }),
  );
  const input = {
    flow,
    layer: layer.name,
    index,
    splits,
    attempt: ctx.attempt,
    views: wire,
  };
  // Hidden and unrecorded: the layer's own fan-out shows and records this task already.
  return callRemote(remoteLayerTask, input, {
    executor: leaves,
    record: false,
    display: false,
    signal: ctx.signal,
  });
}

/** An accessor's elements for a worker, nested accessors included; made once per accessor. */
function copyOf(accessor: Accessor, copies: WeakMap<Accessor, Promise<WireItem[]>>) {
  let copy = copies.get(accessor);
  if (!copy) {
    copy = accessor
      .toArray()
      .then((items) =>
        Promise.all(
          items.map(
            async (item): Promise<WireItem> =>
              item instanceof Accessor ? { a: await copyOf(item, copies) } : { v: item },
          ),
        ),
      );
    copies.set(accessor, copy);
  }
  return copy;
}
