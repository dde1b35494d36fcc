// biome-ignore-all format: the README's snippets, kept as the README prints them.
// biome-ignore-all lint: the README's snippets, kept as the README prints them.
// biome-ignore-all assist: the README's snippets, kept as the README prints them.
/**
 * The README's Events and Runs snippets, copied as in engine.ts: they type-check for a
 * consumer, and test/readme-types.test.ts keeps them equal to the README.
 */
import { square } from './engine.ts';

declare const signal: AbortSignal;
declare const items: number[];

// Events.
import { events } from 'weftjs';
const off = events.on('task:end', (e) => console.log(e.key, e.durationMs));
for await (const e of events.stream({ signal })) { /* … */ }   // every event, as an async iterable

// Runs and resume.
import { map, openStore, withRun } from 'weftjs';

const store = await openStore('sqlite:.weft/weft.db');   // or 'postgres://…', 'memory:'
await withRun({ store, runId: 'nightly' }, async () => {
  await map(items, square);   // every task recorded under a key such as nightly/map:square/4
});                           // run 'nightly' again: finished tasks are not executed again
