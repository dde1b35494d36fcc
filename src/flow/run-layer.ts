/**
 * Running one layer of a flow: its tasks as a recorded map, so that a re-run with the
 * same run id skips the tasks an earlier attempt completed. Skipped tasks are trusted no
 * further than their artifacts: the layer's artifact keys are listed once (reading none),
 * and a task whose artifacts are not all there runs again, as does every task of a layer
 * downstream of one that ran again, so that no layer keeps values computed from artifacts
 * that are gone. An artifact that is there but damaged is found when read, which marks
 * its task to run again on the next re-run (artifacts.ts).
 */
import { toWire } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import type { Run } from '../core/run.ts';
import type { TaskRecord } from '../core/store.ts';
import { localTask, type Task, type TaskContext } from '../core/task.ts';
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
  readonly run: Run;
  readonly artifacts: FlowArtifacts;
  /** Runs the layers' tasks (their views and artifacts): the flow's executor, or loops here. */
  readonly loops: Executor;
  /** Runs the layers' functions when the flow's executor runs tasks elsewhere. */
  readonly leaves: Executor | undefined;
  /** Most ForEach tasks in flight per layer, unless the layer says. */
  readonly concurrency: number;
  /** Layers some of whose tasks ran in this run: every task downstream of them runs. */
  readonly changed: Set<string>;
}

/**
 * The name of the map that runs a layer's tasks, in the scope of the layer's dag node: its
 * tasks' keys are `<node key>/task/<index>`, and the flow's `run:graph` names that scope.
 */
export const layerMapName = 'task';

/** Runs every task of one layer (as the dag's task `ctx`) and sums up what they wrote. */
export async function runLayer(
  layer: Layer,
  done: ReadonlyMap<string, LayerInfo>,
  flow: FlowRunContext,
  ctx: TaskContext,
): Promise<LayerInfo> {
  const { artifacts, loops } = flow;
  const foreach = layer.options.foreach !== undefined;
  const tasks = await layerTasks(layer, done, artifacts, flow.leaves);
  const limit = layer.options.concurrency ?? flow.concurrency;
  // Manifests made in this run: any other came from the record of an earlier attempt.
  const fresh = new WeakSet<TaskManifest>();
  // The fan-out stores each task's artifacts with its record and hands on the manifest.
  const task = layerTask(layer, async (index, taskCtx) => {
    const staged = await tasks.run(index, taskCtx);
    fresh.add(staged.value);
    return staged;
  }) as unknown as Task<number, TaskManifest>;
  // The run's keys of this layer's tasks: a map's tasks are keyed in a child scope named
  // after the map, under the scope it is given.
  const parent = new KeyScope(ctx.scope.path, flow.run);
  const keys = new KeyScope(parent.path).child(layerMapName);
  artifacts.recordKeys.set(layer.name, keys);
  const forced = layer.upstream.some((up) => flow.changed.has(up.name));
  const info = new LayerInfoBuilder(layer.name, tasks.count, foreach);
  const failures = new Failures();
  const again: number[] = [];
  let ran = 0;
  // Tasks an earlier attempt completed, checked against one listing of the layer's
  // artifact keys, started when the first of them comes back.
  const skipped: TaskManifest[] = [];
  let listing: Promise<ReadonlySet<string>> | undefined;
  const outcomes = map(indices(tasks.count), task, {
    executor: loops,
    concurrency: limit,
    scope: parent,
    name: layerMapName,
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
    else if (fresh.has(outcome)) {
      ran++;
      info.add(outcome);
    } else if (forced) again.push(outcome.i);
    else {
      if (!listing) {
        listing = artifacts.listLayer(layer.name);
        // Awaited below: until then a failed listing must not count as unhandled.
        listing.catch(() => {});
      }
      skipped.push(outcome);
    }
  }
  if (listing) {
    // A listing that fails fails the layer: nothing is recomputed from a failed read.
    const listed = await listing;
    for (const manifest of skipped) {
      if (artifacts.missing(layer.name, manifest, listed) === undefined) info.add(manifest);
      else again.push(manifest.i);
    }
  }
  if (again.length > 0) {
    ran += await runAgain(layer, again, tasks.run, {
      flow,
      keys,
      limit,
      ctx,
      info,
      failures,
      why: forced ? 'an upstream layer ran again' : 'its artifacts are missing',
    });
  }
  if (ran > 0) flow.changed.add(layer.name);
  failures.throwIfAny(layer, tasks.count);
  return info.build();
}

interface AgainContext {
  readonly flow: FlowRunContext;
  /** Scope of the keys the layer's tasks are recorded under. */
  readonly keys: KeyScope;
  readonly limit: number;
  readonly ctx: TaskContext;
  readonly info: LayerInfoBuilder;
  readonly failures: Failures;
  /** Why the tasks run again, kept in their records until they complete. */
  readonly why: string;
}

/**
 * Runs again tasks that an earlier attempt completed, which a recorded map would skip:
 * in a map that records nothing, each task then recording its new manifest under its own
 * key, with its artifacts in the same transaction. Returns how many completed.
 */
async function runAgain(
  layer: Layer,
  indices: readonly number[],
  run: LayerTaskFn,
  again: AgainContext,
): Promise<number> {
  const { flow, keys } = again;
  // Their records are marked failed first: a crash from here on leaves them to run again,
  // never read with artifacts the records do not describe.
  const now = Date.now();
  await Promise.all(
    indices.map((index) =>
      recordOrThrow(flow.run, {
        key: keys.key(index),
        task: layer.name,
        status: 'failed',
        attempts: 0,
        startedAt: now,
        durationMs: 0,
        error: toWire(new Error(`Layer ${layer.name} task ${index} runs again: ${again.why}.`)),
      }),
    ),
  );
  const recorded = layerTask(layer, async (index, ctx) => {
    const startedAt = Date.now();
    const started = performance.now();
    const { value: manifest, artifacts } = await run(index, ctx);
    await recordOrThrow(flow.run, {
      key: keys.key(index),
      task: layer.name,
      status: 'completed',
      attempts: ctx.attempt,
      startedAt,
      durationMs: performance.now() - started,
      output: manifest,
      artifacts,
    });
    return manifest;
  });
  let completed = 0;
  const outcomes = map(indices, recorded, {
    executor: flow.loops,
    concurrency: again.limit,
    record: false,
    name: 'again',
    display:
      layer.options.foreach === undefined
        ? false
        : { label: `${layer.name} (again)`, total: indices.length },
    signal: again.ctx.signal,
    onError: 'collect',
    ordered: false,
  });
  for await (const outcome of outcomes) {
    if (outcome instanceof Error) again.failures.add(outcome);
    else {
      completed++;
      again.info.add(outcome);
    }
  }
  return completed;
}

/** Records one task, throwing what kept its record from being written. */
export async function recordOrThrow(run: Run, record: TaskRecord): Promise<void> {
  const failures = await run.recorder.record(record);
  if (failures.has(record.key)) throw failures.get(record.key);
}

/** A layer's tasks with its retry options; a failed task's error carries its number. */
function layerTask<O>(
  layer: Layer,
  fn: (index: number, ctx: TaskContext) => Promise<O>,
): Task<number, O> {
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
