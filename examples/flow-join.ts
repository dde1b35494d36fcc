/**
 * laminar's ForEach join: downstream, a ForEach layer's attribute is an Accessor over its
 * tasks, in task order; no join step is needed. Prints what the seed prints:
 *   [1, 2]
 *   2
 *
 *   weft run examples/flow-join.ts
 */
import { Flow, ForEach, Parameter } from 'weftjs/flow';

const flow = new Flow('JoinFlow');

const Shard = flow.layer('Shard', (self) => {
  self.shard({ foo: [1, 2] });
});

const Process = flow.layer(
  'Process',
  { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' })] }) },
  (self, shard) => {
    self.set({ foo: shard.foo });
  },
  [Shard],
);

flow.layer(
  'Join',
  async (_self, process) => {
    console.log(`[${(await process.foo.toArray()).join(', ')}]`);
    console.log(await process.foo.at(1));
  },
  [Process],
);

export default flow;
