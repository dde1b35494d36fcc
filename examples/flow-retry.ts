/**
 * A laminar flow whose ForEach tasks are retried one by one: Shard stores `foo` element
 * by element, Process runs one task per element (the first try of task 1 fails, its
 * retry succeeds, task 0 is not run again), and Join reads the tasks' outputs through an
 * Accessor, reading only what it asks for.
 *
 *   weft run examples/flow-retry.ts
 */
import { Flow, ForEach, Parameter } from 'weftjs/flow';

const flow = new Flow('RetryFlow');
const Shard = flow.layer('Shard', (self) => {
  self.shard({ foo: [1, 2] });
});
const Process = flow.layer(
  'Process',
  {
    foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' })] }),
    retry: { attempts: 3, delay: 100, backoff: 2, jitter: 50 },
  },
  (self, shard) => {
    console.log(`Process ${self.index} of ${self.splits}, try ${self.attempt}`);
    if (self.index === 1 && self.attempt === 1) throw new Error('flaky'); // retried on its own
    self.set({ foo: shard.foo * 10 }); // shard.foo is this task's element
  },
  [Shard],
);
flow.layer(
  'Join',
  async (_self, process) => {
    console.log(await process.foo.toArray()); // [ 10, 20 ]: an Accessor over the ForEach tasks
    console.log(await process.foo.at(-1)); // 20, reading that element only
    console.log(process.foo.length); // 2, without reading anything
  },
  [Process],
);

export default flow;
