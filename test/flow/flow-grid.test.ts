/**
 * weftjs/flow: the ForEach grid is lazy: a grid of a million (or 1e12) tasks maps any task
 * at once, and an aborted ForEach starts few tasks.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { asyncPool, MemoryStore } from 'weftjs';
import { Flow, Parameter } from 'weftjs/flow';
import { Grid } from '../../src/flow/foreach.ts';
import { flowName, foreachOver, range, validation } from './support.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

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
