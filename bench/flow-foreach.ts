/**
 * Flows end to end, artifacts included.
 * (1) A ForEach of 10,000 tiny tasks over a sharded input: layer Shard shards
 * `x: [0..9999]`, the ForEach layer Inc sets `y: x + 1` once per element, layer Sum reads
 * every y through the accessor. SQLite (artifacts as files beside the database, in a fresh
 * temp folder) and the memory store; the peer is the engine's raw `map` of the same 10,000
 * tiny tasks, unrecorded, in the same process. The Inc layer is timed by its `map:end`
 * event; bytes and files are counted by walking the artifacts folder. Best of 3 after a
 * warm-up, a fresh run id each time; every executor is `asyncPool`, concurrency 64.
 * (2) One element of a 100,000-element shard against all of them, through the accessor
 * `FlowResult.layer(...)` gives after the run, with the store's artifact reads counted:
 * `at(54321)`, all elements in windows of 1,000 and one at a time, then `toArray()`, which
 * starts every read at once and is reported as failing when it runs out of open files.
 * The Sum layer's `toArray()` of 10,000 elements needs an open-files limit (`ulimit -n`)
 * above 10,000.
 */
import { execSync } from 'node:child_process';
import { type Dirent, mkdtempSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncPool, events, MemoryStore, map, openStore, type Store, task } from 'weftjs';
import { Accessor, Flow, ForEach, Parameter } from 'weftjs/flow';
import { best, format, printTable, timeRuns } from './lib.ts';

const N = 10_000;
const SHARD = 100_000;
const PICK = 54_321;
const WINDOW = 1_000;
const RUNS = 3;
const executor = asyncPool({ concurrency: 64 });

const flow = new Flow('BenchForEach');
const Shard = flow.layer('Shard', (self) => {
  self.shard({ x: Array.from({ length: N }, (_, i) => i) });
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

const sharded = new Flow('BenchShardRead');
const Items = sharded.layer('Items', (self) => {
  self.shard({ items: Array.from({ length: SHARD }, (_, id) => ({ id, name: `item-${id}` })) });
});

const incTask = task('bench:flowInc', (x: number) => x + 1);
const items = Array.from({ length: N }, (_, i) => i);

/** Each layer's duration in the last run, from its tasks' `map:end` event. */
const layerMs = new Map<string, number>();
const layerScopes = new Map<string, string>();
const offStart = events.on('map:start', (event) => {
  if (event.task !== undefined && flow.getLayer(event.task)) {
    layerScopes.set(event.scope, event.task);
  }
});
const offEnd = events.on('map:end', (event) => {
  const layer = layerScopes.get(event.scope);
  if (layer !== undefined) layerMs.set(layer, event.durationMs);
});

const limit = openFilesLimit();
const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const artifactsDir = join(dir, 'artifacts');
const rows: string[][] = [];
const reads: string[][] = [];
const spreads: string[] = [];
let shardWriteMs = 0;
let runs = 0;
try {
  const sqlite = counting(await openStore(`sqlite:${join(dir, 'weft.db')}`));
  const memory = counting(new MemoryStore());
  for (const [name, counted, files] of [
    ['weft flow, SQLite + artifact files', sqlite, true],
    ['weft flow, memory store', memory, false],
  ] as const) {
    const once = async (): Promise<FlowRun> => {
      layerMs.clear();
      layerScopes.clear();
      const before = files ? await walk(artifactsDir) : undefined;
      const { writes, bytes } = counted.counts;
      const start = performance.now();
      const result = await flow.run({
        store: counted.store,
        runId: `bench-flow-${process.pid}-${runs++}`,
        executor,
      });
      const ms = performance.now() - start;
      const { total } = await result.layer(Sum);
      if (total !== (N * (N + 1)) / 2) throw new Error(`${name}: wrong total ${total}`);
      const incMs = layerMs.get(Inc.name);
      if (incMs === undefined) throw new Error(`${name}: no map:end event for ${Inc.name}`);
      const layers = [...layerMs].map(([layer, d]) => `${layer} ${format(d)}`).join(', ');
      if (!before) {
        return {
          ms,
          incMs,
          layers,
          files: counted.counts.writes - writes,
          bytes: counted.counts.bytes - bytes,
          disk: 0,
        };
      }
      const after = await walk(artifactsDir);
      return {
        ms,
        incMs,
        layers,
        files: after.files - before.files,
        bytes: after.bytes - before.bytes,
        disk: after.disk - before.disk,
      };
    };
    await once();
    const measured: FlowRun[] = [];
    for (let i = 0; i < RUNS; i++) measured.push(await once());
    const fastest = measured.reduce((a, b) => (b.ms < a.ms ? b : a));
    const incBest = best(measured.map((m) => m.incMs));
    spreads.push(
      `${name}: flow.run ${measured.map((m) => format(m.ms)).join(', ')} ms; fastest by layer: ${fastest.layers} ms`,
    );
    rows.push([
      name,
      format(fastest.ms),
      format(incBest),
      format(N / (incBest / 1000)),
      ((incBest * 1000) / N).toFixed(2),
      fastest.files.toLocaleString('en-US'),
      kib(fastest.bytes),
      files ? kib(fastest.disk) : '- (in memory)',
    ]);
  }
  const raw = best(
    await timeRuns(RUNS, async () => {
      const out = await map(items, incTask, { executor });
      if (out[N - 1] !== N) throw new Error('raw map: wrong result');
    }),
  );
  rows.push([
    'peer: raw `map`, unrecorded, no artifacts',
    format(raw),
    format(raw),
    format(N / (raw / 1000)),
    ((raw * 1000) / N).toFixed(2),
    '0',
    '-',
    '-',
  ]);

  // (2) One element of a 100,000-element shard against all of them.
  const start = performance.now();
  const result = await sharded.run({ store: sqlite.store, runId: `bench-shard-${process.pid}` });
  shardWriteMs = performance.now() - start;
  const accessor = (await result.layer(Items)).items;
  if (!(accessor instanceof Accessor) || accessor.length !== SHARD) {
    throw new Error('Items.items is not an accessor of 100,000 elements');
  }
  const one = await timedReads(sqlite.counts, async () => {
    const item = (await accessor.at(PICK)) as { id: number };
    if (item.id !== PICK) throw new Error(`at(${PICK}) read element ${item.id}`);
  });
  reads.push([`one, accessor.at(${PICK})`, msText(one.ms), count(one.files)]);
  const windows = await timedReads(sqlite.counts, async () => {
    let read = 0;
    for (let from = 0; from < SHARD; from += WINDOW) {
      const values = (await accessor.slice(from, from + WINDOW)) as { id: number }[];
      if (values[0]!.id !== from) throw new Error(`slice(${from}): wrong`);
      read += values.length;
    }
    if (read !== SHARD) throw new Error(`slices read ${read} elements`);
  });
  reads.push([
    `all, accessor.slice() ${count(WINDOW)} at a time`,
    msText(windows.ms),
    count(windows.files),
  ]);
  const sequential = await timedReads(sqlite.counts, async () => {
    let read = 0;
    for await (const value of accessor) if ((value as { id: number }).id === read) read++;
    if (read !== SHARD) throw new Error(`for await read ${read} elements in order`);
  });
  reads.push(['all, for await (one at a time)', msText(sequential.ms), count(sequential.files)]);
  // Last: toArray() starts every read at once, which may run out of file descriptors.
  const failing = performance.now();
  try {
    const values = (await accessor.toArray()) as { id: number }[];
    if (values.length !== SHARD || values[PICK]!.id !== PICK) throw new Error('toArray: wrong');
    const all = await timedReads(sqlite.counts, async () => {
      await accessor.toArray();
    });
    reads.push(['all, accessor.toArray()', msText(all.ms), count(all.files)]);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    reads.push([
      `all, accessor.toArray(): fails with ${code} (open files limit ${limit})`,
      `${msText(performance.now() - failing)} to fail`,
      '-',
    ]);
  }
  await sqlite.store.close();
  await memory.store.close();
} finally {
  offStart();
  offEnd();
  await executor.close();
  // Retried: reads a failed toArray() left in flight may still hold files open.
  await rm(dir, { recursive: true, force: true, maxRetries: 20 });
}

console.log(
  `\nForEach of ${N.toLocaleString('en-US')} tiny tasks over a sharded input (Shard → Inc → Sum), best of ${RUNS}\n`,
);
printTable(
  [
    'runner',
    'flow.run ms',
    'Inc layer ms',
    'Inc tasks/s',
    'µs per Inc task',
    'artifacts',
    'bytes written',
    'on disk',
  ],
  rows,
);
for (const spread of spreads) console.log(`  ${spread}`);
console.log(
  `\nReading a ${SHARD.toLocaleString('en-US')}-element shard (SQLite, artifact files; writing it took ${format(shardWriteMs)} ms), best of ${RUNS}\n`,
);
printTable(['read', 'ms', 'artifact files read (getArtifact calls)'], reads);

interface FlowRun {
  readonly ms: number;
  readonly incMs: number;
  /** Each layer's ms, for the notes under the table. */
  readonly layers: string;
  readonly files: number;
  readonly bytes: number;
  readonly disk: number;
}

interface Counts {
  reads: number;
  writes: number;
  bytes: number;
}

/** The store with its artifact reads and writes counted (methods bound to the store itself, whose fields are private). */
function counting(store: Store): { store: Store; counts: Counts } {
  const counts: Counts = { reads: 0, writes: 0, bytes: 0 };
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === 'getArtifact') {
        return (runId: string, key: string) => {
          counts.reads++;
          return target.getArtifact(runId, key);
        };
      }
      if (property === 'putArtifact') {
        return (runId: string, key: string, data: Uint8Array) => {
          counts.writes++;
          counts.bytes += data.byteLength;
          return target.putArtifact(runId, key, data);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, counts };
}

/** Best of `RUNS` after a warm-up, with the artifact reads of one call. */
async function timedReads(
  counts: Counts,
  fn: () => Promise<void>,
): Promise<{ ms: number; files: number }> {
  const before = counts.reads;
  const times = await timeRuns(RUNS, fn);
  return { ms: best(times), files: (counts.reads - before) / (RUNS + 1) };
}

/** Number of files under `folder`, their total size, and the disk blocks they take. */
async function walk(folder: string): Promise<{ files: number; bytes: number; disk: number }> {
  const sum = { files: 0, bytes: 0, disk: 0 };
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return sum;
    throw error;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      const inner = await walk(path);
      sum.files += inner.files;
      sum.bytes += inner.bytes;
      sum.disk += inner.disk;
    } else if (entry.isFile()) {
      const stats = await stat(path);
      sum.files++;
      sum.bytes += stats.size;
      sum.disk += stats.blocks * 512;
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

/** The soft limit on open files, as the shell reports it. */
function openFilesLimit(): string {
  try {
    return execSync('ulimit -n', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
