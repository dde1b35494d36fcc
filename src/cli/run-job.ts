/**
 * Runs a job file's default export as a recorded run, with live progress: what `weft run`
 * and `weft resume` both do once they know the file, its arguments and the run id.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { isWeftError, type RunBusyError, ValidationError } from '../core/errors.ts';
import { events } from '../core/events.ts';
import { setDefaultExecutorFactory } from '../core/executor.ts';
import { withRun } from '../core/run.ts';
import type { Store } from '../core/store.ts';
import { executorFromEnv, parseWorkers } from '../executors/from-env.ts';
import { openStore } from '../stores/open.ts';
import { resumeCommand } from '../ui/resume-command.ts';
import { parsePort } from '../ui/serve-options.ts';
import type { UiServer } from '../ui/server.ts';
import { CommandFailure } from './failure.ts';
import { listenForInterrupt } from './interrupt.ts';
import { importJob, prepareTypeScript } from './job-module.ts';
import { jobStarter } from './job-start.ts';
import { showProgress } from './progress.ts';
import { checkRerun } from './run-id.ts';
import { busyError, takeOverOrRefuse } from './run-status.ts';
import { storeUrl } from './store-option.ts';
import { printable } from './text.ts';

/** Options of a job's run, as parsed from the command line (`weft run`, `weft resume`). */
export interface RunOptions {
  readonly executor?: string;
  readonly workers?: string;
  readonly runId?: string;
  readonly store?: string;
  readonly progress?: boolean;
  /**
   * Run under `runId` even when that run was started with another file or other arguments,
   * and take it over from a live process that owns it (asking first on a terminal).
   */
  readonly force?: boolean;
  /** Serve the web UI on the run's store while the run goes (`--ui`). */
  readonly ui?: boolean;
  /** The port of `ui`, as typed. @default 4600 */
  readonly port?: string;
}

/**
 * What a run keeps of how it was started, so that `weft resume` can start it again. `pid`
 * and `host` are facts for people: who owns a live run is the run's lease.
 */
export type RunMeta = {
  readonly file: string;
  readonly args: readonly string[];
  readonly executor?: string;
  readonly workers?: string;
  readonly cwd: string;
  readonly pid: number;
  readonly host: string;
};

/**
 * Runs the default export of `file` as a recorded run and prints its result. With
 * `runId`, an existing run continues (its finished tasks are not run again), unless a live
 * process owns it or it was started with another file or other arguments (see `force`).
 * `weft resume` calls it with the id of a recorded run, which withRun's rule admitted.
 * @throws CommandFailure, with the line that says how to resume, when a job that started fails
 */
export async function runJob(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<void> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new ValidationError(`No file at ${path}. Give the path of a .ts or .js module to run.`);
  }
  const workers = parseWorkers(options.workers, '--workers');
  if (options.port !== undefined && !options.ui) {
    throw new ValidationError(
      '--port is the port of --ui: add --ui to serve the web UI, or leave --port out.',
    );
  }
  const uiPort = options.ui ? parsePort(options.port) : undefined;
  const executor = executorFromEnv(options.executor ?? process.env.WEFT_EXECUTOR, workers);
  const store = await openStore(storeUrl(options.store));
  await prepareTypeScript(path);
  setDefaultExecutorFactory(() => executor);

  const interrupt = listenForInterrupt();
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
  // Whether the job itself started: a module that does not load, or whose default export
  // is not runnable, leaves a failed run with its error and nothing to resume.
  let started = false;
  // Whether withRun opened the run: a RunBusyError before is a refusal, after a takeover.
  let opened = false;
  const resume = resumeCommand(runId, store);
  let ui: UiServer | undefined;
  try {
    // Before the job starts, so that its page shows the run from its first event.
    if (uiPort !== undefined) ui = await serveRunPage(store, uiPort, runId);
    const recorded = options.runId === undefined ? undefined : await store.getRun(runId);
    const force = options.force === true;
    if (recorded) checkRerun(recorded, { file: path, args }, force);
    // Asked once the job is known to be one that may run under this id.
    const takeOver = recorded ? await takeOverOrRefuse(recorded, force, resume) : false;
    const result = await withRun({ store, runId, meta, events, takeOver }, async (run) => {
      opened = true;
      const said =
        run.record.attempts > 1
          ? `weft: resuming run ${runId} (${run.resumable.toLocaleString('en-US')} ${run.resumable === 1 ? 'task' : 'tasks'} already done) in ${store.location}`
          : `weft: run ${runId} in ${store.location}`;
      process.stderr.write(`${printable(said)}\n`);
      stopProgress = options.progress === false ? undefined : showProgress(events, process.stderr);
      // Imported inside the run, so that work the module starts while loading belongs to it.
      const { job, exports } = await importJob(path);
      const context = {
        executor,
        // Stops the job on Ctrl-C, and when another process took the run over.
        signal: AbortSignal.any([interrupt.signal, run.signal]),
        scope: run.scope,
        events,
        runId,
        args,
      };
      const start = jobStarter(job, file, context, {
        exports,
        executorChosen: (options.executor ?? process.env.WEFT_EXECUTOR) !== undefined,
      });
      started = true;
      return start();
    });
    stopProgress?.();
    stopProgress = undefined;
    if (result !== undefined) {
      process.stdout.write(
        `${typeof result === 'string' ? result : inspect(result, { depth: 6, colors: process.stdout.isTTY })}\n`,
      );
    }
  } catch (error) {
    // The error must not be printed onto the live progress line.
    stopProgress?.();
    stopProgress = undefined;
    if (isWeftError(error, 'WEFT_RUN_BUSY')) {
      // Taken over, the run is its new owner's: nothing to resume here.
      if (opened) throw error;
      // Another process opened the run since it was read: refused, saying what to do.
      const { owner, leaseExpiresAt } = error as RunBusyError;
      throw busyError(runId, owner, leaseExpiresAt, resume);
    }
    // A memory store is gone with this process: nothing to resume.
    const resumable = started && store.kind !== 'memory';
    const said = interrupt.interrupted && isAbort(error);
    if (!resumable && !said) throw error;
    throw new CommandFailure(
      said ? undefined : error,
      resumable ? [`run ${runId} stopped; continue it with: ${resume}`] : [],
    );
  } finally {
    stopProgress?.();
    interrupt.close();
    // The page's viewers see the run end before the server goes.
    await ui?.close({ drainMs: 1_000 });
    await executor.close();
    await store.close();
  }
}

/** Starts the web UI on the run's store and prints the address of the run's page. */
async function serveRunPage(store: Store, port: number, runId: string): Promise<UiServer> {
  const { startUiServer } = await import('../ui/server.ts');
  const server = await startUiServer({ store, port });
  process.stderr.write(
    `${printable(`weft ui: ${server.url}/runs/${encodeURIComponent(runId)}`)}\n`,
  );
  return server;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** A sortable, readable run id: the date and time, and a few random characters. */
function newRunId(): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${stamp}-${randomUUID().slice(0, 4)}`;
}
