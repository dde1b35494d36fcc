/**
 * weft's `threads` and `processes` executors beside the pool library used directly, in
 * the same run, on 2 workers:
 *   1. CPU-bound: 32 tasks of ≈40 ms; speed-up over the same tasks run serially on the
 *      main thread (goal ≥ 1.85×).
 *   2. 100,000 tiny tasks on threads: weft `map` (batched dispatch) against tinypool and
 *      piscina with one task per message (goal ≥ 3× the pool library).
 *   3. 10,000 tiny tasks on child processes: weft against tinypool's child_process
 *      runtime (goal ≥ the pool library).
 *   4. A 64 MB Float64Array to a worker: copied, transferred with `transfer()`, shared
 *      through a SharedArrayBuffer (goal: transfer or share, not copy).
 *   5. After 10,000 tiny tasks, 20 CPU-bound tasks of ≈50 ms on threads and on child
 *      processes, beside tinypool given the same work; speed-up over serial (goal ≥ 1.9×
 *      whatever ran before: batch sizes come from each task's own durations).
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import { map, processes, threads, transfer } from 'weftjs';
import { best, median, printTable, timeRuns } from './lib.ts';
import { burn } from './pool-libraries/cpu.mjs';
import { burnTask, increment, sumArray } from './tasks.ts';

const WORKERS = 2;
const RUNS = 3;
const poolFile = (name: string) =>
  fileURLToPath(new URL(`./pool-libraries/${name}`, import.meta.url));

function calibrate(targetMs: number): number {
  let iterations = 1_000_000;
  for (;;) {
    const start = performance.now();
    burn(iterations);
    const ms = performance.now() - start;
    if (ms > 20) return Math.round((iterations * targetMs) / ms);
    iterations *= 2;
  }
}

// 1. CPU-bound.
const iterations = calibrate(40);
const cpuInputs = Array.from({ length: 32 }, () => iterations);
const weftThreads = threads({ workers: WORKERS });
const tinyThreads = new Tinypool({
  filename: poolFile('cpu.mjs'),
  minThreads: WORKERS,
  maxThreads: WORKERS,
});
const piscinaThreads = new Piscina({
  filename: poolFile('cpu.mjs'),
  minThreads: WORKERS,
  maxThreads: WORKERS,
});
const cpu = {
  serial: await timeRuns(RUNS, () => cpuInputs.map((n) => burn(n))),
  'weft threads': await timeRuns(RUNS, () => map(cpuInputs, burnTask, { executor: weftThreads })),
  'tinypool direct': await timeRuns(RUNS, () =>
    Promise.all(cpuInputs.map((n) => tinyThreads.run(n))),
  ),
  'piscina direct': await timeRuns(RUNS, () =>
    Promise.all(cpuInputs.map((n) => piscinaThreads.run(n))),
  ),
};
console.log(`\n1. CPU-bound: 32 tasks × ≈40 ms, ${WORKERS} workers (best and median of ${RUNS})\n`);
printTable(
  ['runner', 'best ms', 'median ms', 'speed-up vs serial (best)'],
  Object.entries(cpu).map(([name, times]) => [
    name,
    best(times),
    median(times),
    `${(best(cpu.serial) / best(times)).toFixed(2)}×`,
  ]),
);
await tinyThreads.destroy();
await piscinaThreads.destroy();

// 2. Tiny tasks on threads.
const TINY = 100_000;
const tinyInputs = Array.from({ length: TINY }, (_, i) => i);
const tinypoolTiny = new Tinypool({
  filename: poolFile('tiny.mjs'),
  minThreads: WORKERS,
  maxThreads: WORKERS,
});
const piscinaTiny = new Piscina({
  filename: poolFile('tiny.mjs'),
  minThreads: WORKERS,
  maxThreads: WORKERS,
});
const checkTiny = (out: unknown[]) => {
  if (out.length !== TINY || out[TINY - 1] !== TINY) throw new Error('wrong tiny result');
};
const tiny = {
  'weft threads (batched)': await timeRuns(RUNS, async () =>
    checkTiny(await map(tinyInputs, increment, { executor: weftThreads })),
  ),
  'tinypool, one task per message': await timeRuns(RUNS, async () =>
    checkTiny(await Promise.all(tinyInputs.map((n) => tinypoolTiny.run(n)))),
  ),
  'piscina, one task per message': await timeRuns(RUNS, async () =>
    checkTiny(await Promise.all(tinyInputs.map((n) => piscinaTiny.run(n)))),
  ),
};
const tinypoolRate = TINY / (best(tiny['tinypool, one task per message']) / 1000);
console.log(`\n2. ${TINY.toLocaleString('en-US')} tiny tasks on ${WORKERS} worker threads\n`);
printTable(
  ['runner', 'best ms', 'median ms', 'tasks/s (best)', 'vs tinypool'],
  Object.entries(tiny).map(([name, times]) => {
    const rate = TINY / (best(times) / 1000);
    return [
      name,
      best(times),
      median(times),
      Math.round(rate),
      `${(rate / tinypoolRate).toFixed(2)}×`,
    ];
  }),
);
await tinypoolTiny.destroy();
await piscinaTiny.destroy();

// 3. Tiny tasks on child processes.
const CHILD = 10_000;
const childInputs = tinyInputs.slice(0, CHILD);
const weftProcesses = processes({ workers: WORKERS });
const tinypoolChildren = new Tinypool({
  filename: poolFile('tiny.mjs'),
  runtime: 'child_process',
  minThreads: WORKERS,
  maxThreads: WORKERS,
});
const child = {
  'weft processes (batched)': await timeRuns(RUNS, () =>
    map(childInputs, increment, { executor: weftProcesses }),
  ),
  'tinypool child_process, one per message': await timeRuns(RUNS, () =>
    Promise.all(childInputs.map((n) => tinypoolChildren.run(n))),
  ),
};
const childRate = CHILD / (best(child['tinypool child_process, one per message']) / 1000);
console.log(`\n3. ${CHILD.toLocaleString('en-US')} tiny tasks on ${WORKERS} child processes\n`);
printTable(
  ['runner', 'best ms', 'median ms', 'tasks/s (best)', 'vs tinypool'],
  Object.entries(child).map(([name, times]) => {
    const rate = CHILD / (best(times) / 1000);
    return [
      name,
      best(times),
      median(times),
      Math.round(rate),
      `${(rate / childRate).toFixed(2)}×`,
    ];
  }),
);
await tinypoolChildren.destroy();
await weftProcesses.close();

// 4. A 64 MB Float64Array to a worker.
const LENGTH = (64 * 1024 * 1024) / 8;
const fresh = () => new Float64Array(LENGTH).fill(1);
const timeOne = async (make: () => unknown) => {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const input = make();
    const start = performance.now();
    const [out] = await map([input], sumArray, { executor: weftThreads });
    times.push(performance.now() - start);
    if ((out as { sum: number }).sum !== LENGTH / 4096) throw new Error('wrong sum');
  }
  return times.slice(1);
};
const shared = new Float64Array(new SharedArrayBuffer(LENGTH * 8)).fill(1);
const big = {
  copied: await timeOne(() => ({ data: fresh(), sendBack: false })),
  'transfer()': await timeOne(() => transfer({ data: fresh(), sendBack: false })),
  SharedArrayBuffer: await timeOne(() => ({ data: shared, sendBack: false })),
};
console.log(
  '\n4. One 64 MB Float64Array to a worker thread and a sum back (time of the map call)\n',
);
printTable(
  ['how', 'best ms', 'median ms'],
  Object.entries(big).map(([name, times]) => [name, best(times), median(times)]),
);
await weftThreads.close();

// 5. Long tasks after tiny ones: each timed run follows 10,000 tiny tasks on the same pool.
const AFTER_RUNS = 5;
const longInputs = Array.from({ length: 20 }, () => calibrate(50));
const afterTiny = async (tinyFirst: () => Promise<unknown>, long: () => Promise<unknown>) => {
  const times: number[] = [];
  for (let i = 0; i < AFTER_RUNS; i++) {
    await tinyFirst();
    const start = performance.now();
    await long();
    times.push(performance.now() - start);
  }
  return times;
};
const tinyFirstInputs = tinyInputs.slice(0, 10_000);
const after: Record<string, number[]> = {
  serial: await afterTiny(
    async () => {},
    async () => longInputs.map((n) => burn(n)),
  ),
};
for (const [name, executor] of [
  ['weft threads', threads({ workers: WORKERS })],
  ['weft processes', processes({ workers: WORKERS })],
] as const) {
  after[name] = await afterTiny(
    () => map(tinyFirstInputs, increment, { executor }),
    () => map(longInputs, burnTask, { executor }),
  );
  await executor.close();
}
for (const runtime of ['worker_threads', 'child_process'] as const) {
  const options = { runtime, minThreads: WORKERS, maxThreads: WORKERS };
  const cpuPool = new Tinypool({ ...options, filename: poolFile('cpu.mjs') });
  const tinyPool = new Tinypool({ ...options, filename: poolFile('tiny.mjs') });
  after[`tinypool ${runtime}`] = await afterTiny(
    () => Promise.all(tinyFirstInputs.map((n) => tinyPool.run(n))),
    () => Promise.all(longInputs.map((n) => cpuPool.run(n))),
  );
  await cpuPool.destroy();
  await tinyPool.destroy();
}
console.log(
  `\n5. After 10,000 tiny tasks, 20 tasks × ≈50 ms, ${WORKERS} workers (best and median of ${AFTER_RUNS})\n`,
);
printTable(
  ['runner', 'best ms', 'median ms', 'speed-up (best)', 'speed-up (median)'],
  Object.entries(after).map(([name, times]) => [
    name,
    best(times),
    median(times),
    `${(best(after.serial!) / best(times)).toFixed(2)}×`,
    `${(median(after.serial!) / median(times)).toFixed(2)}×`,
  ]),
);
