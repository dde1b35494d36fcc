/**
 * What `weft run` does with each kind of default export: a function of the run context,
 * an application, a flow, an LLMCompiler, or a promise the module started.
 */
import type { Application } from '../app/application.ts';
import type { LLMCompiler } from '../compiler/compiler.ts';
import { ValidationError } from '../core/errors.ts';
import { isThenable } from '../core/executor.ts';
import type { JobContext } from '../core/job.ts';
import type { Flow } from '../flow/flow.ts';

/**
 * The call that runs `job`, the default export of `file`. A default export that is not
 * runnable is refused here, before anything starts.
 * @throws ValidationError naming the file and what weft run expects
 */
export function jobStarter(
  job: unknown,
  file: string,
  context: JobContext,
): () => Promise<unknown> {
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
    `The default export of ${file} is ${typeof job}; weft run expects a function of the run context, an application (weftjs/app), a flow (weftjs/flow) or an LLMCompiler (weftjs/compiler).`,
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
