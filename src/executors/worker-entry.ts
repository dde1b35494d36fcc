/**
 * The code that runs inside each worker thread and child process. It receives a batch
 * of invocations, imports the modules that define their tasks, runs them (synchronous
 * ones back to back, asynchronous ones concurrently) and answers with every outcome.
 */
import { BroadcastChannel, isMainThread, type TransferListItem } from 'node:worker_threads';
import Tinypool from 'tinypool';
import { definitionsRefusal, enterWorker, importDefinitions } from '../core/definitions.ts';
import { fromWire, isWeftError, NotCloneableError, toWire } from '../core/errors.ts';
import { isThenable } from '../core/executor.ts';
import { KeyScope } from '../core/keys.ts';
import { moduleLocation, resolveDefinition } from '../core/registry.ts';
import { findTask, type Progress, type Task, type TaskContext } from '../core/task.ts';
import { isTransfer } from '../core/transfer.ts';
import {
  type BatchRequest,
  type BatchResponse,
  isControlMessage,
  packValue,
  unpackValue,
  type WireCall,
  type WireOutcome,
} from './wire.ts';

type Send = (message: unknown) => void;

/** Invocations running in this worker, by id, so aborts can reach them. */
const running = new Map<number, WorkerContext>();
/**
 * Aborts for invocations not running here (yet): a batch still queued in the pool skips
 * them. Aborts go to every worker, so this keeps only the most recent ones.
 */
const abortedEarly = new Map<number, unknown>();
const abortedEarlyLimit = 4096;
const imported = new Map<string, Promise<unknown>>();
let threadLink: { name: string; channel: BroadcastChannel } | undefined;
let processLinked = false;

// Work may start here only inside a task: what starts while none runs comes from a
// module's top level (see core/definitions.ts).
enterWorker(() => running.size > 0);
// Top-level work refused while the module did not await it must not crash the worker:
// the refusal is recorded and fails every task that needs the module.
process.on('unhandledRejection', (reason) => {
  if (isWeftError(reason, 'WEFT_TOP_LEVEL_WORK')) return;
  throw reason;
});

class WorkerContext implements TaskContext {
  readonly attempt: number;
  readonly key: string;
  readonly #id: number;
  readonly #send: Send;
  #controller: AbortController | undefined;
  #abortReason: unknown;
  #scope: KeyScope | undefined;

  constructor(call: WireCall, send: Send) {
    this.#id = call.id;
    this.attempt = call.attempt;
    this.key = call.key;
    this.#send = send;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get scope(): KeyScope {
    // One scope per attempt, so nested fan-outs get distinct keys (as in this thread).
    this.#scope ??= new KeyScope(this.key);
    return this.#scope;
  }

  /** Progress reports sent, announced with the outcome so the caller waits for them all. */
  sent = 0;

  progress(value: Progress): void {
    this.sent++;
    this.#send({ weft: 'progress', id: this.#id, value });
  }

  abort(reason: unknown): void {
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}

function onControl(message: unknown): void {
  if (!isControlMessage(message) || message.weft !== 'abort') return;
  const reason = fromWire(message.reason);
  const context = running.get(message.id);
  if (context) {
    context.abort(reason);
    return;
  }
  abortedEarly.set(message.id, reason);
  if (abortedEarly.size > abortedEarlyLimit) abortedEarly.delete(abortedEarly.keys().next().value!);
}

function linkFor(request: BatchRequest): Send {
  if (request.link !== undefined) {
    if (threadLink?.name !== request.link) {
      threadLink?.channel.close();
      const channel = new BroadcastChannel(request.link);
      channel.onmessage = (event) => onControl((event as { data: unknown }).data);
      // Idle workers must not be kept alive by the channel.
      channel.unref();
      threadLink = { name: request.link, channel };
    }
    const channel = threadLink.channel;
    return (message) => channel.postMessage(message);
  }
  if (!processLinked) {
    processLinked = true;
    process.on('message', onControl);
  }
  return (message) => process.send?.(message);
}

/**
 * Imports a module for its definitions, once. `module` is a URL or a reference from the
 * project root (a task sent from another machine).
 */
function importModule(module: string): Promise<unknown> {
  let loading = imported.get(module);
  if (!loading) {
    loading = Promise.resolve().then(() => importDefinitions(moduleLocation(module)));
    // Failures are reported per task, by resolveDefinition.
    loading.catch(() => {});
    imported.set(module, loading);
  }
  return loading;
}

/** The task of `call`, importing its module if this worker has not yet. */
function importTask(call: WireCall): Promise<Task> {
  return resolveDefinition<Task>({ kind: 'task', name: call.name, module: call.module });
}

function outcomeOf(call: WireCall, value: unknown, transfers: TransferListItem[]): WireOutcome {
  let output = value;
  if (isTransfer(output)) {
    transfers.push(...output.list);
    output = output.value;
  }
  const packed = packValue(output, 'output');
  if ('refused' in packed) {
    const bad = packed.refused;
    const error = new NotCloneableError(
      `Task '${call.name}' (${call.key}) returned ${bad.type} at ${bad.path}, which cannot be sent back ` +
        'from a worker. Return plain data (objects, arrays, numbers, strings, typed arrays, Map, Set, Date).',
    );
    return { ok: false, error: toWire(error) };
  }
  return { ok: true, ...packed };
}

/** Runs one batch; the pool calls this for every message. */
export default async function runBatch(request: BatchRequest): Promise<unknown> {
  const started = performance.now();
  const send = linkFor(request);
  const { calls } = request;
  const outcomes: WireOutcome[] = new Array(calls.length);
  // Per call: start (from the batch's start) and duration, -1 for a call that never ran.
  const timings = new Float64Array(calls.length * 2).fill(-1);
  const transfers: TransferListItem[] = [];
  const waiting: Promise<void>[] = [];
  // Modules are imported before any task of the batch starts, so that work started
  // during an import is known to come from the module's top level, never from a task.
  for (const call of calls) {
    if (!imported.has(call.module)) await importModule(call.module).catch(() => {});
  }
  // The clock read at the end of one synchronous task is the start of the next.
  let now = performance.now();
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]!;
    if (call.abortedWith !== undefined) {
      // Aborted before the pool posted its batch: never started.
      outcomes[i] = { ok: false, error: call.abortedWith };
      continue;
    }
    if (abortedEarly.has(call.id)) {
      // Aborted while its batch waited for this worker: never started.
      outcomes[i] = { ok: false, error: toWire(abortedEarly.get(call.id)) };
      abortedEarly.delete(call.id);
      continue;
    }
    const context = new WorkerContext(call, send);
    running.set(call.id, context);
    const settle = (outcome: WireOutcome) => {
      running.delete(call.id);
      outcomes[i] = context.sent > 0 ? { ...outcome, progress: context.sent } : outcome;
    };
    const fail = (error: unknown) => settle({ ok: false, error: toWire(error) });
    let from = -1;
    try {
      const refusal = definitionsRefusal(moduleLocation(call.module));
      if (refusal) throw refusal;
      let task = findTask(call.name);
      if (!task) {
        task = await importTask(call);
        now = performance.now();
      }
      if (call.timed) send({ weft: 'started', id: call.id });
      from = now;
      timings[2 * i] = from - started;
      const result = task.fn(unpackValue(call.input, call.restore), context);
      if (isThenable(result)) {
        const ended = () => {
          timings[2 * i + 1] = performance.now() - from;
        };
        waiting.push(
          Promise.resolve(result).then(
            (value) => {
              ended();
              settle(outcomeOf(call, value, transfers));
            },
            (error: unknown) => {
              ended();
              fail(error);
            },
          ),
        );
        now = performance.now();
      } else {
        settle(outcomeOf(call, result, transfers));
        now = performance.now();
        timings[2 * i + 1] = now - from;
      }
    } catch (error) {
      now = performance.now();
      if (from >= 0) timings[2 * i + 1] = now - from;
      fail(error);
    }
  }
  if (waiting.length > 0) await Promise.all(waiting);
  const response: BatchResponse = {
    outcomes,
    elapsedMs: performance.now() - started,
    startedAt: performance.timeOrigin + started,
    timings,
  };
  // Moving buffers is a thread's affair: a child process's IPC copies them anyway, and
  // tinypool hands a moved wrapper over IPC as it is, which the parent cannot read.
  if (transfers.length === 0 || isMainThread) return response;
  return Tinypool.move({
    [Tinypool.transferableSymbol]: transfers,
    [Tinypool.valueSymbol]: response,
  } as unknown as Parameters<typeof Tinypool.move>[0]);
}
