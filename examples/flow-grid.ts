/**
 * laminar's grid search: a ForEach over two sharded attributes runs one task per pair,
 * numbered with the first parameter varying fastest. Prints what the seed prints:
 *   0 1 "a"
 *   1 2 "a"
 *   2 3 "a"
 *   3 1 "b"
 *   4 2 "b"
 *   5 3 "b"
 *
 *   weft run examples/flow-grid.ts
 */
import { Flow, ForEach, Parameter } from 'weftjs/flow';

// One task at a time, as laminar runs them locally, so the lines come in task order.
const flow = new Flow('GridFlow', { concurrency: 1 });

const Shard = flow.layer('Shard', (self) => {
  self.shard({ foo: [1, 2, 3], bar: ['a', 'b'] });
});

flow.layer(
  'Process',
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
  [Shard],
);

export default flow;
