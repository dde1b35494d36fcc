/**
 * weftjs/flow: Accessors read lazily, counted at the store (length reads nothing, at(i)
 * reads element i alone), with Array.prototype.slice's rules and named index errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { asyncPool } from 'weftjs';
import { Accessor, Flow, type FlowResult, type LayerView } from 'weftjs/flow';
import { CountingStore, flowName, foreachOver, indexError, range } from './support.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

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
