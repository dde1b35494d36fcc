// Child of stream-memory.ts: streams `count` items through map from an async generator
// and prints its own peak RSS. Plain JavaScript against the built package, so that the
// figure is weft's and not the TypeScript loader's.
import { map, task } from 'weftjs';

const double = task('bench:double', (x) => x * 2);

async function* numbers(count) {
  for (let i = 0; i < count; i++) yield i;
}

const count = Number(process.argv[2]);
const start = performance.now();
let sum = 0;
if (count > 0) {
  for await (const value of map(numbers(count), double, { concurrency: 64 })) sum += value;
}
if (sum !== count * (count - 1)) throw new Error(`wrong sum ${sum}`);
console.log(
  JSON.stringify({
    count,
    peakMb: process.resourceUsage().maxRSS / 1024,
    seconds: (performance.now() - start) / 1000,
  }),
);
