/** `weft run <file>`: runs a module's default export with an executor and live progress. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { ValidationError } from '../core/errors.ts';
import { events } from '../core/events.ts';
import { isThenable, setDefaultExecutorFactory } from '../core/executor.ts';
import { KeyScope } from '../core/keys.ts';
import { executorFromEnv, parseWorkers } from '../executors/from-env.ts';
import { addWorkerImport } from '../executors/worker-args.ts';
import type { JobContext } from './context.ts';
import { showProgress } from './progress.ts';

/** Options of the `run` verb, as parsed from the command line. */
export interface RunOptions {
  readonly executor?: string;
  readonly workers?: string;
  readonly runId?: string;
  readonly progress?: boolean;
}

const typescriptFile = /\.(c|m)?tsx?$/;

export async function runFile(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<void> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new ValidationError(`No file at ${path}. Give the path of a .ts or .js module to run.`);
  }
  if (typescriptFile.test(path)) {
    const { register } = await import('tsx/esm/api');
    register();
    // Workers import the same TypeScript task modules. An absolute URL, because tsx may
    // sit inside weft's own node_modules rather than the user's.
    addWorkerImport(import.meta.resolve('tsx'));
  }
  const workers = parseWorkers(options.workers, '--workers');
  const executor = executorFromEnv(options.executor ?? process.env.WEFT_EXECUTOR, workers);
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

  const runId = options.runId ?? randomUUID().slice(0, 8);
  let stopProgress = options.progress === false ? undefined : showProgress(events, process.stderr);
  try {
    const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    const job = module.default;
    let result: unknown;
    if (typeof job === 'function') {
      const context: JobContext = {
        executor,
        signal: controller.signal,
        scope: new KeyScope(runId),
        events,
        runId,
        args,
      };
      result = await job(context);
    } else if (isThenable(job)) {
      result = await job;
    } else if (job === undefined) {
      throw new ValidationError(
        `${file} has no default export. Export a function: export default async function main(ctx) { … }`,
      );
    } else {
      throw new ValidationError(
        `The default export of ${file} is ${typeof job}; weft run expects a function of the run context.`,
      );
    }
    stopProgress?.();
    stopProgress = undefined;
    if (result !== undefined) {
      process.stdout.write(
        `${typeof result === 'string' ? result : inspect(result, { depth: 6, colors: process.stdout.isTTY })}\n`,
      );
    }
  } finally {
    // On failure too: the error must not be printed onto the live progress line.
    stopProgress?.();
    process.off('SIGINT', onSigint);
    await executor.close();
  }
}
