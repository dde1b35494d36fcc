/**
 * weftjs/flow: FlowResult (info and layer views after a run) and how layers run:
 * independent layers at once, failures stopping downstream layers, abort, concurrency,
 * and stores opened from a URL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncPool, MemoryStore } from 'weftjs';
import { Accessor, Flow, LayerFailedError } from 'weftjs/flow';
import { deferred, flowName, foreachOver, range, validation } from './support.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

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
