/**
 * Pool-library benchmark: piscina v5 vs tinypool v2 as the base of weft's `threads` and
 * `processes` executors. One run measures and prints:
 *
 *   1. CPU-bound: 32 tasks of ~40 ms (a busy loop calibrated on the main thread) on 2 worker
 *      threads, against the same 32 tasks run serially on the main thread (wall-clock speed-up).
 *   2. Tiny tasks: 100,000 `n => n + 1` tasks, one `run()` each, on 2 worker threads, submitted
 *      all at once and with 1,024 in flight; bare `worker_threads` postMessage echo as ceiling.
 *   3. Child processes: tinypool `runtime: 'child_process'`, 2 workers, 10,000 tiny tasks.
 *   4. Crash behaviour (not timed): a task that calls process.exit(3), throws asynchronously or
 *      runs out of memory. Does `run()` reject or hang (3 s watchdog), and does the pool still
 *      run further tasks on both workers?
 *
 * Timed measurements run 3 times on a pre-warmed pool; best and median are reported.
 * Run: node --import tsx bench/pool-libraries.ts
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import { burn } from './pool-libraries/cpu.mjs';

const THREADS = 2;
const REPS = 3;
const CPU_TASKS = 32;
const CPU_TASK_MS = 40;
const TINY_TASKS = 100_000;
const CHILD_TASKS = 10_000;
const WINDOW = 1024;
const WATCHDOG_MS = 3000;

interface Pool {
  run(task: unknown, options?: { name?: string }): Promise<unknown>;
  destroy(): Promise<void>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

interface PoolExtras {
  resourceLimits?: { maxOldGenerationSizeMb?: number };
}

interface PoolConfig {
  label: string;
  create(file: URL, extras?: PoolExtras): Pool;
}

const workerFile = (name: string): URL => new URL(`./pool-libraries/${name}`, import.meta.url);

const piscina = (atomics: 'sync' | 'disabled', label: string): PoolConfig => ({
  label,
  create: (file, extras) =>
    new Piscina({
      filename: fileURLToPath(file),
      minThreads: THREADS,
      maxThreads: THREADS,
      atomics,
      ...extras,
    }),
});

const tinypool = (useAtomics: boolean, label: string): PoolConfig => ({
  label,
  create: (file, extras) =>
    new Tinypool({
      filename: file,
      minThreads: THREADS,
      maxThreads: THREADS,
      useAtomics,
      ...extras,
    }),
});

const THREAD_POOLS: PoolConfig[] = [
  piscina('sync', "piscina, atomics 'sync' (default)"),
  piscina('disabled', "piscina, atomics 'disabled'"),
  tinypool(true, 'tinypool, useAtomics true (default)'),
  tinypool(false, 'tinypool, useAtomics false'),
];

const CHILD_POOL: PoolConfig = {
  label: "tinypool, runtime 'child_process'",
  create: (file) =>
    new Tinypool({
      filename: file,
      runtime: 'child_process',
      minThreads: THREADS,
      maxThreads: THREADS,
    }),
};

// ---------------------------------------------------------------------------------------------
// Helpers

interface Stats {
  best: number;
  median: number;
}

const stats = (samples: number[]): Stats => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { best: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]! };
};

async function timeReps(fn: () => Promise<void> | void): Promise<Stats> {
  const samples: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return stats(samples);
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Prints a Markdown table; the first column is left-aligned, the rest right-aligned unless `align` says otherwise. */
function printTable(
  title: string,
  header: string[],
  rows: string[][],
  align?: ('l' | 'r')[],
): void {
  const alignOf = (i: number): 'l' | 'r' => align?.[i] ?? (i === 0 ? 'l' : 'r');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    '| ' +
    widths
      .map((w, i) =>
        alignOf(i) === 'l' ? (cells[i] ?? '').padEnd(w) : (cells[i] ?? '').padStart(w),
      )
      .join(' | ') +
    ' |';
  const rule = widths.map((w, i) =>
    alignOf(i) === 'l' ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`,
  );
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${rule.join('|')}|`);
  for (const row of rows) console.log(line(row));
}

/** Runs `run(i)` for i in [0, n) keeping at most `window` calls in flight; checks i + 1. */
async function runWindowed(
  run: (i: number) => Promise<unknown>,
  n: number,
  window: number,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const result = await run(i);
      if (result !== i + 1) throw new Error(`task ${i} returned ${String(result)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, lane));
}

/** Submits all n calls at once; checks i + 1. */
async function runAllAtOnce(run: (i: number) => Promise<unknown>, n: number): Promise<void> {
  const results = await Promise.all(Array.from({ length: n }, (_, i) => run(i)));
  results.forEach((result, i) => {
    if (result !== i + 1) throw new Error(`task ${i} returned ${String(result)}`);
  });
}

type Outcome =
  | { kind: 'resolved'; value: unknown }
  | { kind: 'rejected'; error: unknown }
  | { kind: 'hang' };

/** Waits for `promise` to settle, or reports a hang after WATCHDOG_MS. */
async function watch(promise: Promise<unknown>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang' }), WATCHDOG_MS);
  });
  const settled = promise.then(
    (value): Outcome => ({ kind: 'resolved', value }),
    (error: unknown): Outcome => ({ kind: 'rejected', error }),
  );
  const outcome = await Promise.race([settled, watchdog]);
  clearTimeout(timer);
  return outcome;
}

const errorText = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = text.split('\n')[0]!;
  return typeof code === 'string' ? `${firstLine} [${code}]` : firstLine;
};

const describe = (outcome: Outcome): string => {
  if (outcome.kind === 'hang') return `HANG (not settled after ${WATCHDOG_MS / 1000} s)`;
  if (outcome.kind === 'resolved') return `resolved (${String(outcome.value)})`;
  return `rejects: ${errorText(outcome.error)}`;
};

// ---------------------------------------------------------------------------------------------
// 1. CPU-bound

function timeBurn(iterations: number): number {
  const start = performance.now();
  burn(iterations);
  return performance.now() - start;
}

/** Finds the iteration count for which burn() takes about `targetMs` on the main thread. */
function calibrate(targetMs: number): number {
  for (let i = 0; i < 20; i++) burn(100_000);
  let iterations = 100_000;
  while (timeBurn(iterations) < 10) iterations *= 2;
  for (let round = 0; round < 3; round++) {
    const samples = Array.from({ length: 5 }, () => timeBurn(iterations));
    iterations = Math.round((iterations * targetMs) / stats(samples).median);
  }
  return iterations;
}

async function benchCpu(): Promise<void> {
  const iterations = calibrate(CPU_TASK_MS);
  const taskMs = stats(Array.from({ length: 5 }, () => timeBurn(iterations))).median;
  console.log(
    `\nCalibrated CPU task: burn(${fmt(iterations)}) = ${fmt(taskMs, 1)} ms on the main thread`,
  );

  const serial = await timeReps(() => {
    for (let i = 0; i < CPU_TASKS; i++) burn(iterations);
  });
  const rows: string[][] = [
    ['serial, main thread', fmt(serial.best), fmt(serial.median), '1.00x', '1.00x'],
  ];

  for (const config of THREAD_POOLS) {
    const pool = config.create(workerFile('cpu.mjs'));
    await Promise.all(Array.from({ length: THREADS * 2 }, () => pool.run(iterations)));
    const result = await timeReps(async () => {
      await Promise.all(Array.from({ length: CPU_TASKS }, () => pool.run(iterations)));
    });
    await pool.destroy();
    rows.push([
      config.label,
      fmt(result.best),
      fmt(result.median),
      `${fmt(serial.best / result.best, 2)}x`,
      `${fmt(serial.median / result.median, 2)}x`,
    ]);
  }

  printTable(
    `1. CPU-bound: ${CPU_TASKS} tasks x ~${CPU_TASK_MS} ms, ${THREADS} worker threads (wall-clock, ${REPS} runs)`,
    ['configuration', 'best ms', 'median ms', 'speed-up (best)', 'speed-up (median)'],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Tiny tasks (threads) and 3. child processes

const rate = (tasks: number, ms: number): string => fmt((tasks / ms) * 1000);

async function benchPoolTiny(config: PoolConfig, tasks: number): Promise<string[]> {
  const pool = config.create(workerFile('tiny.mjs'));
  const run = (i: number): Promise<unknown> => pool.run(i);
  await runWindowed(run, Math.min(tasks, 5_000), WINDOW);
  const allAtOnce = await timeReps(() => runAllAtOnce(run, tasks));
  const windowed = await timeReps(() => runWindowed(run, tasks, WINDOW));
  await pool.destroy();
  return [
    config.label,
    rate(tasks, allAtOnce.best),
    rate(tasks, allAtOnce.median),
    rate(tasks, windowed.best),
    rate(tasks, windowed.median),
  ];
}

/** Two bare workers, round-robin, one postMessage per task, at most `window` in flight. */
function echoBatch(workers: Worker[], n: number, window: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    let checksum = 0;
    const send = (): void => {
      workers[sent % workers.length]!.postMessage(sent);
      sent++;
    };
    const onMessage = (value: number): void => {
      checksum += value;
      received++;
      if (sent < n) send();
      if (received < n) return;
      for (const worker of workers) worker.off('message', onMessage);
      if (checksum === (n * (n + 1)) / 2) resolve();
      else reject(new Error(`echo checksum mismatch: ${checksum}`));
    };
    for (const worker of workers) worker.on('message', onMessage);
    while (sent < Math.min(window, n)) send();
  });
}

async function benchBareEcho(tasks: number): Promise<string[]> {
  const workers = Array.from({ length: THREADS }, () => new Worker(workerFile('echo-worker.mjs')));
  await echoBatch(workers, 5_000, WINDOW);
  const windowed = await timeReps(() => echoBatch(workers, tasks, WINDOW));
  await Promise.all(workers.map((worker) => worker.terminate()));
  return [
    'bare worker_threads echo (ceiling)',
    '-',
    '-',
    rate(tasks, windowed.best),
    rate(tasks, windowed.median),
  ];
}

const TINY_HEADER = [
  'configuration',
  'all at once: best/s',
  'all at once: median/s',
  `window ${WINDOW}: best/s`,
  `window ${WINDOW}: median/s`,
];

async function benchTiny(): Promise<void> {
  const rows: string[][] = [];
  for (const config of THREAD_POOLS) rows.push(await benchPoolTiny(config, TINY_TASKS));
  rows.push(await benchBareEcho(TINY_TASKS));
  printTable(
    `2. Tiny tasks: ${fmt(TINY_TASKS)} x (n => n + 1), one run() each, ${THREADS} worker threads (tasks/s, ${REPS} runs)`,
    TINY_HEADER,
    rows,
  );
}

async function benchChild(): Promise<void> {
  const rows = [await benchPoolTiny(CHILD_POOL, CHILD_TASKS)];
  rows.push(['piscina: n/a (no child-process mode)', '-', '-', '-', '-']);
  printTable(
    `3. Child processes: ${fmt(CHILD_TASKS)} x (n => n + 1), ${THREADS} child processes (tasks/s, ${REPS} runs)`,
    TINY_HEADER,
    rows,
  );
}

// ---------------------------------------------------------------------------------------------
// 4. Crash behaviour

interface Scenario {
  label: string;
  task: string;
  extras?: PoolExtras;
}

const SCENARIOS: Scenario[] = [
  { label: 'process.exit(3)', task: 'exitThree' },
  { label: 'async throw (setTimeout)', task: 'asyncThrow' },
  {
    label: 'OOM (maxOldGenerationSizeMb 32)',
    task: 'oom',
    extras: { resourceLimits: { maxOldGenerationSizeMb: 32 } },
  },
];

/** Runs 2 x THREADS concurrent 50 ms tasks and reports how many succeeded on how many workers. */
async function followUp(pool: Pool): Promise<string> {
  const outcome = await watch(
    Promise.all(Array.from({ length: THREADS * 2 }, () => pool.run(50, { name: 'whoami' }))),
  );
  if (outcome.kind !== 'resolved') return describe(outcome);
  const ids = outcome.value as string[];
  return `${ids.length}/${ids.length} ok on ${new Set(ids).size} worker(s)`;
}

async function crashCase(config: PoolConfig, scenario: Scenario): Promise<string[]> {
  const pool = config.create(workerFile('crash.mjs'), scenario.extras);
  const poolErrors: string[] = [];
  pool.on('error', (error) => poolErrors.push(errorText(error)));
  await followUp(pool);

  const crashing = pool.run(undefined, { name: scenario.task });
  let late: Outcome | undefined;
  crashing.then(
    (value) => (late = { kind: 'resolved', value }),
    (error: unknown) => (late = { kind: 'rejected', error }),
  );
  const outcome = await watch(crashing);
  const after = await followUp(pool);
  const destroyed = await watch(pool.destroy());
  const notes = [
    poolErrors.length > 0 ? `pool 'error' event: ${poolErrors.join('; ')}` : '',
    destroyed.kind === 'hang' ? `destroy() not settled after ${WATCHDOG_MS / 1000} s` : '',
    outcome.kind === 'hang' && late ? `hung run() settles on destroy(): ${describe(late)}` : '',
  ].filter(Boolean);
  return [config.label, scenario.label, describe(outcome), after, notes.join('; ') || '-'];
}

async function crashBehaviour(): Promise<void> {
  const rows: string[][] = [];
  for (const config of THREAD_POOLS) {
    for (const scenario of SCENARIOS) rows.push(await crashCase(config, scenario));
  }
  rows.push(await crashCase(CHILD_POOL, SCENARIOS[0]!));
  rows.push(await crashCase(CHILD_POOL, SCENARIOS[1]!));
  printTable(
    `4. Crash behaviour (not timed; watchdog ${WATCHDOG_MS / 1000} s; follow-up = ${THREADS * 2} concurrent 50 ms tasks)`,
    ['configuration', 'task', 'run() of the crashing task', 'follow-up tasks', 'notes'],
    rows,
    ['l', 'l', 'l', 'l', 'l'],
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `Pool libraries: piscina ${Piscina.version} vs tinypool ${Tinypool.version}, Node ${process.version}`,
  );
  await benchCpu();
  await benchTiny();
  await benchChild();
  await crashBehaviour();
  console.log(`\nTotal time: ${fmt((performance.now() - started) / 1000, 1)} s`);
}

await main();
