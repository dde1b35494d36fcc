/**
 * Flows end to end, artifacts included.
 * (1) A ForEach of 10,000 tiny tasks over a sharded input: layer Shard shards
 * `x: [0..N-1]`, the ForEach layer Inc sets `y: x + 1` once per element, layer Sum reads
 * every y through the accessor. SQLite as it is by default (small artifacts in the
 * database, written with their task's record; a fresh temp folder) and the memory store;
 * the peer is the engine's raw `map` of the same tiny tasks, unrecorded, in the same
 * process. The Inc layer is timed by its `map:end` event. Best of 3 after a warm-up, a
 * fresh run id each time; every executor is `asyncPool`, concurrency 64. Run at 10,000 and
 * 30,000 tasks, for the growth exponent (time at 3× over time at 1×, as a power of 3).
 * (2) Disk: one run of the 10,000-task flow in a fresh folder, the store closed after (its
 * WAL checkpointed), the folder's size (database, WAL, artifact files) over that of an
 * empty store, beside the bytes of the artifacts (keys and values) the run wrote, and the
 * pages of the database's `artifacts` table and of its task records (SQLite's `dbstat`).
 * (3) One element of a 100,000-element shard against all of them, through the accessor
 * `FlowResult.layer(...)` gives after the run, with the store's artifact reads counted:
 * `at(54321)`, all elements in windows of 1,000, one at a time, and `toArray()`; and the
 * same at 300,000 elements for the growth exponent of reading them all. Each read twice in
 * the same run: element by element (the store's `getArtifacts` hidden, as a store without
 * it is read) and batched (`getArtifacts`, a chunk of elements a call); and `toArray()` of
 * the 100,000 on PostgreSQL (a schema of its own; WEFT_BENCH_POSTGRES, `off` to skip), both
 * ways. `--reads` runs (3) alone.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  asyncPool,
  events,
  MemoryStore,
  map,
  openStore,
  type Store,
  type TaskRecord,
  task,
} from 'weftjs';
import { Accessor, Flow, ForEach, Parameter } from 'weftjs/flow';
import { best, format, printTable, timeRuns } from './lib.ts';
import { openBenchPostgres } from './stores.ts';

const SIZES = [10_000, 30_000];
const SHARDS = [100_000, 300_000];
const PICK = 54_321;
const WINDOW = 1_000;
const RUNS = 3;
/** Only the shard reads, (3). */
const READS_ONLY = process.argv.includes('--reads');
const executor = asyncPool({ concurrency: 64 });

/** Shard → ForEach Inc → Sum over `n` elements. */
function forEachFlow(n: number) {
  const flow = new Flow(`BenchForEach${n}`);
  const Shard = flow.layer('Shard', (self) => {
    self.shard({ x: Array.from({ length: n }, (_, i) => i) });
  });
  const Inc = flow.layer(
    'Inc',
    { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'x' })] }) },
    (self, shard) => self.set({ y: shard.x + 1 }),
    [Shard],
  );
  const Sum = flow.layer(
    'Sum',
    async (self, inc) => {
      let total = 0;
      for (const y of await (inc.y as Accessor<number>).toArray()) total += y;
      self.set({ total });
    },
    [Inc],
  );
  return { flow, Inc, Sum };
}

/** One layer sharding `n` small objects. */
function shardFlow(n: number) {
  const flow = new Flow(`BenchShardRead${n}`);
  const Items = flow.layer('Items', (self) => {
    self.shard({ items: Array.from({ length: n }, (_, id) => ({ id, name: `item-${id}` })) });
  });
  return { flow, Items };
}

const incTask = task('bench:flowInc', (x: number) => x + 1);

/** Each layer's duration in the last run, from its tasks' `map:end` event. */
const layerMs = new Map<string, number>();
const layerScopes = new Map<string, string>();
const offStart = events.on('map:start', (event) => {
  if (event.task !== undefined) layerScopes.set(event.scope, event.task);
});
const offEnd = events.on('map:end', (event) => {
  const layer = layerScopes.get(event.scope);
  if (layer !== undefined) layerMs.set(layer, event.durationMs);
});

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const rows: string[][] = [];
const ratios: string[] = [];
const disks: string[][] = [];
const reads: string[][] = [];
const spreads: string[] = [];
const readAll = new Map<number, number>();
const readAllSingle = new Map<number, number>();
let runs = 0;
try {
  const sqlite = counting(await openStore(`sqlite:${join(dir, 'weft.db')}`));
  const memory = counting(new MemoryStore());
  const incBest = new Map<string, number>();
  for (const n of READS_ONLY ? [] : SIZES) {
    const { flow, Inc, Sum } = forEachFlow(n);
    for (const [name, counted] of [
      ['weft flow, SQLite', sqlite],
      ['weft flow, memory store', memory],
    ] as const) {
      const once = async (): Promise<FlowRun> => {
        layerMs.clear();
        layerScopes.clear();
        const { writes, bytes } = counted.counts;
        const start = performance.now();
        const result = await flow.run({
          store: counted.store,
          runId: `bench-flow-${process.pid}-${runs++}`,
          executor,
        });
        const ms = performance.now() - start;
        const { total } = await result.layer(Sum);
        if (total !== (n * (n + 1)) / 2) throw new Error(`${name}: wrong total ${total}`);
        const incMs = layerMs.get(Inc.name);
        if (incMs === undefined) throw new Error(`${name}: no map:end event for ${Inc.name}`);
        const layers = [...layerMs].map(([layer, d]) => `${layer} ${format(d)}`).join(', ');
        return {
          ms,
          incMs,
          layers,
          artifacts: counted.counts.writes - writes,
          bytes: counted.counts.bytes - bytes,
        };
      };
      await once();
      const measured: FlowRun[] = [];
      for (let i = 0; i < RUNS; i++) measured.push(await once());
      const fastest = measured.reduce((a, b) => (b.ms < a.ms ? b : a));
      const inc = best(measured.map((m) => m.incMs));
      incBest.set(`${name}:${n}`, inc);
      spreads.push(
        `${name}, ${count(n)}: flow.run ${measured.map((m) => format(m.ms)).join(', ')} ms; fastest by layer: ${fastest.layers} ms`,
      );
      rows.push([
        `${name}, ${count(n)} tasks`,
        format(fastest.ms),
        format(inc),
        format(n / (inc / 1000)),
        ((inc * 1000) / n).toFixed(2),
        count(fastest.artifacts),
        kib(fastest.bytes),
      ]);
    }
    const items = Array.from({ length: n }, (_, i) => i);
    const raw = best(
      await timeRuns(RUNS, async () => {
        const out = await map(items, incTask, { executor });
        if (out[n - 1] !== n) throw new Error('raw map: wrong result');
      }),
    );
    incBest.set(`raw:${n}`, raw);
    rows.push([
      `peer: raw \`map\`, unrecorded, ${count(n)} tasks`,
      format(raw),
      format(raw),
      format(n / (raw / 1000)),
      ((raw * 1000) / n).toFixed(2),
      '0',
      '-',
    ]);
    const sqliteInc = incBest.get(`weft flow, SQLite:${n}`)!;
    const memoryInc = incBest.get(`weft flow, memory store:${n}`)!;
    ratios.push(
      `${count(n)} tasks: Inc on SQLite ${(sqliteInc / memoryInc).toFixed(2)}× the memory store, ` +
        `${(sqliteInc / raw).toFixed(1)}× the raw map`,
    );
  }
  const [small, large] = SIZES as [number, number];
  for (const name of READS_ONLY ? [] : ['weft flow, SQLite', 'weft flow, memory store', 'raw']) {
    const growth = incBest.get(`${name}:${large}`)! / incBest.get(`${name}:${small}`)!;
    ratios.push(
      `growth exponent of the Inc layer, ${name === 'raw' ? 'raw map' : name.slice(11)}: ` +
        `${(Math.log(growth) / Math.log(large / small)).toFixed(2)} (${growth.toFixed(2)}× the time at ${large / small}× the tasks)`,
    );
  }

  // (2) Disk of one 10,000-task run, over an empty store's.
  if (!READS_ONLY) disks.push(...(await diskOfOneRun(SIZES[0]!)));

  // (3) One element of a shard against all of them, at two sizes.
  for (const n of SHARDS) {
    const { flow, Items } = shardFlow(n);
    const start = performance.now();
    const result = await flow.run({
      store: sqlite.store,
      runId: `bench-shard-${process.pid}-${n}`,
    });
    const writeMs = performance.now() - start;
    const accessor = (await result.layer(Items)).items;
    if (!(accessor instanceof Accessor) || accessor.length !== n) {
      throw new Error(`Items.items is not an accessor of ${n} elements`);
    }
    const label = `${count(n)}-element shard`;
    reads.push([`${label}: written by the flow (one task)`, format(writeMs), '-', '-', '-']);
    const both = (what: string, fn: () => Promise<void>) =>
      readBothWays(sqlite.counts, `${label}: ${what}`, fn);
    await both(`one, accessor.at(${PICK})`, async () => {
      const item = (await accessor.at(PICK)) as { id: number };
      if (item.id !== PICK) throw new Error(`at(${PICK}) read element ${item.id}`);
    });
    await both(`all, accessor.slice() ${count(WINDOW)} at a time`, async () => {
      let read = 0;
      for (let from = 0; from < n; from += WINDOW) {
        const values = (await accessor.slice(from, from + WINDOW)) as { id: number }[];
        if (values[0]!.id !== from) throw new Error(`slice(${from}): wrong`);
        read += values.length;
      }
      if (read !== n) throw new Error(`slices read ${read} elements`);
    });
    await both('all, for await', async () => {
      let read = 0;
      for await (const value of accessor) if ((value as { id: number }).id === read) read++;
      if (read !== n) throw new Error(`for await read ${read} elements in order`);
    });
    const all = await both('all, accessor.toArray()', async () => {
      const values = (await accessor.toArray()) as { id: number }[];
      if (values.length !== n || values[PICK]!.id !== PICK) throw new Error('toArray: wrong');
    });
    readAll.set(n, all.batched.ms);
    readAllSingle.set(n, all.single.ms);
  }
  // (3) on PostgreSQL: all of the smaller shard, in a schema of its own.
  const postgres = await openBenchPostgres();
  if (postgres) {
    try {
      const counted = counting(postgres.store);
      const n = SHARDS[0]!;
      const { flow, Items } = shardFlow(n);
      const result = await flow.run({
        store: counted.store,
        runId: `bench-shard-pg-${process.pid}`,
      });
      const accessor = (await result.layer(Items)).items as Accessor;
      await readBothWays(
        counted.counts,
        `PostgreSQL, ${count(n)}-element shard: all, accessor.toArray()`,
        async () => {
          const values = (await accessor.toArray()) as { id: number }[];
          if (values.length !== n || values[PICK]!.id !== PICK) throw new Error('toArray: wrong');
        },
      );
    } finally {
      await postgres.store.close();
      await postgres.drop();
    }
  }
  await sqlite.store.close();
  await memory.store.close();
} finally {
  offStart();
  offEnd();
  await executor.close();
  await rm(dir, { recursive: true, force: true, maxRetries: 20 });
}

if (!READS_ONLY) {
  console.log(
    `\nForEach of tiny tasks over a sharded input (Shard → Inc → Sum), best of ${RUNS}\n`,
  );
  printTable(
    [
      'runner',
      'flow.run ms',
      'Inc layer ms',
      'Inc tasks/s',
      'µs per Inc task',
      'artifacts',
      'artifact bytes (keys, values)',
    ],
    rows,
  );
  for (const ratio of ratios) console.log(`  ${ratio}`);
  for (const spread of spreads) console.log(`  ${spread}`);
  console.log(
    `\nDisk of one ${count(SIZES[0]!)}-task run on SQLite (a fresh folder; store closed after)\n`,
  );
  printTable(['what', 'bytes'], disks);
}
console.log(`\nReading a shard (SQLite, then PostgreSQL), best of ${RUNS}\n`);
printTable(
  ['read', 'element by element, ms', 'batched, ms', 'getArtifact calls', 'getArtifacts calls'],
  reads,
);
const [shardSmall, shardLarge] = SHARDS as [number, number];
for (const [how, times] of [
  ['element by element', readAllSingle],
  ['batched', readAll],
] as const) {
  const growth = times.get(shardLarge)! / times.get(shardSmall)!;
  console.log(
    `  growth exponent of toArray(), ${how}: ${(Math.log(growth) / Math.log(shardLarge / shardSmall)).toFixed(2)} ` +
      `(${growth.toFixed(2)}× the time at ${shardLarge / shardSmall}× the elements)`,
  );
}
console.log(
  `  toArray() of ${count(shardSmall)}: batched ${(readAllSingle.get(shardSmall)! / readAll.get(shardSmall)!).toFixed(2)}× as fast as element by element`,
);
console.log(`  load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);

interface FlowRun {
  readonly ms: number;
  readonly incMs: number;
  /** Each layer's ms, for the notes under the table. */
  readonly layers: string;
  readonly artifacts: number;
  readonly bytes: number;
}

interface Counts {
  /** getArtifact calls. */
  reads: number;
  /** getArtifacts calls. */
  batches: number;
  /** Whether the store shows its getArtifacts (else it is read element by element). */
  batched: boolean;
  writes: number;
  /** Keys and values. */
  bytes: number;
  /** Values alone. */
  values: number;
}

/**
 * The store with its artifact reads counted, and the artifacts written with task records
 * (methods bound to the store itself, whose fields are private).
 */
function counting(store: Store): { store: Store; counts: Counts } {
  const counts: Counts = { reads: 0, batches: 0, batched: true, writes: 0, bytes: 0, values: 0 };
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === 'getArtifact') {
        return (runId: string, key: string) => {
          counts.reads++;
          return target.getArtifact(runId, key);
        };
      }
      if (property === 'getArtifacts') {
        if (!counts.batched || target.getArtifacts === undefined) return undefined;
        return (runId: string, keys: readonly string[]) => {
          counts.batches++;
          return target.getArtifacts!(runId, keys);
        };
      }
      if (property === 'recordTasks') {
        return (runId: string, records: readonly TaskRecord[], owner?: string) => {
          for (const record of records) {
            for (const { key, data } of record.artifacts ?? []) {
              counts.writes++;
              counts.bytes += Buffer.byteLength(key) + data.byteLength;
              counts.values += data.byteLength;
            }
          }
          return target.recordTasks(runId, records, owner);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, counts };
}

/**
 * The disk one run of the `n`-task flow takes on SQLite: the folder (database, WAL,
 * artifact files) after the run, over the folder of an empty store, each store closed
 * first (which checkpoints the WAL into the database).
 */
async function diskOfOneRun(n: number): Promise<string[][]> {
  const folder = mkdtempSync(join(tmpdir(), 'weft-bench-disk-'));
  try {
    const url = `sqlite:${join(folder, 'weft.db')}`;
    await (await openStore(url)).close();
    const empty = await walk(folder);
    const { store, counts } = counting(await openStore(url));
    try {
      await forEachFlow(n).flow.run({ store, runId: 'bench-disk', executor });
    } finally {
      await store.close();
    }
    const after = await walk(folder);
    const grown = after.bytes - empty.bytes;
    const pages = tablePages(join(folder, 'weft.db'));
    return [
      ['an empty store (the fixed cost)', kib(empty.bytes)],
      [`artifacts written: ${count(counts.writes)} (keys and values)`, kib(counts.bytes)],
      ['the folder after one run', kib(after.bytes)],
      [
        '**growth over the empty store**',
        `**${kib(grown)} (${(grown / counts.bytes).toFixed(2)}× the artifacts)**`,
      ],
      [
        'of which the `artifacts` table',
        `${kib(pages.artifacts)} (${(pages.artifacts / counts.bytes).toFixed(2)}× the artifacts, ` +
          `${(pages.artifacts / counts.values).toFixed(2)}× their values alone)`,
      ],
      ['of which the task records (table and indexes)', kib(pages.tasks)],
      ['files in the folder', count(after.files)],
    ];
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** The bytes of the pages of the `artifacts` table, and of `tasks` with its indexes. */
function tablePages(file: string): { artifacts: number; tasks: number } {
  const db = new Database(file, { readonly: true });
  try {
    const bytes = (sql: string) => Number((db.prepare(sql).get() as { bytes: number }).bytes);
    return {
      artifacts: bytes("SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name = 'artifacts'"),
      tasks: bytes(
        'SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN ' +
          "(SELECT name FROM sqlite_schema WHERE tbl_name = 'tasks')",
      ),
    };
  } finally {
    db.close();
  }
}

/**
 * One read, element by element (the store's getArtifacts hidden) then batched: its row in
 * the reads table, and both figures.
 */
async function readBothWays(counts: Counts, what: string, fn: () => Promise<void>) {
  counts.batched = false;
  const single = await timedReads(counts, fn);
  counts.batched = true;
  const batched = await timedReads(counts, fn);
  reads.push([
    what,
    msText(single.ms),
    `**${msText(batched.ms)}**`,
    `${count(single.reads)} → ${count(batched.reads)}`,
    count(batched.batches),
  ]);
  return { single, batched };
}

/** Best of `RUNS` after a warm-up, with the artifact reads of one call. */
async function timedReads(
  counts: Counts,
  fn: () => Promise<void>,
): Promise<{ ms: number; reads: number; batches: number }> {
  const { reads, batches } = counts;
  const times = await timeRuns(RUNS, fn);
  return {
    ms: best(times),
    reads: (counts.reads - reads) / (RUNS + 1),
    batches: (counts.batches - batches) / (RUNS + 1),
  };
}

/** Number of files under `folder`, and the disk blocks they take, in bytes. */
async function walk(folder: string): Promise<{ files: number; bytes: number }> {
  const sum = { files: 0, bytes: 0 };
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      const inner = await walk(path);
      sum.files += inner.files;
      sum.bytes += inner.bytes;
    } else if (entry.isFile()) {
      sum.files++;
      sum.bytes += (await stat(path)).blocks * 512;
    }
  }
  return sum;
}

function msText(value: number): string {
  return value < 1 ? value.toFixed(3) : format(value);
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${format(bytes / 1024 / 1024)} MiB`
    : `${format(bytes / 1024)} KiB`;
}
