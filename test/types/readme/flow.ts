// biome-ignore-all format: the README's snippets, kept as the README prints them.
// biome-ignore-all lint: the README's snippets, kept as the README prints them.
// biome-ignore-all assist: the README's snippets, kept as the README prints them.
/**
 * The README's `weftjs/flow` snippet, copied as in engine.ts: it type-checks for a consumer,
 * and test/readme-types.test.ts keeps it equal to the README.
 */
import { Flow, ForEach, Parameter } from 'weftjs/flow';

const flow = new Flow('JoinFlow');
const Shard = flow.layer('Shard', (self) => { self.shard({ foo: [1, 2] }); self.set({ bar: 'a' }); });
const Process = flow.layer('Process',
  { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' })] }),
    retry: { attempts: 3, delay: 100, backoff: 2, jitter: 50 } },
  (self, shard) => { self.set({ foo: shard.foo * 10 }); },   // this task's element; self.index, self.splits
  [Shard]);
flow.layer('Join', async (self, process) => {
  await process.foo.toArray();   // [10, 20] — an Accessor over the ForEach tasks
  await process.foo.at(-1);      // 20, reading that element only
  process.foo.length;            // 2, without reading anything
}, [Process]);
await flow.run({ runId: 'nightly' });   // again with the same id: completed layers and tasks are skipped
