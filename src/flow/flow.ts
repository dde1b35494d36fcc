/**
 * Flows (laminar): layers that run in dependency order, independent layers at the same
 * time, each a recorded task of the run, with ForEach layers fanned out over their
 * parameters' product on the flow's executor. Everything a layer writes is an artifact
 * of the run; a re-run with the same run id skips completed layers and, inside a layer,
 * completed ForEach tasks, once their artifacts are found there (those whose artifacts are
 * gone run again, with what is downstream of them). An artifact found damaged when read
 * marks its task to run again on the next re-run.
 */
import { randomUUID } from 'node:crypto';
import { callSite } from '../core/call-site.ts';
import { dag } from '../core/dag.ts';
import { refuseTopLevelWork } from '../core/definitions.ts';
import { isWeftError, TaskFailedError, ValidationError } from '../core/errors.ts';
import { type Executor, getDefaultExecutor } from '../core/executor.ts';
import { currentRun, type Run, withRun } from '../core/run.ts';
import { splitExecutor } from '../core/split.ts';
import type { Store } from '../core/store.ts';
import type { TaskContext } from '../core/task.ts';
import { openStore } from '../stores/open.ts';
import { FlowArtifacts, type LayerInfo } from './artifacts.ts';
import { ForEach } from './foreach.ts';
import type { Layer, LayerFn, LayerOptions, LayerView } from './layer.ts';
import { buildView } from './layer-task.ts';
import { registerFlow } from './remote.ts';
import { type FlowRunContext, recordOrThrow, runLayer } from './run-layer.ts';

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
  /**
   * The run's id; the same id again resumes: tasks that completed are not run again, unless
   * their artifacts are missing (or were found damaged when read, which marks them), and
   * then every task downstream of them runs again.
   * @default a new id (inside `weft run`: its run)
   */
  readonly runId?: string;
  /** Stops the flow: running tasks are aborted. */
  readonly signal?: AbortSignal;
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
    registerFlow(this, callSite(Flow));
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
      const { infos, artifacts } = await this.#execute(current, options);
      return new FlowResult(this.name, current.store, current.id, infos, false, artifacts);
    }
    const store =
      storeOption === undefined || typeof storeOption === 'string'
        ? await openStore(storeOption)
        : storeOption;
    const opened = store !== storeOption;
    const runId = options.runId ?? `${this.name}-${randomUUID().slice(0, 8)}`;
    try {
      const { infos, artifacts } = await withRun(
        { store, runId, meta: { flow: this.name } },
        (run) => this.#execute(run, options),
      );
      return new FlowResult(this.name, store, runId, infos, opened, artifacts);
    } catch (error) {
      if (opened) await store.close();
      throw error;
    }
  }

  async #execute(
    run: Run,
    options: FlowRunOptions,
  ): Promise<{ infos: Map<string, LayerInfo>; artifacts: FlowArtifacts }> {
    // A task whose artifact reads as damaged is marked through the run's recorder, which
    // keeps its records in order, during the run and after it.
    const artifacts = new FlowArtifacts(run.store, run.id, this.name, (record) =>
      recordOrThrow(run, record),
    );
    const executor = options.executor ?? this.options.executor ?? getDefaultExecutor();
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
      concurrency: options.concurrency ?? this.options.concurrency ?? executor.concurrency,
      changed: new Set(),
    };
    const layers = this.layers;
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
          name: `flow:${this.name}`,
          display: { label: this.name },
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
      // The layer's own error says what failed; the dag's wrapper adds nothing.
      if (error instanceof TaskFailedError && isWeftError(error.cause)) throw error.cause;
      throw error;
    } finally {
      await Promise.all([layerLoops.close(), taskSplit.close()]);
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

  /**
   * @param artifacts the run's artifacts, which know how to mark a task whose artifact
   *   reads as damaged; without them such a read says how to have it recomputed
   */
  constructor(
    flow: string,
    store: Store,
    runId: string,
    infos: Map<string, LayerInfo>,
    ownsStore: boolean,
    artifacts: FlowArtifacts = new FlowArtifacts(store, runId, flow),
  ) {
    this.flow = flow;
    this.store = store;
    this.runId = runId;
    this.#infos = infos;
    this.#artifacts = artifacts;
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
