/**
 * laminar's ForEach: one task per element of a sharded attribute; `self.index` is the
 * task's number, and the parameter's attribute is this task's element. A plain
 * (unsharded) attribute given as a parameter reaches every task. Prints what the seed
 * prints, first for `foo` alone, then with the broadcast `bar`:
 *   0 1
 *   1 2
 *   0 1 "a"
 *   1 2 "a"
 *
 *   weft run examples/flow-foreach.ts
 */
import { Flow, ForEach, Parameter } from 'weftjs/flow';

// One task at a time, as laminar runs them locally, so the lines come in task order.
const flow = new Flow('ForeachFlow', { concurrency: 1 });

const Shard = flow.layer('Shard', (self) => {
  self.set({ bar: 'a' });
  self.shard({ foo: [1, 2] });
});

const Process = flow.layer(
  'Process',
  { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' })] }) },
  (self, shard) => {
    console.log(self.index, shard.foo);
  },
  [Shard],
);

flow.layer(
  'ProcessWithBar',
  {
    foreach: new ForEach({
      parameters: [
        new Parameter({ layer: Shard, attribute: 'foo' }),
        new Parameter({ layer: Shard, attribute: 'bar' }),
      ],
    }),
  },
  (self, shard) => {
    console.log(self.index, shard.foo, JSON.stringify(shard.bar));
  },
  // After Process, so that its lines come first.
  [Shard, Process],
);

export default flow;
