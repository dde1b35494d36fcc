/**
 * The off-thread targets of parallel methods. `threads`: the method itself runs once per
 * item on worker threads, with `this` the batch rebuilt there from its exported class and
 * its state (shared memory shared, the rest copied once per worker and call). `mpc`: the
 * method runs once here and returns what runs once per item in child processes, a task or
 * an exported function. Every item is a task of one `map`, recorded under
 * `<scope>/<name>/<i>`, so a resumed run skips finished items.
 */
import { findUncloneable } from '../core/cloneable.ts';
import { describeType } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import { type Executor, getDefaultExecutor, sharedExecutor } from '../core/executor.ts';
import type { DefinitionRef } from '../core/registry.ts';
import { isTask, type Task, type TaskContext, task } from '../core/task.ts';
import { type Batch, batchState, rebuildBatch } from './batch.ts';
import { type PackedState, packState, unpackState } from './batch-transport.ts';
import { askForCall, forgetCall, holdCall, newCallId, offerCall } from './call-channel.ts';
import {
  batchClassRef,
  type FunctionRef,
  functionRef,
  type MethodRef,
  methodRef,
  resolveBatchClass,
  resolveFunction,
  resolveParallelMethod,
} from './find-export.ts';
import type { ItemRun } from './item-run.ts';
import { mapItems } from './run-items.ts';

/**
 * One parallel call on threads, as every item of it carries it: the same small object,
 * whose state is in shared memory, so that items travel without copying the batch.
 */
export interface MethodCall {
  /** Unique per call: a worker reads the state once per call. */
  readonly id: string;
  readonly batch: DefinitionRef;
  readonly method: MethodRef;
  /**
   * The batch's state, with every item, for executors whose workers may not be threads
   * of this process; absent on weft's own thread pools, whose workers ask for it once
   * (see call-channel.ts).
   */
  readonly packed?: PackedState;
}

/** One item on threads: its call and its arguments. */
export interface MethodItem {
  readonly call: MethodCall;
  readonly args: readonly unknown[];
}

/** One item in a child process: the exported function and its arguments. */
export interface FunctionItem {
  readonly fn: FunctionRef;
  readonly args: readonly unknown[];
}

/** Runs `run`'s items on worker threads: the method itself, on the batch rebuilt there. */
export async function runOnThreads(run: ItemRun): Promise<unknown[]> {
  // Everything a worker needs is found here, before any item runs.
  const batch = await batchClassRef(run, 'threads');
  const method = await methodRef(run, 'threads');
  const id = newCallId();
  const packed = packBatch(run);
  const executor = executorFor(run, 'threads');
  // The call's own executor may run its workers anywhere: its items carry the batch.
  const call: MethodCall = run.executor ? { id, batch, method, packed } : { id, batch, method };
  // Offered in both cases: workers of this process that hold the batch are told when
  // the call ends, and drop it.
  const offer = offerCall(id, packed);
  try {
    return await runItems(run, executor, runMethodTask, items(run, call));
  } finally {
    offer.withdraw();
  }
}

function items(run: ItemRun, call: MethodCall): MethodItem[] {
  return run.items.map((args): MethodItem => ({ call, args }));
}

/**
 * Runs `run`'s method once here; what it returns runs once per item in child processes:
 * a task (given the item's argument list) or an exported function (called with them).
 */
export async function runOnProcesses(run: ItemRun): Promise<unknown[]> {
  const returned: unknown = await run.spec.method.apply(run.batch, run.callArgs);
  const executor = executorFor(run, 'processes');
  if (isTask(returned)) return runItems(run, executor, returned, run.items);
  if (typeof returned === 'function') {
    const fn = await functionRef(returned, run);
    const items = run.items.map((args): FunctionItem => ({ fn, args }));
    return runItems(run, executor, callFunctionTask, items);
  }
  throw new ValidationError(
    `${run.label} (target mpc) returned ${describeType(returned)}: a method of target mpc returns ` +
      "what runs once per item in child processes, a task('name', fn) defined at the top level of a " +
      'module or a function its module exports.',
  );
}

function runItems<I>(
  run: ItemRun,
  executor: Executor,
  itemTask: Task<I, unknown>,
  items: readonly I[],
): Promise<unknown[]> {
  return mapItems(run, executor, itemTask, items, {
    concurrency: inFlight(run.concurrency, executor),
  });
}

/**
 * How many items to keep in flight for a cap of `nWorkers` running at once. A pool of no
 * more workers than that never runs more, so it is given enough queued to keep each
 * worker busy (a worker waiting for its next item after each one would spend most of a
 * tiny item's time on the round trip); a smaller pool gets exactly the cap.
 */
function inFlight(nWorkers: number, executor: Executor): number {
  const { workers } = executor;
  return workers !== undefined && workers <= nWorkers
    ? Math.max(nWorkers, executor.concurrency)
    : nWorkers;
}

/** The call's executor, else the default one when it is of this kind, else the shared pool. */
function executorFor(run: ItemRun, kind: 'threads' | 'processes'): Executor {
  if (run.executor) return run.executor;
  const configured = getDefaultExecutor();
  return configured.name === kind ? configured : sharedExecutor(kind);
}

function packBatch(run: ItemRun): PackedState {
  const state = batchState(run.batch);
  try {
    return packState(state);
  } catch (error) {
    const bad = findUncloneable(state, 'this');
    const what = bad
      ? `${bad.type} at ${bad.path}`
      : `a value that cannot be copied (${(error as Error).message})`;
    throw new ValidationError(
      `${run.label} runs on threads: the batch holds ${what}, which cannot be copied to worker ` +
        "threads. Keep it out of the batch's fields, or use target 'async' or 'for'.",
      { cause: error },
    );
  }
}

// In workers.

/**
 * Calls read in this worker: a call's items reuse its batch. A call is dropped when its
 * caller says it ended. Calls whose items carried their batch may have a caller whose end
 * is never heard (in another process): of those, the last few are kept at most. A call
 * on weft's own pool is never evicted while it runs, however many run at once: its next
 * item would ask for the batch again and rebuild it.
 */
const calls = new Map<string, CachedCall>();
/** Ids of the calls whose items carried their batch, oldest first. */
const carried: string[] = [];
const carriedKept = 4;

interface CachedCall {
  readonly ready: Promise<PreparedCall>;
  /** Set once ready: the call's later items run without waiting for a promise. */
  prepared?: PreparedCall;
}

interface PreparedCall {
  readonly batch: Batch;
  readonly method: (this: Batch, ...args: unknown[]) => unknown;
}

/**
 * The ids of the calls whose batch this worker keeps, in the order it first saw them. Internal (the tests
 * read it inside a worker), not part of the public API.
 */
export function cachedCalls(): string[] {
  return [...calls.keys()];
}

function cachedCall(call: MethodCall): CachedCall {
  const { id } = call;
  const known = calls.get(id);
  if (known) return known;
  const drop = () => {
    if (calls.get(id) === entry) calls.delete(id);
    const at = carried.indexOf(id);
    if (at >= 0) carried.splice(at, 1);
  };
  const entry: CachedCall = { ready: prepare(call, drop) };
  entry.ready.then(
    (ready) => {
      entry.prepared = ready;
    },
    // Each item waiting for it gets the failure.
    () => {},
  );
  if (call.packed) {
    holdCall(id, drop);
    carried.push(id);
    while (carried.length > carriedKept) {
      const oldest = carried.shift()!;
      calls.delete(oldest);
      forgetCall(oldest);
    }
  }
  calls.set(id, entry);
  return entry;
}

/** Rebuilds the batch of `call`, asking its caller for it when the items did not bring it. */
async function prepare(call: MethodCall, onEnd: () => void): Promise<PreparedCall> {
  const Class = await resolveBatchClass(call.batch);
  const method = await resolveParallelMethod(Class, call.method);
  const packed = call.packed ?? (await askForCall(call.id, onEnd));
  const state = unpackState(packed) as Record<string, unknown>;
  return { batch: rebuildBatch(Class, state), method };
}

/** Runs one item of a call on `threads`: the method, with the call's batch as `this`. */
export const runMethodTask = task(
  'weft:batch/runMethod',
  async (item: MethodItem, ctx: TaskContext): Promise<unknown> => {
    const call = cachedCall(item.call);
    // An aborted item stops waiting for its batch: its call may have ended unanswered.
    const { batch, method } = call.prepared ?? (await untilAborted(call.ready, ctx.signal));
    return method.apply(batch, item.args as unknown[]);
  },
);

/** `promise`, or a rejection with the signal's reason once `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Runs one item of a call on `mpc`: the exported function, with the item's arguments. */
export const callFunctionTask = task(
  'weft:batch/callFunction',
  async (item: FunctionItem): Promise<unknown> => {
    const fn = (await resolveFunction(item.fn)) as (...args: unknown[]) => unknown;
    return fn(...item.args);
  },
);
