/**
 * laminar's chained ForEach: `index: null` maps each task of Second onto the task of
 * First with the same number, so fan-outs follow each other without a join. Prints what
 * the seed prints:
 *   0 'First' 1
 *   1 'First' 2
 *   2 'First' 3
 *   0 'Second' 1
 *   1 'Second' 2
 *   2 'Second' 3
 *
 *   weft run examples/flow-chained.ts
 */
import { Flow, ForEach, Parameter } from 'weftjs/flow';

// One task at a time, as laminar runs them locally, so the lines come in task order.
const flow = new Flow('ChainedFlow', { concurrency: 1 });

const Shard = flow.layer('Shard', (self) => {
  self.shard({ foo: [1, 2, 3] });
});

const First = flow.layer(
  'First',
  { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'foo' })] }) },
  (self, shard) => {
    console.log(`${self.index} 'First' ${shard.foo}`);
    self.set({ foo: shard.foo });
  },
  [Shard],
);

flow.layer(
  'Second',
  {
    foreach: new ForEach({
      parameters: [new Parameter({ layer: First, attribute: 'foo', index: null })],
    }),
  },
  (self, first) => {
    console.log(`${self.index} 'Second' ${first.foo}`);
  },
  [First],
);

export default flow;
