/**
 * `weft ui`'s server time: a store holding 1,000 runs of 10 tasks and one run of 100,000
 * tasks (two fan-outs, 200 failures), in SQLite and in PostgreSQL. Timed through the Hono
 * app's `app.request()` (no socket): the runs list (`GET /api/runs`, 50 runs), the big
 * run's page (`GET /api/runs/:id`), a page of its tasks in the middle, and its timeline
 * (2,000 longest of 100,000). Median and p95 of repeated requests after a warm-up.
 *
 * The peer: the same answers computed by streaming all the run's tasks
 * (`store.streamTasks`), the way `weft show` reads a run: the same app over the same store
 * with its fast queries hidden, which answers from streams. Both answers are checked equal.
 * Set WEFT_BENCH_POSTGRES to another URL (or to `off`) to change or skip PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store, type TaskRecord } from 'weftjs';
import { createUiApp } from '../src/ui/server.ts';
import { median, printTable, timeRuns } from './lib.ts';
import { openBenchPostgres } from './stores.ts';

const RUNS = 1_000;
const SMALL_TASKS = 10;
const BIG = 100_000;
const BIG_FAILED = 200;
const REPEATS = 30;
const PEER_REPEATS = 5;
const bigRun = 'big-run';

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-ui-'));
const stores: [string, Store][] = [['SQLite', await openStore(`sqlite:${join(dir, 'weft.db')}`)]];
const postgres = await openBenchPostgres();
if (postgres) stores.push(['PostgreSQL', postgres.store]);

/** Each request timed: its label, and its path for weft and for the peer. */
type Route = readonly [label: string, ours: string, peer: string];

const rows: (string | number)[][] = [];
try {
  for (const [name, store] of stores) {
    const filled = performance.now();
    await fill(store);
    console.log(
      `${name}: ${RUNS + 1} runs recorded in ${Math.round(performance.now() - filled)} ms`,
    );
    const fast = createUiApp(store);
    const streamed = createUiApp(withoutQueries(store));
    // A page's cursor is the store's own position: the middle one is found by paging.
    const middle = await cursorAfter(fast, BIG / 2);
    const tasks = `/api/runs/${bigRun}/tasks?limit=100&cursor=`;
    const routes: Route[] = [
      ['GET /api/runs', '/api/runs', '/api/runs'],
      ['GET /api/runs/:id', `/api/runs/${bigRun}`, `/api/runs/${bigRun}`],
      ['tasks page (100, at 50,000)', `${tasks}${middle}`, `${tasks}${BIG / 2}`],
      [
        'timeline (2,000 of 100,000)',
        `/api/runs/${bigRun}/timeline`,
        `/api/runs/${bigRun}/timeline`,
      ],
    ];
    for (const [label, path, peerPath] of routes) {
      const fastAnswer = withoutNext(await answer(fast, path));
      const peerAnswer = withoutNext(await answer(streamed, peerPath));
      if (fastAnswer !== peerAnswer) throw new Error(`${name} ${label}: the answers differ`);
      const ours = await timeRuns(REPEATS, () => answer(fast, path));
      const peer = await timeRuns(PEER_REPEATS, () => answer(streamed, peerPath));
      rows.push([
        name,
        label,
        median(ours),
        percentile(ours, 0.95),
        median(peer),
        percentile(peer, 0.95),
        `${(median(peer) / median(ours)).toFixed(1)}×`,
      ]);
    }
  }
} finally {
  for (const [, store] of stores) await store.close();
  await postgres?.drop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nweft ui server time, ${RUNS.toLocaleString('en-US')} runs and one of ${BIG.toLocaleString('en-US')} tasks (median and p95 of ${REPEATS}; streamed: of ${PEER_REPEATS})\n`,
);
printTable(
  ['store', 'request', 'ms median', 'ms p95', 'streamed ms median', 'streamed ms p95', 'speed-up'],
  rows,
);

/** 1,000 finished runs of a few tasks each, and the big run, written straight to the store. */
async function fill(store: Store): Promise<void> {
  const t0 = Date.now() - 3_600_000;
  for (let r = 0; r < RUNS; r++) {
    const id = `run-${String(r).padStart(4, '0')}`;
    await store.openRun(id, { file: `/jobs/job-${r % 7}.ts`, args: [] });
    const records = Array.from({ length: SMALL_TASKS }, (_, i) =>
      record(
        `${id}/map:work/${i}`,
        'work',
        t0 + r * 1_000 + i * 10,
        5 + (i % 4),
        i === 9 && r % 10 === 0,
      ),
    );
    await store.recordTasks(id, records);
    await store.appendEvents(id, [
      fanOutStart(`${id}/map:work`, 'work', SMALL_TASKS, t0 + r * 1_000),
    ]);
    await store.finishRun(id, r % 10 === 0 ? 'failed' : 'completed');
  }
  await store.openRun(bigRun, { file: '/jobs/big.ts', args: [] });
  const half = BIG / 2;
  await store.appendEvents(bigRun, [
    fanOutStart(`${bigRun}/map:fetch`, 'fetch', half, t0),
    fanOutStart(`${bigRun}/map:parse`, 'parse', half, t0),
  ]);
  // 64 slots, each task 1–100 ms: what a map at concurrency 64 records.
  const slots = new Array<number>(64).fill(t0);
  let batch: TaskRecord[] = [];
  for (let i = 0; i < BIG; i++) {
    const slot = i % 64;
    const durationMs = 1 + ((i * 7919) % 100);
    const fetching = i < half;
    const key = `${bigRun}/map:${fetching ? 'fetch' : 'parse'}/${fetching ? i : i - half}`;
    batch.push(
      record(
        key,
        fetching ? 'fetch' : 'parse',
        slots[slot]!,
        durationMs,
        i % (BIG / BIG_FAILED) === 7,
      ),
    );
    slots[slot]! += durationMs;
    if (batch.length === 5_000) {
      await store.recordTasks(bigRun, batch);
      batch = [];
    }
  }
  const end = Math.max(...slots);
  await store.appendEvents(bigRun, [
    fanOutEnd(`${bigRun}/map:fetch`, end, half),
    fanOutEnd(`${bigRun}/map:parse`, end, half),
  ]);
  await store.finishRun(bigRun, 'failed');
}

function record(
  key: string,
  task: string,
  startedAt: number,
  durationMs: number,
  failed: boolean,
): TaskRecord {
  return failed
    ? {
        key,
        task,
        status: 'failed',
        attempts: 3,
        startedAt,
        durationMs,
        error: {
          name: 'Error',
          message: `${key} failed`,
          cause: { name: 'Error', message: 'why' },
        },
      }
    : { key, task, status: 'completed', attempts: 1, startedAt, durationMs, output: 1 };
}

function fanOutStart(scope: string, task: string, total: number, time: number) {
  return { type: 'map:start' as const, time, scope, task, total, label: task };
}

function fanOutEnd(scope: string, time: number, total: number) {
  const failed = BIG_FAILED / 2;
  return {
    type: 'map:end' as const,
    time,
    scope,
    completed: total - failed,
    failed,
    durationMs: 0,
    error: undefined,
  };
}

/** `store` with its fast queries hidden: every answer is computed from its streams. */
function withoutQueries(store: Store): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'queries') return undefined;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

type App = ReturnType<typeof createUiApp>;

/** The `next` of the tasks page that ends after `count` tasks. */
async function cursorAfter(app: App, count: number): Promise<string> {
  let cursor = '';
  for (let read = 0; read < count; read += 1_000) {
    const page = JSON.parse(
      await answer(app, `/api/runs/${bigRun}/tasks?limit=1000${cursor ? `&cursor=${cursor}` : ''}`),
    ) as { next?: string };
    cursor = page.next ?? '';
  }
  return cursor;
}

/** An answer without its `next`: positions are the store's own, whoever answers. */
function withoutNext(text: string): string {
  const { next: _, ...rest } = JSON.parse(text) as { next?: string };
  return JSON.stringify(rest);
}

async function answer(app: App, path: string): Promise<string> {
  const response = await app.request(path);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${text}`);
  return text;
}

function percentile(values: readonly number[], at: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(at * sorted.length) - 1)]!;
}
