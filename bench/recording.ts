/**
 * What recording costs, on the main thread and in time, against the same map unrecorded
 * in the same process:
 * - 100,000 no-op tasks through `map` at concurrency 64: wall time, and the main thread's
 *   CPU time per task above the unrecorded map's: what recording takes from the thread
 *   that runs the tasks. Read from Linux's per-thread counters (`/proc/self/task/<pid>/stat`,
 *   10 ms ticks, averaged over the runs); elsewhere the event loop's busy time stands in
 *   (`performance.eventLoopUtilization`), which also counts time the thread was runnable
 *   but not running. Goal ≤ 1 µs a task on SQLite and PostgreSQL.
 * - 50,000 tasks of 10 µs each (a busy wait) at concurrency 64: goal, recorded on SQLite
 *   within 1.3× the unrecorded time. The main thread's CPU time per task above the
 *   unrecorded run's is shown too: with tasks to run, the thread picks up the writer's
 *   answers between them, where with no-ops it sleeps and is woken for each one.
 * Each store with its writer on its own thread (the default) and on the main thread
 * (`writerThread: false`), SQLite in a fresh temp file, PostgreSQL in a fresh schema
 * dropped after, and the memory store. Best of 3 after a warm-up, a fresh run id each time.
 * Set WEFT_BENCH_POSTGRES to another URL (or to `off`) to change or skip PostgreSQL.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncPool, MemoryStore, map, type Store, task, withRun } from 'weftjs';
import { SqliteStore } from 'weftjs/sqlite';
import { best, printTable } from './lib.ts';
import { openBenchPostgres } from './stores.ts';

const N = 100_000;
const N_BUSY = 50_000;
const BUSY_MS = 0.01;
const RUNS = 5;
const concurrency = 64;
const items = Array.from({ length: N }, (_, i) => i);
const busyItems = items.slice(0, N_BUSY);
const noop = task('bench:noopRecorded', (x: number) => x);
const busy = task('bench:busy10us', (x: number) => {
  const end = performance.now() + BUSY_MS;
  while (performance.now() < end);
  return x;
});

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const stores: [string, Store][] = [
  ['SQLite, writer thread', await SqliteStore.open(join(dir, 'weft.db'))],
  [
    'SQLite, main thread',
    await SqliteStore.open(join(dir, 'weft-main.db'), { writerThread: false }),
  ],
];
const postgres = await openBenchPostgres();
const postgresMain = postgres && (await openBenchPostgres({ writerThread: false }));
if (postgres) stores.push(['PostgreSQL, writer thread', postgres.store]);
if (postgresMain) stores.push(['PostgreSQL, main thread', postgresMain.store]);
stores.push(['memory store', new MemoryStore()]);

const threadStat = `/proc/self/task/${process.pid}/stat`;
const perThread = existsSync(threadStat);

/** CPU time of the main thread so far, in ms (user + system, 10 ms ticks). */
function mainThreadCpuMs(): number {
  const fields = readFileSync(threadStat, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Wall time and main-thread busy time of one call, in ms. */
async function measure(fn: () => Promise<unknown>): Promise<{ wall: number; busy: number }> {
  const elu = performance.eventLoopUtilization();
  const cpu = perThread ? mainThreadCpuMs() : 0;
  const start = performance.now();
  await fn();
  const wall = performance.now() - start;
  const busy = perThread ? mainThreadCpuMs() - cpu : performance.eventLoopUtilization(elu).active;
  return { wall, busy };
}

/** RUNS runs after a warm-up: the fastest wall time, and the mean busy time. */
async function bestOf(fn: () => Promise<unknown>): Promise<{ wall: number; busy: number }> {
  await fn();
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure(fn));
  const busy = runs.reduce((sum, r) => sum + r.busy, 0) / RUNS;
  return { wall: best(runs.map((r) => r.wall)), busy };
}

let runs = 0;
const noopRows: (string | number)[][] = [];
const busyRows: (string | number)[][] = [];
const executor = asyncPool({ concurrency });
try {
  const noopOnce = async () => {
    const out = await map(items, noop, { executor, concurrency });
    if (out.length !== N || out[N - 1] !== N - 1) throw new Error('wrong result');
  };
  const busyOnce = async () => {
    const out = await map(busyItems, busy, { executor, concurrency });
    if (out.length !== N_BUSY) throw new Error('wrong result');
  };
  const plain = await bestOf(noopOnce);
  const plainBusy = await bestOf(busyOnce);
  noopRows.push(['unrecorded', plain.wall, N / (plain.wall / 1000), '-', '1.00×']);
  busyRows.push(['unrecorded', plainBusy.wall, '-', '1.00×']);
  for (const [name, store] of stores) {
    let runId = '';
    const recorded = (once: () => Promise<void>) => async () => {
      runId = `bench-${process.pid}-${runs++}`;
      await withRun({ store, runId }, once);
    };
    const noopRun = await bestOf(recorded(noopOnce));
    // Every task recorded, not just fast: check the last run's records.
    const count = await store.countCompleted(runId);
    if (count !== N) throw new Error(`${name}: ${count} of ${N} tasks recorded`);
    const perTask = ((noopRun.busy - plain.busy) * 1000) / N;
    noopRows.push([
      name,
      noopRun.wall,
      N / (noopRun.wall / 1000),
      perTask.toFixed(2),
      `${(noopRun.wall / plain.wall).toFixed(1)}×`,
    ]);
    const busyRun = await bestOf(recorded(busyOnce));
    busyRows.push([
      name,
      busyRun.wall,
      (((busyRun.busy - plainBusy.busy) * 1000) / N_BUSY).toFixed(2),
      `${(busyRun.wall / plainBusy.wall).toFixed(2)}×`,
    ]);
  }
} finally {
  await executor.close();
  for (const [, store] of stores) await store.close();
  await postgres?.drop();
  await postgresMain?.drop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\n${N.toLocaleString('en-US')} no-op tasks, concurrency ${concurrency}, best of ${RUNS} ` +
    `(main-thread time: ${perThread ? 'CPU time of the thread' : 'event loop busy time'}, mean)\n`,
);
printTable(
  ['runner', 'ms', 'tasks/s', 'main-thread µs/task for recording', 'time / unrecorded'],
  noopRows,
);
console.log(
  `\n${N_BUSY.toLocaleString('en-US')} tasks of ${BUSY_MS * 1000} µs, concurrency ${concurrency}, best of ${RUNS}\n`,
);
printTable(['runner', 'ms', 'main-thread µs/task for recording', 'time / unrecorded'], busyRows);
