/**
 * Per-item overhead of `threads`: 10,000 tiny items (x + 1) of one parallel call, against
 * piscina running the same function directly (one `run()` per item, all submitted at
 * once), both on 2 worker threads, and against `for` in this thread.
 *
 * Run: node --conditions=weft-source --import tsx bench/batch-tiny.ts
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { map, threads } from 'weftjs';
import { parallel } from 'weftjs/batch';
import { Numbers } from './batch/images.ts';
import { best, median, printTable, timeRuns } from './lib.ts';

const ITEMS = 10_000;
const WORKERS = 2;
const RUNS = 5;

export default async function main(): Promise<void> {
  console.log(
    `${ITEMS.toLocaleString('en-US')} items of x + 1 on ${WORKERS} threads, load ${loadavg()[0]!.toFixed(2)}`,
  );
  const data = Array.from({ length: ITEMS }, (_, i) => i);
  const check = (out: readonly number[]) => {
    if (out.length !== ITEMS || out[ITEMS - 1] !== ITEMS) throw new Error('wrong results');
  };

  const piscina = new Piscina({
    filename: fileURLToPath(new URL('./batch/increment.mjs', import.meta.url)),
    minThreads: WORKERS,
    maxThreads: WORKERS,
  });
  const executor = threads({ workers: WORKERS });
  const rows: (string | number)[][] = [];
  const add = (label: string, times: number[]) =>
    rows.push([label, best(times), median(times), (best(times) * 1e6) / ITEMS / 1000]);
  try {
    add(
      'piscina, run() per item',
      await timeRuns(RUNS, async () =>
        check((await Promise.all(data.map((x) => piscina.run(x)))) as number[]),
      ),
    );
    add(
      'weft map on threads',
      await timeRuns(RUNS, async () => {
        const { increment } = await import('./batch/increment-task.ts');
        check(await map(data, increment, { executor, concurrency: ITEMS }));
      }),
    );
    add(
      'weft/batch threads',
      await timeRuns(RUNS, async () => {
        const batch: Numbers = await parallel(new Numbers(data)).plusOne({ executor });
        check(batch.data);
      }),
    );
    add(
      'weft/batch for',
      await timeRuns(RUNS, async () => {
        const batch: Numbers = await parallel(new Numbers(data)).plusOne({
          target: 'for',
        });
        check(batch.data);
      }),
    );
  } finally {
    await piscina.destroy();
    await executor.close();
  }
  printTable(['how', 'best ms', 'median ms', 'µs per item'], rows);
}

await main();
