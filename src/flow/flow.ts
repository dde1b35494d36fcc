/**
 * Flows (laminar): layers that run in dependency order, independent layers at the same
 * time, each a recorded task of the run, with ForEach layers fanned out over their
 * parameters' product on the flow's executor. Everything a layer writes is an artifact
 * of the run; a re-run with the same run id skips completed layers and, inside a layer,
 * completed ForEach tasks, once their artifacts are found there (those whose artifacts are
 * gone run again, with what is downstream of them). An artifact found damaged when read
 * marks its task to run again on the next re-run.
 *
 * This module defines flows and their layers; running one is run-flow.ts.
 */
import { callSite } from '../core/call-site.ts';
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { Store } from '../core/store.ts';
import type { FlowResult } from './flow-result.ts';
import { ForEach } from './foreach.ts';
import type { Layer, LayerFn, LayerOptions } from './layer.ts';
import { registerFlow } from './remote.ts';
import { runFlow } from './run-flow.ts';

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
  run(options: FlowRunOptions = {}): Promise<FlowResult> {
    return runFlow(this, options);
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
