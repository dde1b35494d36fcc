/**
 * The runner of one apply: each operator is one `map` over the batch's chunks, all
 * started at once, so operators run concurrently. A function runs in this thread; a task
 * runs on the executor (off-thread as `weft:compose/applyOperator`, with the operator's
 * own retries and timeout); a nested composite runs its own apply over the batch.
 */
import { isWeftError, type TaskFailedError, ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import { localTask, type Task, type TaskFn } from '../core/task.ts';
import { applyOperatorTask, runChunk } from './apply-chunk.ts';
import { joinChunks, type OperatorOutcome } from './assemble.ts';
import {
  type ChunkJob,
  type ChunkOutput,
  type ChunkRequest,
  sliceBatch,
  type WireTree,
} from './chunk-transport.ts';
import type { ApplyOptions, CompositeResult } from './composite.ts';
import { asOperatorFailed, OperatorFailedError } from './errors.ts';
import { putBack, rowsWhere, runOnRows } from './masked-run.ts';
import type { OperatorFn } from './operator.ts';
import { foldSeed } from './operator-random.ts';
import { OutputSink, type WireSink } from './output-sink.ts';
import { packTensors, type ValuePath } from './packed-tensors.ts';
import { StopFlagExecutor, stopFlag } from './stop-flags.ts';
import type { Tree, TreeInput } from './tree.ts';

/** A composite nested as an operator, as the runner sees it. */
export interface NestedComposite {
  readonly name: string;
  readonly executor: Executor | undefined;
  /** Its operators: its states and metadata hold one entry per operator, nested likewise. */
  readonly operators: readonly unknown[];
  run(batch: TreeInput, options: ApplyOptions): Promise<CompositeResult>;
}

/**
 * Runs a nested composite's apply over `batch`, its examples numbered `examples` (the
 * outer batch's numbers, for `ctx.index`, random streams and errors; undefined: its own).
 */
export type NestedRunner = (
  nested: NestedComposite,
  batch: Tree,
  options: ApplyOptions,
  examples: readonly number[] | undefined,
) => Promise<CompositeResult>;

/** An operator, told apart by what it is. */
export type OperatorEntry =
  | { readonly kind: 'function'; readonly name: string; readonly fn: OperatorFn<Tree, unknown> }
  | { readonly kind: 'task'; readonly name: string; readonly task: Task }
  | { readonly kind: 'composite'; readonly name: string; readonly composite: NestedComposite };

/** What every operator of one apply shares. */
export interface ApplyPlan {
  readonly composite: string;
  readonly batch: Tree;
  /** The batch's examples. */
  readonly size: number;
  /**
   * Each example's number as operators see it: for a composite nested under a condition,
   * the outer batch's; undefined: 0 to `size`.
   */
  readonly examples: readonly number[] | undefined;
  /** How a nested composite is applied, its examples numbered as this batch's. */
  readonly runNested: NestedRunner;
  readonly ranges: readonly (readonly [number, number])[];
  readonly seed: number;
  /** The composite's own key scope: operator `i` records under `operator_<i>` in it. */
  readonly scope: KeyScope;
  readonly extraParams: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  readonly states: readonly unknown[];
  readonly masks: readonly Uint8Array[] | undefined;
  /** Aborted when the apply is cancelled or an operator fails. */
  readonly signal: AbortSignal;
  /** Where task operators run. */
  readonly executor: Executor;
  /** Where function operators (and task operators of an in-process executor) run. */
  readonly loops: Executor;
  /** The executor's workers run off this thread. */
  readonly remote: boolean;
  /** Those workers are threads of this process, which can share memory. */
  readonly sharesMemory: boolean;
  /** A run records the chunks (and a store keeps no shared memory). */
  readonly recording: boolean;
  /** An executor the apply was given, passed on to nested composites. */
  readonly givenExecutor: Executor | undefined;
}

/** Starts operator `index`; the promise settles with its batched outputs. */
export function startOperator(
  entry: OperatorEntry,
  index: number,
  plan: ApplyPlan,
  shared: () => WireTree,
): Promise<OperatorOutcome> {
  const scope = plan.scope.child(`operator_${index}`);
  if (entry.kind === 'composite') return runNested(entry.composite, index, plan, scope);
  const label = `${plan.composite}.${entry.name}`;
  const job = (start: number, end: number): ChunkBase => ({
    composite: plan.composite,
    operator: { index, name: entry.name },
    start,
    end,
    examples: plan.examples?.slice(start, end),
    seed: foldSeed(plan.seed, index),
    state: plan.states[index],
    metadata: plan.metadata,
    extraParams: plan.extraParams,
    mask: plan.masks === undefined ? undefined : plan.masks[index]!.slice(start, end),
    stop: undefined,
    recorded: plan.recording,
  });
  let chunkTask: Task<unknown, ChunkOutput>;
  let inputs: Iterable<unknown> = plan.ranges;
  let executor = plan.loops;
  let sink: OutputSink | undefined;
  if (entry.kind === 'task' && plan.remote) {
    const { ref } = entry.task;
    if (ref === undefined) {
      throw new ValidationError(
        `Composite '${plan.composite}': operator ${index} ('${entry.name}') has no module that ${plan.executor.name} ` +
          "workers could import. Define it with operator('name', fn) at the top level of a module (or pass { module: import.meta.url }).",
      );
    }
    // The registered runner, carrying the operator's own retries and timeout.
    chunkTask = Object.freeze({ ...applyOperatorTask, options: entry.task.options });
    // Worker threads busy in a synchronous operator stop on a flag in shared memory, which
    // the executor sets when an attempt's signal aborts (their abort message waits).
    executor = plan.sharesMemory ? new StopFlagExecutor(plan.executor) : plan.executor;
    const attempts = (entry.task.options.retries ?? 0) + 1;
    // Threads write into shared memory, unless a run records the chunks: a store keeps
    // plain buffers only.
    if (plan.sharesMemory && !plan.recording) sink = OutputSink.sharedLike(plan.batch, plan.size);
    // Tensors in what the operator is given travel as their fields, packed once.
    const given = packTensors({
      extraParams: plan.extraParams,
      state: plan.states[index],
      metadata: plan.metadata,
    });
    const base = (start: number, end: number): ChunkBase => ({
      ...job(start, end),
      ...given.value,
      stop: plan.sharesMemory ? stopFlag(attempts) : undefined,
    });
    inputs = requests(plan, base, ref, given.tensors, shared, sink?.wire());
  } else {
    const fn = (entry.kind === 'task' ? entry.task.fn : entry.fn) as OperatorFn<Tree, unknown>;
    const lazy = OutputSink.lazy(plan.size);
    sink = lazy;
    const run: TaskFn<readonly [number, number], ChunkOutput> = async ([start, end], ctx) => {
      const chunk: ChunkJob = { ...job(start, end), batch: plan.batch, first: 0, sink: lazy };
      return (await runChunk(fn, chunk, ctx.signal, ctx.attempt)).output;
    };
    chunkTask = localTask(label, run, entry.kind === 'task' ? entry.task.options : {}) as Task<
      unknown,
      ChunkOutput
    >;
  }
  const { ranges } = plan;
  const chunks = map(inputs, chunkTask, {
    executor,
    signal: plan.signal,
    scope: plan.scope,
    keyScope: scope,
    name: label,
    // Keyed by its examples: a chunking of another size never takes this chunk's record.
    itemKey: (_, at) => `${ranges[at]![0]}-${ranges[at]![1]}`,
    display: { label, total: ranges.length },
  });
  // A timed-out attempt may go on writing after its task failed: its sink is not reused.
  const recyclable =
    entry.kind === 'task' && entry.task.options.timeoutMs === undefined
      ? sink?.sharedBuffers()
      : undefined;
  return Promise.resolve(chunks).then(
    (outputs) => ({
      ...joinChunks(outputs, {
        composite: plan.composite,
        operator: index,
        operatorName: entry.name,
        ranges,
        examples: plan.examples,
        state: plan.states[index],
        metadata: plan.metadata,
        sink,
      }),
      recyclable,
    }),
    (error: unknown) => {
      throw operatorError(error, plan, index, entry.name);
    },
  );
}

/** A chunk's job without its batch and sink, which differ by where it runs. */
type ChunkBase = Omit<ChunkJob, 'batch' | 'first' | 'sink'>;

/** The chunks' requests to workers, made as the map reads them. */
function* requests(
  plan: ApplyPlan,
  job: (start: number, end: number) => ChunkBase,
  ref: ChunkRequest['ref'],
  tensors: readonly ValuePath[],
  shared: () => WireTree,
  sink: WireSink | undefined,
): Generator<ChunkRequest> {
  for (const [start, end] of plan.ranges) {
    // Threads read the one shared copy of the batch; processes get their examples only.
    const batch = plan.sharesMemory ? shared() : sliceBatch(plan.batch, start, end);
    const first = plan.sharesMemory ? 0 : start;
    yield { ...job(start, end), batch, first, sink, ref, tensors };
  }
}

/**
 * A nested composite's own apply over the batch, or under a condition over the examples
 * where it holds, numbered as this batch's (so its `ctx.index` and random streams are
 * those it would have over the whole batch); its outputs, states and metadata are then
 * put back in their places, one per example of this batch.
 */
async function runNested(
  nested: NestedComposite,
  index: number,
  plan: ApplyPlan,
  scope: KeyScope,
): Promise<OperatorOutcome> {
  const options: ApplyOptions = {
    extraParams: plan.extraParams,
    seed: foldSeed(plan.seed, index),
    state: plan.states[index],
    ...(plan.metadata === undefined ? {} : { metadata: plan.metadata }),
    signal: plan.signal,
    scope,
    // Its own executor first; else the one this apply runs on.
    ...(plan.givenExecutor !== undefined || nested.executor === undefined
      ? { executor: plan.givenExecutor ?? plan.executor }
      : {}),
  };
  const where = { composite: plan.composite, operator: index, operatorName: nested.name };
  const mask = plan.masks?.[index];
  const rows = mask === undefined ? undefined : rowsWhere(mask);
  let result: CompositeResult | undefined;
  try {
    result =
      rows === undefined
        ? await plan.runNested(nested, plan.batch, options, plan.examples)
        : await runOnRows(nested, plan, rows, options);
  } catch (error) {
    if (plan.signal.aborted) throw plan.signal.reason;
    // Its examples are numbered as this batch's: its failure names the same example.
    const inner = asOperatorFailed(error);
    throw new OperatorFailedError({ ...where, example: inner?.example }, error);
  }
  if (rows === undefined) return result!;
  const given = { state: plan.states[index], metadata: plan.metadata };
  const placed = putBack(nested, plan, rows, result, given, (example, reason) => {
    throw new OperatorFailedError({ ...where, example }, reason);
  });
  return { data: placed.data, states: placed.states, metadata: placed.metadata };
}

/** The error an operator's map failed with, as the apply tells it. */
function operatorError(error: unknown, plan: ApplyPlan, index: number, name: string): unknown {
  if (!isWeftError(error, 'WEFT_TASK_FAILED')) return error;
  const failed = error as TaskFailedError;
  const found = asOperatorFailed(failed.cause, failed.attempts);
  if (found) return found;
  // The chunk failed as a whole (a timeout, a crash, a module a worker could not load).
  const range = /(\d+)-(\d+)$/.exec(failed.key);
  const numbered = (row: number) => plan.examples?.[row] ?? row;
  return new OperatorFailedError(
    {
      composite: plan.composite,
      operator: index,
      operatorName: name,
      examples: range
        ? [numbered(Number(range[1])), numbered(Number(range[2]) - 1) + 1]
        : undefined,
      attempts: failed.attempts,
    },
    failed.cause,
  );
}
