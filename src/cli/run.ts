/** `weft run <file>`: runs a module's default export as a recorded run, with live progress. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import type { Application } from '../app/application.ts';
import type { LLMCompiler } from '../compiler/compiler.ts';
import { ValidationError } from '../core/errors.ts';
import { events } from '../core/events.ts';
import { isThenable, setDefaultExecutorFactory } from '../core/executor.ts';
import { withRun } from '../core/run.ts';
import { executorFromEnv, parseWorkers } from '../executors/from-env.ts';
import type { Flow } from '../flow/flow.ts';
import { openStore } from '../stores/open.ts';
import type { JobContext } from './context.ts';
import { importJob, prepareTypeScript } from './job-module.ts';
import { showProgress } from './progress.ts';

/** Options of the `run` verb, as parsed from the command line. */
export interface RunOptions {
  readonly executor?: string;
  readonly workers?: string;
  readonly runId?: string;
  readonly store?: string;
  readonly progress?: boolean;
}

/** What a run keeps of how it was started, so that `weft resume` can start it again. */
export type RunMeta = {
  readonly file: string;
  readonly args: readonly string[];
  readonly executor?: string;
  readonly workers?: string;
  readonly cwd: string;
  readonly pid: number;
  readonly host: string;
};

/** The store `--store` names, else `WEFT_STORE`, else `.weft/weft.db`. */
export function storeUrl(option: string | undefined): string | undefined {
  return option ?? process.env.WEFT_STORE;
}

export async function runFile(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<void> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new ValidationError(`No file at ${path}. Give the path of a .ts or .js module to run.`);
  }
  const workers = parseWorkers(options.workers, '--workers');
  const executor = executorFromEnv(options.executor ?? process.env.WEFT_EXECUTOR, workers);
  const store = await openStore(storeUrl(options.store));
  await prepareTypeScript(path);
  setDefaultExecutorFactory(() => executor);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    process.exitCode = 130;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(
      '\nStopping: running tasks are being aborted (Ctrl-C again to quit at once).\n',
    );
    controller.abort(new DOMException('Interrupted by the user (SIGINT).', 'AbortError'));
  };
  process.on('SIGINT', onSigint);

  const runId = options.runId ?? newRunId();
  const meta: RunMeta = {
    file: path,
    args,
    ...(options.executor === undefined ? {} : { executor: options.executor }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    cwd: process.cwd(),
    pid: process.pid,
    host: hostname(),
  };
  let stopProgress: (() => string) | undefined;
  let opened = false;
  try {
    const result = await withRun({ store, runId, meta, events }, async (run) => {
      opened = true;
      process.stderr.write(
        run.record.attempts > 1
          ? `weft: resuming run ${runId} (${run.resumable.toLocaleString('en-US')} tasks already done) in ${store.location}\n`
          : `weft: run ${runId} in ${store.location}\n`,
      );
      stopProgress = options.progress === false ? undefined : showProgress(events, process.stderr);
      // Imported inside the run, so that work the module starts while loading belongs to it.
      return runJob(await importJob(path), file, {
        executor,
        signal: controller.signal,
        scope: run.scope,
        events,
        runId,
        args,
      });
    });
    stopProgress?.();
    stopProgress = undefined;
    if (result !== undefined) {
      process.stdout.write(
        `${typeof result === 'string' ? result : inspect(result, { depth: 6, colors: process.stdout.isTTY })}\n`,
      );
    }
  } catch (error) {
    stopProgress?.();
    stopProgress = undefined;
    if (opened) {
      process.stderr.write(`weft: run ${runId} stopped; continue it with: weft resume ${runId}\n`);
    }
    throw error;
  } finally {
    // On failure too: the error must not be printed onto the live progress line.
    stopProgress?.();
    process.off('SIGINT', onSigint);
    await executor.close();
    await store.close();
  }
}

async function runJob(job: unknown, file: string, context: JobContext): Promise<unknown> {
  if (isApplication(job)) {
    // An application runs to the end of its graph; its final state is the result.
    const { state } = await job.run({ signal: context.signal });
    return state;
  }
  if (isCompiler(job)) {
    // The question is the rest of the command line: weft run plan.ts "Is SF warmer?"
    const question = context.args.join(' ');
    if (question === '') {
      throw new ValidationError(
        `${file} exports an LLMCompiler: give it a question, e.g. weft run ${file} "your question".`,
      );
    }
    return job.invoke(question, { signal: context.signal });
  }
  if (isFlow(job)) {
    // A flow prints what it wants; its ForEach tasks run on the executor chosen here.
    await job.run({ signal: context.signal, executor: context.executor });
    return undefined;
  }
  if (typeof job === 'function') return job(context);
  if (isThenable(job)) return job;
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

/** A sortable, readable run id: the date and time, and a few random characters. */
function newRunId(): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${stamp}-${randomUUID().slice(0, 4)}`;
}
