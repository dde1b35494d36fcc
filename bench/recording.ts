/**
 * What recording costs: 100,000 no-op tasks through `map` at concurrency 64 and 1,024,
 * unrecorded and inside `withRun` with each store (SQLite in a fresh temp file,
 * PostgreSQL in a fresh schema dropped after, memory). Best of 3 after a warm-up, a fresh
 * run id each time. Goal: recorded in SQLite ≥ one third of the unrecorded throughput.
 * Set WEFT_BENCH_POSTGRES to another URL (or to `off`) to change or skip PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncPool, MemoryStore, map, openStore, type Store, task, withRun } from 'weftjs';
import { best, printTable, timeRuns } from './lib.ts';
import { openBenchPostgres } from './stores.ts';

const N = 100_000;
const RUNS = 3;
const items = Array.from({ length: N }, (_, i) => i);
const noop = task('bench:noopRecorded', (x: number) => x);

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const stores: [string, Store][] = [
  ['SQLite', await openStore(`sqlite:${join(dir, 'weft.db')}`)],
  ['memory', new MemoryStore()],
];
const postgres = await openBenchPostgres();
if (postgres) stores.splice(1, 0, ['PostgreSQL', postgres.store]);

let runs = 0;
const rows: (string | number)[][] = [];
try {
  for (const concurrency of [64, 1024]) {
    const executor = asyncPool({ concurrency });
    const once = async () => {
      const out = await map(items, noop, { executor, concurrency });
      if (out.length !== N || out[N - 1] !== N - 1) throw new Error('wrong result');
    };
    const unrecorded = best(await timeRuns(RUNS, once));
    rows.push(row(`unrecorded, concurrency ${concurrency}`, unrecorded, unrecorded));
    for (const [name, store] of stores) {
      let runId = '';
      const times = await timeRuns(RUNS, async () => {
        runId = `bench-${process.pid}-${runs++}`;
        await withRun({ store, runId }, once);
      });
      // Every task recorded, not just fast: check the last run's records.
      const recorded = (await store.completedOutputs(runId)).size;
      if (recorded !== N) throw new Error(`${name}: ${recorded} of ${N} tasks recorded`);
      rows.push(row(`${name}, concurrency ${concurrency}`, best(times), unrecorded));
    }
    await executor.close();
  }
} finally {
  for (const [, store] of stores) await store.close();
  await postgres?.drop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${N.toLocaleString('en-US')} no-op tasks through map, best of ${RUNS}\n`);
printTable(['runner', 'ms', 'tasks/s', 'recorded / unrecorded'], rows);

function row(name: string, ms: number, unrecordedMs: number): (string | number)[] {
  return [name, ms, N / (ms / 1000), `${(unrecordedMs / ms).toFixed(3)}×`];
}
