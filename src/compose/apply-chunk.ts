/**
 * The chunk runner: one operator applied to each example of a chunk, in this thread or in
 * a worker. Off-thread it is the registered task `weft:compose/applyOperator`, which finds
 * the operator's own task by its reference; the composite gives the engine that task with
 * the operator's retries and timeout, so they apply per chunk.
 */
import { isThenable } from '../core/executor.ts';
import { resolveDefinition } from '../core/registry.ts';
import { type Task, type TaskContext, task } from '../core/task.ts';
import { transfer } from '../core/transfer.ts';
import type { ChunkJob, ChunkOutput, ChunkRequest } from './chunk-transport.ts';
import { ChunkWriter, type OutputOrigin } from './chunk-writer.ts';
import { OperatorFailedError } from './errors.ts';
import {
  isOperatorResult,
  type OperatorContext,
  type OperatorFn,
  type OperatorRandom,
} from './operator.ts';
import { operatorRandom } from './operator-random.ts';
import { OutputSink } from './output-sink.ts';
import { packTensors, unpackTensors } from './packed-tensors.ts';
import { isStopped } from './stop-flags.ts';
import { exampleOf, type Tree, toTree } from './tree.ts';

/** A chunk's output, and the buffers that hold its tensors. */
export interface ChunkResult {
  readonly output: ChunkOutput;
  readonly buffers: ArrayBuffer[];
}

/** How often, at most, a chunk without a stop flag lets its event loop deliver an abort. */
const yieldEveryMs = 10;

/**
 * Applies `fn` to each example of the job's chunk, one after another, and writes the
 * outputs into one buffer per leaf. Where the job's mask is 0 the operator is not called:
 * its output there is its input. Stops between examples once its signal aborts or its
 * stop flag is set for this attempt; without a flag it yields to the event loop every
 * {@link yieldEveryMs} ms of work, so that an abort message reaches its signal.
 * @throws OperatorFailedError naming the example, with the operator's error as cause;
 * the signal's reason (or an AbortError when only the flag was set) once stopped
 */
export async function runChunk(
  fn: OperatorFn<Tree, unknown>,
  job: ChunkJob,
  signal: AbortSignal,
  attempt = 1,
): Promise<ChunkResult> {
  const { start, end, first, mask, stop } = job;
  const count = end - start;
  const stopped = () => signal.aborted || (stop !== undefined && isStopped(stop, attempt));
  const reason = () =>
    signal.aborted
      ? signal.reason
      : new DOMException(
          'The chunk was stopped: its apply was cancelled or failed, or its attempt timed out.',
          'AbortError',
        );
  let writer: ChunkWriter | undefined;
  let states: unknown[] | null = null;
  let metadata: unknown[] | null = null;
  let computed = false;
  let yieldedAt = performance.now();
  for (let example = start; example < end; example++) {
    if (stop === undefined && performance.now() - yieldedAt >= yieldEveryMs) {
      await new Promise(setImmediate);
      yieldedAt = performance.now();
    }
    if (stopped()) throw reason();
    const at = example - start;
    const element = exampleOf(job.batch, example - first);
    // Numbered as the operator sees it: as the outer batch's, in a nested composite.
    const index = job.examples === undefined ? example : job.examples[at]!;
    const origin: OutputOrigin = { example: index, identity: mask !== undefined && mask[at] === 0 };
    let output = element;
    try {
      if (!origin.identity) {
        computed = true;
        let result: unknown = fn(element, new ExampleContext(job, index, signal));
        if (isThenable(result)) {
          result = await result;
          // Stopped while it awaited (a timeout, a failure elsewhere): write nothing more.
          if (stopped()) throw reason();
        }
        if (isOperatorResult(result)) {
          if (Object.hasOwn(result, 'state')) {
            states ??= new Array(count).fill(job.state);
            states[at] = result.state;
          }
          if (result.metadata !== undefined) {
            metadata ??= new Array(count).fill(job.metadata);
            metadata[at] = result.metadata;
          }
          result = result.data;
        }
        output = toTree(result, 'its output');
      }
      writer ??= new ChunkWriter(
        output,
        origin,
        count,
        job.sink === undefined ? undefined : { sink: job.sink, start },
      );
      writer.write(output, at, origin);
    } catch (error) {
      // An abort stops the chunk as it is: the apply rejects with its reason, not this.
      if (stopped()) throw reason();
      throw new OperatorFailedError(
        {
          composite: job.composite,
          operator: job.operator.index,
          operatorName: job.operator.name,
          example: index,
        },
        error,
      );
    }
  }
  // Tensors in states and metadata go back, and are recorded, as their fields.
  const reported = packTensors({ states, metadata }, job.recorded);
  return {
    output: {
      data: writer!.wire(),
      ...reported.value,
      computed,
      writtenInto: writer!.writtenInto,
      ...(reported.tensors.length === 0 ? {} : { tensors: reported.tensors }),
    },
    buffers: writer!.buffers,
  };
}

/** What an operator receives for one example; its random stream is made when first read. */
class ExampleContext implements OperatorContext {
  readonly #job: ChunkJob;
  #random: OperatorRandom | undefined;
  readonly index: number;
  readonly signal: AbortSignal;

  constructor(job: ChunkJob, index: number, signal: AbortSignal) {
    this.#job = job;
    this.index = index;
    this.signal = signal;
  }

  get random(): OperatorRandom {
    this.#random ??= operatorRandom(this.#job.seed, this.index);
    return this.#random;
  }

  get state(): unknown {
    return this.#job.state;
  }

  get metadata(): Readonly<Record<string, unknown>> | undefined {
    return this.#job.metadata;
  }

  get extraParams(): Readonly<Record<string, unknown>> {
    return this.#job.extraParams;
  }

  get operator(): { readonly index: number; readonly name: string } {
    return this.#job.operator;
  }
}

/**
 * The chunk runner in a worker: finds the operator's task, rebuilds the batch's tensors
 * (sharing their data: on threads, the batch's shared memory) and those of its
 * `extraParams`, state and metadata, and moves the outputs back.
 */
export const applyOperatorTask = task(
  'weft:compose/applyOperator',
  async (request: ChunkRequest, ctx: TaskContext): Promise<ChunkOutput> => {
    const operatorTask = await resolveDefinition<Task>(request.ref);
    const { extraParams, state, metadata } = request;
    const job: ChunkJob = {
      ...request,
      ...unpackTensors({ extraParams, state, metadata }, request.tensors),
      batch: toTree(request.batch, 'the batch'),
      sink: request.sink === undefined ? undefined : OutputSink.fromWire(request.sink),
    };
    const fn = operatorTask.fn as unknown as OperatorFn<Tree, unknown>;
    const { output, buffers } = await runChunk(fn, job, ctx.signal, ctx.attempt);
    // Listed here: transfer's own search does not reach a tree's leaves.
    return transfer(output, buffers);
  },
);
