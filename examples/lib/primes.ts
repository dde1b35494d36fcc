/** Tasks of the quickstart: counting primes in a range, by trial division (CPU-bound on purpose). */
import { task } from 'weftjs';

export interface Range {
  readonly from: number;
  readonly to: number;
}

export const countPrimes = task('examples:countPrimes', ({ from, to }: Range, ctx) => {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
    if ((n & 0xffff) === 0) ctx.progress({ done: n - from, total: to - from });
  }
  return { from, to, count };
});

export const sum = task('examples:sum', (counts: readonly number[]) =>
  counts.reduce((a, b) => a + b, 0),
);
