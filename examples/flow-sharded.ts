/**
 * laminar's sharded artifacts: `shard` stores each element of an iterable separately;
 * downstream the attribute is an Accessor — lazy, iterable, indexable and sliceable.
 * Prints what the seed prints:
 *   [1, 2, 3]
 *   2
 *   [2, 3]
 *
 *   weft run examples/flow-sharded.ts
 */
import { Flow } from 'weftjs/flow';

const flow = new Flow('ShardedFlow');

const Shard = flow.layer('Shard', (self) => {
  self.shard({ foo: [1, 2, 3] });
});

flow.layer(
  'Process',
  async (_self, shard) => {
    console.log(`[${(await shard.foo.toArray()).join(', ')}]`);
    console.log(await shard.foo.at(1));
    console.log(`[${(await shard.foo.slice(1)).join(', ')}]`);
  },
  [Shard],
);

export default flow;
