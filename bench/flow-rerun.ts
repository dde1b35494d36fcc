/**
 * Re-running a finished flow: Shard (a shard of 5,000 elements) → ForEach Process (5,000
 * tasks, each setting y) → Join (reads every y), run once, then run again with the same
 * run id, which executes nothing but must find out that every artifact the earlier run
 * wrote is still there (10,001 of them). SQLite as it is by default (small artifacts in
 * the database), in a fresh temp folder, and PostgreSQL in a schema of its own; the peer is
 * the first run of the same flow. The store's artifact reads and listings during a re-run
 * are counted. Re-runs: best of 5 after a warm-up, all on the one finished run.
 * Set WEFT_BENCH_POSTGRES to another URL (or to `off`) to change or skip PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncPool, openStore, type Store } from 'weftjs';
import { type Accessor, Flow, ForEach, Parameter } from 'weftjs/flow';
import { best, format, printTable } from './lib.ts';
import { openBenchPostgres } from './stores.ts';

const N = 5_000;
const RUNS = 5;
const executor = asyncPool({ concurrency: 64 });
let executed = 0;

const flow = new Flow('BenchRerun', { executor });
const Shard = flow.layer('Shard', (self) => {
  executed++;
  self.shard({ x: Array.from({ length: N }, (_, i) => i) });
});
const Process = flow.layer(
  'Process',
  { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'x' })] }) },
  (self, shard) => {
    executed++;
    self.set({ y: shard.x * 2 + 1 });
  },
  [Shard],
);
const Join = flow.layer(
  'Join',
  async (self, process) => {
    executed++;
    let total = 0;
    for (const y of await (process.y as Accessor<number>).toArray()) total += y;
    self.set({ total });
  },
  [Process],
);

/** The store's artifact reads and listings, counted through a proxy. */
function counting(store: Store) {
  const counts = { reads: 0, listings: 0 };
  const counted: Record<string, keyof typeof counts> = {
    getArtifact: 'reads',
    artifactKeys: 'listings',
  };
  const wrapped = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const count = typeof property === 'string' ? counted[property] : undefined;
      return (...args: unknown[]) => {
        if (count !== undefined) counts[count]++;
        return value.apply(target, args);
      };
    },
  });
  return { store: wrapped, counts };
}

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const stores: [string, Store][] = [['SQLite', await openStore(`sqlite:${join(dir, 'weft.db')}`)]];
const postgres = await openBenchPostgres();
if (postgres) stores.push(['PostgreSQL', postgres.store]);
const expected = N * N;
const rows: string[][] = [];
const spreads: string[] = [];
try {
  for (const [name, plain] of stores) {
    const { store, counts } = counting(plain);
    const runId = `bench-rerun-${process.pid}`;
    const once = async () => {
      const start = performance.now();
      const result = await flow.run({ store, runId });
      const ms = performance.now() - start;
      const { total } = await result.layer(Join);
      if (total !== expected) throw new Error(`${name}: wrong total ${total}`);
      return ms;
    };
    const first = await once();
    if (executed !== N + 2) throw new Error(`${name}: the first run executed ${executed} tasks`);
    executed = 0;
    await once();
    const { reads, listings } = counts;
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await once());
    if (executed !== 0) throw new Error(`${name}: a re-run executed ${executed} tasks`);
    spreads.push(`${name}: re-runs ${times.map(format).join(', ')} ms`);
    rows.push([
      name,
      `${format(first)} ms`,
      `**${format(best(times))} ms**`,
      // Reading Join's total after each run is one read: not the re-run's.
      ((counts.reads - reads) / RUNS - 1).toLocaleString('en-US'),
      ((counts.listings - listings) / RUNS).toLocaleString('en-US'),
    ]);
  }
} finally {
  for (const [, store] of stores) await store.close();
  await postgres?.drop();
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nRe-running a finished flow of ${N.toLocaleString('en-US')} ForEach tasks (0 executed again)\n`,
);
printTable(
  [
    'store',
    'first run',
    `re-run (best of ${RUNS})`,
    'artifact reads per re-run',
    'artifact listings per re-run',
  ],
  rows,
);
console.log();
for (const spread of spreads) console.log(spread);
