// biome-ignore-all format: the README's snippets, kept as the README prints them.
// biome-ignore-all lint: the README's snippets, kept as the README prints them.
// biome-ignore-all assist: the README's snippets, kept as the README prints them.
/**
 * The README's engine snippets (the opening one, Tasks, map, dag, State), each copied as
 * the README prints it after the names it leaves to the reader are declared, so that they
 * type-check for a consumer. test/readme-types.test.ts keeps these copies equal to the README.
 */
import { State, type Task } from 'weftjs';

declare const numbers: number[];
declare const hugeStream: AsyncIterable<number>;
declare const urls: string[];
declare const items: number[];
declare const risky: Task<number, number>;
declare const urlA: string;
declare const urlB: string;
declare const summarize: Task<readonly unknown[], string>;

// The opening snippet.
import { map, dag, task, threads } from 'weftjs';

export const square = task('square', (x: number) => x * x);

await map([1, 2, 3], square);                                   // [1, 4, 9]
await map(numbers, square, { executor: threads() });            // on every core
for await (const y of map(hugeStream, square)) { /* streamed, bounded memory */ }

// Tasks.
export const fetchPage = task('fetchPage',
  async (url: string, { signal }) => (await fetch(url, { signal })).text(),
  { retries: 3, backoff: { delayMs: 200 }, timeoutMs: 10_000 });

// map.
const pages = await map(urls, fetchPage, { concurrency: 8 });              // input order
for await (const page of map(urls, fetchPage, { ordered: false })) { /* … */ }  // as they finish
const settled = await map(items, risky, { onError: 'collect' });          // Error in place
await map(items, risky, { signal: AbortSignal.timeout(60_000) });          // cancellable

// dag.
const results = await dag([
  { id: 'a', task: fetchPage, input: urlA },
  { id: 'b', task: fetchPage, input: urlB },
  { id: 'c', task: summarize, dependencies: ['a', 'b'],
    input: (done) => [done.get('a'), done.get('b')] },
]);                                                   // Map { 'a' => …, 'b' => …, 'c' => … }

// State.
const s = State.of({ count: 0, items: [] as string[] });
s.update({ count: 1 }).append({ items: 'a' }).extend({ items: ['b', 'c'] }).increment({ count: 2 });
