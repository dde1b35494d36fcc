/**
 * A recorded run in code: `withRun` records every task of the maps inside it, and the
 * same run id again returns what was recorded instead of running it. Here the run
 * 'nightly' runs twice on a store of its own, the second time over a longer input: only
 * the new items are squared. `weft run` does the same for every job it runs.
 *
 *   weft run examples/resume.ts
 */
import { map, openStore, task, withRun } from 'weftjs';

export const squareAloud = task('squareAloud', (x: number) => {
  console.log(`squaring ${x}`);
  return x * x;
});

export default async function main() {
  const store = await openStore('memory:'); // or 'sqlite:.weft/weft.db', 'postgres://…'
  const nightly = (items: number[]) =>
    withRun({ store, runId: 'nightly' }, async () => {
      console.log(await map(items, squareAloud)); // each task recorded as nightly/map:squareAloud/0, …
    });
  await nightly([1, 2, 3]); // squaring 1, 2, 3
  await nightly([1, 2, 3, 4, 5]); // the same run again: squaring 4, 5 only
  await store.close();
}
