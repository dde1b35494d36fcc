/**
 * weftjs/flow: retry per ForEach task: attempts, retry.errors by name, and a layer without
 * ForEach retried too.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { asyncPool, MemoryStore } from 'weftjs';
import { Flow, LayerFailedError } from 'weftjs/flow';
import { flowName, foreachOver, range, validation } from './support.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

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
