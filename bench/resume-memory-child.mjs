// Child of resume-memory.ts: runs (or resumes) one recorded, streamed map of `count` items
// whose outputs are 5 KB each, and prints its own peak RSS. Plain JavaScript against the
// built package, so that the figure is weft's and not the TypeScript loader's.
import { map, openStore, task, withRun } from 'weftjs';

const [storeUrl, runId, countText] = process.argv.slice(2);
const count = Number(countText);
const outputBytes = 5 * 1024;
let executed = 0;
const fill = 'weft resume bench '.repeat(Math.ceil(outputBytes / 18));
const page = task('bench:page', (i) => {
  executed++;
  return `${i}:${fill}`.slice(0, outputBytes);
});

async function* numbers(n) {
  for (let i = 0; i < n; i++) yield i;
}

const store = await openStore(storeUrl);
// Counts the store's lookups of completed keys, where the store has them.
let lookups = 0;
if (typeof store.findCompleted === 'function') {
  const find = store.findCompleted.bind(store);
  store.findCompleted = (id, keys) => {
    lookups++;
    return find(id, keys);
  };
}
const start = performance.now();
let seen = 0;
if (count > 0) {
  await withRun({ store, runId }, async () => {
    for await (const output of map(numbers(count), page, { concurrency: 64 })) {
      // In order, and the whole output: a resume must give back what the first run did.
      if (output.length !== outputBytes || !output.startsWith(`${seen}:`)) {
        throw new Error(`output ${seen} is wrong: ${output.slice(0, 20)}`);
      }
      seen++;
    }
  });
}
const seconds = (performance.now() - start) / 1000;
await store.close();
if (seen !== count) throw new Error(`saw ${seen} outputs of ${count}`);
console.log(
  JSON.stringify({ peakMb: process.resourceUsage().maxRSS / 1024, seconds, executed, lookups }),
);
