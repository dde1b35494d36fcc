/**
 * A recorded fan-out starts the next task while a finished one's record is written, and
 * never holds more than twice its concurrency executing or waiting to be recorded: what a
 * crash may repeat is the tasks in flight and one group of records. Proven with a store
 * whose writes are held until the test lets them through, in a first run and in a resume
 * (whose lookahead holds many more items than that).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus, MemoryStore, map, type TaskRecord, task, withRun } from 'weftjs';

/** A memory store whose task-record writes wait until `release` is called. */
class HeldStore extends MemoryStore {
  #held: (() => void)[] = [];
  holding = false;

  override async recordTasks(
    runId: string,
    records: readonly TaskRecord[],
    owner?: string,
  ): Promise<void> {
    if (this.holding) await new Promise<void>((resolve) => this.#held.push(resolve));
    return super.recordTasks(runId, records, owner);
  }

  release(): void {
    this.holding = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }
}

const started: number[] = [];
const work = task('pipeline:work', (x: number) => {
  started.push(x);
  return x * 10;
});

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('recording pipelined with tasks', () => {
  for (const concurrency of [1, 4, 16]) {
    it(`starts at most ${2 * concurrency} tasks while records are held (concurrency ${concurrency})`, async () => {
      const store = new HeldStore();
      const items = Array.from({ length: 200 }, (_, i) => i);
      started.length = 0;
      store.holding = true;
      const done = withRun({ store, runId: 'held' }, () => map(items, work, { concurrency }));
      await turns(20);
      assert.equal(started.length, 2 * concurrency, 'tasks in flight plus one group, no more');
      store.release();
      const out = await done;
      assert.deepEqual(
        out,
        items.map((x) => x * 10),
      );
      assert.equal(started.length, 200);
    });
  }

  it('holds to the bound when resuming, whatever the lookahead', async () => {
    const store = new HeldStore();
    const items = Array.from({ length: 2000 }, (_, i) => i);
    // A first run completes the first 10 items, then fails (both maps named alike, so their
    // items have the same keys).
    const first = task('pipeline:first', (x: number) => {
      if (x >= 10) throw new Error('stop here');
      return x * 10;
    });
    await assert.rejects(
      withRun({ store, runId: 'resumed' }, () =>
        map(items, first, { concurrency: 1, name: 'work' }),
      ),
    );
    started.length = 0;
    store.holding = true;
    const done = withRun({ store, runId: 'resumed' }, () =>
      map(items, work, { concurrency: 4, name: 'work' }),
    );
    await turns(50);
    assert.ok(started.length <= 8, `${started.length} tasks started with their records held`);
    assert.ok(started.length > 0);
    store.release();
    const out = await done;
    assert.deepEqual(
      out,
      items.map((x) => x * 10),
    );
    assert.equal(started.length, 1990, 'the 10 completed items were not run again');
  });
});

describe('timings and failures with recording pipelined', () => {
  it('measures durations for a task:end listener alone, outside any run', async () => {
    const bus = new EventBus();
    const durations: number[] = [];
    bus.on('task:end', (event) => durations.push(event.durationMs));
    const sleepy = task('pipeline:sleepy', async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return x;
    });
    await map([1, 2], sleepy, { events: bus });
    assert.equal(durations.length, 2);
    // Measured from the hand-over, not from the start of the process.
    for (const ms of durations) assert.ok(ms >= 4 && ms < 1000, `durationMs ${ms}`);
  });
});
