/**
 * Real `weft worker` processes for the bullmq tests, run from source as `weft run` is in
 * the CLI tests: start N on a queue, wait until each printed its start line, SIGKILL one,
 * and stop them all (SIGTERM, then SIGKILL) when the test file is done, before their
 * queue's keys are deleted once more (a worker still running could have written some).
 */
import { after } from 'node:test';
import { deleteQueueKeys, redisUrl } from '../../fixtures/services.ts';
import { type Started, startWeft } from '../../fixtures/weft-cli.ts';

/** How the workers are started: `weft worker`'s options. */
export interface WorkerProcessOptions {
  /** `--queue`. */
  readonly queue: string;
  /** `--redis`. @default the tests' Redis */
  readonly redis?: string;
  /** `--concurrency`. @default the worker's */
  readonly concurrency?: number;
  /** `--executor`. @default the worker's (asyncPool) */
  readonly executor?: string;
  /** `--workers`, with `executor`. */
  readonly workers?: number;
  /** `--store`. @default none */
  readonly store?: string;
  /** The working folder, whose project the worker serves. @default the repository */
  readonly cwd?: string;
  /** Added to the environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Further arguments. */
  readonly args?: readonly string[];
}

/** One `weft worker` process. */
export interface WorkerProcess extends Started {
  readonly pid: number;
  /** What it printed on stdout so far (its start line first). */
  stdout(): string;
  /** What it printed on stderr so far. */
  stderr(): string;
}

/** Worker processes started together. */
export interface WorkerProcesses {
  readonly all: readonly WorkerProcess[];
  /** Kills worker `index` with SIGKILL; resolves once it has exited. */
  kill(index: number): Promise<void>;
  /** Stops every worker still running (SIGTERM: they finish their jobs), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** How long a worker may take to print its start line. */
const startTimeoutMs = 30_000;

/** Variables cleared for every worker: its settings come from its options alone, not from this process. */
export const workerEnv: Readonly<Record<string, undefined>> = {
  WEFT_EXECUTOR: undefined,
  WEFT_WORKERS: undefined,
  WEFT_STORE: undefined,
  WEFT_REDIS_URL: undefined,
  WEFT_QUEUE: undefined,
  WEFT_PROJECT_ROOT: undefined,
};

/**
 * Starts one `weft worker` process and resolves once it printed its start line; rejects
 * as {@link startWorkers} does. The caller stops it (the CLI tests' own clean-up kills
 * it at the end of the file).
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const worker = launch(options);
  await startLine(worker);
  return worker;
}

/**
 * Starts `count` `weft worker` processes on the same queue and resolves once each has
 * printed its start line (the first line on stdout); rejects, with what a worker printed
 * on stderr, if one ends first or is not started within 30 s. They are stopped when the
 * test (or the file, when called at its top level) is done: call it in a test or at the
 * top level, not in a `before` hook, whose own end would stop them.
 */
export async function startWorkers(
  count: number,
  options: WorkerProcessOptions,
): Promise<WorkerProcesses> {
  const all = Array.from({ length: count }, () => launch(options));
  const workers: WorkerProcesses = {
    all,
    async kill(index) {
      const worker = all[index]!;
      if (worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill('SIGKILL');
      }
      await worker.finished;
    },
    async stop(graceMs = 10_000) {
      await Promise.all(all.map((worker) => stopOne(worker, graceMs)));
    },
  };
  after(async () => {
    await workers.stop(5_000);
    await deleteQueueKeys(options.queue, options.redis ?? redisUrl);
  });
  try {
    await Promise.all(all.map((worker) => startLine(worker)));
  } catch (error) {
    await workers.stop(0);
    throw error;
  }
  return workers;
}

/** Spawns one `weft worker` process of `options`, its output kept. */
function launch(options: WorkerProcessOptions): WorkerProcess {
  const args = ['worker', '--redis', options.redis ?? redisUrl, '--queue', options.queue];
  if (options.concurrency !== undefined) args.push('--concurrency', String(options.concurrency));
  if (options.executor !== undefined) args.push('--executor', options.executor);
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  if (options.store !== undefined) args.push('--store', options.store);
  args.push(...(options.args ?? []));
  const env = { ...workerEnv, ...options.env };
  return watched(
    startWeft(args, { env, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) }),
  );
}

function watched(started: Started): WorkerProcess {
  let stdout = '';
  let stderr = '';
  started.child.stdout?.on('data', (chunk: Buffer | string) => {
    stdout += String(chunk);
  });
  started.child.stderr?.on('data', (chunk: Buffer | string) => {
    stderr += String(chunk);
  });
  return {
    ...started,
    pid: started.child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/** Resolves once `worker` printed a whole first line; rejects if it ends first or takes too long. */
function startLine(worker: WorkerProcess): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    worker.printed('\n'),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `weft worker (pid ${worker.pid}) printed no start line within ${startTimeoutMs} ms:\n${worker.stderr()}`,
            ),
          ),
        startTimeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

async function stopOne(worker: WorkerProcess, graceMs: number): Promise<void> {
  const { child } = worker;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([worker.finished, late]);
  clearTimeout(timer);
  await worker.finished;
}
