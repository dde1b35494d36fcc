/**
 * The README's first example: a task, mapped in input order, on worker threads, and over
 * an endless input that is read only as fast as tasks start. Its top level only defines:
 * the work is in the default export, which `weft run` calls and workers never do.
 *
 *   npx weft run examples/squares.ts
 */
import { type JobContext, map, task, threads } from 'weftjs';

export const square = task('square', (x: number) => x * x);

/** 1, 2, 3, … without end. */
function* naturals() {
  for (let n = 1; ; n++) yield n;
}

export default async function main({ signal }: JobContext) {
  console.log(await map([1, 2, 3], square)); // [ 1, 4, 9 ], in input order

  const pool = threads(); // a worker per core
  try {
    console.log(await map([4, 5, 6], square, { executor: pool, signal })); // [ 16, 25, 36 ]
  } finally {
    await pool.close();
  }

  let sum = 0;
  for await (const y of map(naturals(), square, { signal })) {
    if (y > 100_000_000) break; // streamed: memory stays bounded, however long the input
    sum += y;
  }
  console.log(sum); // 333383335000, the squares of 1 to 10,000
}
