/**
 * `weft worker`: runs the tasks of a bullmq queue on this machine, for runs started
 * elsewhere with `--executor bullmq`. It prints one start line, then what it did: a line
 * a minute in a log, a live line on a terminal. SIGTERM or Ctrl-C stops it taking jobs
 * and lets those in flight finish (their outcomes sent), then it prints a summary and
 * exits 0; a Ctrl-C after either stops it at once (exit 130), its jobs left to other
 * workers. A drain does not wait for a Redis out of reach (see startWorker's close).
 */
import { isSharedStore } from '../bullmq/job-wire.ts';
import { startWorker, type WeftWorker, type WorkerStats } from '../bullmq/worker.ts';
import { enterWorker } from '../core/definitions.ts';
import { ValidationError } from '../core/errors.ts';
import { setDefaultExecutorFactory } from '../core/executor.ts';
import { parseWorkers } from '../executors/from-env.ts';
import { asyncPool } from '../executors/in-process.ts';
import { LiveScreen } from './live-screen.ts';
import { storeUrl } from './store-option.ts';
import { printable } from './text.ts';

/** Options of `weft worker`, as parsed from the command line. */
export interface WorkerCommandOptions {
  readonly redis?: string;
  readonly queue?: string;
  readonly concurrency?: string;
  readonly executor?: string;
  readonly workers?: string;
  readonly store?: string;
  readonly lockMs?: string;
  /** Seconds between two lines of what it did, when not on a terminal. */
  readonly reportEvery?: string;
}

/** Redraw period of the live line. */
const liveMs = 250;
/** The same problem is printed at most once in this many milliseconds. */
const problemQuietMs = 30_000;

/** Runs `weft worker` until it is stopped; see the module comment. */
export async function runWorker(options: WorkerCommandOptions): Promise<void> {
  const concurrency = parseWorkers(options.concurrency, '--concurrency');
  const workers = parseWorkers(options.workers, '--workers');
  const lockDurationMs = parseWorkers(options.lockMs, '--lock-ms');
  const reportMs = parseSeconds(options.reportEvery, '--report-every') ?? 60_000;
  // A task's own fan-outs run here, on this event loop, as they do in a pool's worker, and
  // not on WEFT_EXECUTOR, which may name the very queue this worker serves.
  setDefaultExecutorFactory(() => asyncPool());

  const stop = listenForStop();
  const problems = problemPrinter();
  let worker: WeftWorker | undefined;
  // This process runs tasks as a pool's workers do: isWorker() is true in its tasks, and a
  // module it imports for a task may not start work at its top level; yet it may start the
  // pool of --executor threads or processes.
  enterWorker(() => (worker?.stats().running ?? 0) > 0, { startsPools: true });
  try {
    // An option left out is undefined: startWorker then takes its default.
    worker = await startWorker({
      connection: options.redis,
      queue: options.queue,
      concurrency,
      executor: options.executor,
      workers,
      lockDurationMs,
      store: storeUrl(options.store),
      onProblem: problems,
    });
  } catch (error) {
    stop.close();
    throw error;
  }
  const begun = performance.now();
  process.stdout.write(`${printable(startLine(worker))}\n`);
  const report = startReport(worker, reportMs);
  stop.onStop((force) => {
    if (force) {
      // Jobs in flight are left to other workers: their locks lapse, BullMQ hands them on.
      report.stop();
      process.stderr.write('weft worker: stopped at once\n');
      process.exit(130);
    }
    const { running } = worker.stats();
    report.print(
      `weft worker: stopping: no new jobs; finishing ${running} ${running === 1 ? 'job' : 'jobs'} in flight` +
        `${stop.fromTerminal ? ' (Ctrl-C again to stop at once)' : ''}\n`,
    );
    void worker.close();
  });
  await worker.closed;
  stop.close();
  report.stop();
  const seconds = (performance.now() - begun) / 1000;
  process.stdout.write(`${summaryLine(worker.stats(), seconds)}\n`);
  // Work a task left behind (a timer of a task that ignored its signal) must not keep a
  // stopped worker alive.
  setTimeout(() => process.exit(), 1000).unref();
}

/** `weft worker: queue q at redis://… · asyncPool · 16 jobs at once · project /srv/app`. */
export function startLine(worker: WeftWorker): string {
  const { executor, store } = worker;
  const where =
    executor.workers === undefined
      ? executor.name
      : `${executor.name} (${executor.workers} ${executor.workers === 1 ? 'worker' : 'workers'})`;
  let line =
    `weft worker: queue ${worker.queue} at ${worker.location} · ${where} · ` +
    `${worker.concurrency} ${worker.concurrency === 1 ? 'job' : 'jobs'} at once · ` +
    `project ${worker.projectRoot ?? `none (no package.json at or above ${process.cwd()})`}`;
  if (store) {
    line += ` · store ${store.kind} ${store.location}`;
    if (!isSharedStore(store)) {
      line +=
        ` (warning: a ${store.kind} store is on this machine only: large values sent from other ` +
        'machines cannot be read through it; give the PostgreSQL store the runs use)';
    }
  }
  return line;
}

/** `12,345 completed · 2 failed · 16 running`. */
function countsText(stats: WorkerStats): string {
  return (
    `${stats.completed.toLocaleString('en-US')} completed · ` +
    `${stats.failed.toLocaleString('en-US')} failed · ${stats.running.toLocaleString('en-US')} running`
  );
}

function rateText(jobs: number, ms: number): string {
  const rate = ms > 0 ? (jobs * 1000) / ms : 0;
  return `${rate >= 10 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1)} jobs/s`;
}

function summaryLine(stats: WorkerStats, seconds: number): string {
  const finished = stats.completed + stats.failed;
  return (
    `weft worker: stopped after ${seconds.toFixed(1)} s: ${stats.completed.toLocaleString('en-US')} completed, ` +
    `${stats.failed.toLocaleString('en-US')} failed (${rateText(finished, seconds * 1000)})`
  );
}

/** What the worker did, shown as it goes; see the module comment. */
interface Report {
  /** Prints whole lines above the live line (or as they are in a log). */
  print(text: string): void;
  /** Stops showing; a live line is erased. */
  stop(): void;
}

function startReport(worker: WeftWorker, reportMs: number): Report {
  const finished = () => {
    const { completed, failed } = worker.stats();
    return completed + failed;
  };
  if (process.stdout.isTTY === true) {
    const screen = new LiveScreen(
      process.stdout,
      [process.stdout, process.stderr].filter((stream) => stream.isTTY === true),
    );
    // The rate over about the last second.
    let last = { at: performance.now(), done: finished(), rate: '0.0 jobs/s' };
    const draw = () => {
      const now = performance.now();
      if (now - last.at >= 1000) {
        const done = finished();
        last = { at: now, done, rate: rateText(done - last.done, now - last.at) };
      }
      screen.update([` ${countsText(worker.stats())} · ${last.rate}`]);
    };
    draw();
    const timer = setInterval(draw, liveMs);
    timer.unref();
    return {
      print: (text) => screen.print(text),
      stop: () => {
        clearInterval(timer);
        screen.stop([]);
      },
    };
  }
  let last = { at: performance.now(), done: finished() };
  const timer = setInterval(() => {
    const stats = worker.stats();
    const now = performance.now();
    const done = stats.completed + stats.failed;
    // A worker with nothing to do says nothing.
    if (done === last.done && stats.running === 0) {
      last = { at: now, done };
      return;
    }
    process.stdout.write(
      `weft worker: ${countsText(stats)} · ${rateText(done - last.done, now - last.at)}\n`,
    );
    last = { at: now, done };
  }, reportMs);
  timer.unref();
  return {
    print: (text) => process.stdout.write(text),
    stop: () => clearInterval(timer),
  };
}

/** SIGTERM and Ctrl-C: see the module comment. */
interface Stop {
  /** Whether the stop came from Ctrl-C (a second one then stops at once). */
  readonly fromTerminal: boolean;
  /** Calls `then` on a stop (`force` for a second Ctrl-C), also for one that came earlier. */
  onStop(then: (force: boolean) => void): void;
  close(): void;
}

function listenForStop(): Stop {
  let interrupts = 0;
  let stops = 0;
  let asked: boolean | undefined;
  let handler: ((force: boolean) => void) | undefined;
  const ask = (force: boolean) => {
    if (handler) handler(force);
    else if (force) process.exit(130);
    else asked = force;
  };
  const onSigint = () => {
    interrupts++;
    stops++;
    // On a terminal, the line starts below the ^C that the terminal echoed.
    if (interrupts === 1 && process.stdout.isTTY) process.stdout.write('\n');
    // A Ctrl-C after any stop (a SIGTERM too) is the second: stop at once.
    ask(stops > 1);
  };
  const onSigterm = () => {
    stops++;
    // A second SIGTERM asks again for the drain under way.
    if (stops === 1) ask(false);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    get fromTerminal() {
      return interrupts > 0;
    },
    onStop(then) {
      handler = then;
      if (asked !== undefined) then(asked);
    },
    close() {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}

/** Prints problems around the jobs (Redis out of reach), the same one at most every 30 s. */
function problemPrinter(): (error: Error) => void {
  const printedAt = new Map<string, number>();
  return (error) => {
    const message = error.message || String(error);
    const now = performance.now();
    const last = printedAt.get(message);
    if (last !== undefined && now - last < problemQuietMs) return;
    printedAt.set(message, now);
    if (printedAt.size > 100) printedAt.delete(printedAt.keys().next().value!);
    process.stderr.write(`weft worker: ${printable(message.split('\n')[0] ?? '')}\n`);
  };
}

function parseSeconds(value: string | undefined, source: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!(Number.isFinite(seconds) && seconds > 0) || value.trim() === '') {
    throw new ValidationError(`${source} must be a number of seconds > 0, got '${value}'.`);
  }
  return seconds * 1000;
}
