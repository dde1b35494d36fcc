/**
 * weftjs/flow: laminar flows. Every output the seed prints, lazy Accessors (counted reads),
 * ForEach grids and chains, validation, retry per task, resume of single ForEach tasks on
 * memory, SQLite and PostgreSQL stores, and ForEach tasks on threads and processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  asyncPool,
  isWeftError,
  MemoryStore,
  openStore,
  processes,
  type Store,
  threads,
  ValidationError,
} from 'weftjs';
import {
  Accessor,
  AccessorIndexError,
  Flow,
  type FlowResult,
  ForEach,
  type Layer,
  LayerFailedError,
  type LayerFn,
  type LayerView,
  Parameter,
} from 'weftjs/flow';
import { Grid } from '../../src/flow/foreach.ts';
import { chainedFlow, readerFlow } from '../fixtures/flow-test-nested.ts';
import { flow as remoteRetryFlow } from '../fixtures/flow-test-remote.ts';
import { flow as threadsFlow } from '../fixtures/flow-threads.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

// ---------------------------------------------------------------------------------------
// Helpers

let flowCount = 0;
/** Flows register by name: every flow of this file gets its own. */
function flowName(label: string): string {
  flowCount++;
  return `FlowTest-${label}-${flowCount}`;
}

function range(length: number, from = 0): number[] {
  return Array.from({ length }, (_, i) => from + i);
}

function foreachOver(layer: Layer, ...attributes: string[]): ForEach {
  return new ForEach({
    parameters: attributes.map((attribute) => new Parameter({ layer, attribute })),
  });
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A predicate for assert.rejects/throws: a ValidationError whose message matches. */
function validation(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${error}`);
    assert.equal(error.code, 'WEFT_VALIDATION');
    assert.match(error.message, pattern);
    return true;
  };
}

/** A predicate: an AccessorIndexError naming the attribute. */
function indexError(label: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof AccessorIndexError, `expected an AccessorIndexError, got ${error}`);
    assert.equal(error.code, 'WEFT_INDEX');
    assert.equal(error.name, 'AccessorIndexError');
    assert.ok(error.message.includes(label), `'${error.message}' names ${label}`);
    return true;
  };
}

/** A MemoryStore that records the key of every artifact read. */
class CountingStore extends MemoryStore {
  /** Keys read, one by one or in batches. */
  readonly reads: string[] = [];
  override async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
    this.reads.push(key);
    return super.getArtifact(runId, key);
  }
  override async getArtifacts(
    runId: string,
    keys: readonly string[],
  ): Promise<(Uint8Array | undefined)[]> {
    this.reads.push(...keys);
    return super.getArtifacts(runId, keys);
  }
}

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------

describe('Accessor: lazy reads, counted at the store', () => {
  const store = new CountingStore();
  after(() => store.close());
  const name = flowName('Accessors');
  const big = range(1000).map((i) => `e${i}`);
  const keyOf = (i: number) => `${name}/Shard/0/big/${i}`;
  let result: FlowResult;
  let view: LayerView;
  /** What the downstream layer saw: reads made by each operation. */
  const probe: { lengthReads?: number; length?: number; atReads?: string[]; at?: unknown } = {};

  before(async () => {
    const flow = new Flow(name, { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ big, one: [42], none: [] });
      self.set({ label: 'plain' });
    });
    flow.layer(
      'Probe',
      async (_self, shard) => {
        let mark = store.reads.length;
        probe.length = shard.big.length;
        probe.lengthReads = store.reads.length - mark;
        mark = store.reads.length;
        probe.at = await shard.big.at(7);
        probe.atReads = store.reads.slice(mark);
      },
      [Shard],
    );
    result = await flow.run();
    view = await result.layer('Shard');
  });

  /** Keys read while `action` runs. */
  async function readsOf(action: () => Promise<unknown>): Promise<string[]> {
    const mark = store.reads.length;
    await action();
    return store.reads.slice(mark);
  }

  it('in a downstream layer: length reads nothing, at(7) reads element 7 alone', () => {
    assert.equal(probe.length, 1000);
    assert.equal(probe.lengthReads, 0);
    assert.equal(probe.at, 'e7');
    assert.deepEqual(probe.atReads, [keyOf(7)]);
  });

  it('knows its length without reading', async () => {
    const reads = await readsOf(async () => {
      assert.ok(view.big instanceof Accessor);
      assert.equal(view.big.length, 1000);
      assert.equal(view.one.length, 1);
      assert.equal(view.none.length, 0);
      assert.equal(view.label, 'plain');
    });
    assert.deepEqual(reads, []);
  });

  it('at(i) reads exactly element i', async () => {
    for (const i of [0, 500, 999]) {
      let value: unknown;
      const reads = await readsOf(async () => {
        value = await view.big.at(i);
      });
      assert.equal(value, `e${i}`);
      assert.deepEqual(reads, [keyOf(i)]);
    }
  });

  it('at(-1) is the last element, at(-1000) the first', async () => {
    let last: unknown;
    const reads = await readsOf(async () => {
      last = await view.big.at(-1);
    });
    assert.equal(last, 'e999');
    assert.deepEqual(reads, [keyOf(999)]);
    assert.equal(await view.big.at(-1000), 'e0');
  });

  it('slice(2, 5) reads 3 elements', async () => {
    let values: unknown;
    const reads = await readsOf(async () => {
      values = await view.big.slice(2, 5);
    });
    assert.deepEqual(values, ['e2', 'e3', 'e4']);
    assert.deepEqual(reads.sort(), [keyOf(2), keyOf(3), keyOf(4)]);
  });

  it('slice clamps and counts from the end as Array.prototype.slice (and Python) do', async () => {
    const cases: [number | undefined, number | undefined][] = [
      [undefined, undefined],
      [0, 3],
      [-3, undefined],
      [995, 2000],
      [-2000, 2],
      [5, 2],
      [1000, 1001],
      [2000, 3000],
      [-1, -1],
      [3, -995],
      [-5, -2],
      [0, 0],
    ];
    for (const [start, end] of cases) {
      assert.deepEqual(
        await view.big.slice(start, end),
        big.slice(start, end),
        `slice(${start}, ${end})`,
      );
    }
    // An empty slice reads nothing.
    assert.deepEqual(await readsOf(() => view.big.slice(5, 2)), []);
  });

  it('async iteration yields the elements in order, reading a few ahead', async () => {
    const seen: unknown[] = [];
    const reads = await readsOf(async () => {
      for await (const value of view.big as Accessor) {
        seen.push(value);
        if (seen.length === 3) break;
      }
    });
    assert.deepEqual(seen, ['e0', 'e1', 'e2']);
    // A loop that stops early has read the first elements only, in order.
    assert.ok(reads.length >= 3 && reads.length <= 100, `${reads.length} elements read`);
    assert.deepEqual(reads, range(reads.length).map(keyOf));
    const all: unknown[] = [];
    for await (const value of view.big as Accessor) all.push(value);
    assert.deepEqual(all, big);
  });

  it('toArray reads every element', async () => {
    let values: unknown;
    const reads = await readsOf(async () => {
      values = await view.big.toArray();
    });
    assert.deepEqual(values, big);
    assert.equal(reads.length, 1000);
    assert.deepEqual(await view.none.toArray(), []);
  });

  it('out-of-range indices reject with AccessorIndexError naming the attribute', async () => {
    for (const index of [1000, 1001, -1001, Number.MAX_SAFE_INTEGER]) {
      await assert.rejects(view.big.at(index), indexError('Shard.big'));
    }
    await assert.rejects(view.none.at(0), indexError('Shard.none'));
    await assert.rejects(view.one.at(1), indexError('Shard.one'));
  });

  it('non-integer indices reject with AccessorIndexError naming the attribute', async () => {
    const reads = await readsOf(async () => {
      for (const index of [1.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(view.big.at(index), indexError('Shard.big'));
      }
      await assert.rejects(view.big.at('1' as unknown as number), indexError('Shard.big'));
      await assert.rejects(view.big.slice(1.5), indexError('Shard.big'));
      await assert.rejects(view.big.slice(0, 2.5), indexError('Shard.big'));
    });
    assert.deepEqual(reads, []);
  });

  it('a one-element shard is still an Accessor of length 1', async () => {
    assert.ok(view.one instanceof Accessor);
    assert.equal(view.one.length, 1);
    assert.equal(await view.one.at(0), 42);
    assert.equal(await view.one.at(-1), 42);
    assert.deepEqual(await view.one.toArray(), [42]);
  });

  it('shows its label and length, not its values', async () => {
    const reads = await readsOf(async () => {
      assert.equal(inspect(view.big), 'Accessor(Shard.big, length 1000)');
    });
    assert.deepEqual(reads, []);
    assert.equal(inspect(Accessor.of([1, 2, 3], 'x')), 'Accessor(x, length 3)');
  });

  it('Accessor.of reads values in memory with the same rules', async () => {
    const accessor = Accessor.of(['a', 'b', 'c'], 'Mem.letters');
    assert.equal(accessor.length, 3);
    assert.equal(await accessor.at(-1), 'c');
    assert.deepEqual(await accessor.slice(-2), ['b', 'c']);
    await assert.rejects(accessor.at(3), indexError('Mem.letters'));
  });

  it('a ForEach layer attribute reads one task artifact per element', async () => {
    const counted = new CountingStore();
    try {
      const flow = new Flow(flowName('AccessorForEach'), { store: counted, executor });
      const Shard = flow.layer('Shard', (self) => {
        self.shard({ x: range(200) });
      });
      const Process = flow.layer(
        'Process',
        { foreach: foreachOver(Shard, 'x') },
        (self, shard) => {
          self.set({ y: shard.x * 3 });
        },
        [Shard],
      );
      const done = await flow.run();
      const y = (await done.layer(Process)).y as Accessor<number>;
      const mark = counted.reads.length;
      assert.equal(y.length, 200);
      assert.equal(await y.at(150), 450);
      assert.deepEqual(counted.reads.slice(mark), [`${flow.name}/Process/150/y`]);
    } finally {
      await counted.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------

describe('the grid is lazy', () => {
  const layers = new Flow(flowName('GridUnit'));
  const A = layers.layer('A', () => {});
  const pa = new Parameter({ layer: A, attribute: 'x' });
  const pb = new Parameter({ layer: A, attribute: 'y' });
  const pc = new Parameter({ layer: A, attribute: 'z' });

  it('a 1,000 × 1,000 grid has 1e6 tasks and maps the last one at once', () => {
    const grid = new Grid('L', [pa, pb], [1000, 1000]);
    assert.equal(grid.size, 1_000_000);
    assert.deepEqual(grid.positions(999_999), [999, 999]);
    assert.deepEqual(grid.positions(0), [0, 0]);
    assert.deepEqual(grid.positions(1), [1, 0]);
    assert.deepEqual(grid.positions(1000), [0, 1]);
    assert.deepEqual(grid.positions(123_456), [456, 123]);
  });

  it('a grid of 1e12 tasks (which no list could hold) is just as quick', () => {
    const grid = new Grid('L', [pa, pb], [1_000_000, 1_000_000]);
    assert.equal(grid.size, 1e12);
    assert.deepEqual(grid.positions(1e12 - 1), [999_999, 999_999]);
  });

  it('broadcast values are axes of length 1, zipped parameters follow the task', () => {
    const zipped = new Parameter({ layer: A, attribute: 'w', index: null });
    const grid = new Grid('L', [pa, pc, pb], [3, undefined, 2]);
    assert.equal(grid.size, 6);
    assert.deepEqual(grid.positions(5), [2, 0, 1]);
    const chained = new Grid('L', [zipped, pa], [4, 4]);
    assert.equal(chained.size, 4);
    assert.deepEqual(chained.positions(3), [3, 3]);
    assert.throws(() => new Grid('L', [zipped, pa, pb], [6, 3, 3]), validation(/must match/));
    assert.throws(
      () => new Grid('L', [pa, pb, pc], [2 ** 30, 2 ** 30, 2 ** 30]),
      validation(/too many/),
    );
  });

  it('aborting a 1,000 × 1,000 ForEach after 50 tasks stops it with few tasks started', async () => {
    const store = new MemoryStore();
    try {
      const controller = new AbortController();
      const reason = new Error('stop the grid');
      let started = 0;
      const flow = new Flow(flowName('HugeGrid'), { store, executor });
      const Shard = flow.layer('Shard', (self) => {
        self.shard({ x: range(1000), y: range(1000) });
      });
      flow.layer(
        'Process',
        { foreach: foreachOver(Shard, 'x', 'y') },
        (self) => {
          assert.equal(self.splits, 1_000_000);
          started++;
          if (started === 50) controller.abort(reason);
        },
        [Shard],
      );
      await assert.rejects(flow.run({ signal: controller.signal }), (error: unknown) => {
        assert.equal(error, reason, `rejects with signal.reason, got ${error}`);
        return true;
      });
      assert.ok(started >= 50 && started < 1000, `${started} tasks started`);
    } finally {
      await store.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('retry per task', () => {
  const store = new MemoryStore();
  after(() => store.close());

  it('retry { attempts: 3 } retries only the failing task, which succeeds on attempt 3', async () => {
    const attempts = new Map<number, number[]>();
    const flow = new Flow(flowName('Retry'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ x: range(5) });
    });
    const Work = flow.layer(
      'Work',
      { retry: { attempts: 3 }, foreach: foreachOver(Shard, 'x') },
      (self, shard) => {
        attempts.set(self.index, [...(attempts.get(self.index) ?? []), self.attempt]);
        if (self.index === 2 && self.attempt < 3) throw new Error(`attempt ${self.attempt}`);
        self.set({ y: shard.x * 2 });
      },
      [Shard],
    );
    const result = await flow.run();
    assert.deepEqual(
      [...attempts.entries()].sort(([a], [b]) => a - b),
      [
        [0, [1]],
        [1, [1]],
        [2, [1, 2, 3]],
        [3, [1]],
        [4, [1]],
      ],
    );
    assert.deepEqual(await (await result.layer(Work)).y.toArray(), [0, 2, 4, 6, 8]);
  });

  it('a task that fails every attempt fails the layer, naming the task', async () => {
    let tries = 0;
    const flow = new Flow(flowName('RetryExhausted'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ x: range(4) });
    });
    flow.layer(
      'Work',
      { retry: { attempts: 2 }, foreach: foreachOver(Shard, 'x') },
      (self) => {
        if (self.index === 3) {
          tries++;
          throw new Error('always');
        }
      },
      [Shard],
    );
    let failure: unknown;
    await assert.rejects(flow.run(), (error: unknown) => {
      failure = error;
      return error instanceof LayerFailedError;
    });
    assert.equal(tries, 2);
    assert.ok(failure instanceof LayerFailedError);
    assert.equal((failure.cause as Error).message, 'always');
    assert.deepEqual(failure.failedTasks, [3]);
    assert.match(failure.message, /Work: 1 of 4 ForEach tasks failed \(task 3\).*always/);
  });

  it("retry.errors ['TimeoutError'] does not retry a TypeError", async () => {
    const attempts: number[] = [];
    const flow = new Flow(flowName('RetryErrors'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ x: [1] });
    });
    flow.layer(
      'Work',
      { retry: { attempts: 3, errors: ['TimeoutError'] }, foreach: foreachOver(Shard, 'x') },
      (self) => {
        attempts.push(self.attempt);
        throw new TypeError('not retried');
      },
      [Shard],
    );
    let failure: unknown;
    await assert.rejects(flow.run(), (error: unknown) => {
      failure = error;
      return error instanceof LayerFailedError;
    });
    assert.deepEqual(attempts, [1]);
    assert.ok(failure instanceof LayerFailedError);
    assert.equal(failure.code, 'WEFT_LAYER_FAILED');
    assert.ok(failure.cause instanceof TypeError);
    assert.deepEqual(failure.failedTasks, [0]);
  });

  it("retry.errors ['TimeoutError'] retries an error named TimeoutError", async () => {
    const attempts: number[] = [];
    const flow = new Flow(flowName('RetryNamed'), { store, executor });
    flow.layer('Work', { retry: { attempts: 3, errors: ['TimeoutError'] } }, (self) => {
      attempts.push(self.attempt);
      if (self.attempt < 3) {
        const error = new Error('slow');
        error.name = 'TimeoutError';
        throw error;
      }
      self.set({ ok: true });
    });
    const result = await flow.run();
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal((await result.layer('Work')).ok, true);
  });

  it('a layer without ForEach retries too, and fails with empty failedTasks', async () => {
    const attempts: number[] = [];
    const flow = new Flow(flowName('RetryPlain'), { store, executor });
    flow.layer('Once', { retry: { attempts: 2, delay: 1, backoff: 2, jitter: 0 } }, (self) => {
      attempts.push(self.attempt);
      if (self.attempt === 1) throw new Error('first');
      assert.equal(self.index, 0);
      assert.equal(self.splits, 1);
    });
    await flow.run();
    assert.deepEqual(attempts, [1, 2]);

    const failing = new Flow(flowName('FailPlain'), { store, executor });
    failing.layer('Broken', () => {
      throw new RangeError('broken');
    });
    await assert.rejects(failing.run(), (error: unknown) => {
      assert.ok(error instanceof LayerFailedError);
      assert.deepEqual(error.failedTasks, []);
      assert.match(error.message, /Layer Broken failed: broken/);
      assert.ok(error.cause instanceof RangeError);
      return true;
    });
  });

  it('bad retry options are refused at flow.layer()', () => {
    const flow = new Flow(flowName('RetryValidation'), { store });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ attempts: 0 }, /retry\.attempts/],
      [{ attempts: 1.5 }, /retry\.attempts/],
      [{ attempts: -1 }, /retry\.attempts/],
      [{ attempts: '3' }, /retry\.attempts/],
      [{ delay: -1 }, /retry\.delay/],
      [{ delay: Number.NaN }, /retry\.delay/],
      [{ delay: '10' }, /retry\.delay/],
      [{ backoff: -2 }, /retry\.backoff/],
      [{ backoff: Number.NaN }, /retry\.backoff/],
      [{ backoff: 'x' }, /retry\.backoff/],
      [{ jitter: -1 }, /retry\.jitter/],
      [{ errors: 'TimeoutError' }, /retry\.errors/],
      [{ errors: [1] }, /retry\.errors/],
    ];
    for (const [retry, pattern] of bad) {
      assert.throws(
        () => flow.layer('Work', { retry }, () => {}),
        validation(pattern),
        JSON.stringify(retry),
      );
    }
    assert.equal(flow.layers.length, 0);
    flow.layer('Work', { retry: { attempts: 2, delay: 0, backoff: 1.5, jitter: 3 } }, () => {});
  });
});

// ---------------------------------------------------------------------------------------

/**
 * Runs a 1,000-task ForEach whose tasks 10, 500 and 999 fail on the first run, then
 * again with the same run id on the store `openSecond` gives (the same store, or the same
 * database reopened). Returns the first run's error, checked by its own test.
 */
async function resumeScenario(
  label: string,
  first: Store,
  openSecond: () => Promise<Store>,
): Promise<unknown> {
  const failing = new Set([10, 500, 999]);
  const state = { fail: true, shardRuns: 0, joinRuns: 0, executed: [] as number[] };
  let joined: unknown[] = [];
  const flow = new Flow(flowName(`Resume-${label}`), { executor });
  const Shard = flow.layer('Shard', (self) => {
    state.shardRuns++;
    self.shard({ x: range(1000) });
  });
  const Process = flow.layer(
    'Process',
    { foreach: foreachOver(Shard, 'x') },
    (self, shard) => {
      state.executed.push(self.index);
      if (state.fail && failing.has(self.index)) throw new Error(`task ${self.index} broke`);
      self.set({ y: shard.x * 2 });
    },
    [Shard],
  );
  flow.layer(
    'Join',
    async (self, process) => {
      state.joinRuns++;
      joined = await process.y.toArray();
      self.set({ count: process.y.length });
    },
    [Process],
  );
  const runId = `resume-${label}-${process.pid}`;

  let firstError: unknown;
  await assert.rejects(flow.run({ store: first, runId }), (error: unknown) => {
    firstError = error;
    assert.ok(error instanceof LayerFailedError, `got ${error}`);
    return true;
  });
  assert.equal(state.executed.length, 1000);
  assert.equal(state.shardRuns, 1);
  assert.equal(state.joinRuns, 0);

  state.fail = false;
  state.executed = [];
  const second = await openSecond();
  try {
    const result = await flow.run({ store: second, runId });
    assert.equal(result.runId, runId);
    assert.deepEqual(
      state.executed.sort((a, b) => a - b),
      [10, 500, 999],
    );
    assert.equal(state.shardRuns, 1, 'the completed Shard layer is not run again');
    assert.equal(state.joinRuns, 1);
    assert.deepEqual(
      joined,
      range(1000).map((x) => x * 2),
    );
    assert.equal((await result.layer('Join')).count, 1000);
    assert.equal(result.info(Process).tasks, 1000);

    // A third run finds everything done.
    state.executed = [];
    const again = await flow.run({ store: second, runId });
    assert.deepEqual(state.executed, []);
    assert.equal(state.shardRuns, 1);
    assert.equal(state.joinRuns, 1);
    assert.equal((await again.layer('Join')).count, 1000);
  } finally {
    if (second !== first) await second.close();
  }
  return firstError;
}

/** What the first run of {@link resumeScenario} must have rejected with. */
function assertFirstRunError(error: unknown): void {
  assert.ok(error instanceof LayerFailedError, `got ${error}`);
  assert.equal(error.code, 'WEFT_LAYER_FAILED');
  assert.equal(error.name, 'LayerFailedError');
  assert.ok(isWeftError(error, 'WEFT_LAYER_FAILED'));
  assert.match((error.cause as Error).message, /task (10|500|999) broke/);
  assert.deepEqual(error.failedTasks, [10, 500, 999]);
  assert.match(error.message, /Process: 3 of 1,000 ForEach tasks failed \(tasks 10, 500, 999\)/);
}

describe('resume re-runs only the failed ForEach tasks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-flow-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('on a memory store', () => {
    let firstError: unknown;

    it('the second run executes tasks 10, 500 and 999 alone; the join sees 1,000 values', async () => {
      const store = new MemoryStore();
      try {
        firstError = await resumeScenario('memory', store, async () => store);
      } finally {
        await store.close();
      }
    });

    it('the first run rejects with LayerFailedError, failedTasks [10, 500, 999]', () => {
      assertFirstRunError(firstError);
    });
  });

  describe('on SQLite, reopened between the runs', () => {
    let firstError: unknown;

    it('the second run executes tasks 10, 500 and 999 alone; the join sees 1,000 values', async () => {
      const url = 'sqlite:' + join(dir, 'resume.db');
      const store = await openStore(url);
      let closed = false;
      try {
        firstError = await resumeScenario('sqlite', store, async () => {
          await store.close();
          closed = true;
          return openStore(url);
        });
      } finally {
        if (!closed) await store.close();
      }
    });

    it('the first run rejects with LayerFailedError, failedTasks [10, 500, 999]', () => {
      assertFirstRunError(firstError);
    });
  });

  describe('on PostgreSQL, reopened between the runs', () => {
    const schema = freshPostgresSchema('flow');
    let firstError: unknown;

    it('the second run executes tasks 10, 500 and 999 alone; the join sees 1,000 values', async () => {
      const store = await openStore(schema.url);
      let closed = false;
      try {
        firstError = await resumeScenario('postgres', store, async () => {
          await store.close();
          closed = true;
          return openStore(schema.url);
        });
      } finally {
        if (!closed) await store.close();
      }
    });

    it('the first run rejects with LayerFailedError, failedTasks [10, 500, 999]', () => {
      assertFirstRunError(firstError);
    });

    it('runs the seed join flow', async () => {
      const store = await openStore(schema.url);
      try {
        const flow = new Flow(flowName('PostgresJoin'), { store, executor });
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
        const result = await flow.run();
        const foo = (await result.layer(Process)).foo as Accessor<number>;
        assert.deepEqual(await foo.toArray(), [1, 2]);
        assert.equal(await foo.at(1), 2);
      } finally {
        await store.close();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------

describe('ForEach tasks on worker threads and processes', () => {
  const store = new MemoryStore();
  const onThreads = threads({ workers: 2 });
  const onProcesses = processes({ workers: 2 });
  after(async () => {
    await onThreads.close();
    await onProcesses.close();
    await store.close();
  });

  it('threads({ workers: 2 }) gives Sum.total 600', async () => {
    const result = await threadsFlow.run({ store, executor: onThreads });
    assert.equal((await result.layer('Sum')).total, 600);
    const pids = await (await result.layer('Multiply')).pid.toArray();
    assert.deepEqual(new Set(pids), new Set([process.pid]));
  });

  it('processes({ workers: 2 }) gives Sum.total 600, computed in other processes', async () => {
    const result = await threadsFlow.run({ store, executor: onProcesses });
    assert.equal((await result.layer('Sum')).total, 600);
    const pids: number[] = await (await result.layer('Multiply')).pid.toArray();
    assert.equal(pids.length, 8);
    assert.ok(pids.every((pid) => pid !== process.pid));
  });

  it('in this thread: a ForEach over a ForEach layer sharded attribute gets each task items', async () => {
    const result = await chainedFlow.run({ store, executor });
    const sum = await result.layer('Sum');
    assert.deepEqual(await sum.length.toArray(), [1, 2, 3]);
    assert.deepEqual(await sum.sum.toArray(), [10, 41, 93]);
    const read = await (await readerFlow.run({ store, executor })).layer('Read');
    assert.deepEqual({ tasks: read.tasks, last: read.last }, { tasks: 3, last: [30, 31, 32] });
  });

  it('on threads: a ForEach over a ForEach layer sharded attribute gets each task items', async () => {
    const result = await chainedFlow.run({ store, executor: onThreads });
    const sum = await result.layer('Sum');
    assert.deepEqual(await sum.length.toArray(), [1, 2, 3]);
    assert.deepEqual(await sum.sum.toArray(), [10, 41, 93]);
  });

  it('on threads: a ForEach layer sharded attribute reads as Accessors of Accessors', async () => {
    const read = await (await readerFlow.run({ store, executor: onThreads })).layer('Read');
    assert.deepEqual({ tasks: read.tasks, last: read.last }, { tasks: 3, last: [30, 31, 32] });
  });

  it('a ForEach task retried on a worker thread sees attempt 2 and accessor copies', async () => {
    const result = await remoteRetryFlow.run({ store, executor: onThreads });
    const work = await result.layer('Work');
    assert.deepEqual(await work.value.toArray(), [101, 102, 103, 104, 105, 106]);
    assert.deepEqual(await work.attempt.toArray(), [2, 1, 2, 1, 2, 1]);
    assert.deepEqual(await work.splits.toArray(), [6, 6, 6, 6, 6, 6]);
    assert.deepEqual(new Set(await work.mainThread.toArray()), new Set([false]));
    assert.deepEqual(new Set(await work.lastW.toArray()), new Set([8]));
    assert.deepEqual(new Set(await work.wLength.toArray()), new Set([2]));
  });
});

// ---------------------------------------------------------------------------------------

describe('FlowResult and running layers', () => {
  const store = new MemoryStore();
  after(() => store.close());

  it('info() tells kinds and lengths; layer() reads attributes as downstream would', async () => {
    const name = flowName('Result');
    const flow = new Flow(name, { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ foo: [1, 2, 3] });
      self.set({ bar: 'b' });
    });
    const Process = flow.layer(
      'Process',
      { foreach: foreachOver(Shard, 'foo') },
      (self, shard) => {
        self.set({ v: shard.foo + 1 });
      },
      [Shard],
    );
    const result = await flow.run({ runId: `${name}-run` });
    assert.equal(result.flow, name);
    assert.equal(result.runId, `${name}-run`);
    assert.equal(result.store, store);
    assert.deepEqual(result.info(Shard), {
      tasks: 1,
      foreach: false,
      kinds: new Map([
        ['foo', 'shard'],
        ['bar', 'value'],
      ]),
      lengths: new Map([['foo', [3]]]),
    });
    assert.deepEqual(result.info('Process'), {
      tasks: 3,
      foreach: true,
      kinds: new Map([['v', 'value']]),
      lengths: new Map(),
    });
    assert.throws(() => result.info('Nope'), validation(/has no layer 'Nope'/));
    await assert.rejects(result.layer('Nope'), validation(/has no layer 'Nope'/));
    const shard = await result.layer(Shard);
    assert.deepEqual(Object.keys(shard).sort(), ['bar', 'foo']);
    assert.equal(shard.bar, 'b');
    assert.deepEqual(await shard.foo.toArray(), [1, 2, 3]);
    const processed = await result.layer(Process);
    assert.ok(processed.v instanceof Accessor);
    assert.deepEqual(await processed.v.toArray(), [2, 3, 4]);
    assert.ok(Object.isFrozen(processed));
    // The store was given, so closing the result leaves it open.
    await result.close();
    assert.deepEqual(await (await result.layer(Process)).v.toArray(), [2, 3, 4]);
  });

  it('a flow with no layers rejects', async () => {
    const flow = new Flow(flowName('Empty'), { store });
    await assert.rejects(flow.run(), validation(/has no layers/));
  });

  it('independent layers run at the same time', async () => {
    const a = deferred();
    const b = deferred();
    const order: string[] = [];
    const flow = new Flow(flowName('Independent'), { store, executor });
    const A = flow.layer('A', async (self) => {
      a.resolve();
      await b.promise;
      order.push('A');
      self.set({ v: 'a' });
    });
    const B = flow.layer('B', async (self) => {
      b.resolve();
      await a.promise;
      order.push('B');
      self.set({ v: 'b' });
    });
    const joined: unknown[] = [];
    flow.layer(
      'Both',
      (_self, aView, bView) => {
        joined.push(aView.v, bView.v);
      },
      [A, B],
    );
    await flow.run();
    assert.deepEqual(order.sort(), ['A', 'B']);
    assert.deepEqual(joined, ['a', 'b']);
  });

  it('a failed upstream layer keeps downstream layers from running', async () => {
    let downstream = 0;
    const flow = new Flow(flowName('Upstream'), { store, executor });
    const Broken = flow.layer('Broken', () => {
      throw new Error('upstream broke');
    });
    flow.layer('After', () => {
      downstream++;
    }, [Broken]);
    await assert.rejects(flow.run(), LayerFailedError);
    assert.equal(downstream, 0);
  });

  it("LayerFailedError's cause is the task's own error, even when that error has a cause", async () => {
    const own = new Error('outer', { cause: new Error('inner') });
    const flow = new Flow(flowName('CauseChain'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ x: [1, 2] });
    });
    flow.layer(
      'Work',
      { foreach: foreachOver(Shard, 'x') },
      (self) => {
        if (self.index === 1) throw own;
      },
      [Shard],
    );
    const plain = new Flow(flowName('CauseChainPlain'), { store, executor });
    plain.layer('Work', () => {
      throw own;
    });
    for (const running of [flow, plain]) {
      await assert.rejects(running.run(), (error: unknown) => {
        assert.ok(error instanceof LayerFailedError, `got ${error}`);
        assert.equal(error.cause, own);
        assert.match(error.message, /outer/);
        return true;
      });
    }
  });

  it('aborting the flow aborts self.signal of the running tasks', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped');
    const signals: AbortSignal[] = [];
    const flow = new Flow(flowName('Signal'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ x: range(100) });
    });
    flow.layer(
      'Wait',
      { concurrency: 4, foreach: foreachOver(Shard, 'x') },
      async (self) => {
        signals.push(self.signal);
        if (signals.length === 4) controller.abort(reason);
        await new Promise<void>((resolve) => {
          if (self.signal.aborted) resolve();
          else self.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      },
      [Shard],
    );
    await assert.rejects(flow.run({ signal: controller.signal }), (error: unknown) => {
      assert.equal(error, reason);
      return true;
    });
    assert.equal(signals.length, 4);
    assert.ok(signals.every((signal) => signal.aborted));
  });

  it('a layer concurrency option bounds its ForEach tasks in flight', async () => {
    let active = 0;
    let most = 0;
    const flow = new Flow(flowName('Concurrency'), { store, executor });
    const Shard = flow.layer('Shard', (self) => {
      self.shard({ x: range(20) });
    });
    flow.layer(
      'Work',
      { concurrency: 3, foreach: foreachOver(Shard, 'x') },
      async () => {
        active++;
        most = Math.max(most, active);
        await new Promise((resolve) => setImmediate(resolve));
        active--;
      },
      [Shard],
    );
    await flow.run();
    assert.equal(most, 3);
  });

  it('a flow given a store URL opens it, and result.close() closes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-flow-url-'));
    try {
      const flow = new Flow(flowName('Url'), { executor });
      const Shard = flow.layer('Shard', (self) => {
        self.shard({ foo: [1, 2] });
      });
      const result = await flow.run({ store: 'sqlite:' + join(dir, 'x.db') });
      assert.deepEqual(await (await result.layer(Shard)).foo.toArray(), [1, 2]);
      await result.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
