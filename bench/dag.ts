/**
 * `dag` makespan against the critical path: (a) a chain of 20 tasks sleeping 10 ms each
 * (critical path 200 ms; goal within 10 ms of it), (b) the LLMCompiler seed's example:
 * tasks of 1 s and 2 s, then their sum (goal ≈ 2 s, not 3 s), (c) the same example with
 * the seed's own scheduling: polling every 200 ms for dependencies, as written in the seed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type DagNode, dag, task } from 'weftjs';
import { printTable } from './lib.ts';

const sleepFor = task('bench:sleepFor', async (ms: number) => {
  await sleep(ms);
  return ms;
});
const sleepNext = task('bench:sleepNext', async (seconds: number) => {
  await sleep(seconds * 1000);
  return seconds;
});
const sleepTotal = task('bench:sleepTotal', ([a, b]: [number, number]) => a + b);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const chain: DagNode[] = Array.from({ length: 20 }, (_, i) => ({
  id: `t${i}`,
  task: sleepFor,
  input: 10,
  dependencies: i === 0 ? [] : [`t${i - 1}`],
}));
const chainRuns = [];
for (let i = 0; i < 3; i++) {
  chainRuns.push(
    await time(async () => {
      await dag(chain);
    }),
  );
}

const seed = [
  { id: '1', task: sleepNext, input: 1 },
  { id: '2', task: sleepNext, input: 2 },
  {
    id: '3',
    task: sleepTotal,
    dependencies: ['1', '2'],
    input: (done: ReadonlyMap<string, unknown>) => [done.get('1'), done.get('2')],
  },
];
let observations: Map<string, unknown> | undefined;
const seedMs = await time(async () => {
  observations = await dag(seed);
});
if (observations?.get('3') !== 3) throw new Error('seed example: wrong sum');

/** The seed's scheduling: a dependent task polls for its dependencies every 200 ms. */
async function seedPolling(): Promise<void> {
  const done = new Map<number, number>();
  const run = async (idx: number, fn: () => Promise<number> | number) => done.set(idx, await fn());
  const pending = async (deps: number[], idx: number, fn: () => number) => {
    while (deps.some((d) => !done.has(d))) await sleep(200);
    await run(idx, fn);
  };
  await Promise.all([
    run(1, () => sleep(1000, 1)),
    run(2, () => sleep(2000, 2)),
    pending([1, 2], 3, () => done.get(1)! + done.get(2)!),
  ]);
}
const pollingMs = await time(seedPolling);

console.log('\ndag makespan against the critical path\n');
printTable(
  ['scenario', 'critical path ms', 'makespan ms', 'overhead ms'],
  [
    ['chain of 20 × 10 ms (best of 3)', 200, Math.min(...chainRuns), Math.min(...chainRuns) - 200],
    ['chain of 20 × 10 ms (worst of 3)', 200, Math.max(...chainRuns), Math.max(...chainRuns) - 200],
    ['seed example (1 s, 2 s, sum), weft', 2000, seedMs, seedMs - 2000],
    ['seed example, polling every 200 ms as in the seed', 2000, pollingMs, pollingMs - 2000],
  ],
);
