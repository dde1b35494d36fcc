/**
 * Every item of a parallel call is a task with a key, `<scope>/<method>/<i>`: recorded
 * inside a run, skipped when the run is resumed, shown as one progress bar per call.
 * Checked on a memory store and on an SQLite file reopened between attempts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { events, type FanOutStartEvent, MemoryStore, openStore, type Store, withRun } from 'weftjs';
import { Batch, inbatchParallel, ParallelActionFailed } from 'weftjs/batch';
import { setBatchContext } from '../../src/batch/batch.ts';
import { deferred } from '../fixtures/map-dag-tasks.ts';
import { calls } from './support/conventions.ts';

/** Items executed (not resumed), in the order they ran. */
let executed: number[] = [];
/** Items that fail when they run. */
let failing = new Set<number>();

class Keyed extends Batch {
  @inbatchParallel({ init: 'indices', target: 'for', post: 'keep' })
  looped(i: number, by: number) {
    return this.step(i, by);
  }

  @inbatchParallel({ init: 'indices', target: 'async' })
  async concurrent(i: number, by: number) {
    await Promise.resolve();
    return this.step(i, by);
  }

  step(i: number, by: number) {
    executed.push(i);
    if (failing.has(i)) throw new Error(`item ${i} broke`);
    return { item: i, value: i * by };
  }

  keep(results: unknown[]) {
    return results;
  }
}

function fresh(fail: number[] = []) {
  executed = [];
  failing = new Set(fail);
}

const keysOf = async (store: Store, runId: string) =>
  (await store.listTasks(runId)).map((record) => record.key).sort();

describe('keys', () => {
  it('are <run>/<method>/<i>, and a repeated call in one run gets ~2', async () => {
    fresh();
    const store = new MemoryStore();
    await withRun({ store, runId: 'keys' }, async () => {
      const batch = calls(new Keyed([0, 0, 0]));
      await batch.looped(2);
      await batch.looped(2);
      await batch.concurrent(3, { nWorkers: 2 });
    });
    // concurrent has no post: its items are not recorded (see 'in-place writes' below).
    assert.deepEqual(await keysOf(store, 'keys'), [
      'keys/looped/0',
      'keys/looped/1',
      'keys/looped/2',
      'keys/looped~2/0',
      'keys/looped~2/1',
      'keys/looped~2/2',
    ]);
    const records = await store.listTasks('keys');
    const first = records.find((record) => record.key === 'keys/looped/1')!;
    assert.equal(first.task, 'Keyed.looped');
    assert.equal(first.status, 'completed');
    assert.deepEqual(first.output, { item: 1, value: 2 });
  });

  it("descend from the scope of the batch's context, and the function form's from its function's name", async () => {
    fresh();
    const store = new MemoryStore();
    const halve = inbatchParallel(
      { init: 'items', target: 'for', post: (results: unknown[]) => results },
      function halve(x: number) {
        return x / 2;
      },
    );
    await withRun({ store, runId: 'scoped' }, async (run) => {
      const batch = calls(new Keyed([0, 0]));
      setBatchContext(batch, { scope: run.scope.child('step:3') });
      await batch.looped(1);
      await halve.call(new Batch([4]));
    });
    assert.deepEqual(await keysOf(store, 'scoped'), [
      'scoped/halve/0',
      'scoped/step:3/looped/0',
      'scoped/step:3/looped/1',
    ]);
  });

  it('a call outside a run records nothing and still runs', async () => {
    fresh();
    assert.deepEqual(await calls(new Keyed([0, 0])).looped(5), [
      { item: 0, value: 0 },
      { item: 1, value: 5 },
    ]);
  });
});

describe('progress', () => {
  it("each call is a fan-out labelled '<Class>.<method>' with its item count", async () => {
    fresh();
    const seen: FanOutStartEvent[] = [];
    const off = events.on('map:start', (event) => {
      seen.push(event);
    });
    try {
      await calls(new Keyed([0, 0, 0])).concurrent(1);
    } finally {
      off();
    }
    const mine = seen.filter((event) => event.label === 'Keyed.concurrent');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.total, 3);
    assert.equal(mine[0]!.task, 'Keyed.concurrent');
  });
});

/** Runs `looped` and `concurrent` once each in run `runId`. */
function attempt(store: Store, runId: string) {
  return withRun({ store, runId }, async () => {
    const batch = calls(new Keyed([0, 0, 0, 0]));
    const looped = await batch.looped(10);
    await batch.concurrent(10, { nWorkers: 2 });
    return looped;
  });
}

/** A run whose first attempt fails on item 1 of each call, resumed until it completes. */
async function resumes(open: () => Promise<Store>, runId: string): Promise<void> {
  fresh([1]);
  let store = await open();
  // looped has a post (errors in place); concurrent has none and fails on item 1.
  await assert.rejects(attempt(store, runId), ParallelActionFailed);
  assert.deepEqual(executed.slice(0, 4), [0, 1, 2, 3]);
  assert.deepEqual(executed.slice(4).sort(), [0, 1, 2, 3]);
  await store.close();

  // Resumed: looped (with a post) runs only its failed item again; concurrent (no post,
  // so not recorded) runs every item again; both calls complete.
  fresh();
  store = await open();
  const looped = await attempt(store, runId);
  assert.deepEqual(executed[0], 1);
  assert.deepEqual(executed.slice(1).sort(), [0, 1, 2, 3]);
  assert.deepEqual(
    looped,
    [0, 1, 2, 3].map((item) => ({ item, value: item * 10 })),
  );
  await store.close();

  // Completed: looped's outputs come from the store; concurrent runs again.
  fresh();
  store = await open();
  assert.deepEqual(await attempt(store, runId), looped);
  assert.deepEqual(executed.sort(), [0, 1, 2, 3]);
  const records = await store.listTasks(runId);
  assert.equal(records.length, 4);
  assert.ok(records.every((record) => record.status === 'completed'));
  await store.close();
}

describe('resume', () => {
  it('runs again only the items that did not complete (memory store)', async () => {
    const store = new MemoryStore();
    // A memory store lives as long as its object: closing it is not the end of its runs.
    const kept = Object.create(store) as Store;
    kept.close = async () => {};
    await resumes(async () => kept, 'memory-resume');
  });

  describe('on an SQLite file', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'weft-batch-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('runs again only the items that did not complete, after the store is reopened', async () => {
      const file = join(dir, 'runs.db');
      await resumes(() => openStore(`sqlite:${file}`), 'sqlite-resume');
    });
  });
});

/** Doubles its items in place, without a post; item 1 fails while `failing` says so. */
class InPlace extends Batch<number[]> {
  @inbatchParallel({ init: 'indices', target: 'for' })
  double(i: number) {
    executed.push(i);
    if (failing.has(i)) throw new Error(`item ${i} broke`);
    this.data[i]! *= 2;
  }
}

describe('in-place writes', () => {
  it('a call without post is not recorded, so a resumed run writes every item again', async () => {
    const store = new MemoryStore();
    const attemptInPlace = () =>
      withRun({ store, runId: 'in-place' }, async () => {
        const batch = calls(new InPlace([1, 2, 3, 4]));
        await batch.double();
        return batch.data;
      });
    fresh([1]);
    await assert.rejects(attemptInPlace(), ParallelActionFailed);
    fresh();
    // Had finished items been skipped, their doubling would be missing: [1, 4, 3, 4].
    assert.deepEqual(await attemptInPlace(), [2, 4, 6, 8]);
    assert.deepEqual(executed, [0, 1, 2, 3]);
    assert.deepEqual(await store.listTasks('in-place'), []);
  });
});

/** Items whose init waits for the test to open its batch's gate. */
class Gated extends Batch<number[]> {
  declare gate: Promise<void>;

  async slowInit() {
    await this.gate;
    return this.indices;
  }

  @inbatchParallel({ init: 'slowInit', target: 'for', post: (results: unknown[]) => results })
  times10(i: number) {
    if (failing.has(this.data[i]!)) throw new Error(`item ${this.data[i]} broke`);
    return this.data[i]! * 10;
  }
}

describe('keys of calls made together', () => {
  it('follow the order of the calls, not of their inits, so a resume hands each batch its own outputs', async () => {
    const store = new MemoryStore();
    const attemptBoth = (first: 'a' | 'b') =>
      withRun({ store, runId: 'together' }, async () => {
        const gates = { a: deferred(), b: deferred() };
        const a = Object.assign(new Gated([1, 2]), { gate: gates.a.promise });
        const b = Object.assign(new Gated([3, 4]), { gate: gates.b.promise });
        const calls2 = [calls(a).times10(), calls(b).times10()];
        gates[first].resolve();
        await Promise.resolve();
        gates[first === 'a' ? 'b' : 'a'].resolve();
        return Promise.all(calls2);
      });
    fresh([2]); // a's second item fails in the first attempt, whose b init finishes first
    const [brokenA, firstB] = await attemptBoth('b');
    assert.ok(brokenA[1] instanceof Error);
    fresh();
    assert.deepEqual(await attemptBoth('a'), [
      [10, 20],
      [30, 40],
    ]);
    assert.deepEqual(firstB, [30, 40]);
  });
});
