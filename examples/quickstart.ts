/**
 * The quickstart: counts the primes below 3,000,000 on worker threads, in 48 ranges,
 * streaming each range's count as it finishes, then checks the total with a small dag.
 *
 *   weft run examples/quickstart.ts                 # threads, one per core
 *   WEFT_EXECUTOR=processes weft run examples/quickstart.ts
 */
import { dag, type JobContext, map, threads } from 'weftjs';
import { countPrimes, type Range, sum } from './lib/primes.ts';

const LIMIT = 3_000_000;
const RANGES = 48;

export default async function main(ctx: JobContext) {
  // CPU-bound work wants threads; an explicit WEFT_EXECUTOR / --executor wins.
  const executor = process.env.WEFT_EXECUTOR ? ctx.executor : threads();
  const step = Math.ceil(LIMIT / RANGES);
  const ranges: Range[] = Array.from({ length: RANGES }, (_, i) => ({
    from: i * step,
    to: Math.min(LIMIT, (i + 1) * step),
  }));

  // Streamed in completion order: each range is reported the moment it is counted.
  const counts: number[] = [];
  for await (const { from, count } of map(ranges, countPrimes, {
    executor,
    ordered: false,
    signal: ctx.signal,
    scope: ctx.scope,
  })) {
    counts.push(count);
    if (counts.length % 12 === 0)
      console.log(`${counts.length}/${RANGES} ranges counted (last from ${from})`);
  }

  const results = await dag(
    [
      { id: 'lower', task: sum, input: counts.slice(0, RANGES / 2) },
      { id: 'upper', task: sum, input: counts.slice(RANGES / 2) },
      {
        id: 'total',
        task: sum,
        dependencies: ['lower', 'upper'],
        input: (done) => [done.get('lower'), done.get('upper')],
      },
    ],
    { executor, scope: ctx.scope },
  );
  if (executor !== ctx.executor) await executor.close();
  return `primes below ${LIMIT.toLocaleString('en-US')}: ${results.get('total')}`;
}
