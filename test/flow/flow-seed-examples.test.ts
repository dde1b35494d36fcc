/**
 * weftjs/flow: every output laminar's seed prints (sharded artifacts, ForEach loops, grid
 * search, joins, chained ForEach), through flow.run on a memory store.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { asyncPool, MemoryStore } from 'weftjs';
import { Accessor, Flow, ForEach, Parameter } from 'weftjs/flow';
import { flowName, foreachOver } from './support.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

describe('the seed examples, through flow.run on a memory store', () => {
  const store = new MemoryStore();
  after(() => store.close());

  it('Sharded artifacts: list, index and slice of shard.foo print [1, 2, 3], 2, [2, 3]', async () => {
    const printed: unknown[] = [];
    const flow = new Flow(flowName('Sharded'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3] });
    });
    flow.layer(
      'Process',
      async (_self, shard) => {
        const listed: unknown[] = [];
        for await (const value of shard.foo) listed.push(value);
        printed.push(listed, await shard.foo.at(1), await shard.foo.slice(1));
        printed.push(shard.foo instanceof Accessor, await shard.foo.toArray());
      },
      [Shard],
    );
    await flow.run();
    assert.deepEqual(printed, [[1, 2, 3], 2, [2, 3], true, [1, 2, 3]]);
  });

  it('ForEach loops: one task per element, with self.index (0 1, 1 2)', async () => {
    const printed: string[] = [];
    const flow = new Flow(flowName('Foreach'), { store, executor, concurrency: 1 });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2] });
    });
    flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'foo') },
      (self, shard) => {
        printed.push(`${self.index} ${shard.foo}`);
      },
      [Shard],
    );
    await flow.run();
    assert.deepEqual(printed, ['0 1', '1 2']);
  });

  it('ForEach over an unsharded attribute gives it to every task (0 1 "a", 1 2 "a")', async () => {
    const printed: string[] = [];
    const flow = new Flow(flowName('Broadcast'), { store, executor, concurrency: 1 });
    const Shard = flow.layer('Shard', (self) => {
      self.set({ bar: 'a' });
      self.shard({ foo: [1, 2] });
    });
    flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'foo', 'bar') },
      (self, shard) => {
        printed.push(`${self.index} ${shard.foo} ${JSON.stringify(shard.bar)}`);
      },
      [Shard],
    );
    await flow.run();
    assert.deepEqual(printed, ['0 1 "a"', '1 2 "a"']);
  });

  const gridLines = ['0 1 "a"', '1 2 "a"', '2 3 "a"', '3 1 "b"', '4 2 "b"', '5 3 "b"'];

  it('Grid search: the product of two shards, first parameter varying fastest', async () => {
    const printed: string[] = [];
    const flow = new Flow(flowName('Grid'), { store, executor, concurrency: 1 });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3], bar: ['a', 'b'] });
    });
    flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'foo', 'bar') },
      (self, shard) => {
        printed.push(`${self.index} ${shard.foo} ${JSON.stringify(shard.bar)}`);
      },
      [Shard],
    );
    await flow.run();
    assert.deepEqual(printed, gridLines);
  });

  it('Grid search numbers tasks the same way when they run at the same time', async () => {
    const printed: string[] = [];
    const flow = new Flow(flowName('GridParallel'), { store, executor, concurrency: 6 });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3], bar: ['a', 'b'] });
    });
    const Process = flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'foo', 'bar') },
      (self, shard) => {
        assert.equal(self.splits, 6);
        printed.push(`${self.index} ${shard.foo} ${JSON.stringify(shard.bar)}`);
        self.set({ pair: `${shard.foo}${shard.bar}` });
      },
      [Shard],
    );
    const result = await flow.run();
    assert.deepEqual(printed.sort(), gridLines);
    const pairs = (await result.layer(Process)).pair as Accessor<string>;
    assert.deepEqual(await pairs.toArray(), ['1a', '2a', '3a', '1b', '2b', '3b']);
  });

  it('ForEach joins: the ForEach layer attribute is an Accessor over its tasks ([1, 2], 2)', async () => {
    const printed: unknown[] = [];
    const flow = new Flow(flowName('Join'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2] });
    });
    const Process = flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'foo') },
      (self, shard) => {
        self.set({ foo: shard.foo });
      },
      [Shard],
    );
    flow.layer(
      'Join',
      async (_self, process) => {
        printed.push(await process.foo.toArray(), await process.foo.at(1));
        printed.push(process.foo.length, await process.foo.slice(1));
      },
      [Process],
    );
    await flow.run();
    assert.deepEqual(printed, [[1, 2], 2, 2, [2]]);
  });

  it('Chained ForEach: index: null maps Second one-to-one onto First', async () => {
    const printed: string[] = [];
    const flow = new Flow(flowName('Chained'), { store, executor, concurrency: 1 });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3] });
    });
    const First = flow.layer(
      'First',
      { foreach: foreachOver(Shard, 'foo') },
      (self, shard) => {
        printed.push(`${self.index} 'First' ${shard.foo}`);
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
        printed.push(`${self.index} 'Second' ${first.foo}`);
      },
      [First],
    );
    await flow.run();
    assert.deepEqual(printed, [
      "0 'First' 1",
      "1 'First' 2",
      "2 'First' 3",
      "0 'Second' 1",
      "1 'Second' 2",
      "2 'Second' 3",
    ]);
  });
});
