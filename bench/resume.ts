/**
 * Resuming a finished run: 100,000 tasks all completed and recorded, then the same run id
 * again. Times the whole resumed `withRun` (opening the run, reading the completed outputs,
 * replaying them through `map`), in SQLite and in PostgreSQL, and checks that no task is
 * executed again. Best of 3 (each is a resume of the same run). Goal: under 1 s.
 * Set WEFT_BENCH_POSTGRES to another URL (or to `off`) to change or skip PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncPool, map, openStore, type Store, task, withRun } from 'weftjs';
import { best, printTable } from './lib.ts';
import { openBenchPostgres } from './stores.ts';

const N = 100_000;
const RUNS = 3;
const items = Array.from({ length: N }, (_, i) => i);
let executed = 0;
const counted = task('bench:noopCounted', (x: number) => {
  executed++;
  return x;
});
const executor = asyncPool({ concurrency: 64 });

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const stores: [string, Store][] = [['SQLite', await openStore(`sqlite:${join(dir, 'weft.db')}`)]];
const postgres = await openBenchPostgres();
if (postgres) stores.push(['PostgreSQL', postgres.store]);

const rows: (string | number)[][] = [];
try {
  for (const [name, store] of stores) {
    const runId = `resume-${process.pid}`;
    const once = async () => {
      const out = await withRun({ store, runId }, () => map(items, counted, { executor }));
      if (out.length !== N || out[N - 1] !== N - 1) throw new Error(`${name}: wrong result`);
    };
    const first = await time(once);
    if (executed !== N) throw new Error(`${name}: the first run executed ${executed} tasks`);
    executed = 0;
    const resumes: number[] = [];
    for (let i = 0; i < RUNS; i++) resumes.push(await time(once));
    if (executed !== 0) throw new Error(`${name}: resuming executed ${executed} tasks again`);
    const read = await time(() => store.completedOutputs(runId));
    rows.push([name, first, best(resumes), read]);
  }
} finally {
  for (const [, store] of stores) await store.close();
  await postgres?.drop();
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nResuming a completed run of ${N.toLocaleString('en-US')} tasks (0 executed again)\n`,
);
printTable(
  ['store', 'first run ms', `resumed withRun ms (best of ${RUNS})`, 'completedOutputs ms'],
  rows,
);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
