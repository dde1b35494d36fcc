/**
 * weftjs/flow: layers and ForEach: grids over ForEach layers, chained parameters, and the
 * validation of layers, parameters and what their functions write.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { asyncPool, MemoryStore, ValidationError } from 'weftjs';
import {
  Accessor,
  Flow,
  ForEach,
  type Layer,
  LayerFailedError,
  type LayerFn,
  Parameter,
} from 'weftjs/flow';
import { flowName, foreachOver, indexError, range, validation } from './support.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

describe('layers and ForEach', () => {
  const store = new MemoryStore();
  after(() => store.close());

  it('ForEach over a ForEach layer attribute forms a grid over its tasks', async () => {
    const name = flowName('GridOverTasks');
    const flow = new Flow(name, { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3], bar: ['a', 'b'] });
    });
    const First = flow.layer(
      'First',
      { foreach: foreachOver(Shard, 'foo') },
      (self, shard) => {
        self.set({ v: shard.foo * 10 });
      },
      [Shard],
    );
    const Second = flow.layer(
      'Second',
      {
        foreach: new ForEach({
          parameters: [
            new Parameter({ layer: First, attribute: 'v' }),
            new Parameter({ layer: Shard, attribute: 'bar' }),
          ],
        }),
      },
      (self, first, shard) => {
        assert.equal(self.splits, 6);
        self.set({ pair: `${self.index}:${first.v}${shard.bar}` });
      },
      [First, Shard],
    );
    const result = await flow.run();
    const pairs = (await result.layer(Second)).pair as Accessor<string>;
    assert.deepEqual(await pairs.toArray(), ['0:10a', '1:20a', '2:30a', '3:10b', '4:20b', '5:30b']);
    assert.equal(result.info(Second).tasks, 6);
  });

  it('a ForEach task that shards: downstream, at(t) is an Accessor over that task', async () => {
    const flow = new Flow(flowName('ForEachShards'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ n: [1, 2, 3] });
    });
    const Process = flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'n') },
      (self, shard) => {
        self.shard({ items: range(shard.n, shard.n * 10) });
      },
      [Shard],
    );
    const seen: unknown[] = [];
    flow.layer(
      'Join',
      async (_self, process) => {
        const items = process.items as Accessor<Accessor<number>>;
        seen.push(items.length);
        for (let t = 0; t < items.length; t++) {
          const task = await items.at(t);
          seen.push(task instanceof Accessor, task.length, await task.toArray());
        }
        const last = await items.at(-1);
        seen.push(await last.at(-1));
        await assert.rejects(last.at(3), indexError('Process.items[2]'));
      },
      [Process],
    );
    const result = await flow.run();
    assert.deepEqual(seen, [3, true, 1, [10], true, 2, [20, 21], true, 3, [30, 31, 32], 32]);
    assert.deepEqual(result.info(Process), {
      tasks: 3,
      foreach: true,
      kinds: new Map([['items', 'shard']]),
      lengths: new Map([['items', [1, 2, 3]]]),
    });
  });

  it('index: null parameters whose length differs from the grid fail with ValidationError', async () => {
    const flow = new Flow(flowName('ZipMismatch'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3], bar: ['a', 'b'] });
    });
    const First = flow.layer(
      'First',
      { foreach: foreachOver(Shard, 'foo') },
      (self, shard) => {
        self.set({ foo: shard.foo });
      },
      [Shard],
    );
    let ran = 0;
    flow.layer(
      'Second',
      {
        foreach: new ForEach({
          parameters: [
            new Parameter({ layer: First, attribute: 'foo', index: null }),
            new Parameter({ layer: Shard, attribute: 'bar' }),
          ],
        }),
      },
      () => {
        ran++;
      },
      [First, Shard],
    );
    await assert.rejects(flow.run(), validation(/Second.*2 tasks.*3 elements.*must match/));
    assert.equal(ran, 0);
  });

  it('two index: null parameters of different lengths fail with ValidationError', async () => {
    const flow = new Flow(flowName('ZipZipMismatch'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3], bar: ['a', 'b'] });
    });
    flow.layer(
      'Second',
      {
        foreach: new ForEach({
          parameters: [
            new Parameter({ layer: Shard, attribute: 'foo', index: null }),
            new Parameter({ layer: Shard, attribute: 'bar', index: null }),
          ],
        }),
      },
      () => {},
      [Shard],
    );
    await assert.rejects(flow.run(), validation(/same length, got 3 and 2/));
  });

  it('index: null on a plain value fails with ValidationError', async () => {
    const flow = new Flow(flowName('ZipPlain'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.set({ bar: 'a' });
    });
    flow.layer(
      'Second',
      {
        foreach: new ForEach({
          parameters: [new Parameter({ layer: Shard, attribute: 'bar', index: null })],
        }),
      },
      () => {},
      [Shard],
    );
    await assert.rejects(flow.run(), validation(/plain value.*index: null/));
  });

  it('a Parameter naming an attribute the layer did not write fails with ValidationError', async () => {
    const flow = new Flow(flowName('MissingAttribute'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1] });
    });
    flow.layer('Process', { foreach: foreachOver(Shard, 'nope') }, () => {}, [Shard]);
    await assert.rejects(flow.run(), validation(/Shard has no attribute 'nope'.*foo/));
  });

  it('a Parameter whose layer is not upstream is refused by flow.layer()', () => {
    const flow = new Flow(flowName('NotUpstream'), { store });
    const Shard = flow.layer('Shard', () => {});
    const Other = flow.layer('Other', () => {});
    assert.throws(
      () => flow.layer('Process', { foreach: foreachOver(Shard, 'foo') }, () => {}, [Other]),
      validation(/Shard\.foo.*Shard must be one of its upstream layers/),
    );
    assert.throws(
      () => flow.layer('Process', { foreach: foreachOver(Shard, 'foo') }, () => {}),
      validation(/upstream/),
    );
    assert.equal(flow.getLayer('Process'), undefined);
  });

  it('duplicate layer names are refused', () => {
    const flow = new Flow(flowName('Duplicate'), { store });
    flow.layer('Shard', () => {});
    assert.throws(
      () => flow.layer('Shard', () => {}),
      validation(/already has a layer named 'Shard'/),
    );
    assert.equal(flow.layers.length, 1);
  });

  it('an upstream layer from another flow is refused', () => {
    const one = new Flow(flowName('One'), { store });
    const two = new Flow(flowName('Two'), { store });
    const Shard = one.layer('Shard', () => {});
    assert.throws(
      () => two.layer('Process', () => {}, [Shard]),
      validation(/upstream 'Shard' is not a layer of flow/),
    );
    // Even when the other flow has a layer of the same name.
    two.layer('Shard', () => {});
    assert.throws(() => two.layer('Process', () => {}, [Shard]), validation(/not a layer of flow/));
  });

  it('bad names, functions and options are refused', () => {
    assert.throws(() => new Flow('no spaces'), validation(/Flow name/));
    const flow = new Flow(flowName('BadLayers'), { store });
    assert.throws(() => flow.layer('bad name', () => {}), validation(/layer names/));
    assert.throws(
      () => flow.layer('NoFn', undefined as unknown as () => void),
      validation(/needs a function/),
    );
    assert.throws(
      () => flow.layer('NotArray', () => {}, 'Shard' as unknown as Layer[]),
      validation(/array/),
    );
    assert.throws(
      () => flow.layer('BadForEach', { foreach: {} as ForEach }, () => {}),
      validation(/new ForEach/),
    );
    const Shard = flow.layer('Shard', () => {});
    assert.throws(() => new ForEach({ parameters: [] }), validation(/parameters/));
    assert.throws(
      () => new ForEach({ parameters: [{ layer: Shard, attribute: 'x' } as Parameter] }),
      validation(/new Parameter/),
    );
    assert.throws(() => new Parameter({ layer: Shard, attribute: '' }), validation(/attribute/));
    assert.throws(
      () => new Parameter({ layer: Shard, attribute: 'x', index: 0 as unknown as null }),
      validation(/index may only be null/),
    );
    assert.throws(
      () => new Parameter({ layer: undefined as unknown as Layer, attribute: 'x' }),
      validation(/Parameter needs/),
    );
  });

  it('a layer setting the same attribute twice fails, naming it', async () => {
    const cases: [string, LayerFn][] = [
      [
        'SetTwice',
        (self) => {
          self.set({ a: 1 });
          self.set({ a: 2 });
        },
      ],
      [
        'SetThenShard',
        (self) => {
          self.set({ a: 1 });
          self.shard({ a: [1] });
        },
      ],
      [
        'ShardTwice',
        (self) => {
          self.shard({ a: [1], b: [2] });
          self.shard({ a: [3] });
        },
      ],
    ];
    for (const [label, fn] of cases) {
      const flow = new Flow(flowName(label), { store, executor });
      flow.layer('Twice', fn);
      await assert.rejects(flow.run(), (error: unknown) => {
        assert.ok(error instanceof LayerFailedError, `got ${error}`);
        assert.deepEqual(error.failedTasks, []);
        assert.ok(error.cause instanceof ValidationError);
        assert.match(error.cause.message, /Twice sets 'a' twice/);
        return true;
      });
    }
  });

  it('shard() of a non-iterable fails, saying to use set()', async () => {
    for (const value of [5, null, 'abc', { a: 1 }]) {
      const flow = new Flow(flowName('ShardScalar'), { store, executor });
      flow.layer('Shard', (self) => {
        self.shard({ foo: value as unknown as number[] });
      });
      await assert.rejects(flow.run(), (error: unknown) => {
        assert.ok(error instanceof LayerFailedError, `got ${error}`);
        assert.ok(error.cause instanceof ValidationError);
        assert.match(error.cause.message, /shard\(\{ foo \}\) needs an iterable.*set\(\)/);
        return true;
      });
    }
  });

  it('shard() takes any iterable: a Set and a generator', async () => {
    const flow = new Flow(flowName('ShardIterables'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      function* squares() {
        for (let i = 1; i <= 3; i++) yield i * i;
      }
      self.shard({ set: new Set(['x', 'y']), gen: squares() });
    });
    const result = await flow.run();
    const view = await result.layer(Shard);
    assert.deepEqual(await view.set.toArray(), ['x', 'y']);
    assert.deepEqual(await view.gen.toArray(), [1, 4, 9]);
  });

  it('ForEach tasks that write different attributes fail the layer, naming the attribute', async () => {
    const flow = new Flow(flowName('Uneven'), { store, executor });
    const Shard = flow.layer('Shard', (self) => self.shard({ n: [1, 2, 3] }));
    flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'n') },
      (self, shard) => {
        self.set({ n: shard.n });
        if (shard.n === 2) self.set({ extra: true });
      },
      [Shard],
    );
    await assert.rejects(flow.run(), (error: unknown) => {
      const cause = error instanceof LayerFailedError ? error.cause : error;
      assert.ok(cause instanceof ValidationError, `got ${error}`);
      assert.match(cause.message, /Process: 1 of 3 tasks wrote 'extra'/);
      return true;
    });
  });

  it('a ForEach over an empty shard runs no tasks, and reading it downstream says so', async () => {
    const flow = new Flow(flowName('EmptyGrid'), { store, executor });
    const Shard = flow.layer('Shard', (self) => self.shard({ n: [] }));
    const Process = flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'n') },
      (self, shard) => self.set({ n: shard.n }),
      [Shard],
    );
    flow.layer('Join', (self, process) => self.set({ total: process.n }), [Process]);
    await assert.rejects(flow.run(), (error: unknown) => {
      const cause = error instanceof LayerFailedError ? error.cause : error;
      assert.ok(cause instanceof ValidationError, `got ${error}`);
      assert.match(cause.message, /Process ran no tasks \(its ForEach grid is empty\)/);
      return true;
    });
  });
});
