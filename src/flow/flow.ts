/**
 * Flows (laminar): layers that run in dependency order, independent layers at the same
 * time, each a recorded task of the run, with ForEach layers fanned out over their
 * parameters' product on the flow's executor. Everything a layer writes is an artifact
 * of the run; a re-run with the same run id skips completed layers and, inside a layer,
 * completed ForEach tasks.
 */
import { randomUUID } from 'node:crypto';
import { dag } from '../core/dag.ts';
import { refuseTopLevelWork } from '../core/definitions.ts';
import { isWeftError, TaskFailedError, ValidationError, WeftError } from '../core/errors.ts';
import { type Executor, getDefaultExecutor } from '../core/executor.ts';
import { map } from '../core/map.ts';
import { currentRun, type Run, withRun } from '../core/run.ts';
import type { Store } from '../core/store.ts';
import { callSite, localTask, type TaskContext } from '../core/task.ts';
import { asyncPool } from '../executors/in-process.ts';
import { openStore } from '../stores/open.ts';
import { Accessor } from './accessor.ts';
import { FlowArtifacts, type LayerInfo, LayerInfoBuilder, type TaskManifest } from './artifacts.ts';
import { ForEach, Grid } from './foreach.ts';
import {
  type Layer,
  type LayerFn,
  type LayerOptions,
  type LayerView,
  makeSelf,
  strictView,
} from './layer.ts';
import {
  flowModule,
  registerFlow,
  remoteLayerTask,
  type WireItem,
  type WireView,
} from './remote.ts';

/** Options of a {@link Flow}. */
export interface FlowOptions {
  /** Where runs and artifacts are kept: a store or its URL. @default the run's store inside `weft run`, else `.weft/weft.db` */
  readonly store?: Store | string;
  /** Where ForEach tasks run. @default the default executor */
  readonly executor?: Executor;
  /** Most ForEach tasks in flight per layer. @default the executor's concurrency */
  readonly concurrency?: number;
}

/** Options of {@link Flow.run}. */
export interface FlowRunOptions extends FlowOptions {
  /** The run's id; the same id again resumes. @default a new id (inside `weft run`: its run) */
  readonly runId?: string;
  /** Stops the flow: running tasks are aborted. */
  readonly signal?: AbortSignal;
}

/** A layer failed: names it, and for a ForEach layer how many tasks and which. */
export class LayerFailedError extends WeftError {
  override name = 'LayerFailedError';
  /** The ForEach tasks that failed (empty for a layer without ForEach). */
  readonly failedTasks: readonly number[];
  constructor(message: string, failedTasks: readonly number[], cause: unknown) {
    super('WEFT_LAYER_FAILED', message, { cause });
    this.failedTasks = failedTasks;
  }
}

/**
 * A flow of layers.
 * @example
 * const flow = new Flow('JoinFlow');
 * const Shard = flow.layer('Shard', (self) => self.shard({ foo: [1, 2] }));
 * const Process = flow.layer('Process', { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' })] }) },
 *   (self, shard) => self.set({ foo: shard.foo * 10 }), [Shard]);
 * await flow.run();
 */
export class Flow {
  /** The flow's name: unique per program, part of its artifacts' keys. */
  readonly name: string;
  /** Defaults for every run. */
  readonly options: FlowOptions;
  readonly #layers = new Map<string, Layer>();

  constructor(name: string, options: FlowOptions = {}) {
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) {
      throw new ValidationError(
        `Flow name '${String(name)}' is not valid: use letters, digits, '.', '_' and '-'.`,
      );
    }
    this.name = name;
    this.options = options;
    registerFlow(callSite(Flow)?.module, this);
  }

  /** The layers, in the order they were added. */
  get layers(): readonly Layer[] {
    return [...this.#layers.values()];
  }

  /** The layer named `name`. */
  getLayer(name: string): Layer | undefined {
    return this.#layers.get(name);
  }

  /**
   * Adds a layer: its function gets `self`, then one view per upstream layer.
   * @example flow.layer('Process', { foreach }, (self, shard) => self.set({ x: shard.foo }), [Shard])
   */
  layer(name: string, fn: LayerFn, upstream?: readonly Layer[]): Layer;
  layer(name: string, options: LayerOptions, fn: LayerFn, upstream?: readonly Layer[]): Layer;
  layer(
    name: string,
    optionsOrFn: LayerOptions | LayerFn,
    fnOrUpstream?: LayerFn | readonly Layer[],
    maybeUpstream?: readonly Layer[],
  ): Layer {
    const options = typeof optionsOrFn === 'function' ? {} : (optionsOrFn ?? {});
    const fn = typeof optionsOrFn === 'function' ? optionsOrFn : (fnOrUpstream as LayerFn);
    const upstream =
      (typeof optionsOrFn === 'function' ? (fnOrUpstream as readonly Layer[]) : maybeUpstream) ??
      [];
    const where = `${this.name}.layer('${String(name)}')`;
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) {
      throw new ValidationError(`${where}: use letters, digits, '.', '_' and '-' in layer names.`);
    }
    if (this.#layers.has(name)) {
      throw new ValidationError(`${where}: the flow already has a layer named '${name}'.`);
    }
    if (typeof fn !== 'function') {
      throw new ValidationError(`${where} needs a function (self, ...upstream) => void.`);
    }
    if (!Array.isArray(upstream)) {
      throw new ValidationError(`${where}: upstream layers go in an array, e.g. [Shard].`);
    }
    for (const up of upstream) {
      if (!up || this.#layers.get(up.name) !== up) {
        throw new ValidationError(
          `${where}: upstream '${up?.name ?? String(up)}' is not a layer of flow ${this.name}; add it to this flow first.`,
        );
      }
    }
    if (options.foreach !== undefined && !(options.foreach instanceof ForEach)) {
      throw new ValidationError(`${where}: foreach must be a new ForEach({ parameters }).`);
    }
    for (const parameter of options.foreach?.parameters ?? []) {
      if (!upstream.includes(parameter.layer)) {
        throw new ValidationError(
          `${where}: its Parameter reads ${parameter.layer.name}.${parameter.attribute}, so ${parameter.layer.name} must be one of its upstream layers.`,
        );
      }
    }
    checkRetry(where, options);
    const made: Layer = Object.freeze({
      name,
      flowName: this.name,
      options,
      fn,
      upstream: Object.freeze([...upstream]),
    });
    this.#layers.set(name, made);
    return made;
  }

  /**
   * Runs the flow. Inside `weft run` (or `withRun`) it runs in that run; otherwise in a
   * run of its own store, resumed when `runId` names an earlier one. When the flow opens
   * the store itself, call `close()` on the result once done reading it.
   * @throws LayerFailedError naming the layer (and the failed ForEach tasks)
   * @throws ValidationError for a flow without layers, or a bad grid
   * @example const result = await flow.run({ runId: 'nightly' }); await result.close();
   */
  async run(options: FlowRunOptions = {}): Promise<FlowResult> {
    if (this.#layers.size === 0) {
      throw new ValidationError(`Flow ${this.name} has no layers: add some with flow.layer(...).`);
    }
    const current = currentRun();
    // Inside a run, a flow given only a run id keeps to that run's store.
    const storeOption = options.store ?? this.options.store ?? current?.store;
    refuseTopLevelWork(`flow.run() of ${this.name}`);
    if (
      current &&
      options.runId === undefined &&
      (storeOption === current.store || storeOption === undefined)
    ) {
      const infos = await this.#execute(current, options);
      return new FlowResult(this.name, current.store, current.id, infos, false);
    }
    const store =
      storeOption === undefined || typeof storeOption === 'string'
        ? await openStore(storeOption)
        : storeOption;
    const opened = store !== storeOption;
    const runId = options.runId ?? `${this.name}-${randomUUID().slice(0, 8)}`;
    try {
      const infos = await withRun({ store, runId, meta: { flow: this.name } }, (run) =>
        this.#execute(run, options),
      );
      return new FlowResult(this.name, store, runId, infos, opened);
    } catch (error) {
      if (opened) await store.close();
      throw error;
    }
  }

  async #execute(run: Run, options: FlowRunOptions): Promise<Map<string, LayerInfo>> {
    const artifacts = new FlowArtifacts(run.store, run.id, this.name);
    const executor = options.executor ?? this.options.executor ?? getDefaultExecutor();
    const concurrency = options.concurrency ?? this.options.concurrency;
    const layers = this.layers;
    const orchestrator = asyncPool({ concurrency: layers.length });
    try {
      return (await dag(
        layers.map((layer) => ({
          id: layer.name,
          dependencies: layer.upstream.map((up) => up.name),
          input: (done: ReadonlyMap<string, unknown>) => done,
          task: (done: ReadonlyMap<string, unknown>, ctx: TaskContext) =>
            runLayer(layer, done as ReadonlyMap<string, LayerInfo>, {
              artifacts,
              executor,
              concurrency: layer.options.concurrency ?? concurrency,
              ctx,
            }),
        })),
        {
          name: `flow:${this.name}`,
          display: { label: this.name },
          scope: run.scope,
          signal: options.signal,
          // Layers orchestrate here; their ForEach tasks go to the executor.
          executor: orchestrator,
        },
      )) as Map<string, LayerInfo>;
    } catch (error) {
      // The layer's own error says what failed; the dag's wrapper adds nothing.
      if (error instanceof TaskFailedError && isWeftError(error.cause)) throw error.cause;
      throw error;
    } finally {
      await orchestrator.close();
    }
  }
}

/** What a flow run produced: read any layer's attributes afterwards. */
export class FlowResult {
  /** The flow's name. */
  readonly flow: string;
  /** The run that holds the artifacts: give it to `flow.run({ runId })` to resume. */
  readonly runId: string;
  /** Where the artifacts are. */
  readonly store: Store;
  readonly #infos: Map<string, LayerInfo>;
  readonly #artifacts: FlowArtifacts;
  readonly #ownsStore: boolean;

  constructor(
    flow: string,
    store: Store,
    runId: string,
    infos: Map<string, LayerInfo>,
    ownsStore: boolean,
  ) {
    this.flow = flow;
    this.store = store;
    this.runId = runId;
    this.#infos = infos;
    this.#artifacts = new FlowArtifacts(store, runId, flow);
    this.#ownsStore = ownsStore;
  }

  /** What a layer wrote: kinds and lengths of its attributes. */
  info(layer: Layer | string): LayerInfo {
    const name = typeof layer === 'string' ? layer : layer.name;
    const info = this.#infos.get(name);
    if (!info) throw new ValidationError(`Flow ${this.flow} has no layer '${name}'.`);
    return info;
  }

  /** A layer's attributes as a downstream layer would see them (values, or Accessors). */
  async layer(layer: Layer | string): Promise<LayerView> {
    const name = typeof layer === 'string' ? layer : layer.name;
    return buildView(name, this.info(name), this.#artifacts, undefined);
  }

  /** Closes the store when the flow opened it itself. */
  async close(): Promise<void> {
    if (this.#ownsStore) await this.store.close();
  }
}

interface LayerRunContext {
  readonly artifacts: FlowArtifacts;
  readonly executor: Executor;
  readonly concurrency: number | undefined;
  readonly ctx: TaskContext;
}

/** Runs every task of one layer and sums up what they wrote. */
async function runLayer(
  layer: Layer,
  done: ReadonlyMap<string, LayerInfo>,
  run: LayerRunContext,
): Promise<LayerInfo> {
  const { artifacts, executor } = run;
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
  const tasks = foreach ? grid.size : 1;
  const remote = executor.remote;
  // Remote tasks get upstream accessors as copies, made once per accessor.
  const copies = new WeakMap<Accessor, Promise<WireItem[]>>();
  const limit = run.concurrency ?? executor.concurrency;
  const loops = remote ? asyncPool({ concurrency: limit }) : executor;

  const runTask = async (index: number, ctx: TaskContext): Promise<TaskManifest> => {
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
    try {
      const output = remote
        ? await runRemote(layer, index, tasks, ctx, views, copies, executor)
        : await runHere(layer, index, tasks, ctx, views);
      return await artifacts.write(layer.name, index, output);
    } catch (error) {
      throw numbered(error, index);
    }
  };
  const retry = layer.options.retry ?? {};
  const task = localTask(layer.name, runTask, {
    retries: (retry.attempts ?? 1) - 1,
    backoff: {
      delayMs: retry.delay ?? 0,
      factor: retry.backoff ?? 1,
      maxDelayMs: 2_147_483_647,
      jitter: retry.jitter ?? 0,
    },
    ...(retry.errors === undefined
      ? {}
      : {
          retryIf: (error: unknown) =>
            error instanceof Error && (retry.errors as readonly string[]).includes(error.name),
        }),
  });
  const info = new LayerInfoBuilder(layer.name, tasks, foreach !== undefined);
  const failed: number[] = [];
  let failures = 0;
  let firstError: unknown;
  try {
    const outcomes = map(indices(tasks), task, {
      executor: loops,
      concurrency: limit,
      scope: run.ctx.scope,
      name: 'task',
      // A ForEach layer is a bar of its own; a plain layer's one task shows on the flow's.
      display: foreach ? { label: layer.name, total: tasks } : false,
      signal: run.ctx.signal,
      // Every task runs: a resume then re-runs only those that failed.
      onError: 'collect',
      // As they finish: one slow task must not hold back the tasks after it.
      ordered: false,
    });
    for await (const outcome of outcomes) {
      if (outcome instanceof Error) {
        failures++;
        if (failed.length < maxListedFailures) failed.push(numberOf(outcome));
        firstError ??= outcome;
      } else {
        info.add(outcome);
      }
    }
  } finally {
    if (loops !== executor) await loops.close();
  }
  if (failures > 0) {
    failed.sort((a, b) => a - b);
    const cause = firstError instanceof Error ? firstError : new Error(String(firstError));
    throw new LayerFailedError(
      foreach
        ? `Layer ${layer.name}: ${failures.toLocaleString('en-US')} of ${tasks.toLocaleString('en-US')} ForEach tasks failed ` +
            `(${failed.length === 1 ? 'task' : 'tasks'} ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', …' : ''}); the first: ${cause.message}. ` +
            'Run the flow again with the same run id to re-run only those.'
        : `Layer ${layer.name} failed: ${cause.message}`,
      foreach ? failed : [],
      cause,
    );
  }
  return info.build();
}

/** Failed task numbers kept on a LayerFailedError; the count is exact beyond it. */
const maxListedFailures = 10_000;

/** Where a failed task's number rides on its error, so that the error itself is what is recorded. */
const taskNumber = Symbol('weft.flowTask');

function numbered(error: unknown, index: number): unknown {
  const carrier =
    typeof error === 'object' && error !== null
      ? error
      : new Error(String(error), { cause: error });
  try {
    Object.defineProperty(carrier, taskNumber, { value: index, configurable: true });
  } catch {
    // A frozen error keeps no number; the task then counts as failed without one.
  }
  return carrier;
}

function numberOf(error: Error): number {
  return (error as Error & { [taskNumber]?: number })[taskNumber] ?? -1;
}

function* indices(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

/** One upstream layer as a layer's function sees it; `overrides` are this task's parameter values. */
async function buildView(
  layer: string,
  info: LayerInfo,
  artifacts: FlowArtifacts,
  overrides: ReadonlyMap<string, unknown> | undefined,
): Promise<LayerView> {
  const view: Record<string, unknown> = {};
  await Promise.all(
    Object.keys(info.kinds).map(async (attribute) => {
      view[attribute] =
        overrides?.has(attribute) === true
          ? overrides.get(attribute)
          : await artifacts.attribute(layer, info, attribute);
    }),
  );
  return strictView(layer, view, info.tasks);
}

async function runHere(
  layer: Layer,
  index: number,
  splits: number,
  ctx: TaskContext,
  views: readonly LayerView[],
) {
  const { self, output } = makeSelf(layer.name, index, splits, ctx.attempt, ctx.signal);
  await layer.fn(self, ...views);
  return output;
}

async function runRemote(
  layer: Layer,
  index: number,
  splits: number,
  ctx: TaskContext,
  views: readonly LayerView[],
  copies: WeakMap<Accessor, Promise<WireItem[]>>,
  executor: Executor,
) {
  const wire: WireView[] = await Promise.all(
    views.map(async (view) => {
      const values: Record<string, unknown> = {};
      const accessors: Record<string, WireItem[]> = {};
      for (const [attribute, value] of Object.entries(view)) {
        if (value instanceof Accessor) accessors[attribute] = await copyOf(value, copies);
        else values[attribute] = value;
      }
      return { values, accessors };
    }),
  );
  const [output] = await map(
    [
      {
        flow: layer.flowName,
        module: flowModule(layer.flowName),
        layer: layer.name,
        index,
        splits,
        attempt: ctx.attempt,
        views: wire,
      },
    ],
    remoteLayerTask,
    // Hidden: the layer's own fan-out shows this task already.
    { executor, record: false, signal: ctx.signal, display: false },
  ).catch((error: unknown) => {
    // The worker's own error, so that retry.errors and messages see it, not the wrapper.
    throw error instanceof TaskFailedError ? error.cause : error;
  });
  return output!;
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

function checkRetry(where: string, options: LayerOptions): void {
  const retry = options.retry;
  if (retry === undefined) return;
  const { attempts = 1, delay = 0, backoff = 1, jitter = 0, errors } = retry;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new ValidationError(
      `${where}: retry.attempts must be a whole number ≥ 1, got ${attempts}.`,
    );
  }
  for (const [field, value] of [
    ['delay', delay],
    ['backoff', backoff],
    ['jitter', jitter],
  ] as const) {
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new ValidationError(`${where}: retry.${field} must be a number ≥ 0, got ${value}.`);
    }
  }
  if (
    errors !== undefined &&
    (!Array.isArray(errors) || errors.some((e) => typeof e !== 'string'))
  ) {
    throw new ValidationError(`${where}: retry.errors must be an array of error names.`);
  }
}
