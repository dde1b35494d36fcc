/**
 * Running one layer of a flow: its tasks as a recorded map, so that a re-run with the
 * same run id skips the tasks an earlier attempt completed.
 */
import type { Executor } from '../core/executor.ts';
import { map } from '../core/map.ts';
import { localTask, type Task, type TaskContext } from '../core/task.ts';
import { asyncPool } from '../executors/in-process.ts';
import {
  type FlowArtifacts,
  type LayerInfo,
  LayerInfoBuilder,
  type TaskManifest,
} from './artifacts.ts';
import { LayerFailedError } from './errors.ts';
import type { Layer } from './layer.ts';
import { type LayerTaskFn, layerTasks } from './layer-task.ts';

/** What the layers of one run of a flow share. */
export interface FlowRunContext {
  readonly artifacts: FlowArtifacts;
  readonly executor: Executor;
  /** Most ForEach tasks in flight per layer, unless the layer says. */
  readonly concurrency: number | undefined;
}

/** Runs every task of one layer (as the dag's task `ctx`) and sums up what they wrote. */
export async function runLayer(
  layer: Layer,
  done: ReadonlyMap<string, LayerInfo>,
  flow: FlowRunContext,
  ctx: TaskContext,
): Promise<LayerInfo> {
  const { artifacts, executor } = flow;
  const foreach = layer.options.foreach !== undefined;
  const tasks = await layerTasks(layer, done, artifacts, executor);
  const limit = layer.options.concurrency ?? flow.concurrency ?? executor.concurrency;
  // Remote executors run the layer's function; its task (views, artifacts) stays here.
  const loops = executor.remote ? asyncPool({ concurrency: limit }) : executor;
  const task = layerTask(layer, tasks.run);
  const info = new LayerInfoBuilder(layer.name, tasks.count, foreach);
  const failures = new Failures();
  try {
    const outcomes = map(indices(tasks.count), task, {
      executor: loops,
      concurrency: limit,
      scope: ctx.scope,
      name: 'task',
      // A ForEach layer is a bar of its own; a plain layer's one task shows on the flow's.
      display: foreach ? { label: layer.name, total: tasks.count } : false,
      signal: ctx.signal,
      // Every task runs: a resume then re-runs only those that failed.
      onError: 'collect',
      // As they finish: one slow task must not hold back the tasks after it.
      ordered: false,
    });
    for await (const outcome of outcomes) {
      if (outcome instanceof Error) failures.add(outcome);
      else info.add(outcome);
    }
  } finally {
    if (loops !== executor) await loops.close();
  }
  failures.throwIfAny(layer, tasks.count);
  return info.build();
}

/** A layer's tasks with its retry options; a failed task's error carries its number. */
function layerTask(layer: Layer, fn: LayerTaskFn): Task<number, TaskManifest> {
  const retry = layer.options.retry ?? {};
  return localTask(
    layer.name,
    async (index: number, ctx: TaskContext) => {
      try {
        return await fn(index, ctx);
      } catch (error) {
        throw numbered(error, index);
      }
    },
    {
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
    },
  );
}

/** Failed task numbers kept on a LayerFailedError; the count is exact beyond it. */
const maxListedFailures = 10_000;

/** The failed tasks of a layer: how many, which, and the first error. */
class Failures {
  #count = 0;
  readonly #listed: number[] = [];
  #first: unknown;

  add(error: Error): void {
    this.#count++;
    if (this.#listed.length < maxListedFailures) this.#listed.push(numberOf(error));
    this.#first ??= error;
  }

  throwIfAny(layer: Layer, tasks: number): void {
    if (this.#count === 0) return;
    const failed = this.#listed.sort((a, b) => a - b);
    const first = this.#first;
    const cause = first instanceof Error ? first : new Error(String(first));
    const foreach = layer.options.foreach !== undefined;
    throw new LayerFailedError(
      foreach
        ? `Layer ${layer.name}: ${this.#count.toLocaleString('en-US')} of ${tasks.toLocaleString('en-US')} ForEach tasks failed ` +
            `(${failed.length === 1 ? 'task' : 'tasks'} ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', …' : ''}); the first: ${cause.message}. ` +
            'Run the flow again with the same run id to re-run only those.'
        : `Layer ${layer.name} failed: ${cause.message}`,
      foreach ? failed : [],
      cause,
    );
  }
}

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
