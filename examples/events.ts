/**
 * Watching work as it happens: a listener for one type of event, then every event as an
 * async iterable, while the squares of examples/squares.ts are computed.
 *
 *   weft run examples/events.ts
 */
import { events, type JobContext, map } from 'weftjs';
import { square } from './squares.ts';

export default async function main({ signal }: JobContext) {
  const off = events.on('task:end', (e) => console.log(`${e.key}: ${e.durationMs.toFixed(2)} ms`));
  await map([1, 2, 3], square, { signal });
  off();

  const counts: Record<string, number> = {};
  const watching = (async () => {
    // Every event, as an async iterable, until the loop breaks or the signal aborts.
    for await (const e of events.stream({ signal })) {
      counts[e.type] = (counts[e.type] ?? 0) + 1;
      if (e.type === 'map:end') break;
    }
  })();
  await map([4, 5], square, { signal });
  await watching;
  console.log(counts); // { 'map:start': 1, 'task:start': 2, 'task:end': 2, 'map:end': 1 }
}
