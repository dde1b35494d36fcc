/**
 * What `weft run` does with each kind of default export: a function of the run context,
 * an application, a flow, a pipeline, an LLMCompiler, a composite, or a promise the
 * module started.
 */

import { inspect } from 'node:util';
import type { Application } from '../app/application.ts';
import type { Pipeline } from '../batch/pipeline.ts';
import type { LLMCompiler } from '../compiler/compiler.ts';
import type { CompositeOperator, CompositeResult } from '../compose/composite.ts';
import { ValidationError } from '../core/errors.ts';
import { isThenable } from '../core/executor.ts';
import type { JobContext } from '../core/job.ts';
import type { Flow } from '../flow/flow.ts';

/** What `weft run` knows of a job besides its default export and the run context. */
export interface JobModule {
  /** The module's named exports: a composite's `batch`. */
  readonly exports: Readonly<Record<string, unknown>>;
  /**
   * Whether the executor of the context was chosen (`--executor`, `WEFT_EXECUTOR`) rather
   * than made by default: only a chosen one overrides a composite's own.
   */
  readonly executorChosen: boolean;
}

/**
 * The call that runs `job`, the default export of `file`. A default export that is not
 * runnable is refused here, before anything starts.
 * @throws ValidationError naming the file and what weft run expects
 */
export function jobStarter(
  job: unknown,
  file: string,
  context: JobContext,
  module: JobModule = { exports: {}, executorChosen: false },
): () => Promise<unknown> {
  // First: a pipeline chains any name, so it has an `invoke` and a `layer` of sorts.
  if (isPipeline(job)) {
    if (job.runOptions?.batchSize === undefined) {
      throw new ValidationError(
        `${file} exports a pipeline with no batch size: configure it with .run({ batchSize, lazy: true }), e.g. export default dataset.pipeline().someAction().run({ batchSize: 32, lazy: true }).`,
      );
    }
    // It runs with the options it holds; what it did is the result.
    return () => job.run({ signal: context.signal });
  }
  if (isComposite(job)) return compositeStarter(job, file, context, module);
  if (isApplication(job)) {
    // An application runs to the end of its graph; its final state is the result.
    return async () => (await job.run({ signal: context.signal })).state;
  }
  if (isCompiler(job)) {
    // The question is the rest of the command line: weft run plan.ts "Is SF warmer?"
    const question = context.args.join(' ');
    if (question === '') {
      throw new ValidationError(
        `${file} exports an LLMCompiler: give it a question, e.g. weft run ${file} "your question".`,
      );
    }
    return () => job.invoke(question, { signal: context.signal });
  }
  if (isFlow(job)) {
    // A flow prints what it wants; its ForEach tasks run on the executor chosen here.
    return async () => {
      await job.run({ signal: context.signal, executor: context.executor });
    };
  }
  if (typeof job === 'function') return async () => job(context);
  if (isThenable(job)) return () => Promise.resolve(job);
  if (job === undefined) {
    throw new ValidationError(
      `${file} has no default export. Export a function: export default async function main(ctx) { … }`,
    );
  }
  throw new ValidationError(
    `The default export of ${file} is ${typeof job}; weft run expects a function of the run context, an application (weftjs/app), a flow (weftjs/flow), a pipeline configured with .run({ batchSize, lazy: true }) (weftjs/batch), an LLMCompiler (weftjs/compiler) or a composite with an exported batch (weftjs/compose).`,
  );
}

/**
 * A composite runs over the batch its module exports (a tree, or a function of the run
 * context returning one); the result is what its `run` returns: the merged data and
 * every operator's states and metadata.
 */
function compositeStarter(
  job: Pick<CompositeOperator, 'run'>,
  file: string,
  context: JobContext,
  { exports, executorChosen }: JobModule,
): () => Promise<unknown> {
  const given = Object.hasOwn(exports, 'batch') ? exports.batch : undefined;
  if (given === undefined) {
    throw new ValidationError(
      `${file} exports a composite (weftjs/compose) but no batch to apply it to. Export the batch, a tree whose leaves have the examples on their first axis, or a function of the run context that returns one: export const batch = { image: tensor(images) };`,
    );
  }
  return async () => {
    const batch = await (typeof given === 'function' ? given(context) : given);
    const result = await job.run(batch, {
      signal: context.signal,
      // The composite's own executor stays unless one was asked for on the command line.
      ...(executorChosen ? { executor: context.executor } : {}),
    });
    return shownBriefly(result);
  };
}

/**
 * The result, printed with a few of each operator's states and metadata: there is one
 * per example, which for a batch of images would fill the screen with `undefined`.
 */
function shownBriefly(result: CompositeResult): CompositeResult {
  const fields = { ...result };
  return Object.defineProperty({ ...result }, inspect.custom, {
    value: (depth: number, options: object) =>
      inspect(fields, { ...options, depth, maxArrayLength: perOperatorShown }),
  });
}

/** How many states and metadata of each operator `weft run` prints. */
const perOperatorShown = 4;

/** A composite of `weftjs/compose`, also one loaded from another copy of weft. */
function isComposite(job: unknown): job is Pick<CompositeOperator, 'run'> {
  if (typeof job !== 'object' || job === null) return false;
  const { run, apply, describe, operators, strategy } = job as Partial<CompositeOperator>;
  return (
    typeof run === 'function' &&
    typeof apply === 'function' &&
    typeof describe === 'function' &&
    Array.isArray(operators) &&
    typeof strategy === 'object' &&
    strategy !== null
  );
}

/** An application of `weftjs/app`, also one loaded from another copy of weft. */
function isApplication(job: unknown): job is Pick<Application, 'run'> {
  return (
    typeof job === 'object' &&
    job !== null &&
    typeof (job as Application).run === 'function' &&
    typeof (job as Application).nextAction === 'function' &&
    'graph' in job
  );
}

/** An LLMCompiler of `weftjs/compiler`, also one loaded from another copy of weft. */
function isCompiler(job: unknown): job is Pick<LLMCompiler, 'invoke'> {
  return (
    typeof job === 'object' && job !== null && typeof (job as LLMCompiler).invoke === 'function'
  );
}

/** A flow of `weftjs/flow`, also one loaded from another copy of weft. */
function isFlow(job: unknown): job is Pick<Flow, 'run'> {
  return (
    typeof job === 'object' &&
    job !== null &&
    typeof (job as Flow).run === 'function' &&
    typeof (job as Flow).layer === 'function' &&
    'layers' in job
  );
}

/** A pipeline of `weftjs/batch`, also one loaded from another copy of weft. */
function isPipeline(job: unknown): job is Pick<Pipeline, 'run' | 'runOptions'> {
  return (
    typeof job === 'object' &&
    job !== null &&
    typeof (job as Pipeline).run === 'function' &&
    typeof (job as Pipeline).gen === 'function' &&
    'steps' in job &&
    'dataset' in job
  );
}
