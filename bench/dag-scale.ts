/**
 * `dag` and `map` at scale, where a queue that copies on dequeue turns quadratic.
 * (a) `dag` of 100,000 and 300,000 random nodes (each depends on up to 3 random earlier
 * nodes; no-op tasks; in-process) beside a Promise runner (each node awaits its
 * dependencies' promises) and a Kahn runner with dependency counters (the floor).
 * Goals: 300k within 2× the Kahn runner, growth exponent ≤ 1.2.
 * (b) `map` of 100,000 and 300,000 no-op items at concurrency Infinity and 64, beside
 * p-map at the same concurrencies, with a synchronous and an async no-op (an async task
 * holds its slot, so at concurrency Infinity the items beyond the executor's 64 slots
 * queue in the executor). Goal: linear at any concurrency.
 * The growth exponent is log(t300k / t100k) / log 3: 1 is linear, 2 quadratic.
 * `DAG_SCALE_RUNS` sets the number of timed runs (best is reported; default 3).
 */
import { loadavg } from 'node:os';
import pMap from 'p-map';
import { type DagNode, dag, map, task } from 'weftjs';
import { best, nowMs, printTable } from './lib.ts';

const RUNS = Number(process.env.DAG_SCALE_RUNS ?? 3);
const SIZES = [100_000, 300_000] as const;

const noop = task('bench:noop', (x: unknown) => x);
const noopFn = (x: unknown) => x;
const asyncNoop = task('bench:asyncNoop', async (x: unknown) => x);
const asyncNoopFn = async (x: unknown) => x;

/** Seeded, so every runner and every run sees the same graph. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` nodes in a random order of dependency: node i depends on up to 3 of nodes 0..i-1. */
function randomGraph(n: number): DagNode[] {
  const next = random(n);
  const nodes: DagNode[] = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(next() * 4);
    for (let k = 0; k < count; k++) deps.add(`n${Math.floor(next() * i)}`);
    nodes.push({ id: `n${i}`, task: noop, input: i, dependencies: [...deps] });
  }
  return nodes;
}

/** Each node awaits Promise.all of its dependencies' promises (nodes come in order). */
async function promiseRunner(nodes: readonly DagNode[]): Promise<Map<string, unknown>> {
  const pending = new Map<string, Promise<unknown>>();
  for (const node of nodes) {
    const deps = (node.dependencies ?? []).map((id) => pending.get(id)!);
    pending.set(
      node.id,
      Promise.all(deps).then(() => noopFn(node.input)),
    );
  }
  const results = new Map<string, unknown>();
  for (const [id, promise] of pending) results.set(id, await promise);
  return results;
}

/** Kahn's algorithm with dependency counters and an index queue: the floor. */
function kahnRunner(nodes: readonly DagNode[]): Map<string, unknown> {
  const n = nodes.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(nodes[i]!.id, i);
  const waiting = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (const id of nodes[i]!.dependencies ?? []) {
      dependents[index.get(id)!]!.push(i);
      waiting[i]!++;
    }
  }
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) if (waiting[i] === 0) queue[tail++] = i;
  const results = new Map<string, unknown>();
  for (let head = 0; head < tail; head++) {
    const i = queue[head]!;
    results.set(nodes[i]!.id, noopFn(nodes[i]!.input));
    for (const d of dependents[i]!) if (--waiting[d]! === 0) queue[tail++] = d;
  }
  return results;
}

function check(name: string, results: Map<string, unknown>, n: number): void {
  if (results.size !== n || results.get(`n${n - 1}`) !== n - 1) {
    throw new Error(`${name}: wrong results (${results.size} of ${n})`);
  }
}

const exponent = (small: number, large: number) => Math.log(large / small) / Math.log(3);

/**
 * Best time of each runner over `RUNS` turns after one warm-up, the runners taking turns
 * so that a burst of load on the shared machine falls on all of them alike.
 */
async function bestInTurns(runners: Record<string, () => Promise<unknown>>) {
  const times: Record<string, number[]> = {};
  for (const [name, run] of Object.entries(runners)) {
    await run();
    times[name] = [];
  }
  for (let turn = 0; turn < RUNS; turn++) {
    for (const [name, run] of Object.entries(runners)) {
      const start = nowMs();
      await run();
      times[name]!.push(nowMs() - start);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, list]) => [name, best(list)]));
}

// (a) dag
const dagTimes: Record<string, number[]> = { 'weft dag': [], 'Promise runner': [], Kahn: [] };
for (const n of SIZES) {
  const nodes = randomGraph(n);
  const bests = await bestInTurns({
    'weft dag': async () => check('weft dag', await dag(nodes), n),
    'Promise runner': async () => check('Promise runner', await promiseRunner(nodes), n),
    Kahn: async () => check('Kahn', kahnRunner(nodes), n),
  });
  for (const [name, ms] of Object.entries(bests)) dagTimes[name]!.push(ms);
}
const kahn = dagTimes.Kahn!;
console.log(
  `\ndag of random nodes (up to 3 dependencies each), no-op tasks, in-process (best of ${RUNS})\n`,
);
printTable(
  ['runner', '100k ms', '300k ms', '300k vs Kahn', 'growth exponent'],
  Object.entries(dagTimes).map(([name, [small, large]]) => [
    name,
    small!,
    large!,
    `${(large! / kahn[1]!).toFixed(2)}×`,
    exponent(small!, large!).toFixed(2),
  ]),
);

// (b) map
const mapTimes: Record<string, number[]> = {};
for (const n of SIZES) {
  const items = Array.from({ length: n }, (_, i) => i);
  const checked = (name: string, out: unknown[]) => {
    if (out.length !== n || out[n - 1] !== n - 1) throw new Error(`${name}: wrong result`);
  };
  for (const concurrency of [Number.POSITIVE_INFINITY, 64]) {
    const at = `concurrency ${concurrency === Number.POSITIVE_INFINITY ? 'Infinity' : concurrency}`;
    const bests = await bestInTurns({
      [`weft map, ${at}`]: async () => checked('weft map', await map(items, noop, { concurrency })),
      [`p-map, ${at}`]: async () => checked('p-map', await pMap(items, noopFn, { concurrency })),
      [`weft map, async no-op, ${at}`]: async () =>
        checked('weft map', await map(items, asyncNoop, { concurrency })),
      [`p-map, async no-op, ${at}`]: async () =>
        checked('p-map', await pMap(items, asyncNoopFn, { concurrency })),
    });
    for (const [name, ms] of Object.entries(bests)) {
      const times = mapTimes[name] ?? [];
      times.push(ms);
      mapTimes[name] = times;
    }
  }
}
console.log(`\nmap of no-op items, in-process (best of ${RUNS})\n`);
printTable(
  ['runner', '100k ms', '300k ms', 'speed vs p-map (300k)', 'growth exponent'],
  Object.entries(mapTimes).map(([name, [small, large]]) => {
    const peer = mapTimes[name.replace('weft map', 'p-map')]!;
    return [
      name,
      small!,
      large!,
      `${(peer[1]! / large!).toFixed(2)}×`,
      exponent(small!, large!).toFixed(2),
    ];
  }),
);
console.log(
  `\nload average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
