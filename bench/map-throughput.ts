/**
 * 100,000 no-op tasks at concurrency 64, in-process, with an event listener subscribed:
 * weft `map` beside p-map and a bare hand-written pool, in the same run, with a
 * synchronous and an async no-op. Reports ns per task and throughput. Goal: weft ≥ 3×
 * p-map's throughput.
 */
import pMap from 'p-map';
import { asyncPool, EventBus, map, task } from 'weftjs';
import { best, median, printTable, timeRuns } from './lib.ts';

const N = 100_000;
const CONCURRENCY = 64;
const items = Array.from({ length: N }, (_, i) => i);
const noop = task('bench:noop', (x: number) => x);
const asyncNoop = task('bench:asyncNoop', async (x: number) => x);

/** The bare minimum: a hand-written pool awaiting each call, no bookkeeping. */
async function barePool<T, R>(
  input: readonly T[],
  fn: (x: T) => R,
  concurrency: number,
): Promise<R[]> {
  const out: R[] = new Array(input.length);
  let next = 0;
  const worker = async () => {
    while (next < input.length) {
      const i = next++;
      out[i] = await fn(input[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const bus = new EventBus();
let seen = 0;
bus.on(() => {
  seen++;
});
const executor = asyncPool({ concurrency: CONCURRENCY });

const runs = 7;
const results = {
  weft: await timeRuns(runs, async () => {
    const out = await map(items, noop, { executor, concurrency: CONCURRENCY, events: bus });
    if (out.length !== N || out[N - 1] !== N - 1) throw new Error('weft: wrong result');
  }),
  'weft (no listener)': await timeRuns(runs, async () => {
    await map(items, noop, { executor, concurrency: CONCURRENCY, events: new EventBus() });
  }),
  'p-map': await timeRuns(runs, async () => {
    const out = await pMap(items, (x) => x, { concurrency: CONCURRENCY });
    if (out.length !== N) throw new Error('p-map: wrong result');
  }),
  'weft, async no-op': await timeRuns(runs, async () => {
    await map(items, asyncNoop, { executor, concurrency: CONCURRENCY, events: bus });
  }),
  'p-map, async no-op': await timeRuns(runs, async () => {
    await pMap(items, async (x) => x, { concurrency: CONCURRENCY });
  }),
  'bare pool': await timeRuns(runs, () => barePool(items, (x) => x, CONCURRENCY)),
};
if (seen < N * 4) throw new Error(`events were not delivered (${seen})`);

const pMapBest = best(results['p-map']);
console.log(
  `\n${N.toLocaleString('en-US')} no-op tasks, concurrency ${CONCURRENCY}, in-process (best and median of ${runs})\n`,
);
printTable(
  ['runner', 'best ms', 'median ms', 'ns/task (best)', 'tasks/s (best)', 'vs p-map'],
  Object.entries(results).map(([name, times]) => [
    name,
    best(times),
    median(times),
    (best(times) * 1e6) / N,
    N / (best(times) / 1000),
    `${(pMapBest / best(times)).toFixed(2)}×`,
  ]),
);
